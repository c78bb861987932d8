// The web sign-in page in headless Chromium (Debian's package, driven by playwright-core), against a
// sandbox on End User Messaging with SMS and VOICE: a person creates a user, signs in with the code
// from the outbox after a wrong one, refreshes the tokens and signs out; "call me instead" really calls
// and only the spoken code signs in; an unknown number gets the same screens and no message; the
// button is hidden when a challenge offers no call; pointed at a deployed pool, the page offers no
// user creation.

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

async function openPage(url = pageUrl, { fakeClock = false } = {}) {
  const context = await browser.newContext();
  // The page counts the per-number cooldown down on its own clock; a test moves it with the sandbox's.
  if (fakeClock) await context.clock.install();
  const page = await context.newPage();
  const cognitoCalls = [];
  page.on("request", (request) => {
    const target = request.headers()["x-amz-target"];
    if (target) cognitoCalls.push({ operation: target.split(".")[1], body: request.postDataJSON() });
  });
  await page.goto(url);
  return { page, cognitoCalls, close: () => context.close() };
}

const text = (page, selector) => page.locator(selector).innerText();

test("create a user, a wrong code, the right code, a forced refresh, sign-out", async () => {
  const { page, cognitoCalls, close } = await openPage();
  const phone = freshNumber();
  try {
    // The sandbox's page offers user creation
    await page.locator("#sandbox-tools").waitFor({ state: "visible" });
    await page.fill("#phone", phone);
    await page.click("#create-user");
    await page.locator("#message", { hasText: `Created user ${phone} (CONFIRMED)` }).waitFor();

    // A code goes out; the page shows only the masked number and the attempts
    await page.click("#send-code");
    await page.locator("#code-screen").waitFor({ state: "visible" });
    assert.equal(await text(page, "#destination"), `We texted a code to +1********${phone.slice(-2)}. Enter the 6-digit code.`);
    assert.equal(await text(page, "#attempts"), "3 of 3 attempts left.");
    assert.equal(await page.locator("#call-me").isVisible(), true);
    assert.match(await text(page, "#resend"), /^Send a new code \(in \d+ s\)$/);
    assert.equal(await page.locator("#resend").isDisabled(), true);
    const code = await lastCode(phone);

    // A malformed code is refused on the page, without spending an attempt
    await page.fill("#code", "12");
    await page.click("#submit-code");
    await page.locator("#error", { hasText: "enter the 6 digits of the code (no attempt was used)" }).waitFor();
    assert.equal(await text(page, "#attempts"), "3 of 3 attempts left.");

    // A wrong code: the message and the attempts left
    await page.fill("#code", anotherCode(code));
    await page.click("#submit-code");
    await page.locator("#message", { hasText: "That code is wrong. 2 attempts left." }).waitFor();
    assert.equal(await text(page, "#attempts"), "2 of 3 attempts left.");

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
    assert.equal(await text(page, "#destination"), `We texted a code to +1********${phone.slice(-2)}. Enter the 6-digit code.`);
    assert.equal(await text(page, "#attempts"), "3 of 3 attempts left.");

    await page.fill("#code", "123456");
    await page.click("#submit-code");
    await page.locator("#message", { hasText: "That code is wrong. 2 attempts left." }).waitFor();
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
    await page.locator("#destination", { hasText: `We are calling +1********${phone.slice(-2)}` }).waitFor();
    await page.locator("#message", { hasText: "Calling you with a new code: the texted one no longer works." }).waitFor();
    assert.equal(await page.locator("#call-me").isVisible(), false);
    assert.equal(await text(page, "#attempts"), "3 of 3 attempts left.");
    const messages = await outbox(phone);
    assert.deepEqual(messages.map((message) => message.channel), ["SMS", "VOICE"]);
    const switched = cognitoCalls.at(-1);
    assert.deepEqual(switched.body.ClientMetadata, { otpChannel: "VOICE" });
    assert.equal(switched.body.ChallengeResponses.ANSWER, "VOICE");

    // The texted code is now a wrong answer; the spoken one signs in
    await page.fill("#code", smsCode);
    await page.click("#submit-code");
    await page.locator("#message", { hasText: "That code is wrong. 2 attempts left." }).waitFor();
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
    await page.locator("#message", { hasText: "Sent again, from this device's reserve: enter the newest code." }).waitFor();
    assert.equal(await page.locator("#resend-device").isVisible(), false, "once per sign-in");
    assert.equal(await text(page, "#attempts"), "3 of 3 attempts left.");
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

test("call me instead is hidden when the challenge offers no call (stubbed Cognito answers)", async () => {
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
            USERNAME: "stubbed-user",
          },
        }),
      });
    });
    await page.fill("#phone", "+12065550177");
    await page.click("#send-code");
    await page.locator("#destination", { hasText: "We texted a code to +1********77" }).waitFor();
    assert.equal(await page.locator("#call-me").isVisible(), false);
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
