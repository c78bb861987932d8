// amazon-cognito-identity-js against the sandbox, configured as for AWS plus the pool's `endpoint`:
// CUSTOM_AUTH sign-in, a wrong answer, refreshSession (REFRESH_TOKEN_AUTH), signOut (RevokeToken)
// and globalSignOut.

import assert from "node:assert/strict";
import { test } from "node:test";

import cognitoIdentity from "amazon-cognito-identity-js";

import { anotherCode, awsUrl, cognito, createUser, freshNumber, lastCode, outbox, sandboxPool, step } from "./sandbox.mjs";

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = cognitoIdentity;
const pool = await sandboxPool();
const userPool = new CognitoUserPool({ UserPoolId: pool.userPoolId, ClientId: pool.clientId, endpoint: `${awsUrl}/` });

async function signIn(phone) {
  const user = new CognitoUser({ Username: phone, Pool: userPool });
  user.setAuthenticationFlowType("CUSTOM_AUTH");
  const first = await step((callbacks) => user.initiateAuth(new AuthenticationDetails({ Username: phone }), callbacks));
  assert.equal(first.challenge.CODE_DELIVERY_DESTINATION, `+1********${phone.slice(-2)}`);
  const code = await lastCode(phone);
  const retry = await step((callbacks) => user.sendCustomChallengeAnswer(anotherCode(code), callbacks));
  assert.ok(retry.challenge, "a wrong answer asks again");
  const { session } = await step((callbacks) => user.sendCustomChallengeAnswer(code, callbacks));
  return { user, session };
}

const promised = (run) => new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));

test("amazon-cognito-identity-js: CUSTOM_AUTH sign-in, refresh, sign-out revokes the refresh token", async () => {
  const phone = freshNumber();
  await createUser(phone);

  const { user, session } = await signIn(phone);
  assert.equal(session.isValid(), true);
  assert.equal(session.getIdToken().decodePayload().phone_number, phone);
  assert.equal((await outbox(phone)).length, 1);

  const refreshed = await promised((done) => user.refreshSession(session.getRefreshToken(), done));
  assert.notEqual(refreshed.getAccessToken().decodePayload().jti, session.getAccessToken().decodePayload().jti);

  await promised((done) => user.signOut((error) => done(error)));
  const after = await cognito("GetTokensFromRefreshToken", {
    ClientId: pool.clientId,
    RefreshToken: session.getRefreshToken().getToken(),
  });
  assert.deepEqual([after.status, after.body.message], [400, "Refresh Token has been revoked"]);
  const getUser = await cognito("GetUser", { AccessToken: refreshed.getAccessToken().getJwtToken() });
  assert.deepEqual([getUser.status, getUser.body.message], [400, "Access Token has been revoked"]);
});

test("amazon-cognito-identity-js: global sign-out ends every session of the user", async () => {
  const phone = freshNumber();
  await createUser(phone);
  const { user, session } = await signIn(phone);

  await new Promise((resolve, reject) => user.globalSignOut({ onSuccess: resolve, onFailure: reject }));

  const refresh = await cognito("InitiateAuth", {
    ClientId: pool.clientId,
    AuthFlow: "REFRESH_TOKEN_AUTH",
    AuthParameters: { REFRESH_TOKEN: session.getRefreshToken().getToken() },
  });
  assert.deepEqual([refresh.status, refresh.body.message], [400, "Refresh Token has been revoked"]);
});

test("amazon-cognito-identity-js: a password sign-in is refused as the deployed client refuses it", async () => {
  const phone = freshNumber();
  await createUser(phone);
  const user = new CognitoUser({ Username: phone, Pool: userPool });
  user.setAuthenticationFlowType("USER_PASSWORD_AUTH");

  await assert.rejects(
    step((callbacks) => user.authenticateUser(new AuthenticationDetails({ Username: phone, Password: "Aa1!guess-guess" }), callbacks)),
    (error) => {
      assert.equal(error.code, "InvalidParameterException");
      assert.equal(error.message, "USER_PASSWORD_AUTH flow not enabled for this client");
      return true;
    },
  );
});
