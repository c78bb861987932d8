// Verify a Cognito token in the browser, as a backend would: RS256 signature with the key whose kid
// the token names, from <issuer>/.well-known/jwks.json, then iss, token_use, audience and expiry.
// WebCrypto (crypto.subtle) exists only in secure contexts: https, or http on localhost / 127.0.0.1.

function base64UrlBytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** Header and payload of a JWT, unverified. */
export function decodeJwt(token) {
  const parts = String(token).split(".");
  if (parts.length !== 3) throw new Error("not a JWT");
  const json = (part) => JSON.parse(new TextDecoder().decode(base64UrlBytes(part)));
  return { header: json(parts[0]), payload: json(parts[1]) };
}

/**
 * Resolves with the payload when the token is valid; rejects with the reason otherwise.
 * `audience` is the app client id: an ID token's "aud", an access token's "client_id".
 */
export async function verifyCognitoJwt(token, { issuer, audience, tokenUse, now = Date.now() / 1000, fetchImpl = globalThis.fetch }) {
  if (!globalThis.crypto?.subtle) {
    throw new Error("WebCrypto is unavailable here (the page must be on https, localhost or 127.0.0.1)");
  }
  const { header, payload } = decodeJwt(token);
  if (header.alg !== "RS256") throw new Error(`unexpected algorithm ${header.alg}`);
  if (payload.iss !== issuer) throw new Error(`issuer ${payload.iss} is not ${issuer}`);
  const response = await fetchImpl(`${issuer}/.well-known/jwks.json`);
  if (!response.ok) throw new Error(`JWKS answered HTTP ${response.status}`);
  const jwk = (await response.json()).keys.find((key) => key.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid} in the JWKS`);
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: jwk.kty, n: jwk.n, e: jwk.e, alg: "RS256", ext: true },
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const [head, body, signature] = token.split(".");
  const signed = new TextEncoder().encode(`${head}.${body}`);
  const valid = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, base64UrlBytes(signature), signed);
  if (!valid) throw new Error("the signature does not match the JWKS key");
  if (payload.token_use !== tokenUse) throw new Error(`token_use is ${payload.token_use}, not ${tokenUse}`);
  const tokenAudience = tokenUse === "id" ? payload.aud : payload.client_id;
  if (tokenAudience !== audience) throw new Error(`issued to client ${tokenAudience}, not ${audience}`);
  if (!(payload.exp > now)) throw new Error("expired");
  return { payload, kid: header.kid };
}
