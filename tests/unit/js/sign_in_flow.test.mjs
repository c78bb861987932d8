// The web page's sign-in logic (web/sign-in/flow.js) against a stubbed Cognito: what it sends and how
// it counts attempts, including "call me instead" (a challenge whose CODE_DELIVERY_ALTERNATIVES lists
// VOICE) and "send again from this device" (a device ticket kept from an earlier sign-in).

import assert from "node:assert/strict";
import { test } from "node:test";

import { PasswordlessSignIn } from "../../../web/sign-in/flow.js";

const USERNAME = "7d1f0b5c-users-uuid";

function challenge(session, { medium = "SMS", alternatives = "", ticket = "ticket-of-this-sign-in" } = {}) {
  return {
    ChallengeName: "CUSTOM_CHALLENGE",
    Session: session,
    ChallengeParameters: {
      CODE_DELIVERY_DELIVERY_MEDIUM: medium,
      CODE_DELIVERY_DESTINATION: "+1********00",
      CODE_LENGTH: "6",
      CODE_DELIVERY_ALTERNATIVES: alternatives,
      OTP_DEVICE_TICKET: ticket,
      USERNAME,
    },
  };
}

const TOKENS = { AuthenticationResult: { IdToken: "id", AccessToken: "access", RefreshToken: "refresh" } };

function error(type, message) {
  return { status: 400, body: { __type: type, message } };
}

/** A fetch that answers from a script and records what the page sent. */
function stubCognito(...answers) {
  const sent = [];
  const fetchImpl = async (url, init) => {
    sent.push({ url, operation: init.headers["X-Amz-Target"].split(".")[1], body: JSON.parse(init.body) });
    const next = answers.shift();
    assert.ok(next, "the page sent more requests than the test expected");
    const { status = 200, body } = next.status ? next : { body: next };
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/x-amz-json-1.1" } });
  };
  return { sent, fetchImpl };
}

function signIn(fetchImpl, now = () => 0) {
  return new PasswordlessSignIn({ endpoint: "http://cognito.test/", clientId: "client-1", allowedAttempts: 3, fetchImpl, now });
}

test("call me instead: offered VOICE, the switch is sent as the contract says and spends no attempt", async () => {
  const { sent, fetchImpl } = stubCognito(challenge("s1", { alternatives: "VOICE" }), challenge("s2", { medium: "VOICE" }));
  const flow = signIn(fetchImpl);

  const first = await flow.start("+12065550100");
  assert.deepEqual(first.alternatives, ["VOICE"]);
  const switched = await flow.switchChannel("VOICE");

  assert.deepEqual(switched, { status: "switched", medium: "VOICE" });
  assert.deepEqual(sent[1], {
    url: "http://cognito.test/",
    operation: "RespondToAuthChallenge",
    body: {
      ClientId: "client-1",
      ChallengeName: "CUSTOM_CHALLENGE",
      Session: "s1",
      ChallengeResponses: { USERNAME, ANSWER: "VOICE" },
      ClientMetadata: { otpChannel: "VOICE" },
    },
  });
  assert.equal(flow.attemptsLeft, 3);
  assert.deepEqual(flow.challenge.alternatives, [], "the switch is used: nothing more is offered");
});

test("call me instead: a channel the challenge does not offer is never sent", async () => {
  const { sent, fetchImpl } = stubCognito(challenge("s1"));
  const flow = signIn(fetchImpl);
  await flow.start("+12065550100");

  await assert.rejects(flow.switchChannel("VOICE"), /not offered/);
  assert.equal(sent.length, 1);
});

test("attempts left: each wrong code counts, a malformed one is refused before it is sent", async () => {
  const { sent, fetchImpl } = stubCognito(
    challenge("s1"),
    challenge("s2"),
    challenge("s3"),
    error("NotAuthorizedException", "Incorrect username or password."),
  );
  const flow = signIn(fetchImpl);
  await flow.start("+12065550100");

  assert.deepEqual(await flow.answer("12345"), { status: "malformed" });
  assert.deepEqual(await flow.answer("12a456"), { status: "malformed" });
  assert.deepEqual(await flow.answer("111111"), { status: "wrongCode", attemptsLeft: 2 });
  assert.deepEqual(await flow.answer("222222"), { status: "wrongCode", attemptsLeft: 1 });
  assert.deepEqual(await flow.answer("333333"), { status: "noAttemptsLeft" });
  assert.equal(flow.attemptsLeft, 0);
  assert.deepEqual(sent.map((request) => request.body.Session ?? null), [null, "s1", "s2", "s3"]);
});

