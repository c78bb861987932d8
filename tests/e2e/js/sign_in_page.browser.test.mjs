// The web sign-in page in headless Chromium (Debian's package, driven by playwright-core), against a
// sandbox on End User Messaging with SMS and VOICE: a person creates a user, signs in with the code
// from the outbox after a wrong one (shown as an error, the attempts left shown once, as the challenge
// says), refreshes the tokens and signs out; numbers typed as "(206) 555-0100" or "+1 206 555 0100"
// sign in, and what cannot be a number gets a hint and no request; the message after asking for a code
// is the same, and true, whether a code went out, the cooldown held it back or the number is unknown;
// the resend countdown and the sign-in survive a reload, per number; no resource the page asks for
// fails; "call me instead" really calls and only the spoken code signs in; the button is hidden when a
// challenge offers no call; pointed at a deployed pool, the page offers no user creation.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

import {
  advanceClock,
  anotherCode,
  awsUrl,
  cognito,
  createUser,
  freshNumber,
  lastCode,
  outbox,
  sandboxPool,
  spendOpenPart,
} from "./sandbox.mjs";

const pageUrl = `${awsUrl}/_sandbox/app/`;
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
let browser;
let profile;

before(async () => {
  profile = await mkdtemp(join(tmpdir(), "otp-chromium-"));
  browser = await chromium.launch({
    executablePath,
    headless: true,
    chromiumSandbox: false,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--disk-cache-dir=${profile}`,
    ],
  });
});

after(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

const isCognito = (url) => url === `${awsUrl}/` || url.startsWith("https://cognito-idp.");

async function openPage(url = pageUrl, { fakeClock = false, locale = "en-US" } = {}) {
  const context = await browser.newContext({ locale });
  // The page counts the per-number cooldown down on its own clock; a test moves it with the sandbox's.
  // Paused: only the test moves it, however long a loaded machine takes between two steps.
  if (fakeClock) {
    await context.clock.install();
    await context.clock.pauseAt(Date.now() + 1_000);
  }
  const page = await context.newPage();
  const cognitoCalls = [];
  const cognitoAnswers = [];
  // Anything the page asked for that failed, Cognito's own error answers aside; and its script errors.
  const failures = [];
  page.on("request", (request) => {
    const target = request.headers()["x-amz-target"];
    if (target) cognitoCalls.push({ operation: target.split(".")[1], body: request.postDataJSON() });
  });
  page.on("response", async (response) => {
    if (response.request().headers()["x-amz-target"] && response.ok()) cognitoAnswers.push(await response.json());
    if (response.status() >= 400 && !isCognito(response.url())) failures.push(`${response.status()} ${response.url()}`);
  });
  page.on("requestfailed", (request) => failures.push(`${request.failure()?.errorText} ${request.url()}`));
  // The browser's own requests (the icon) reach no page event, only the console.
  page.on("console", (message) => {
    if (message.type() === "error" && !isCognito(message.location().url)) {
      failures.push(`${message.text()} ${message.location().url}`);
    }
  });
  page.on("pageerror", (error) => failures.push(`script error: ${error.message}`));
  await page.goto(url);
  return { page, cognitoCalls, cognitoAnswers, failures, close: () => context.close() };
}

const text = (page, selector) => page.locator(selector).innerText();
/** "+12065550123" as a person in the US types it: "(206) 555-0123". */
const national = (phone) => `(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`;
/** "+12065550123" as printed in international format: "+1 206 555 0123". */
const spaced = (phone) => `+1 ${phone.slice(2, 5)} ${phone.slice(5, 8)} ${phone.slice(8)}`;
const onItsWay = (masked) =>
  `If this number can sign in and the sending limits allow it, a code is on its way to ${masked} by text. Enter the 6-digit code.`;
const masked = (phone) => `+1********${phone.slice(-2)}`;
const ERROR_RED = "rgb(164, 22, 26)";

/** The error line is shown, says `expected`, in the error style; the information line is empty. */
async function assertError(page, expected) {
  await page.locator("#error", { hasText: expected }).waitFor({ state: "visible" });
  assert.equal(await text(page, "#error"), expected);
  assert.equal(await page.locator("#error").getAttribute("role"), "alert");
  assert.equal(await page.locator("#error").evaluate((node) => getComputedStyle(node).color), ERROR_RED);
  assert.equal(await page.locator("#message").isVisible(), false);
}

/** The resend button counts down from `expected` seconds (on the test's paused clock). */
async function assertWait(page, expected) {
  assert.equal(await text(page, "#resend"), `Send a new code (in ${expected} s)`);
  assert.equal(await page.locator("#resend").isDisabled(), true);
}

/** The attempts left show once on the whole page, and say `count`. */
async function assertAttemptsShownOnce(page, count) {
  assert.equal(await text(page, "#attempts"), `${count} ${count === 1 ? "attempt" : "attempts"} left.`);
  const shown = (await page.locator("body").innerText()).match(/attempts? left/g) ?? [];
  assert.equal(shown.length, 1, "the attempts left show in one place");
}

test("create a user, a wrong code, the right code, a forced refresh, sign-out", async () => {
  const { page, cognitoCalls, cognitoAnswers, failures, close } = await openPage();
  const phone = freshNumber();
  try {
    // The sandbox's page offers user creation; the number is typed as people write it
    await page.locator("#sandbox-tools").waitFor({ state: "visible" });
    await page.fill("#phone", national(phone));
    await page.click("#create-user");
    await page.locator("#message", { hasText: `Created user ${phone} (CONFIRMED)` }).waitFor();

    // A code goes out, to the number in E.164; the page shows only the masked number and the attempts
    await page.click("#send-code");
    await page.locator("#code-screen").waitFor({ state: "visible" });
    assert.deepEqual(cognitoCalls.at(-1).body.AuthParameters, { USERNAME: phone });
    assert.equal(await text(page, "#destination"), onItsWay(masked(phone)));
    assert.equal(cognitoAnswers.at(-1).ChallengeParameters.OTP_ATTEMPTS_REMAINING, "3");
    await assertAttemptsShownOnce(page, 3);
    assert.equal(await page.locator("#call-me").isVisible(), true);
    assert.match(await text(page, "#resend"), /^Send a new code \(in \d+ s\)$/);
    assert.equal(await page.locator("#resend").isDisabled(), true);
    const code = await lastCode(phone);

    // A malformed code is refused on the page, without spending an attempt
    await page.fill("#code", "12");
    await page.click("#submit-code");
    await assertError(page, "enter the 6 digits of the code (no attempt was used)");
    await assertAttemptsShownOnce(page, 3);

    // A wrong code: an error, and the attempts the new challenge says are left, shown once
    await page.fill("#code", anotherCode(code));
    await page.click("#submit-code");
    await assertError(page, "That code is wrong.");
    assert.equal(cognitoAnswers.at(-1).ChallengeParameters.OTP_ATTEMPTS_REMAINING, "2");
    await assertAttemptsShownOnce(page, 2);

    // The right code: signed in, the ID token verified against the sandbox's JWKS in the page
    await page.fill("#code", code);
    await page.click("#submit-code");
    await page.locator("#signed-in-screen").waitFor({ state: "visible" });
    await page.locator('#verification[data-verified="true"]').waitFor();
    assert.equal(await text(page, '[data-claim="phone_number"] td'), JSON.stringify(phone));
    assert.equal(await text(page, '[data-claim="phone_number_verified"] td'), "true");
    assert.equal((await outbox(phone)).length, 1);

    // Refresh tokens now: new access token, still verified
    const before = await page.locator("#token-times").getAttribute("data-jti");
    await page.click("#refresh");
    await page.locator("#message", { hasText: "Tokens refreshed at" }).waitFor();
    await page.locator('#verification[data-verified="true"]').waitFor();
    assert.notEqual(await page.locator("#token-times").getAttribute("data-jti"), before);
    assert.ok(cognitoCalls.some((call) => call.operation === "GetTokensFromRefreshToken"));

    // Sign out: RevokeToken, after which Cognito refuses that refresh token
    await page.click("#sign-out");
    await page.locator("#message", { hasText: "Signed out: the refresh token is revoked." }).waitFor();
    await page.locator("#phone-screen").waitFor({ state: "visible" });
    const revoke = cognitoCalls.find((call) => call.operation === "RevokeToken");
    assert.ok(revoke);
    const { clientId } = await sandboxPool();
    const refused = await cognito("GetTokensFromRefreshToken", { ClientId: clientId, RefreshToken: revoke.body.Token });
    assert.equal(refused.body.message, "Refresh Token has been revoked");
    assert.deepEqual(failures, []);
  } finally {
    await close();
  }
});

test("nothing is asked for that fails: no 404, the icon included, no script error", async () => {
  const { page, failures, close } = await openPage();
  try {
    await page.locator("#phone-screen").waitFor({ state: "visible" });
    await page.fill("#phone", freshNumber());
    await page.click("#send-code");
    await page.locator("#code-screen").waitFor({ state: "visible" });
    await page.waitForLoadState("networkidle");
    assert.deepEqual(failures, []);
    // Without a declared icon, Chromium asks for /favicon.ico, which the sandbox answers with 404.
    assert.equal(await page.locator('link[rel="icon"]').getAttribute("href"), "data:,");
  } finally {
    await close();
  }
});

test("(206) 555-0100 and +1 206 555 0100 sign in: the page sends Cognito +12065550100", async () => {
  const { page, cognitoCalls, close } = await openPage(pageUrl, { fakeClock: true });
  const phone = "+12065550100";
  // The README's number: created here unless an earlier run against this sandbox did
  const created = await fetch(`${awsUrl}/_sandbox/users`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ phoneNumber: phone }),
  });
  assert.ok([201, 409].includes(created.status), `create user: HTTP ${created.status}`);
  try {
    for (const typed of ["(206) 555-0100", "+1 206 555 0100"]) {
      const before = (await outbox(phone)).length;
      await page.fill("#phone", typed);
      await page.click("#send-code");
      await page.locator("#code-screen").waitFor({ state: "visible" });
      assert.deepEqual(cognitoCalls.at(-1).body.AuthParameters, { USERNAME: phone }, typed);
      assert.equal((await outbox(phone)).length, before + 1, `a code went out for ${typed}`);
      await page.fill("#code", await lastCode(phone));
      await page.click("#submit-code");
      await page.locator('#verification[data-verified="true"]').waitFor();
      assert.equal(await text(page, '[data-claim="phone_number"] td'), JSON.stringify(phone));
      await page.click("#sign-out");
      await page.locator("#phone-screen").waitFor({ state: "visible" });
      // The next code waits out the number's cooldown, on the sandbox's clock and on the page's
      await advanceClock(31);
      await page.clock.fastForward(31_000);
    }
  } finally {
    await close();
  }
});

test("what cannot be a number gets a hint next to the field, and no request", async () => {
  const { page, cognitoCalls, close } = await openPage();
  const hint = (expected) => page.locator("#phone-hint", { hasText: expected }).waitFor({ state: "visible" });
  try {
    await page.locator("#phone-screen").waitFor({ state: "visible" });
    const cases = [
      ["", "Enter your phone number."],
      ["206 55", "Not a valid United States number: too few digits."],
      ["call me", "That is not a phone number."],
      ["07400 123456", "Not a valid United States number: too many digits."],
      ["+49 30 1234567", "Sign-in here is for numbers of Canada, United Kingdom or United States."],
      ["+1 206 555 0100 ext. 12", "Leave out the extension"],
    ];
    for (const [typed, expected] of cases) {
      await page.fill("#phone", typed);
      await page.click("#send-code");
      await hint(expected);
      assert.equal(await page.locator("#phone").getAttribute("aria-invalid"), "true", typed);
      assert.equal(await page.locator("#phone-hint").evaluate((node) => getComputedStyle(node).color), ERROR_RED);
    }
    // "Create a test user" reads the field the same way
    await page.click("#create-user");
    await hint("Leave out the extension");
    assert.deepEqual(cognitoCalls, []);
    assert.equal(await page.locator("#phone-screen").isVisible(), true);
    // Typing again clears the hint
    await page.fill("#phone", "+44 7400 123456");
    assert.equal(await page.locator("#phone-hint").isVisible(), false);
  } finally {
    await close();
  }
});

test("a browser in the UK: a number typed without + is British", async () => {
  const { page, cognitoCalls, close } = await openPage(pageUrl, { locale: "en-GB" });
  try {
    await page.locator("#phone-screen").waitFor({ state: "visible" });
    await page.fill("#phone", `07400 1${String(Date.now()).slice(-5)}`);
    await page.click("#send-code");
    await page.locator("#code-screen").waitFor({ state: "visible" });
    assert.match(cognitoCalls.at(-1).body.AuthParameters.USERNAME, /^\+4474001\d{5}$/);
  } finally {
    await close();
  }
});

test("sent, held back by the cooldown, or unknown: the same message, true in each case", async () => {
  const { page, close } = await openPage(pageUrl, { fakeClock: true });
  const phone = freshNumber();
  const stranger = freshNumber();
  await createUser(phone);
  const destination = () => text(page, "#destination");
  try {
    // A code goes out
    await page.fill("#phone", national(phone));
    await page.click("#send-code");
    await page.locator("#code-screen").waitFor({ state: "visible" });
    assert.equal((await outbox(phone)).length, 1);
    const sent = await destination();
    assert.equal(sent, onItsWay(masked(phone)));

    // Ten seconds later, the same number again: a new sign-in, and nothing is sent (the cooldown)
    await page.clock.fastForward(10_000);
    await page.click("#start-over");
    await page.click("#send-code");
    await page.locator("#code-screen").waitFor({ state: "visible" });
    assert.equal((await outbox(phone)).length, 1, "the cooldown held the code back");
    assert.equal(await destination(), sent);
    assert.equal(await page.locator("#message").isVisible(), false, "nothing else is said");
    // ... and the countdown goes on from the code that did go out
    await assertWait(page, 20);

    // A number nobody registered: nothing is sent, and the page says the same
    await page.click("#start-over");
    await page.fill("#phone", spaced(stranger));
    await page.click("#send-code");
    await page.locator("#destination", { hasText: masked(stranger) }).waitFor();
    assert.equal(await destination(), onItsWay(masked(stranger)));
    assert.deepEqual(await outbox(stranger), []);
    assert.equal(await page.locator("#message").isVisible(), false);
  } finally {
    await close();
  }
});

test("the countdown and the sign-in survive a reload, and one number's countdown is not another's", async () => {
  const { page, close } = await openPage(pageUrl, { fakeClock: true });
  const phone = freshNumber();
  const other = freshNumber();
  await createUser(phone);
  try {
    await page.fill("#phone", national(phone));
    await page.click("#send-code");
    await page.locator("#code-screen").waitFor({ state: "visible" });
    await assertWait(page, 30);
    await page.fill("#code", anotherCode(await lastCode(phone)));
    await page.click("#submit-code");
    await assertError(page, "That code is wrong.");
    await page.clock.fastForward(12_000);
    await assertWait(page, 18);

    // Reloaded: the same sign-in, its attempts and its countdown, not 30 s again
    await page.reload();
    await page.locator("#code-screen").waitFor({ state: "visible" });
    await assertWait(page, 18);
    assert.equal(await page.locator("#resend").isDisabled(), true);
    assert.equal(await text(page, "#destination"), onItsWay(masked(phone)));
    await assertAttemptsShownOnce(page, 2);

    // Another number has a countdown of its own
    await page.click("#start-over");
    await page.fill("#phone", national(other));
    await page.click("#send-code");
    await page.locator("#destination", { hasText: masked(other) }).waitFor();
    await assertWait(page, 30);
    // ... and the first number's is where it was
    await page.click("#start-over");
    await page.fill("#phone", national(phone));
    await page.click("#send-code");
    await page.locator("#destination", { hasText: masked(phone) }).waitFor();
    await assertWait(page, 18);
    await page.clock.fastForward(18_000);
    await page.locator("#resend:enabled").waitFor();

    // The reloaded sign-in still signs in: a fresh page, a code, a reload before typing it
    await advanceClock(31);
    await page.click("#resend");
    await page.locator("#message", { hasText: "New sign-in started" }).waitFor();
    assert.equal((await outbox(phone)).length, 2);
    await page.reload();
    await page.locator("#code-screen").waitFor({ state: "visible" });
    await page.fill("#code", await lastCode(phone));
    await page.click("#submit-code");
    await page.locator('#verification[data-verified="true"]').waitFor();
    // Signed in: nothing of the sign-in is kept for a reload to bring back
    await page.reload();
    await page.locator("#phone-screen").waitFor({ state: "visible" });
  } finally {
    await close();
  }
});

test("an unknown number gets the same screens, and no SMS", async () => {
  const { page, close } = await openPage();
  const phone = freshNumber();
  try {
    await page.fill("#phone", phone);
    await page.click("#send-code");
    await page.locator("#code-screen").waitFor({ state: "visible" });
    assert.equal(await text(page, "#destination"), onItsWay(masked(phone)));
    await assertAttemptsShownOnce(page, 3);

    await page.fill("#code", "123456");
    await page.click("#submit-code");
    await assertError(page, "That code is wrong.");
    await assertAttemptsShownOnce(page, 2);
    assert.deepEqual(await outbox(phone), []);
  } finally {
    await close();
  }
});

test("call me instead: a real call, the texted code stops working, the spoken one signs in", async () => {
  const { page, cognitoCalls, close } = await openPage();
  const phone = freshNumber();
  try {
    await page.fill("#phone", phone);
    await page.click("#create-user");
    await page.locator("#message", { hasText: `Created user ${phone}` }).waitFor();
    await page.click("#send-code");
    await page.locator("#call-me").waitFor({ state: "visible" });
    const smsCode = await lastCode(phone);

    await page.click("#call-me");
    await page.locator("#destination", { hasText: `a call with a code is on its way to ${masked(phone)}` }).waitFor();
    await page
      .locator("#message", { hasText: "Asked for a call. If it comes, only its code works; if not, the texted code still does." })
      .waitFor();
    assert.equal(await page.locator("#call-me").isVisible(), false);
    await assertAttemptsShownOnce(page, 3);
    const messages = await outbox(phone);
    assert.deepEqual(messages.map((message) => message.channel), ["SMS", "VOICE"]);
    const switched = cognitoCalls.at(-1);
    assert.deepEqual(switched.body.ClientMetadata, { otpChannel: "VOICE" });
    assert.equal(switched.body.ChallengeResponses.ANSWER, "VOICE");

    // The texted code is now a wrong answer; the spoken one signs in
    await page.fill("#code", smsCode);
    await page.click("#submit-code");
    await assertError(page, "That code is wrong.");
    await assertAttemptsShownOnce(page, 2);
    await page.fill("#code", await lastCode(phone));
    await page.click("#submit-code");
    await page.locator('#verification[data-verified="true"]').waitFor();
    assert.equal(await text(page, '[data-claim="phone_number"] td'), JSON.stringify(phone));
  } finally {
    await close();
  }
});

test("a returning device: the ticket kept after a sign-in brings a code when strangers spent the open part", async () => {
  const { page, close } = await openPage(pageUrl, { fakeClock: true });
  const phone = freshNumber();
  const { clientId } = await sandboxPool();
  const storedTicket = () => page.evaluate((key) => localStorage.getItem(key), `otp-device-ticket:${clientId}:${phone}`);
  try {
    // A first sign-in on this device: no ticket yet, so nothing to send again from
    await page.fill("#phone", phone);
    await page.click("#create-user");
    await page.locator("#message", { hasText: `Created user ${phone}` }).waitFor();
    await page.click("#send-code");
    await page.locator("#code-screen").waitFor({ state: "visible" });
    assert.equal(await page.locator("#resend-device").isVisible(), false);
    assert.equal(await storedTicket(), null);
    await page.fill("#code", await lastCode(phone));
    await page.click("#submit-code");
    await page.locator("#signed-in-screen").waitFor({ state: "visible" });
    // Signed in: the page kept this sign-in's ticket
    const ticket = await storedTicket();
    assert.match(ticket, /^[A-Za-z0-9_-]{43}$/);
    await page.click("#sign-out");
    await page.locator("#phone-screen").waitFor({ state: "visible" });

    // A stranger spends the open part of the number's day (six codes with the user's, over an hour)
    await advanceClock(31);
    const requests = await spendOpenPart(phone);
    assert.equal(requests, 5);
    assert.equal((await outbox(phone)).length, 6);

    // The user's next sign-in brings no code; the page offers to send again from this device
    await page.click("#send-code");
    await page.locator("#code-screen").waitFor({ state: "visible" });
    assert.equal((await outbox(phone)).length, 6);
    await page.locator("#resend-device").waitFor({ state: "visible" });
    assert.equal(await page.locator("#resend-device").isDisabled(), true, "not before the cooldown");
    await advanceClock(31);
    await page.clock.fastForward(31_000);
    await page.locator("#resend-device:enabled").waitFor();
    await page.click("#resend-device");
    await page.locator("#message", { hasText: "Asked for a new code from this device's reserve." }).waitFor();
    assert.equal(await page.locator("#resend-device").isVisible(), false, "once per sign-in");
    await assertAttemptsShownOnce(page, 3);
    assert.equal((await outbox(phone)).length, 7);

    // The reserve's code signs in, and the page keeps the new sign-in's ticket
    await page.fill("#code", await lastCode(phone));
    await page.click("#submit-code");
    await page.locator("#signed-in-screen").waitFor({ state: "visible" });
    const newer = await storedTicket();
    assert.match(newer, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(newer, ticket);
  } finally {
    await close();
  }
});

test("call me instead is hidden when the challenge offers no call; the attempts shown are the challenge's (stubbed Cognito answers)", async () => {
  const { page, close } = await openPage();
  try {
    // A Pinpoint deployment, or one with SMS only: Cognito's answer stubbed at the network layer.
    await page.route(`${awsUrl}/`, async (route) => {
      await route.fulfill({
        status: 200,
        contentType: "application/x-amz-json-1.1",
        body: JSON.stringify({
          ChallengeName: "CUSTOM_CHALLENGE",
          Session: "session-1",
          ChallengeParameters: {
            CODE_DELIVERY_DELIVERY_MEDIUM: "SMS",
            CODE_DELIVERY_DESTINATION: "+1********77",
            CODE_LENGTH: "6",
            CODE_DELIVERY_ALTERNATIVES: "",
            OTP_ATTEMPTS_REMAINING: "1",
            USERNAME: "stubbed-user",
          },
        }),
      });
    });
    await page.fill("#phone", "+12065550177");
    await page.click("#send-code");
    await page.locator("#destination", { hasText: "a code is on its way to +1********77 by text" }).waitFor();
    assert.equal(await page.locator("#call-me").isVisible(), false);
    // Not the page's own count (3 allowed, none spent): what the challenge says
    await assertAttemptsShownOnce(page, 1);
  } finally {
    await close();
  }
});

test("pointed at a deployed pool, the page offers no user creation and talks to Cognito's regional endpoint", async () => {
  const { page, close } = await openPage(`${pageUrl}?region=eu-west-1&clientId=abc123example`);
  const requested = [];
  try {
    // Nothing may leave this machine: every request to AWS is answered here, and recorded.
    await page.route("https://cognito-idp.eu-west-1.amazonaws.com/**", async (route) => {
      requested.push(route.request().headers()["x-amz-target"]);
      await route.fulfill({
        status: 400,
        contentType: "application/x-amz-json-1.1",
        headers: { "Access-Control-Allow-Origin": "*" },
        body: JSON.stringify({ __type: "ResourceNotFoundException", message: "User pool client abc123example does not exist." }),
      });
    });
    await page.locator("#phone-screen").waitFor({ state: "visible" });
    assert.equal(await page.locator("#sandbox-tools").isVisible(), false);
    assert.match(await text(page, "#config-summary"), /^AWS eu-west-1 - app client abc123example$/);

    await page.fill("#phone", "+12065550100");
    await page.click("#send-code");
    await page.locator("#error", { hasText: "ResourceNotFoundException: User pool client abc123example does not exist." }).waitFor();
    assert.deepEqual(requested, ["AWSCognitoIdentityProviderService.InitiateAuth"]);
  } finally {
    await close();
  }
});
