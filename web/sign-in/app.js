// The page: where it signs in (the sandbox that serves it, or a deployed pool named in the query
// string), and what it shows at each step. The sign-in logic itself is in flow.js, the phone number's
// spelling in phone.js, what survives a reload in saved.js.
//
// What it says after asking for a code is true whatever happened, and the same whatever happened: for
// an unknown number nothing is sent, and the page must not tell that apart from a number that got a
// code (nor can it: Cognito's answer is the same); a known number gets nothing either while a limit
// holds (the per-number cooldown, the hourly and daily caps, the deployment's budget).

import { CognitoError, regionEndpoint } from "./cognito.js";
import { PasswordlessSignIn } from "./flow.js";
import { decodeJwt, verifyCognitoJwt } from "./jwt.js";
import { defaultCountry, toE164 } from "./phone.js";
import { SavedState } from "./saved.js";

const $ = (id) => document.getElementById(id);
const TIME_CLAIMS = new Set(["iat", "exp", "auth_time"]);

function integer(text, fallback) {
  const value = Number.parseInt(text ?? "", 10);
  return Number.isFinite(value) ? value : fallback;
}

/** "US, ca,GB" -> ["CA", "GB", "US"]: ISO 3166 alpha-2 codes only. */
function countries(text) {
  const codes = String(text ?? "")
    .split(",")
    .map((code) => code.trim().toUpperCase())
    .filter((code) => /^[A-Z]{2}$/.test(code));
  return [...new Set(codes)].sort();
}

