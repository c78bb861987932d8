// The page: where it signs in (the sandbox that serves it, or a deployed pool named in the query
// string), and what it shows at each step. The sign-in logic itself is in flow.js.

import { CognitoError, regionEndpoint } from "./cognito.js";
import { PasswordlessSignIn } from "./flow.js";
import { decodeJwt, verifyCognitoJwt } from "./jwt.js";

const $ = (id) => document.getElementById(id);
const TIME_CLAIMS = new Set(["iat", "exp", "auth_time"]);

function integer(text, fallback) {
  const value = Number.parseInt(text ?? "", 10);
  return Number.isFinite(value) ? value : fallback;
}

/**
 * ?region=..&clientId=..[&userPoolId=..][&attempts=3][&cooldown=30]: a deployed pool, straight to
 * Cognito; no user creation. Otherwise the sandbox serving this page, described by config.json.
 */
async function loadConfig() {
  const params = new URLSearchParams(location.search);
  const clientId = params.get("clientId");
  if (clientId) {
    const userPoolId = params.get("userPoolId") || null;
    if (userPoolId && !/^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$/.test(userPoolId)) {
      throw new Error(`not a user pool id: ${userPoolId}`);
    }
    const region = params.get("region") || (userPoolId ? userPoolId.split("_")[0] : "");
    return {
      sandbox: false,
      endpoint: regionEndpoint(region),
      region,
      clientId,
      userPoolId,
      allowedAttempts: integer(params.get("attempts"), 3),
      sendCooldownSeconds: integer(params.get("cooldown"), 30),
    };
  }
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error("this page needs ?region=<region>&clientId=<app client id> unless the sandbox serves it");
  }
  return { ...(await response.json()), sandbox: true, endpoint: `${location.origin}/` };
}

/** The issuer the ID token must name: <endpoint>/<userPoolId>, as Cognito's. */
function expectedIssuer(config, token) {
  const base = config.endpoint.replace(/\/$/, "");
  if (config.userPoolId) return `${base}/${config.userPoolId}`;
  // A deployed pool opened without its id: accept only a pool of the configured region.
  const claimed = decodeJwt(token).payload.iss || "";
  const pattern = new RegExp(`^${base.replace(/[.]/g, "\\.")}/${config.region}_[0-9A-Za-z]+$`);
  if (!pattern.test(claimed)) throw new Error(`issuer ${claimed} is not a user pool of ${config.region}`);
  return claimed;
}

/**
 * Device tickets live in localStorage, one per app client and number, and are written only after a
 * successful sign-in (the ticket is valid only then). They are never sent anywhere but Cognito.
 */
const ticketStore = {
  key: (config, phone) => `otp-device-ticket:${config.clientId}:${phone}`,
  get(config, phone) {
    try {
      return localStorage.getItem(this.key(config, phone));
    } catch {
      return null; // storage blocked (private mode, policies): the page works without tickets
    }
  },
  set(config, phone, ticket) {
    try {
      localStorage.setItem(this.key(config, phone), ticket);
    } catch {
      /* nothing kept: the next sign-in simply has no ticket */
    }
  },
};

class Page {
  constructor(config) {
    this.config = config;
    this.signIn = new PasswordlessSignIn({
      endpoint: config.endpoint,
      clientId: config.clientId,
      allowedAttempts: config.allowedAttempts,
    });
    this.phone = "";
    this.timer = null;
  }

  show(screen) {
    for (const id of ["phone-screen", "code-screen", "signed-in-screen"]) $(id).hidden = id !== screen;
  }

  say(text) {
    $("message").textContent = text;
    $("error").hidden = true;
  }

  fail(error) {
    const text = error instanceof CognitoError ? `${error.name}: ${error.message}` : String(error.message || error);
    $("error").textContent = text;
    $("error").hidden = false;
  }

