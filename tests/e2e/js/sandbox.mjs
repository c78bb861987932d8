// What a JS test needs from the sandbox it was pointed at (SANDBOX_AWS_URL): its user pool, users,
// and the "phone" (the outbox). Only the sandbox's documented routes, over plain fetch.

import assert from "node:assert/strict";
import { randomInt } from "node:crypto";

export const awsUrl = process.env.SANDBOX_AWS_URL;
assert.ok(awsUrl, "SANDBOX_AWS_URL must name the sandbox's AWS endpoint (the Python suite sets it)");
export const region = "us-east-1";

async function json(path, init) {
  const response = await fetch(`${awsUrl}${path}`, init);
  const body = await response.json();
  assert.ok(response.ok, `${init?.method ?? "GET"} ${path}: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** {userPoolId, clientId} of the pool the sandbox created, configured as the stack's. */
export async function sandboxPool() {
  const health = await json("/_sandbox/health");
  return { userPoolId: health.userPoolId, clientId: health.userPoolClientId };
}

/**
 * A valid number no other test uses (the per-number send limits stay out of the way): 206, an exchange
 * other than 555 (whose 01xx block holds the sandbox's test numbers), any line: about 7.9 million.
 */
export function freshNumber() {
  let exchange = randomInt(200, 999);
  if (exchange >= 555) exchange += 1;
  return `+1206${exchange}${String(randomInt(0, 10000)).padStart(4, "0")}`;
}

/** A user with a verified phone number, through the sandbox-only route the web page uses. */
export async function createUser(phoneNumber) {
  return json("/_sandbox/users", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ phoneNumber }),
  });
}

/** The SMS delivered to a number, oldest first. */
export async function outbox(phoneNumber) {
  const { messages } = await json(`/_sandbox/messages?destination=${encodeURIComponent(phoneNumber)}`);
  return messages;
}

/** The code of the newest SMS to a number, read from its text as a person would. */
export async function lastCode(phoneNumber) {
  const messages = await outbox(phoneNumber);
  assert.ok(messages.length > 0, `no SMS to ${phoneNumber}`);
  const match = /\b(\d{6})\b/.exec(messages.at(-1).body);
  assert.ok(match, messages.at(-1).body);
  return match[1];
}

export function anotherCode(code) {
  return String((Number(code) + 1) % 1_000_000).padStart(6, "0");
}

/** Cognito's JSON API, as a browser would call it. */
export async function cognito(operation, body) {
  const response = await fetch(`${awsUrl}/`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** Moves the sandbox's clock forward (codes, limits and sessions follow it). */
export async function advanceClock(seconds) {
  return json("/_sandbox/clock", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
}

/**
 * A stranger who knows the number starts sign-ins as fast as the limits let codes through (30 s
 * cooldown, 5 an hour) until it has received `openPart` codes today (the default 10 a day less the
 * 4 reserved for device tickets), then waits out the cooldown. Returns the requests it took.
 */
export async function spendOpenPart(phoneNumber, openPart = 6) {
  const { clientId } = await sandboxPool();
  let requests = 0;
  while ((await outbox(phoneNumber)).length < openPart) {
    const before = (await outbox(phoneNumber)).length;
    const answer = await cognito("InitiateAuth", {
      ClientId: clientId,
      AuthFlow: "CUSTOM_AUTH",
      AuthParameters: { USERNAME: phoneNumber },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    requests += 1;
    const sent = (await outbox(phoneNumber)).length;
    await advanceClock(sent > before && sent % 5 ? 30 : 3600 - 4 * 30);
  }
  await advanceClock(31);
  return requests;
}

/** amazon-cognito-identity-js: start (or continue) a custom-auth sign-in; resolves with {challenge} or {session}. */
export function step(run) {
  return new Promise((resolve, reject) => {
    run({
      onSuccess: (session) => resolve({ session }),
      onFailure: reject,
      customChallenge: (challenge) => resolve({ challenge }),
    });
  });
}
