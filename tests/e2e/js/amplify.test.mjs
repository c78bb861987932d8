// AWS Amplify JS v6 against the sandbox, configured as an app would configure it for AWS plus
// userPoolEndpoint: passwordless sign-in (CUSTOM_WITHOUT_SRP + confirmSignIn), a forced refresh
// (GetTokensFromRefreshToken), sign-out (RevokeToken), and Amplify's default SRP sign-in refused.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Amplify } from "aws-amplify";
import { confirmSignIn, fetchAuthSession, signIn, signOut } from "aws-amplify/auth";
import { cognitoUserPoolsTokenProvider } from "aws-amplify/auth/cognito";

import { anotherCode, awsUrl, cognito, createUser, freshNumber, lastCode, outbox, sandboxPool } from "./sandbox.mjs";

const pool = await sandboxPool();
Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: pool.userPoolId,
      userPoolClientId: pool.clientId,
      userPoolEndpoint: `${awsUrl}/`,
    },
  },
});

// Amplify keeps tokens in a key-value store (set after configure, which installs its default); this one lets the test see the refresh token it holds.
const store = new Map();
cognitoUserPoolsTokenProvider.setKeyValueStorage({
  setItem: async (key, value) => void store.set(key, value),
  getItem: async (key) => store.get(key) ?? null,
  removeItem: async (key) => void store.delete(key),
  clear: async () => store.clear(),
});


function storedRefreshToken() {
  return [...store].find(([key]) => key.endsWith(".refreshToken"))?.[1];
}

test("Amplify v6: passwordless sign-in, wrong code, forced refresh, sign-out", async () => {
  const phone = freshNumber();
  await createUser(phone);

  // Sign in: the custom challenge shows only the masked number.
  const started = await signIn({ username: phone, options: { authFlowType: "CUSTOM_WITHOUT_SRP" } });
  assert.equal(started.isSignedIn, false);
  assert.equal(started.nextStep.signInStep, "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE");
  assert.equal(started.nextStep.additionalInfo.CODE_DELIVERY_DESTINATION, `+1********${phone.slice(-2)}`);
  const code = await lastCode(phone);

  // A wrong code asks again; the right one signs in.
  const retry = await confirmSignIn({ challengeResponse: anotherCode(code) });
  assert.equal(retry.nextStep.signInStep, "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE");
  const done = await confirmSignIn({ challengeResponse: code });
  assert.equal(done.isSignedIn, true);
  assert.equal((await outbox(phone)).length, 1);

  // The ID token carries the phone number; a forced refresh brings new tokens of the same sign-in.
  const session = await fetchAuthSession();
  assert.equal(session.tokens.idToken.payload.phone_number, phone);
  assert.equal(session.tokens.idToken.payload.phone_number_verified, true);
  const refreshed = await fetchAuthSession({ forceRefresh: true });
  assert.notEqual(refreshed.tokens.accessToken.payload.jti, session.tokens.accessToken.payload.jti);
  assert.equal(refreshed.tokens.accessToken.payload.origin_jti, session.tokens.accessToken.payload.origin_jti);

  // Sign-out revokes the refresh token Amplify held (Amplify hides RevokeToken errors, so ask Cognito).
  const refreshToken = storedRefreshToken();
  assert.ok(refreshToken);
  await signOut();
  assert.equal(storedRefreshToken(), undefined);
  const after = await cognito("GetTokensFromRefreshToken", { ClientId: pool.clientId, RefreshToken: refreshToken });
  assert.deepEqual([after.status, after.body.__type, after.body.message], [400, "NotAuthorizedException", "Refresh Token has been revoked"]);
});

test("Amplify v6: the default SRP password sign-in is refused as the deployed client refuses it", async () => {
  const phone = freshNumber();
  await createUser(phone);

  await assert.rejects(signIn({ username: phone, password: "Not-the-password-1!" }), (error) => {
    assert.equal(error.name, "InvalidParameterException");
    assert.equal(error.message, "USER_SRP_AUTH is not enabled for the client.");
    return true;
  });
  assert.deepEqual(await outbox(phone), []);
});