  async busy(button, work) {
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      this.fail(error);
    } finally {
      button.disabled = false;
      this.renderResend();
    }
  }

  start() {
    const { config } = this;
    $("config-summary").textContent = config.sandbox
      ? `Sandbox at ${config.endpoint} - user pool ${config.userPoolId}, app client ${config.clientId}`
      : `AWS ${config.region} - app client ${config.clientId}${config.userPoolId ? `, user pool ${config.userPoolId}` : ""}`;
    // Users can be created only in the sandbox, through its own route: never against AWS.
    $("sandbox-tools").hidden = !config.sandbox;
    $("phone-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.busy($("send-code"), () => this.sendCode($("phone").value.trim()));
    });
    $("create-user").addEventListener("click", () => this.busy($("create-user"), () => this.createUser()));
    $("code-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.busy($("submit-code"), () => this.answer($("code").value.trim()));
    });
    $("resend").addEventListener("click", () => this.busy($("resend"), () => this.sendCode(this.phone, true)));
    $("call-me").addEventListener("click", () => this.busy($("call-me"), () => this.callMe()));
    $("resend-device").addEventListener("click", () => this.busy($("resend-device"), () => this.resendFromDevice()));
    $("start-over").addEventListener("click", () => {
      this.say("");
      this.show("phone-screen");
    });
    $("refresh").addEventListener("click", () => this.busy($("refresh"), () => this.refresh()));
    $("sign-out").addEventListener("click", () => this.busy($("sign-out"), () => this.signOut()));
    this.timer = setInterval(() => this.renderResend(), 1000);
    this.show("phone-screen");
  }

  async createUser() {
    if (!this.config.sandbox) throw new Error("users are created only in the sandbox");
    const phoneNumber = $("phone").value.trim();
    const response = await fetch(new URL("/_sandbox/users", location.origin), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ phoneNumber }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.message || `HTTP ${response.status}`);
    this.say(`Created user ${answer.phoneNumber} (${answer.userStatus}). Now text yourself a code.`);
  }

  async sendCode(phoneNumber, again = false) {
    if (!phoneNumber) throw new Error("enter a phone number");
    const challenge = await this.signIn.start(phoneNumber);
    this.phone = phoneNumber;
    $("code").value = "";
    $("code").maxLength = challenge.codeLength;
    $("code").placeholder = "0".repeat(challenge.codeLength);
    this.renderChallenge();
    this.say(again ? "New sign-in started: a new code is on its way." : "");
    this.show("code-screen");
    $("code").focus();
  }

  renderChallenge() {
    const { challenge } = this.signIn;
    const verb = challenge.medium === "VOICE" ? "We are calling" : challenge.medium === "WHATSAPP" ? "We sent a WhatsApp message to" : "We texted a code to";
    $("destination").textContent = `${verb} ${challenge.destination}. Enter the ${challenge.codeLength}-digit code.`;
    $("attempts").textContent = `${this.signIn.attemptsLeft} of ${this.signIn.allowedAttempts} attempts left.`;
    // "Call me instead" exists only when this challenge offers the voice channel.
    $("call-me").hidden = !challenge.alternatives.includes("VOICE");
    // "Send again from this device" needs a ticket from an earlier sign-in of this number, once.
    $("resend-device").hidden = !this.signIn.canResend(this.deviceTicket());
  }

  deviceTicket() {
    return this.phone ? ticketStore.get(this.config, this.phone) : null;
  }

  renderResend() {
    const wait = this.signIn.resendWaitSeconds(this.config.sendCooldownSeconds);
    $("resend-device").disabled = wait > 0;
    $("resend").disabled = wait > 0;
    $("resend").textContent = wait > 0 ? `Send a new code (in ${wait} s)` : "Send a new code";
    $("resend-help").textContent =
      `A new code means a new sign-in. Codes go out at most once every ${this.config.sendCooldownSeconds} s ` +
      "per number: asked sooner, a sign-in starts but nothing is sent, so the button waits.";
  }

  async answer(code) {
    const result = await this.signIn.answer(code);
    if (result.status === "malformed") {
      throw new Error(`enter the ${this.signIn.challenge.codeLength} digits of the code (no attempt was used)`);
    }
    if (result.status === "wrongCode") {
      this.renderChallenge();
      $("code").value = "";
      this.say(`That code is wrong. ${result.attemptsLeft} ${result.attemptsLeft === 1 ? "attempt" : "attempts"} left.`);
      return;
    }
    if (result.status === "noAttemptsLeft" || result.status === "expired") {
      this.show("phone-screen");
      this.say(
        result.status === "expired"
          ? "This sign-in expired. Send a new code to try again."
          : "That code is wrong and no attempts are left. Send a new code to try again.",
      );
      return;
    }
    if (this.signIn.earnedTicket) ticketStore.set(this.config, this.phone, this.signIn.earnedTicket);
    this.say("Signed in.");
    await this.renderSignedIn();
  }

  async resendFromDevice() {
    const result = await this.signIn.resendFromDevice(this.deviceTicket());
    if (result.status !== "resent") {
      this.show("phone-screen");
      this.say("This sign-in ended. Send a new code to try again.");
      return;
    }
    this.renderChallenge();
    $("code").value = "";
    this.say("Sent again, from this device's reserve: enter the newest code.");
  }

  async callMe() {
    const result = await this.signIn.switchChannel("VOICE", this.deviceTicket());
    if (result.status !== "switched") {
      this.show("phone-screen");
      this.say("This sign-in ended. Send a new code to try again.");
      return;
    }
    this.renderChallenge();
    this.say("Calling you with a new code: the texted one no longer works.");
  }

  async renderSignedIn() {
    const { tokens } = this.signIn;
    const { payload } = decodeJwt(tokens.IdToken);
    const body = $("claims").tBodies[0];
    body.replaceChildren(
      ...Object.entries(payload).map(([name, value]) => {
        const row = document.createElement("tr");
        const shown = TIME_CLAIMS.has(name) ? `${value} (${new Date(value * 1000).toISOString()})` : JSON.stringify(value);
        row.append(Object.assign(document.createElement("th"), { textContent: name }));
        row.append(Object.assign(document.createElement("td"), { textContent: shown }));
        row.dataset.claim = name;
        return row;
      }),
    );
    const access = decodeJwt(tokens.AccessToken).payload;
    $("token-times").textContent =
      `Access token ${access.jti}: issued ${new Date(access.iat * 1000).toISOString()}, ` +
      `expires ${new Date(access.exp * 1000).toISOString()}.`;
    $("token-times").dataset.jti = access.jti;
    this.show("signed-in-screen");
    const verification = $("verification");
    verification.dataset.verified = "pending";
    try {
      const { kid } = await verifyCognitoJwt(tokens.IdToken, {
        issuer: expectedIssuer(this.config, tokens.IdToken),
        audience: this.config.clientId,
        tokenUse: "id",
      });
      verification.textContent = `ID token verified: RS256 signature by key ${kid} of ${payload.iss}/.well-known/jwks.json.`;
      verification.dataset.verified = "true";
    } catch (error) {
      verification.textContent = `ID token NOT verified: ${error.message}`;
      verification.dataset.verified = "false";
    }
  }

  async refresh() {
    await this.signIn.refresh();
    this.say(`Tokens refreshed at ${new Date().toISOString()}.`);
    await this.renderSignedIn();
  }

  async signOut() {
    try {
      await this.signIn.signOut();
      this.say("Signed out: the refresh token is revoked.");
    } finally {
      this.show("phone-screen");
    }
  }
}

loadConfig().then(
  (config) => new Page(config).start(),
  (error) => {
    $("error").textContent = `Cannot start: ${error.message}`;
    $("error").hidden = false;
  },
);
