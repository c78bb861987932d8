// Passwordless sign-in with this project's Cognito custom-auth triggers, without the DOM: the page
// (app.js) renders what this returns, and tests drive it with a stubbed fetch.
//
// Attempts left are derived, not told: Cognito tells a client nothing about attempts. The
// deployment's allowedAttempts is configuration (3 by default; the sandbox serves its own value),
// and the client counts its own wrong answers in this sign-in: an answer that earns another
// CUSTOM_CHALLENGE instead of tokens was wrong. Answers that are not CODE_LENGTH digits are refused
// here, before they can spend an attempt. A channel switch ("call me instead") and a resend with a
// device ticket ("send again from this device") are not answers and are not counted (the triggers do
// not count them either).
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
  return {
    session: answer.Session,
    username: parameters.USERNAME,
    medium: parameters.CODE_DELIVERY_DELIVERY_MEDIUM || "SMS",
    destination: parameters.CODE_DELIVERY_DESTINATION || "",
    codeLength: Number(parameters.CODE_LENGTH) || 6,
    ticket: parameters.OTP_DEVICE_TICKET || null,
    alternatives: (parameters.CODE_DELIVERY_ALTERNATIVES || "")
      .split(",")
      .map((channel) => channel.trim())
      .filter(Boolean),
  };
}

export class PasswordlessSignIn {
  constructor({ endpoint, clientId, allowedAttempts = 3, fetchImpl = globalThis.fetch, now = () => Date.now() }) {
    this.endpoint = endpoint;
    this.clientId = clientId;
    this.allowedAttempts = allowedAttempts;
    this.fetchImpl = fetchImpl;
    this.now = now;
    this.challenge = null;
    this.wrongAnswers = 0;
    this.startedAt = null;
    this.tokens = null;
    this.resent = false;
    this.earnedTicket = null;
  }

  call(operation, body) {
    return callCognito(this.endpoint, operation, body, this.fetchImpl);
  }

  get attemptsLeft() {
    return Math.max(0, this.allowedAttempts - this.wrongAnswers);
  }

  /** Seconds before a new sign-in may send a new code (the per-number cooldown), 0 when it may. */
  resendWaitSeconds(cooldownSeconds) {
    if (this.startedAt === null) return 0;
    return Math.max(0, Math.ceil(cooldownSeconds - (this.now() - this.startedAt) / 1000));
  }

  /** InitiateAuth: the code goes out (or, for an unknown number, nothing does: same answer). */
  async start(phoneNumber) {
    const answer = await this.call("InitiateAuth", {
      ClientId: this.clientId,
      AuthFlow: "CUSTOM_AUTH",
      AuthParameters: { USERNAME: phoneNumber },
    });
    this.startedAt = this.now();
    this.wrongAnswers = 0;
    this.tokens = null;
    this.resent = false;
    this.earnedTicket = null;
    this.challenge = challengeOf(answer);
    return this.challenge;
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
      this.startedAt = this.now();
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
