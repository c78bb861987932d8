"""The HTTP API's contract as plain data: its JSON schemas (OpenAPI components) and operations.

The one declaration three things are built from, so they cannot disagree:
- the handler's request validation (``otp.handlers.request_body``: checks driven by these schemas),
- ``docs/openapi.json`` (``otp.openapi``, ``make openapi``; a test fails when the file is stale),
- API Gateway's request models (``infra/api_contract.py`` loads this file by path and converts the
  request schemas to JSON Schema draft 4).

Dependency-free on purpose, like ``metric_names.py``: the CDK app loads it by file path, and the Lambda
entry points import it at every cold start. The patterns repeat the domain's own rules
(``otp.domain.phone``, ``otp.domain.rules``), which check again after the schema; a unit test keeps
the two equal.
"""

from __future__ import annotations

from typing import Any, Final

# Strict E.164, Pinpoint's ReferenceId limit, a code of 4 to 8 digits: every length an engine can issue
# (End User Messaging 4-8, Pinpoint 5-8), so one schema serves every deployment; the domain then refuses
# a code that is not exactly the deployment's length (otp.domain.rules.check_code), with the same 400.
E164_PATTERN: Final = r"^\+[1-9][0-9]{6,14}$"
REFERENCE_ID_PATTERN: Final = r"^[A-Za-z0-9._:-]{1,48}$"
CODE_PATTERN: Final = r"^[0-9]{4,8}$"
# How a code can reach the user (otp.domain.models.Channel); a deployment offers a subset (otp.channels).
CHANNELS: Final = ("SMS", "VOICE", "WHATSAPP")
DEFAULT_CHANNEL: Final = "SMS"
# The Language values Pinpoint's developer guide lists for OTP messages.
LANGUAGES: Final = (
    "de-DE", "en-GB", "en-US", "es-419", "es-ES", "fr-CA", "fr-FR",
    "it-IT", "ja-JP", "ko-KR", "pt-BR", "zh-CN", "zh-TW",
)  # fmt: skip

# otp.domain.verification.VerificationStatus and VerifyReason (a unit test keeps them equal).
VERIFICATION_STATUSES: Final = ("PENDING", "VERIFIED", "EXPIRED", "LOCKED", "CANCELLED")
VERIFY_REASONS: Final = ("WRONG_CODE", "EXPIRED", "ATTEMPTS_EXHAUSTED", "CANCELLED", "NOT_FOUND")

IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH: Final = 255
IDEMPOTENCY_KEY_DESCRIPTION: Final = (
    "Makes a retry safe: a repeat of a successful request with the same key and the same body returns "
    "the first response and sends no SMS; the same key with a different body is refused with 422. "
    f"1-{IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters, e.g. a UUID; kept for "
    "OTP_IDEMPOTENCY_TTL_SECONDS (default 1 hour). Only successful (202) responses are replayed."
)

PROBLEM_CONTENT_TYPE: Final = "application/problem+json"

# otp.domain.fallback's bounds (a unit test keeps them equal).
FALLBACK_MAX_STEPS: Final = 2
FALLBACK_MIN_SECONDS: Final = 30
FALLBACK_MAX_SECONDS: Final = 3600

_REFERENCE_DESCRIPTION: Final = "Your reference for this code; the same value must be given to verify it"
_PHONE: Final = {
    "type": "string",
    "pattern": E164_PATTERN,
    "description": (
        "Destination in E.164 format, written as E.164 writes it (no national trunk prefix such as "
        "the 1 of +1 1... or the 0 of +44 0... after the country code); must be a valid number of an "
        "allowed country"
    ),
    "examples": ["+12065550100"],
}
_REFERENCE: Final = {
    "type": "string",
    "pattern": REFERENCE_ID_PATTERN,
    "description": _REFERENCE_DESCRIPTION,
    "examples": ["signup-7f3a9c"],
}

SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "SendOtpBody": {
        "title": "SendOtpBody",
        "type": "object",
        "properties": {
            "phoneNumber": _PHONE,
            "referenceId": {
                "anyOf": [{"type": "string", "pattern": REFERENCE_ID_PATTERN}, {"type": "null"}],
                "description": _REFERENCE_DESCRIPTION + "; generated when absent",
                "examples": ["signup-7f3a9c"],
            },
            "language": {
                "anyOf": [{"type": "string", "enum": list(LANGUAGES)}, {"type": "null"}],
                "description": (
                    "Language of the code's text (default: the deployment's): Pinpoint's SMS; on End User "
                    "Messaging the WhatsApp template's (SMS use otp.messageTemplate, calls otp.voiceLanguage)"
                ),
            },
            "channel": {
                "anyOf": [{"type": "string", "enum": list(CHANNELS)}, {"type": "null"}],
                "description": (
                    f"How the code reaches the user (default {DEFAULT_CHANNEL}): SMS, VOICE (a call that "
                    "speaks the code) or WHATSAPP. Only the channels the deployment enables are accepted "
                    "(otp.channels; Pinpoint offers SMS only); another is a 400 naming the field channel, "
                    "and counts against none of the number's limits, which every channel shares"
                ),
                "examples": ["VOICE"],
            },
            "fallback": {
                "anyOf": [
                    {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": FALLBACK_MAX_STEPS,
                        "items": {
                            "type": "object",
                            "properties": {
                                "channel": {"type": "string", "enum": list(CHANNELS)},
                                "afterSeconds": {
                                    "type": "integer",
                                    "minimum": FALLBACK_MIN_SECONDS,
                                    "maximum": FALLBACK_MAX_SECONDS,
                                },
                            },
                            "required": ["channel", "afterSeconds"],
                            "additionalProperties": False,
                        },
                    },
                    {"type": "null"},
                ],
                "description": (
                    "Channel fallback (End User Messaging with more than one channel): if the verification "
                    "is neither verified nor cancelled afterSeconds after this send, a new code goes out on "
                    "the step's channel under the same referenceId (the earlier code no longer verifies), "
                    "counted by every limit of the number and the budget. Steps in time order, each channel "
                    "one the deployment offers and not used before in this verification; afterSeconds at "
                    "least the deployment's send cooldown. Where fallback is not offered (Pinpoint, one "
                    "channel) it is a 400 naming the field fallback"
                ),
                "examples": [[{"channel": "VOICE", "afterSeconds": 60}]],
            },
        },
        "required": ["phoneNumber"],
        "additionalProperties": False,
    },
    "SendOtpResult": {
        "title": "SendOtpResult",
        "type": "object",
        "properties": {
            "referenceId": {"type": "string", "description": "Give this back to POST /otp/verify"},
            "deliveryStatus": {
                "type": "string",
                "description": "Always SUCCESSFUL on a 202",
                "examples": ["SUCCESSFUL"],
            },
            "messageId": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "description": "The messaging service's message id",
            },
            "expiresAt": {"type": "string", "description": "When the code stops being valid (ISO 8601, UTC)"},
            "channel": {
                "type": "string",
                "enum": list(CHANNELS),
                "description": "The channel the code was sent on",
                "examples": ["SMS"],
            },
        },
        "required": ["referenceId", "deliveryStatus", "messageId", "expiresAt", "channel"],
    },
    "VerifyOtpBody": {
        "title": "VerifyOtpBody",
        "type": "object",
        "properties": {
            "phoneNumber": _PHONE,
            "referenceId": _REFERENCE,
            "code": {
                "type": "string",
                "pattern": CODE_PATTERN,
                "description": (
                    "The code the user received: exactly the deployment's code length (otp.codeLength, "
                    "default 6); a code of another length is a 400 that spends no attempt"
                ),
            },
        },
        "required": ["phoneNumber", "referenceId", "code"],
        "additionalProperties": False,
    },
    "VerifyOtpResult": {
        "title": "VerifyOtpResult",
        "type": "object",
        "properties": {
            "valid": {
                "type": "boolean",
                "description": "True only when the code matches this reference and number",
            },
            "reason": {
                "type": "string",
                "enum": list(VERIFY_REASONS),
                "description": (
                    "Only when valid is false: WRONG_CODE (the engine refused this code; an attempt was "
                    "spent), EXPIRED, ATTEMPTS_EXHAUSTED, CANCELLED (DELETE /otp/{referenceId}), or "
                    "NOT_FOUND (no code waits under this reference and number: none was sent, it was "
                    "verified already, or another caller sent it). Only the first spends an attempt or "
                    "asks the engine"
                ),
                "examples": ["WRONG_CODE"],
            },
        },
        "required": ["valid"],
    },
    "CancelOtpBody": {
        "title": "CancelOtpBody",
        "type": "object",
        "properties": {"phoneNumber": _PHONE},
        "additionalProperties": False,
    },
    "Verification": {
        "title": "Verification",
        "description": "Where a verification stands. Never a code, never the number.",
        "type": "object",
        "properties": {
            "status": {
                "type": "string",
                "enum": list(VERIFICATION_STATUSES),
                "description": (
                    "The first that applies: VERIFIED (a code was accepted), CANCELLED, EXPIRED (the "
                    "code in force is past its validity), LOCKED (no attempt left: the engine's allowed "
                    "attempts for this code, or the per-reference verify cap), PENDING"
                ),
            },
            "attemptsRemaining": {
                "type": "integer",
                "description": "Verifications the code in force can still take (0 unless PENDING)",
            },
            "expiresAt": {
                "type": "string",
                "description": "When the code in force stops being valid (ISO 8601, UTC)",
            },
            "channel": {
                "type": "string",
                "enum": list(CHANNELS),
                "description": "The channel of the code in force (a fallback's, once it was sent)",
            },
            "sends": {
                "type": "array",
                "description": "Every code of this verification, oldest first: the first, then fallbacks",
                "items": {
                    "type": "object",
                    "properties": {
                        "channel": {"type": "string", "enum": list(CHANNELS)},
                        "deliveryStatus": {
                            "type": "string",
                            "description": (
                                "What the engine answered to the send (as POST /otp's deliveryStatus); "
                                "UNKNOWN_FAILURE when it answered with an error, TIMEOUT when not at all"
                            ),
                        },
                        "at": {"type": "string", "description": "When it was sent (ISO 8601, UTC)"},
                    },
                    "required": ["channel", "deliveryStatus", "at"],
                },
            },
        },
        "required": ["status", "attemptsRemaining", "expiresAt", "channel", "sends"],
    },
    "Problem": {
        "title": "Problem",
        "description": "An RFC 9457 problem document.",
        "type": "object",
        "properties": {
            "type": {
                "type": "string",
                "description": "URI identifying the problem type",
                "examples": ["urn:otp:problem:invalid-request"],
            },
            "title": {"type": "string", "description": "Short, human-readable summary of the problem type"},
            "status": {"type": "integer", "description": "The HTTP status code"},
            "detail": {
                "type": "string",
                "description": "Explanation specific to this occurrence; never contains a code, a number "
                "or any other text the caller chose",
            },
            "requestId": {
                "type": "string",
                "description": "API Gateway request id, also the log correlation id",
            },
        },
        "required": ["type", "title", "status", "detail", "requestId"],
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": _ref("Problem")}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_COMMON_ERRORS: Final = {
    "400": _problem(
        "Invalid request: body, phone number, country, reference, language, channel or code format. "
        "The detail names the API's own fields and rules only"
    ),
    "413": _problem("Payload too large"),
    "429": _problem("Rate limited; see Retry-After"),
    "500": _problem(
        "Deployment fault (Pinpoint application, configuration set or origination identity missing, "
        "or not permitted)"
    ),
    "502": _problem("Unexpected answer from the messaging service"),
    "503": _problem(
        "Messaging service or protection store unavailable, or the service's SMS budget is spent; "
        "see Retry-After"
    ),
    "504": _problem("Messaging service timed out; the SMS may have been sent"),
}

