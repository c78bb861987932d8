// Passwordless sign-in with this project's Cognito custom-auth triggers, without the DOM: the page
// (app.js) renders what this returns, and tests drive it with a stubbed fetch.
//
// Attempts left: every challenge of this project's triggers says how many answers the sign-in may
// still get wrong (OTP_ATTEMPTS_REMAINING, counted as the Define trigger counts: a channel switch or a
// resend with a device ticket is no guess). Only a deployment older than that parameter leaves the
// client to count: its allowedAttempts (configuration, 3 by default) minus the answers that earned
// another CUSTOM_CHALLENGE instead of tokens. Answers that are not CODE_LENGTH digits are refused here,
// before they can spend an attempt.
//
// Resend: codes go out at most once per cooldown per number, and a sign-in started sooner sends none.
// sendAfter is when the next one may go out; the page keeps it per number (see saved.js), so that a
// reload or a new sign-in of the same number does not start the countdown again.
//
// Device tickets: every challenge shows the sign-in's ticket (OTP_DEVICE_TICKET). It becomes valid
// only when this sign-in's code is verified, so the page keeps it only after a successful sign-in
// (earnedTicket); presented later for the same number, it lets a code come from the part of the
// number's daily quota that strangers cannot spend.

import { callCognito, CognitoError } from "./cognito.js";

export const CUSTOM_CHALLENGE = "CUSTOM_CHALLENGE";
const INCORRECT = "Incorrect username or password.";

function challengeOf(answer) {
  const parameters = answer.ChallengeParameters || {};
  const remaining = parameters.OTP_ATTEMPTS_REMAINING;
  return {
    session: answer.Session,
    username: parameters.USERNAME,
    medium: parameters.CODE_DELIVERY_DELIVERY_MEDIUM || "SMS",
    destination: parameters.CODE_DELIVERY_DESTINATION || "",
    codeLength: Number(parameters.CODE_LENGTH) || 6,
    ticket: parameters.OTP_DEVICE_TICKET || null,
    attemptsRemaining: /^\d{1,2}$/.test(remaining ?? "") ? Number(remaining) : null,
    alternatives: (parameters.CODE_DELIVERY_ALTERNATIVES || "")
      .split(",")
      .map((channel) => channel.trim())
      .filter(Boolean),
  };
}

export class PasswordlessSignIn {
  constructor({
    endpoint,
    clientId,
    allowedAttempts = 3,
    cooldownSeconds = 30,
    fetchImpl = globalThis.fetch,
    now = () => Date.now(),
  }) {
    this.endpoint = endpoint;
    this.clientId = clientId;
    this.allowedAttempts = allowedAttempts;
    this.cooldownMs = cooldownSeconds * 1000;
    this.fetchImpl = fetchImpl;
    this.now = now;
    this.phoneNumber = null;
    this.challenge = null;
    this.wrongAnswers = 0;
    this.exhausted = false;
    this.sendAfter = null;
    this.tokens = null;
    this.resent = false;
    this.earnedTicket = null;
  }

  call(operation, body) {
    return callCognito(this.endpoint, operation, body, this.fetchImpl);
  }

  /** What the challenge says is left; counted here only for a deployment that does not say. */
  get attemptsLeft() {
    if (this.exhausted) return 0;
    return this.challenge?.attemptsRemaining ?? Math.max(0, this.allowedAttempts - this.wrongAnswers);
  }

  /** Seconds before a new code may go out to this number (the per-number cooldown), 0 when it may. */
  resendWaitSeconds() {
    if (this.sendAfter === null) return 0;
    return Math.max(0, Math.ceil((this.sendAfter - this.now()) / 1000));
  }

  /**
   * InitiateAuth with the number in E.164 (the one spelling Cognito matches): the code goes out, or
   * nothing does (an unknown number, a limit): the answer is the same. `sendAfter` is the number's
   * deadline kept from an earlier sign-in: while it is ahead, this sign-in sent nothing and the
   * countdown goes on from it; otherwise it starts again from now.
   */
  async start(phoneNumber, { sendAfter = null } = {}) {
    const answer = await this.call("InitiateAuth", {
      ClientId: this.clientId,
      AuthFlow: "CUSTOM_AUTH",
      AuthParameters: { USERNAME: phoneNumber },
    });
    const now = this.now();
    this.phoneNumber = phoneNumber;
    this.sendAfter = sendAfter !== null && sendAfter > now ? sendAfter : now + this.cooldownMs;
    this.wrongAnswers = 0;
    this.exhausted = false;
    this.tokens = null;
    this.resent = false;
    this.earnedTicket = null;
    this.challenge = challengeOf(answer);
    return this.challenge;
  }

  /** The sign-in in progress as plain data (no code, no tokens), for the page to keep across a reload. */
  snapshot() {
    if (!this.challenge) return null;
    const { phoneNumber, challenge, wrongAnswers, sendAfter, resent } = this;
    return { phoneNumber, challenge, wrongAnswers, sendAfter, resent };
  }