/**
 * ?region=..&clientId=..[&userPoolId=..][&attempts=3][&cooldown=30][&countries=US,CA,GB]: a deployed
 * pool, straight to Cognito; no user creation. Otherwise the sandbox serving this page, described by
 * config.json.
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
      allowedCountries: countries(params.get("countries")),
    };
  }
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error("this page needs ?region=<region>&clientId=<app client id> unless the sandbox serves it");
  }
  const config = await response.json();
  return { ...config, allowedCountries: countries((config.allowedCountries ?? []).join(",")), sandbox: true, endpoint: `${location.origin}/` };
}

/** What the page says once a sign-in has asked for a code: the same words whether one went out or not. */
function codeOnItsWay(challenge) {
  const where = challenge.destination;
  const news =
    challenge.medium === "VOICE"
      ? `a call with a code is on its way to ${where}`
      : challenge.medium === "WHATSAPP"
        ? `a code is on its way to ${where} by WhatsApp`
        : `a code is on its way to ${where} by text`;
  return `If this number can sign in and the sending limits allow it, ${news}. Enter the ${challenge.codeLength}-digit code.`;
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

class Page {
  constructor(config) {
    this.config = config;
    this.signIn = new PasswordlessSignIn({
      endpoint: config.endpoint,
      clientId: config.clientId,
      allowedAttempts: config.allowedAttempts,
      cooldownSeconds: config.sendCooldownSeconds,
    });
    this.saved = new SavedState(config.clientId);
    this.country = defaultCountry(config.allowedCountries, navigator.languages);
    this.timer = null;
  }

  get phone() {
    return this.signIn.phoneNumber;
  }

  show(screen) {
    for (const id of ["phone-screen", "code-screen", "signed-in-screen"]) $(id).hidden = id !== screen;
  }

  /** News, in the information style. */
  say(text) {
    $("message").textContent = text;
    $("error").hidden = true;
  }

  /** Something went wrong, in the error style (role="alert"); the information line is cleared. */
  warn(text) {
    $("message").textContent = "";
    $("error").textContent = text;
    $("error").hidden = false;
  }

  fail(error) {
    this.warn(error instanceof CognitoError ? `${error.name}: ${error.message}` : String(error.message || error));
  }

  /** The typed number in E.164, or null after showing what to fix next to the field. */
  phoneNumber() {
    const result = toE164($("phone").value, { defaultCountry: this.country, allowedCountries: this.config.allowedCountries });
    $("phone").setAttribute("aria-invalid", String(Boolean(result.hint)));
    $("phone-hint").textContent = result.hint ?? "";
    $("phone-hint").classList.toggle("invalid", Boolean(result.hint));
    return result.number ?? null;
  }

  /** Keep the sign-in in progress (or forget it once it ended), so that a reload carries on with it. */
  keep() {
    this.saved.keepSignIn(this.signIn.snapshot());
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
    $("phone").addEventListener("input", () => {
      $("phone-hint").textContent = "";
      $("phone").removeAttribute("aria-invalid");
    });
    $("phone-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const phoneNumber = this.phoneNumber();
      if (phoneNumber) this.busy($("send-code"), () => this.sendCode(phoneNumber));
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
      this.saved.keepSignIn(null); // the number's countdown stays
      this.say("");
      this.show("phone-screen");
    });
    $("refresh").addEventListener("click", () => this.busy($("refresh"), () => this.refresh()));
    $("sign-out").addEventListener("click", () => this.busy($("sign-out"), () => this.signOut()));
    this.timer = setInterval(() => this.renderResend(), 1000);
    if (this.signIn.resume(this.saved.signIn())) {
      // A reload in the middle of a sign-in: the same screen, the same session, the countdown going on.
      $("phone").value = this.phone;
      this.renderCodeScreen();
      this.renderResend();
      this.show("code-screen");
    } else {
      this.show("phone-screen");
    }
  }

  async createUser() {
    if (!this.config.sandbox) throw new Error("users are created only in the sandbox");
    const phoneNumber = this.phoneNumber();
    if (!phoneNumber) return;
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
    await this.signIn.start(phoneNumber, { sendAfter: this.saved.sendAfter(phoneNumber) });
    this.keep();
    this.renderCodeScreen();
    this.say(again ? "New sign-in started: a code sent before it no longer works here." : "");
    this.show("code-screen");
    $("code").focus();
  }

  renderCodeScreen() {
    const { codeLength } = this.signIn.challenge;
    $("code").value = "";
    $("code").maxLength = codeLength;
    $("code").placeholder = "0".repeat(codeLength);
    this.renderChallenge();
  }

  renderChallenge() {
    const { challenge } = this.signIn;
    $("destination").textContent = codeOnItsWay(challenge);
    // The one place the attempts show: what the challenge says is left.
    const left = this.signIn.attemptsLeft;
    $("attempts").textContent = `${left} ${left === 1 ? "attempt" : "attempts"} left.`;
    // "Call me instead" exists only when this challenge offers the voice channel.
    $("call-me").hidden = !challenge.alternatives.includes("VOICE");
    // "Send again from this device" needs a ticket from an earlier sign-in of this number, once.
    $("resend-device").hidden = !this.signIn.canResend(this.deviceTicket());
  }

  deviceTicket() {
    return this.saved.deviceTicket(this.phone);
  }

  renderResend() {
    const wait = this.signIn.resendWaitSeconds();
    $("resend-device").disabled = wait > 0;
    $("resend").disabled = wait > 0;
    $("resend").textContent = wait > 0 ? `Send a new code (in ${wait} s)` : "Send a new code";
    const cooldown = this.config.sendCooldownSeconds;
    $("resend-help").textContent =
      "No code? A new code means a new sign-in. " +
      (cooldown > 0
        ? `Codes go out at most once every ${cooldown} s per number, and a few an hour and a day: ` +
          "asked sooner, a sign-in starts but nothing is sent, so the button waits."
        : "Codes go out at most a few an hour and a day per number.");
  }

  async answer(code) {
    const result = await this.signIn.answer(code);
    if (result.status === "malformed") {
      throw new Error(`enter the ${this.signIn.challenge.codeLength} digits of the code (no attempt was used)`);
    }
    this.keep();
    if (result.status === "wrongCode") {
      this.renderChallenge();
      $("code").value = "";
      this.warn("That code is wrong.");
      return;
    }
    if (result.status === "noAttemptsLeft" || result.status === "expired") {
      this.show("phone-screen");
      this.warn(
        result.status === "expired"
          ? "This sign-in expired. Send a new code to try again."
          : "That code is wrong and no attempts are left. Send a new code to try again.",
      );
      return;
    }
    if (this.signIn.earnedTicket) this.saved.keepDeviceTicket(this.phone, this.signIn.earnedTicket);
    this.say("Signed in.");
    await this.renderSignedIn();
  }

  async resendFromDevice() {
    const result = await this.signIn.resendFromDevice(this.deviceTicket());
    this.keep();
    if (result.status !== "resent") {
      this.show("phone-screen");
      this.warn("This sign-in ended. Send a new code to try again.");
      return;
    }
    this.renderChallenge();
    $("code").value = "";
    // Whether it went out is not told (nor is it for an unknown number): both cases, truthfully.
    this.say("Asked for a new code from this device's reserve. If it comes, only it works; if not, the code before it still does.");
  }

  async callMe() {
    const result = await this.signIn.switchChannel("VOICE", this.deviceTicket());
    this.keep();
    if (result.status !== "switched") {
      this.show("phone-screen");
      this.warn("This sign-in ended. Send a new code to try again.");
      return;
    }
    this.renderChallenge();
    this.say("Asked for a call. If it comes, only its code works; if not, the texted code still does.");
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
