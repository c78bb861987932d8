// Device tickets with the two JS client libraries, as docs/cognito.md shows them: keep the ticket a
// successful sign-in showed (OTP_DEVICE_TICKET), and when a later sign-in's code does not arrive (a
// stranger spent the open part of the number's day), answer with it to get a code from the reserve.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Amplify } from "aws-amplify";
import { confirmSignIn, signIn, signOut } from "aws-amplify/auth";
import cognitoIdentity from "amazon-cognito-identity-js";

import { advanceClock, awsUrl, createUser, freshNumber, lastCode, outbox, sandboxPool, spendOpenPart, step } from "./sandbox.mjs";

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = cognitoIdentity;
const pool = await sandboxPool();
const TICKET = /^[A-Za-z0-9_-]{43}$/;

test("Amplify v6: keep the ticket after a sign-in, present it with confirmSignIn when no code arrives", async () => {
  Amplify.configure({
    Auth: { Cognito: { userPoolId: pool.userPoolId, userPoolClientId: pool.clientId, userPoolEndpoint: `${awsUrl}/` } },
  });
  const phone = freshNumber();
  await createUser(phone);
  const stored = new Map(); // the app's own storage (localStorage, Keychain, ...)

  // A sign-in that succeeds: only then is its ticket worth keeping
  const first = await signIn({ username: phone, options: { authFlowType: "CUSTOM_WITHOUT_SRP" } });
  const ticket = first.nextStep.additionalInfo.OTP_DEVICE_TICKET;
  assert.match(ticket, TICKET);
  assert.equal((await confirmSignIn({ challengeResponse: await lastCode(phone) })).isSignedIn, true);
  stored.set(phone, ticket);
  await signOut();

  // A stranger spends the open part; the next sign-in brings no code
  await advanceClock(31);
  await spendOpenPart(phone);
  const again = await signIn({ username: phone, options: { authFlowType: "CUSTOM_WITHOUT_SRP" } });
  assert.equal((await outbox(phone)).length, 6);

  // The app answers with its ticket and the channel it was shown: a code comes from the reserve
  const medium = again.nextStep.additionalInfo.CODE_DELIVERY_DELIVERY_MEDIUM;
  const resent = await confirmSignIn({
    challengeResponse: medium,
    options: { clientMetadata: { otpChannel: medium, otpDeviceTicket: stored.get(phone) } },
  });
  assert.equal(resent.nextStep.signInStep, "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE");
  assert.equal((await outbox(phone)).length, 7);
  const done = await confirmSignIn({ challengeResponse: await lastCode(phone) });
  assert.equal(done.isSignedIn, true);
  stored.set(phone, resent.nextStep.additionalInfo.OTP_DEVICE_TICKET);
  assert.notEqual(stored.get(phone), ticket);
  await signOut();
});

test("amazon-cognito-identity-js: sendCustomChallengeAnswer with otpDeviceTicket when no code arrives", async () => {
  const userPool = new CognitoUserPool({ UserPoolId: pool.userPoolId, ClientId: pool.clientId, endpoint: `${awsUrl}/` });
  const phone = freshNumber();
  await createUser(phone);
  const begin = async () => {
    const user = new CognitoUser({ Username: phone, Pool: userPool });
    user.setAuthenticationFlowType("CUSTOM_AUTH");
    const { challenge } = await step((callbacks) => user.initiateAuth(new AuthenticationDetails({ Username: phone }), callbacks));
    return { user, challenge };
  };

  // A sign-in that succeeds: its challenge's ticket is the one to keep
  const first = await begin();
  const ticket = first.challenge.OTP_DEVICE_TICKET;
  assert.match(ticket, TICKET);
  const code = await lastCode(phone);
  const { session } = await step((callbacks) => first.user.sendCustomChallengeAnswer(code, callbacks));
  assert.ok(session.isValid());

  // A stranger spends the open part; the next sign-in brings no code, so the app sends its ticket
  await advanceClock(31);
  await spendOpenPart(phone);
  const again = await begin();
  assert.equal((await outbox(phone)).length, 6);
  const medium = again.challenge.CODE_DELIVERY_DELIVERY_MEDIUM;
  const resent = await step((callbacks) =>
    again.user.sendCustomChallengeAnswer(medium, callbacks, { otpChannel: medium, otpDeviceTicket: ticket }),
  );
  assert.ok(resent.challenge, "a new challenge, its code on the way");
  assert.equal((await outbox(phone)).length, 7);
  const reserved = await lastCode(phone);
  const signedIn = await step((callbacks) => again.user.sendCustomChallengeAnswer(reserved, callbacks));
  assert.equal(signedIn.session.getIdToken().decodePayload().phone_number, phone);
});