  /** Carry on with a sign-in a snapshot kept; false (nothing changed) for anything else. */
  resume(snapshot) {
    const challenge = snapshot?.challenge;
    if (typeof snapshot?.phoneNumber !== "string" || typeof challenge?.session !== "string") return false;
    this.phoneNumber = snapshot.phoneNumber;
    this.challenge = {
      ...challenge,
      alternatives: Array.isArray(challenge.alternatives) ? challenge.alternatives : [],
      attemptsRemaining: Number.isInteger(challenge.attemptsRemaining) ? challenge.attemptsRemaining : null,
    };
    this.wrongAnswers = Number.isInteger(snapshot.wrongAnswers) ? snapshot.wrongAnswers : 0;
    this.sendAfter = Number.isFinite(snapshot.sendAfter) ? snapshot.sendAfter : null;
    this.resent = snapshot.resent === true;
    this.exhausted = false;
    this.tokens = null;
    this.earnedTicket = null;
    return true;
  }

  isWellFormed(code) {
    return new RegExp(`^\\d{${this.challenge.codeLength}}$`).test(code);
  }

  /**
   * Answer with the code. Resolves with one of:
   * {status: "signedIn"}, {status: "wrongCode", attemptsLeft}, {status: "malformed"} (not sent),
   * {status: "noAttemptsLeft"}, {status: "expired"}.
   */
  async answer(code) {
    if (!this.challenge) throw new Error("start a sign-in first");
    if (!this.isWellFormed(code)) return { status: "malformed" };
    try {
      const answer = await this.respond(code, undefined);
      if (answer.AuthenticationResult) {
        this.tokens = answer.AuthenticationResult;
        // The ticket this sign-in showed is valid now (its code was just verified): worth keeping.
        this.earnedTicket = this.challenge.ticket;
        this.challenge = null;
        return { status: "signedIn" };
      }
      this.wrongAnswers += 1;
      this.challenge = challengeOf(answer);
      return { status: "wrongCode", attemptsLeft: this.attemptsLeft };
    } catch (error) {
      return this.ended(error, true);
    }
  }

  /**
   * "Call me instead": only a channel the challenge offers; the new code comes on that channel. With
   * the device's ticket for this number, the call may come from its reserve when strangers spent the rest.
   */
  async switchChannel(channel, deviceTicket = null) {
    if (!this.challenge?.alternatives.includes(channel)) {
      throw new Error(`${channel} is not offered for this sign-in`);
    }
    const metadata = { otpChannel: channel };
    if (deviceTicket) metadata.otpDeviceTicket = deviceTicket;
    try {
      const answer = await this.respond(channel, metadata);
      this.challenge = challengeOf(answer);
      return { status: "switched", medium: this.challenge.medium };
    } catch (error) {
      return this.ended(error, false);
    }
  }

  /** Whether "send again from this device" can still be asked in this sign-in (once, with a ticket). */
  canResend(deviceTicket) {
    return Boolean(this.challenge && deviceTicket && !this.resent);
  }

  /**
   * "Send again from this device": a new code on the same channel, drawn on the number's reserve,
   * which only a ticket from an earlier sign-in of this number reaches. Once per sign-in.
   */
  async resendFromDevice(deviceTicket) {
    if (!this.canResend(deviceTicket)) throw new Error("no device ticket, or already sent again in this sign-in");
    const channel = this.challenge.medium;
    this.resent = true;
    try {
      const answer = await this.respond(channel, { otpChannel: channel, otpDeviceTicket: deviceTicket });
      this.sendAfter = this.now() + this.cooldownMs;
      this.challenge = challengeOf(answer);
      return { status: "resent", medium: this.challenge.medium };
    } catch (error) {
      return this.ended(error, false);
    }
  }

  async respond(answer, clientMetadata) {
    const body = {
      ClientId: this.clientId,
      ChallengeName: CUSTOM_CHALLENGE,
      Session: this.challenge.session,
      ChallengeResponses: { USERNAME: this.challenge.username, ANSWER: answer },
    };
    if (clientMetadata) body.ClientMetadata = clientMetadata;
    return this.call("RespondToAuthChallenge", body);
  }

  ended(error, wasAnswer) {
    if (!(error instanceof CognitoError) || error.name !== "NotAuthorizedException") throw error;
    this.challenge = null;
    if (/expired/i.test(error.message)) return { status: "expired" };
    if (error.message === INCORRECT) {
      if (wasAnswer) this.wrongAnswers += 1;
      this.exhausted = true;
      return { status: "noAttemptsLeft" };
    }
    throw error;
  }

  /** GetTokensFromRefreshToken: new ID and access tokens (what Amplify v6 does). */
  async refresh() {
    if (!this.tokens) throw new Error("not signed in");
    const answer = await this.call("GetTokensFromRefreshToken", {
      ClientId: this.clientId,
      RefreshToken: this.tokens.RefreshToken,
    });
    this.tokens = { ...this.tokens, ...answer.AuthenticationResult };
    return this.tokens;
  }

  /** RevokeToken: the refresh token and the access tokens minted from it stop working. */
  async signOut() {
    if (!this.tokens) return;
    const token = this.tokens.RefreshToken;
    this.tokens = null;
    await this.call("RevokeToken", { ClientId: this.clientId, Token: token });
  }
}