test("an expired sign-in is told apart from a used-up one", async () => {
  const { fetchImpl } = stubCognito(challenge("s1"), error("NotAuthorizedException", "Invalid session for the user, session is expired."));
  const flow = signIn(fetchImpl);
  await flow.start("+12065550100");
  assert.deepEqual(await flow.answer("123456"), { status: "expired" });
  assert.equal(flow.attemptsLeft, 3);
});

test("resend waits out the per-number cooldown, counted from the last sign-in started", async () => {
  let now = 1_000_000;
  const { fetchImpl } = stubCognito(challenge("s1"), challenge("s2"));
  const flow = signIn(fetchImpl, () => now);
  assert.equal(flow.resendWaitSeconds(30), 0);
  await flow.start("+12065550100");
  now += 12_500;
  assert.equal(flow.resendWaitSeconds(30), 18);
  now += 17_500;
  assert.equal(flow.resendWaitSeconds(30), 0);
  await flow.start("+12065550100");
  assert.equal(flow.resendWaitSeconds(30), 30);
});

test("signed in: refresh uses GetTokensFromRefreshToken and sign-out RevokeToken", async () => {
  const tokens = { IdToken: "id1", AccessToken: "a1", RefreshToken: "r1", ExpiresIn: 3600, TokenType: "Bearer" };
  const { sent, fetchImpl } = stubCognito(
    challenge("s1"),
    { ChallengeParameters: {}, AuthenticationResult: tokens },
    { AuthenticationResult: { IdToken: "id2", AccessToken: "a2", ExpiresIn: 3600, TokenType: "Bearer" } },
    {},
  );
  const flow = signIn(fetchImpl);
  await flow.start("+12065550100");
  assert.deepEqual(await flow.answer("123456"), { status: "signedIn" });

  const refreshed = await flow.refresh();
  await flow.signOut();

  assert.deepEqual(refreshed, { ...tokens, IdToken: "id2", AccessToken: "a2" });
  assert.deepEqual(sent.slice(2).map(({ operation, body }) => [operation, body]), [
    ["GetTokensFromRefreshToken", { ClientId: "client-1", RefreshToken: "r1" }],
    ["RevokeToken", { ClientId: "client-1", Token: "r1" }],
  ]);
  assert.equal(flow.tokens, null);
});

test("device ticket: earned only by a sign-in that succeeds, the one its challenge showed", async () => {
  const { fetchImpl } = stubCognito(challenge("s1"), challenge("s2"), TOKENS);
  const flow = signIn(fetchImpl);
  await flow.start("+12065550100");

  assert.equal((await flow.answer("111111")).status, "wrongCode");
  assert.equal(flow.earnedTicket, null, "not before the code is verified");
  assert.equal((await flow.answer("222222")).status, "signedIn");
  assert.equal(flow.earnedTicket, "ticket-of-this-sign-in");
});

test("device ticket: a sign-in that ends without success earns nothing", async () => {
  const { fetchImpl } = stubCognito(challenge("s1"), error("NotAuthorizedException", "Incorrect username or password."));
  const flow = signIn(fetchImpl);
  await flow.start("+12065550100");
  assert.equal((await flow.answer("111111")).status, "noAttemptsLeft");
  assert.equal(flow.earnedTicket, null);
});

test("send again from this device: once per sign-in, on the same channel, with the ticket, no attempt spent", async () => {
  const { sent, fetchImpl } = stubCognito(challenge("s1"), challenge("s2"));
  let now = 0;
  const flow = signIn(fetchImpl, () => now);
  await flow.start("+12065550100");
  assert.equal(flow.canResend(null), false, "no ticket: nothing to offer");
  assert.equal(flow.canResend("kept-ticket"), true);

  now = 31_000;
  const resent = await flow.resendFromDevice("kept-ticket");

  assert.deepEqual(resent, { status: "resent", medium: "SMS" });
  assert.deepEqual(sent[1].body.ClientMetadata, { otpChannel: "SMS", otpDeviceTicket: "kept-ticket" });
  assert.equal(sent[1].body.ChallengeResponses.ANSWER, "SMS");
  assert.equal(flow.attemptsLeft, 3);
  assert.equal(flow.canResend("kept-ticket"), false);
  await assert.rejects(flow.resendFromDevice("kept-ticket"), /already sent again/);
  assert.equal(sent.length, 2);
  assert.equal(flow.resendWaitSeconds(30), 30, "the cooldown counts again from the resend");
});

test("call me instead carries the device ticket when there is one", async () => {
  const { sent, fetchImpl } = stubCognito(challenge("s1", { alternatives: "VOICE" }), challenge("s2", { medium: "VOICE" }));
  const flow = signIn(fetchImpl);
  await flow.start("+12065550100");
  await flow.switchChannel("VOICE", "kept-ticket");
  assert.deepEqual(sent[1].body.ClientMetadata, { otpChannel: "VOICE", otpDeviceTicket: "kept-ticket" });
});