#: Path and query parameters: the status and cancel operations' (the handler reads them with these
#: schemas; API Gateway requires what is required here).
REFERENCE_PARAMETER: Final = {
    "name": "referenceId",
    "in": "path",
    "required": True,
    "description": "The referenceId POST /otp answered (or the one you gave it)",
    "schema": {"type": "string", "pattern": REFERENCE_ID_PATTERN},
}
_NUMBER_IN_QUERY: Final = (
    "The number the code was sent to, in E.164; in a query string its + must be sent as %2B (a bare + "
    "means a space there)"
)
PHONE_QUERY_PARAMETER: Final = {
    "name": "phoneNumber",
    "in": "query",
    "required": True,
    "description": _NUMBER_IN_QUERY,
    "schema": {"type": "string", "pattern": E164_PATTERN},
}
_NOT_FOUND: Final = _problem(
    "No verification under this reference and number that this caller started (unknown reference, "
    "another number, another caller's, or older than a day): the same answer for each"
)
STATUS_PATH: Final = "/otp/{referenceId}"

#: The operations, by path and method.
OPERATIONS: Final[dict[str, dict[str, dict[str, Any]]]] = {
    "/otp": {
        "post": {
            "summary": "Send a one-time password by SMS, voice call or WhatsApp",
            "operationId": "SendOtp",
            "parameters": [
                {
                    "name": IDEMPOTENCY_KEY_HEADER,
                    "in": "header",
                    "required": False,
                    "description": IDEMPOTENCY_KEY_DESCRIPTION,
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("SendOtpBody")}},
            },
            "responses": {
                "202": _json("Code sent", "SendOtpResult"),
                "409": _problem(
                    "Destination is a duplicate or has opted out, "
                    "or a request with this Idempotency-Key is still in progress (see Retry-After)"
                ),
                "422": _problem(
                    "Permanent delivery failure, or this Idempotency-Key was already used with a different "
                    "body"
                ),
                **_COMMON_ERRORS,
            },
        }
    },
    "/otp/verify": {
        "post": {
            "summary": "Verify a one-time password",
            "operationId": "VerifyOtp",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("VerifyOtpBody")}},
            },
            "responses": {"200": _json("Verification result", "VerifyOtpResult"), **_COMMON_ERRORS},
        }
    },
    STATUS_PATH: {
        "get": {
            "summary": "Where a verification stands",
            "description": (
                "Answers only the caller that started the verification (the same AWS account with IAM "
                "authorization, the same API key with apiKey), and only with the number it was sent to. "
                "Reads one record; counts against no limit of the number"
            ),
            "operationId": "GetVerification",
            "parameters": [REFERENCE_PARAMETER, PHONE_QUERY_PARAMETER],
            "responses": {
                "200": _json("The verification", "Verification"),
                "404": _NOT_FOUND,
                **_COMMON_ERRORS,
            },
        },
        "delete": {
            "summary": "Cancel a verification",
            "description": (
                "Every later verify of it answers CANCELLED without asking the engine, and no fallback "
                'sends. The number is given in the body ({"phoneNumber": ...}) or the query '
                "(?phoneNumber=...), not both. Cancelling again answers the same; the codes already "
                "sent still count against the number's limits"
            ),
            "operationId": "CancelVerification",
            "parameters": [REFERENCE_PARAMETER, {**PHONE_QUERY_PARAMETER, "required": False}],
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": _ref("CancelOtpBody")}},
            },
            "responses": {
                "200": _json("The verification, cancelled", "Verification"),
                "404": _NOT_FOUND,
                "409": _problem("The verification is already verified"),
                **_COMMON_ERRORS,
            },
        },
    },
}


def request_schema(path: str, method: str = "post") -> dict[str, Any]:
    """The JSON schema of the request body of ``method`` ``path``."""
    ref: str = OPERATIONS[path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return SCHEMAS[ref.rsplit("/", 1)[-1]]


def parameters(path: str, method: str) -> list[dict[str, Any]]:
    """The path and query parameters of ``method`` ``path`` (headers are read elsewhere)."""
    declared: list[dict[str, Any]] = OPERATIONS[path][method].get("parameters", [])
    return [parameter for parameter in declared if parameter["in"] in ("path", "query")]
