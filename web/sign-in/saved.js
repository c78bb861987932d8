// What the page keeps in the browser, each under a key naming the app client (and the number where it
// is about one), so that nothing of one pool or one number shows for another:
//
// - the sign-in in progress (sessionStorage, this tab only): a reload carries on with it, code screen and
//   countdown included, instead of losing it. It holds Cognito's session, the masked number and the
//   sign-in's device ticket (valid only once the sign-in succeeds), never a code or a JWT, and is dropped
//   when the sign-in ends, or after SIGN_IN_KEPT_MS (Cognito's sign-in sessions last 3 to 15 minutes);
// - each number's resend deadline (sessionStorage): when the next code may go out to it;
// - device tickets (localStorage), one per number, written only after a successful sign-in.
//
// Storage can be blocked (private mode, policies): then nothing is kept and the page works as before.

export const SIGN_IN_KEPT_MS = 15 * 60 * 1000;

function read(storage, key) {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function write(storage, key, value) {
  try {
    if (value === null) storage?.removeItem(key);
    else storage?.setItem(key, value);
  } catch {
    /* nothing kept */
  }
}

export class SavedState {
  constructor(clientId, { session = globalThis.sessionStorage, local = globalThis.localStorage, now = () => Date.now() } = {}) {
    this.clientId = clientId;
    this.session = session;
    this.local = local;
    this.now = now;
  }

  /** The sign-in in progress, if one was kept in the last SIGN_IN_KEPT_MS. */
  signIn() {
    const key = `otp-sign-in:${this.clientId}`;
    let kept = null;
    try {
      kept = JSON.parse(read(this.session, key) ?? "null");
    } catch {
      kept = null;
    }
    const age = this.now() - (kept?.savedAt ?? -Infinity);
    if (!kept || !(age >= 0 && age < SIGN_IN_KEPT_MS)) {
      write(this.session, key, null);
      return null;
    }
    return kept.signIn;
  }

  /** Keep the flow's snapshot (null: the sign-in ended, forget it). */
  keepSignIn(snapshot) {
    const key = `otp-sign-in:${this.clientId}`;
    write(this.session, key, snapshot ? JSON.stringify({ savedAt: this.now(), signIn: snapshot }) : null);
    if (snapshot?.sendAfter) this.keepSendAfter(snapshot.phoneNumber, snapshot.sendAfter);
  }

  /** When the next code may go out to this number (epoch ms), or null when no countdown is running. */
  sendAfter(phoneNumber) {
    const value = Number(read(this.session, `otp-send-after:${this.clientId}:${phoneNumber}`));
    return Number.isFinite(value) && value > this.now() ? value : null;
  }

  keepSendAfter(phoneNumber, sendAfter) {
    write(this.session, `otp-send-after:${this.clientId}:${phoneNumber}`, String(sendAfter));
  }

  deviceTicket(phoneNumber) {
    return phoneNumber ? read(this.local, `otp-device-ticket:${this.clientId}:${phoneNumber}`) : null;
  }

  keepDeviceTicket(phoneNumber, ticket) {
    write(this.local, `otp-device-ticket:${this.clientId}:${phoneNumber}`, ticket);
  }
}
