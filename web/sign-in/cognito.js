// Cognito's JSON API from a browser: one POST per operation, no AWS signature (the sign-in
// operations of a public app client take none), the same wire format boto3 and the AWS SDKs use.

export class CognitoError extends Error {
  constructor(name, message, status) {
    super(message);
    this.name = name;
    this.status = status;
  }
}

/** The Cognito endpoint of a region: https://cognito-idp.<region>.amazonaws.com/ */
export function regionEndpoint(region) {
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new Error(`not an AWS region: ${region}`);
  }
  return `https://cognito-idp.${region}.amazonaws.com/`;
}

/**
 * Call one Cognito operation. Resolves with the parsed answer; rejects with a CognitoError whose
 * name is Cognito's error type (the body's "__type", or the x-amzn-ErrorType header).
 */
export async function callCognito(endpoint, operation, body, fetchImpl = globalThis.fetch) {
  let response;
  try {
    response = await fetchImpl(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
      },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new CognitoError("NetworkError", `could not reach ${endpoint}: ${error.message}`, 0);
  }
  const text = await response.text();
  let answer = {};
  try {
    answer = text ? JSON.parse(text) : {};
  } catch {
    throw new CognitoError("InvalidResponse", `${operation}: the answer is not JSON (HTTP ${response.status})`, response.status);
  }
  if (!response.ok) {
    const header = (response.headers.get("x-amzn-ErrorType") || "").split(":")[0];
    const type = String(answer.__type || header || "UnknownError").split("#").pop();
    throw new CognitoError(type, answer.message || answer.Message || `${operation} failed`, response.status);
  }
  return answer;
}
