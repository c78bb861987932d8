// The web page's sign-in logic (web/sign-in/flow.js) against a stubbed Cognito: what it sends, the
// attempts left (the challenge's OTP_ATTEMPTS_REMAINING, or its own count for a deployment without
// it), the resend countdown and what a reload keeps, including "call me instead" (a challenge whose
// CODE_DELIVERY_ALTERNATIVES lists VOICE) and "send again from this device" (a device ticket kept from
// an earlier sign-in). Then what the page keeps in storage (saved.js) and how it reads a typed phone
// number (phone.js, with the page's own copy of libphonenumber-js).

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

import { PasswordlessSignIn } from "../../../web/sign-in/flow.js";
import { defaultCountry, localeRegions, toE164 } from "../../../web/sign-in/phone.js";
import { SavedState, SIGN_IN_KEPT_MS } from "../../../web/sign-in/saved.js";

// The file the page loads (a UMD bundle: in Node it is a CommonJS module)
const libphonenumber = createRequire(import.meta.url)("../../../web/sign-in/libphonenumber-max.js");

const USERNAME = "7d1f0b5c-users-uuid";

function challenge(session, { medium = "SMS", alternatives = "", ticket = "ticket-of-this-sign-in", remaining } = {}) {
  const parameters = {
    CODE_DELIVERY_DELIVERY_MEDIUM: medium,
    CODE_DELIVERY_DESTINATION: "+1********00",
    CODE_LENGTH: "6",
    CODE_DELIVERY_ALTERNATIVES: alternatives,
    OTP_DEVICE_TICKET: ticket,
    USERNAME,
  };
  // A deployment from before OTP_ATTEMPTS_REMAINING: `remaining` left undefined
  if (remaining !== undefined) parameters.OTP_ATTEMPTS_REMAINING = remaining;
  return { ChallengeName: "CUSTOM_CHALLENGE", Session: session, ChallengeParameters: parameters };
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
  return new PasswordlessSignIn({
    endpoint: "http://cognito.test/",
    clientId: "client-1",
    allowedAttempts: 3,
    cooldownSeconds: 30,
    fetchImpl,
    now,
  });
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

test("attempts left: what the challenge says, not a count of the page's own", async () => {
  const { fetchImpl } = stubCognito(
    challenge("s1", { remaining: "3" }),
    challenge("s2", { remaining: "1" }), // e.g. a refused switch the page did not count was a guess too
    error("NotAuthorizedException", "Incorrect username or password."),
  );
  const flow = signIn(fetchImpl);
  await flow.start("+12065550100");
  assert.equal(flow.attemptsLeft, 3);

  assert.deepEqual(await flow.answer("111111"), { status: "wrongCode", attemptsLeft: 1 });
  assert.equal(flow.attemptsLeft, 1);
  assert.deepEqual(await flow.answer("222222"), { status: "noAttemptsLeft" });
  assert.equal(flow.attemptsLeft, 0);
});

test("attempts left: a value that is not a small count is ignored", async () => {
  for (const remaining of ["", "-1", "2.5", "many", "999"]) {
    const { fetchImpl } = stubCognito(challenge("s1", { remaining }));
    const flow = signIn(fetchImpl);
    await flow.start("+12065550100");
    assert.equal(flow.attemptsLeft, 3, JSON.stringify(remaining));
  }
});

test("attempts left, without the parameter: each wrong code counts, a malformed one is refused before it is sent", async () => {
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
  assert.equal(flow.resendWaitSeconds(), 0);
  await flow.start("+12065550100");
  now += 12_500;
  assert.equal(flow.resendWaitSeconds(), 18);
  now += 17_500;
  assert.equal(flow.resendWaitSeconds(), 0);
  await flow.start("+12065550100");
  assert.equal(flow.resendWaitSeconds(), 30);
});

test("a sign-in started while the number's countdown runs sent nothing: the countdown goes on from it", async () => {
  let now = 1_000_000;
  const { fetchImpl } = stubCognito(challenge("s1"), challenge("s2"));
  const flow = signIn(fetchImpl, () => now);

  await flow.start("+12065550100", { sendAfter: now + 8_000 });
  assert.equal(flow.resendWaitSeconds(), 8);
  assert.equal(flow.sendAfter, 1_008_000);

  // A deadline already past counts for nothing: the countdown starts again
  now += 10_000;
  await flow.start("+12065550100", { sendAfter: now - 1 });
  assert.equal(flow.resendWaitSeconds(), 30);
});

test("a snapshot carries the sign-in across a reload: the same session, attempts and countdown", async () => {
  let now = 5_000_000;
  const first = stubCognito(challenge("s1", { alternatives: "VOICE", remaining: "3" }), challenge("s2", { remaining: "2" }));
  const flow = signIn(first.fetchImpl, () => now);
  await flow.start("+12065550100");
  await flow.answer("111111");
  now += 10_000;

  // A JSON round trip, as through sessionStorage, into a new page's flow
  const snapshot = JSON.parse(JSON.stringify(flow.snapshot()));
  assert.doesNotMatch(JSON.stringify(snapshot), /111111/, "no answer is kept");
  const later = stubCognito(TOKENS);
  const reloaded = signIn(later.fetchImpl, () => now);
  assert.equal(reloaded.resume(snapshot), true);

  assert.equal(reloaded.phoneNumber, "+12065550100");
  assert.equal(reloaded.attemptsLeft, 2);
  assert.equal(reloaded.resendWaitSeconds(), 20);
  assert.equal((await reloaded.answer("222222")).status, "signedIn");
  assert.equal(later.sent[0].body.Session, "s2");
  assert.equal(reloaded.snapshot(), null, "signed in: nothing left to keep");
});

test("resume refuses what is not a snapshot", () => {
  const flow = signIn(async () => assert.fail("no request"));
  for (const kept of [null, {}, { phoneNumber: "+12065550100" }, { phoneNumber: 1, challenge: { session: "s" } }]) {
    assert.equal(flow.resume(kept), false);
    assert.equal(flow.challenge, null);
  }
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
  assert.equal(flow.resendWaitSeconds(), 30, "the cooldown counts again from the resend");
});

test("call me instead carries the device ticket when there is one", async () => {
  const { sent, fetchImpl } = stubCognito(challenge("s1", { alternatives: "VOICE" }), challenge("s2", { medium: "VOICE" }));
  const flow = signIn(fetchImpl);
  await flow.start("+12065550100");
  await flow.switchChannel("VOICE", "kept-ticket");
  assert.deepEqual(sent[1].body.ClientMetadata, { otpChannel: "VOICE", otpDeviceTicket: "kept-ticket" });
});

// --- saved.js: what the page keeps, per app client and per number ---------------------------------

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

test("saved: a number's countdown is its own, and its app client's", () => {
  let now = 1_000;
  const session = new MemoryStorage();
  const saved = new SavedState("client-1", { session, local: new MemoryStorage(), now: () => now });
  saved.keepSendAfter("+12065550100", 31_000);

  assert.equal(saved.sendAfter("+12065550100"), 31_000);
  assert.equal(saved.sendAfter("+12065550111"), null);
  assert.equal(new SavedState("client-2", { session, now: () => now }).sendAfter("+12065550100"), null);
  now = 31_000;
  assert.equal(saved.sendAfter("+12065550100"), null, "a deadline that passed is no countdown");
});

test("saved: the sign-in in progress is kept for a while, then forgotten; its number's countdown with it", () => {
  let now = 1_000;
  const session = new MemoryStorage();
  const saved = new SavedState("client-1", { session, now: () => now });
  const snapshot = { phoneNumber: "+12065550100", challenge: { session: "s1" }, sendAfter: 31_000 };
  saved.keepSignIn(snapshot);

  assert.deepEqual(saved.signIn(), snapshot);
  assert.equal(saved.sendAfter("+12065550100"), 31_000);
  assert.equal(new SavedState("client-2", { session, now: () => now }).signIn(), null);
  now += SIGN_IN_KEPT_MS;
  assert.equal(saved.signIn(), null);
  assert.equal(session.getItem("otp-sign-in:client-1"), null, "dropped, not only ignored");

  saved.keepSignIn(snapshot);
  saved.keepSignIn(null);
  assert.equal(saved.signIn(), null);
});

test("saved: blocked or broken storage keeps nothing and breaks nothing", () => {
  const blocked = {
    getItem() {
      throw new Error("SecurityError");
    },
    setItem() {
      throw new Error("QuotaExceededError");
    },
    removeItem() {
      throw new Error("SecurityError");
    },
  };
  const saved = new SavedState("client-1", { session: blocked, local: blocked });
  saved.keepSignIn({ phoneNumber: "+12065550100", challenge: { session: "s1" }, sendAfter: Date.now() + 1 });
  saved.keepDeviceTicket("+12065550100", "ticket");
  assert.equal(saved.signIn(), null);
  assert.equal(saved.sendAfter("+12065550100"), null);
  assert.equal(saved.deviceTicket("+12065550100"), null);

  const garbled = new MemoryStorage();
  garbled.setItem("otp-sign-in:client-1", "{not json");
  assert.equal(new SavedState("client-1", { session: garbled }).signIn(), null);
});

// --- phone.js: numbers as people type them, in E.164 ----------------------------------------------

const US_PAGE = { defaultCountry: "US", allowedCountries: ["CA", "GB", "US"] };

test("phone: the spellings people type become the one Cognito matches", () => {
  for (const typed of ["(206) 555-0100", "+1 206 555 0100", "206-555-0100", "1 206 555 0100", " +1 (206) 555-0100 ", "+12065550100"]) {
    assert.deepEqual(toE164(typed, US_PAGE, libphonenumber), { number: "+12065550100", formatted: "+1 206 555 0100" }, typed);
  }
  assert.equal(toE164("+44 7400 123456", US_PAGE, libphonenumber).number, "+447400123456");
  assert.equal(toE164("07400 123456", { ...US_PAGE, defaultCountry: "GB" }, libphonenumber).number, "+447400123456");
  // Canada shares +1: the area code says which country
  assert.equal(toE164("(604) 555-0100", US_PAGE, libphonenumber).number, "+16045550100");
});

test("phone: what cannot be sent gets a hint saying what to change", () => {
  const hint = (typed, options = US_PAGE) => toE164(typed, options, libphonenumber).hint;
  assert.equal(hint("  "), "Enter your phone number.");
  assert.match(hint("call me"), /^That is not a phone number\. Start with \+ and the country code/);
  assert.match(hint("206 55"), /^Not a valid United States number: too few digits\./);
  assert.match(hint("+1 206 555 01001"), /^Not a valid number: too many digits\./);
  assert.match(hint("+1 555 555 5555"), /^Not a valid number\./);
  assert.match(hint("07700 900123", { ...US_PAGE, defaultCountry: "GB" }), /^Not a valid United Kingdom number\./);
  assert.equal(hint("+49 30 1234567"), "Sign-in here is for numbers of Canada, United Kingdom or United States.");
  assert.equal(hint("+44 7400 123456", { defaultCountry: "US", allowedCountries: ["US"] }), "Sign-in here is for numbers of United States.");
  assert.match(hint("+1 206 555 0100 ext. 12"), /^Leave out the extension/);
  // No country to assume: a number without + cannot be read
  assert.match(hint("206 555 0100", {}), /^Start with \+ and the country code/);
  assert.match(toE164("+12065550100", US_PAGE, undefined).hint, /did not load/);
});

test("phone: the default country is the browser's when the deployment texts it, else the deployment's", () => {
  assert.deepEqual(localeRegions(["en-GB", "en", "fr-CA", "not a tag!"]), ["GB", "US", "CA"]);
  assert.equal(defaultCountry(["CA", "GB", "US"], ["en-GB"]), "GB");
  assert.equal(defaultCountry(["CA", "GB", "US"], ["de-DE", "fr-CA"]), "CA");
  assert.equal(defaultCountry(["GB"], ["en-US"]), "GB");
  assert.equal(defaultCountry([], ["en-US"]), "US");
  assert.equal(defaultCountry([], []), null);
});
