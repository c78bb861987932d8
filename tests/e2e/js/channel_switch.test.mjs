// "Call me instead" with the two JS client libraries, exactly as docs/cognito.md shows them, against a
// sandbox on End User Messaging with OTP_CHANNELS=SMS,VOICE: the SMS arrives, the client asks for a
// call (ClientMetadata {otpChannel: "VOICE"}), the call arrives, the texted code no longer signs in
// and the spoken one does.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Amplify } from "aws-amplify";
import { confirmSignIn, signIn, signOut } from "aws-amplify/auth";
import cognitoIdentity from "amazon-cognito-identity-js";

import { awsUrl, createUser, freshNumber, outbox, sandboxPool, step } from "./sandbox.mjs";

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = cognitoIdentity;
const pool = await sandboxPool();

/** [channel, code] of every message the number received, oldest first. */
async function received(phone) {
  return (await outbox(phone)).map((message) => [message.channel, /\b(\d{6})\b/.exec(message.body)[1]]);
}

test("Amplify v6: confirmSignIn with clientMetadata otpChannel VOICE switches to a call", async () => {
  Amplify.configure({
    Auth: { Cognito: { userPoolId: pool.userPoolId, userPoolClientId: pool.clientId, userPoolEndpoint: `${awsUrl}/` } },
  });
  const phone = freshNumber();
  await createUser(phone);

  const started = await signIn({ username: phone, options: { authFlowType: "CUSTOM_WITHOUT_SRP" } });
  assert.equal(started.nextStep.additionalInfo.CODE_DELIVERY_DELIVERY_MEDIUM, "SMS");
  assert.equal(started.nextStep.additionalInfo.CODE_DELIVERY_ALTERNATIVES, "VOICE");
  const [[, smsCode]] = await received(phone);

  const switched = await confirmSignIn({
    challengeResponse: "VOICE",
    options: { clientMetadata: { otpChannel: "VOICE" } },
  });
  assert.equal(switched.nextStep.signInStep, "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE");
  assert.equal(switched.nextStep.additionalInfo.CODE_DELIVERY_DELIVERY_MEDIUM, "VOICE");
  assert.equal(switched.nextStep.additionalInfo.CODE_DELIVERY_ALTERNATIVES, "");
  const messages = await received(phone);
  assert.deepEqual(messages.map(([channel]) => channel), ["SMS", "VOICE"]);

  const stale = await confirmSignIn({ challengeResponse: smsCode });
  assert.equal(stale.isSignedIn, false);
  const done = await confirmSignIn({ challengeResponse: messages[1][1] });
  assert.equal(done.isSignedIn, true);
  await signOut();
});

test("amazon-cognito-identity-js: sendCustomChallengeAnswer with clientMetadata otpChannel VOICE", async () => {
  const userPool = new CognitoUserPool({ UserPoolId: pool.userPoolId, ClientId: pool.clientId, endpoint: `${awsUrl}/` });
  const phone = freshNumber();
  await createUser(phone);
  const user = new CognitoUser({ Username: phone, Pool: userPool });
  user.setAuthenticationFlowType("CUSTOM_AUTH");

  const first = await step((callbacks) => user.initiateAuth(new AuthenticationDetails({ Username: phone }), callbacks));
  assert.equal(first.challenge.CODE_DELIVERY_ALTERNATIVES, "VOICE");
  const [[, smsCode]] = await received(phone);

  const switched = await step((callbacks) => user.sendCustomChallengeAnswer("VOICE", callbacks, { otpChannel: "VOICE" }));
  assert.equal(switched.challenge.CODE_DELIVERY_DELIVERY_MEDIUM, "VOICE");
  const messages = await received(phone);
  assert.deepEqual(messages.map(([channel]) => channel), ["SMS", "VOICE"]);

  const stale = await step((callbacks) => user.sendCustomChallengeAnswer(smsCode, callbacks));
  assert.ok(stale.challenge, "the texted code is no longer accepted");
  const { session } = await step((callbacks) => user.sendCustomChallengeAnswer(messages[1][1], callbacks));
  assert.equal(session.getIdToken().decodePayload().phone_number, phone);
});
