// The AWS SDK for JavaScript v3 signs a user in against the sandbox, and aws-jwt-verify verifies the
// tokens against the sandbox's JWKS with the sandbox's issuer (<endpoint>/<userPoolId>), as an API
// verifies Cognito's. aws-jwt-verify fetches over https only in Node, so the JWKS cache gets a fetcher
// that uses Node's fetch (the sandbox is plain http).

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CognitoIdentityProviderClient,
  GetTokensFromRefreshTokenCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { JwtVerifier } from "aws-jwt-verify";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";

import { awsUrl, createUser, freshNumber, lastCode, region, sandboxPool } from "./sandbox.mjs";

const pool = await sandboxPool();
const client = new CognitoIdentityProviderClient({
  region,
  endpoint: awsUrl,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
});
const issuer = `${awsUrl}/${pool.userPoolId}`;
const jwksCache = new SimpleJwksCache({
  fetcher: { fetch: async (uri) => (await fetch(uri)).arrayBuffer() },
});
const idTokens = JwtVerifier.create(
  { issuer, audience: pool.clientId, customJwtCheck: ({ payload }) => assert.equal(payload.token_use, "id") },
  { jwksCache },
);
const accessTokens = JwtVerifier.create(
  {
    issuer,
    audience: null,
    customJwtCheck: ({ payload }) => {
      assert.equal(payload.token_use, "access");
      assert.equal(payload.client_id, pool.clientId);
    },
  },
  { jwksCache },
);

async function signIn(phone) {
  const challenge = await client.send(
    new InitiateAuthCommand({ ClientId: pool.clientId, AuthFlow: "CUSTOM_AUTH", AuthParameters: { USERNAME: phone } }),
  );
  const answer = await client.send(
    new RespondToAuthChallengeCommand({
      ClientId: pool.clientId,
      ChallengeName: "CUSTOM_CHALLENGE",
      Session: challenge.Session,
      ChallengeResponses: { USERNAME: phone, ANSWER: await lastCode(phone) },
    }),
  );
  return answer.AuthenticationResult;
}

test("SDK v3 sign-in; aws-jwt-verify accepts the sandbox's tokens and refuses a forged one", async () => {
  const phone = freshNumber();
  await createUser(phone);
  const tokens = await signIn(phone);

  const identity = await idTokens.verify(tokens.IdToken);
  assert.equal(identity.phone_number, phone);
  assert.equal(identity.phone_number_verified, true);
  assert.equal(identity.iss, issuer);
  const access = await accessTokens.verify(tokens.AccessToken);
  assert.equal(access.sub, identity.sub);

  const [header, body, signature] = tokens.IdToken.split(".");
  const claims = JSON.parse(Buffer.from(body, "base64url"));
  const forged = Buffer.from(JSON.stringify({ ...claims, phone_number: "+12065550000" })).toString("base64url");
  await assert.rejects(idTokens.verify(`${header}.${forged}.${signature}`), /signature/i);
  // An access token is not an ID token, even though both are signed by the pool.
  await assert.rejects(idTokens.verify(tokens.AccessToken));
});

test("SDK v3: GetTokensFromRefreshToken, then RevokeToken, then the refresh is refused", async () => {
  const phone = freshNumber();
  await createUser(phone);
  const tokens = await signIn(phone);

  const refreshed = await client.send(
    new GetTokensFromRefreshTokenCommand({ ClientId: pool.clientId, RefreshToken: tokens.RefreshToken }),
  );
  await accessTokens.verify(refreshed.AuthenticationResult.AccessToken);
  await client.send(new RevokeTokenCommand({ ClientId: pool.clientId, Token: tokens.RefreshToken }));

  await assert.rejects(
    client.send(new GetTokensFromRefreshTokenCommand({ ClientId: pool.clientId, RefreshToken: tokens.RefreshToken })),
    (error) => {
      assert.equal(error.name, "NotAuthorizedException");
      assert.equal(error.message, "Refresh Token has been revoked");
      return true;
    },
  );
});
