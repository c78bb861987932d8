"""Cognito's JSON wire format on the sandbox: which operation a request is, and errors clients parse.

Cognito speaks botocore's ``json`` protocol: ``POST /`` with ``X-Amz-Target:
AWSCognitoIdentityProviderService.<Operation>`` and ``Content-Type: application/x-amz-json-1.1``.
An error is HTTP 400 (500 for ``InternalErrorException``) with ``{"__type", "message"}`` and the
headers ``x-amzn-ErrorType: <type>:`` and ``x-amzn-ErrorMessage``, as Cognito sends them. boto3, the
AWS CLI, the JS SDK v3, Amplify and amazon-cognito-identity-js all read one or the other.

What the sandbox cannot serve still answers in that shape (never moto's HTML error page):
- an operation botocore does not know: 400 ``UnknownOperationException``;
- an operation Cognito has but the sandbox does not emulate: 501 ``InternalFailure`` naming it
  (LocalStack's convention; no client retries a 501).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from typing import Any, Final

from werkzeug.wrappers import Request, Response

TARGET_PREFIX: Final = "AWSCognitoIdentityProviderService."
CONTENT_TYPE: Final = "application/x-amz-json-1.1"
INCORRECT: Final = "Incorrect username or password."


class CognitoError(Exception):
    """An error answer: ``{"__type", "message"}`` with Cognito's headers."""

    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status


def not_authorized(message: str = INCORRECT) -> CognitoError:
    return CognitoError("NotAuthorizedException", message)


def invalid_parameter(message: str) -> CognitoError:
    return CognitoError("InvalidParameterException", message)


def missing_parameter(name: str) -> CognitoError:
    return invalid_parameter(f"Missing required parameter {name}")


def client_not_found(client_id: str) -> CognitoError:
    return CognitoError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")


def user_not_found() -> CognitoError:
    return CognitoError("UserNotFoundException", "User does not exist.")


def not_emulated(operation: str, detail: str = "") -> CognitoError:
    suffix = f": {detail}" if detail else ""
    return CognitoError(
        "InternalFailure", f"the sandbox does not emulate cognito-idp {operation}{suffix}", status=501
    )


def operation_of(request: Request) -> str | None:
    """The Cognito operation a request calls, or None when it is not a Cognito JSON call."""
    target = request.headers.get("X-Amz-Target", "")
    if request.method != "POST" or not target.startswith(TARGET_PREFIX):
        return None
    return target.removeprefix(TARGET_PREFIX)


@functools.cache
def known_operations() -> frozenset[str]:
    """Every operation of Cognito's API as botocore's model lists it (loaded once, on first need)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("cognito-idp")
    return frozenset(model.operation_names)


def _header_safe(text: str) -> str:
    # Header values are latin-1 on the wire and a line break would end the header.
    return " ".join(text.split()).encode("latin-1", errors="replace").decode("latin-1")


def cognito_response(body: Mapping[str, Any], status: int = 200) -> Response:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    return Response(json.dumps(body), status=status, headers=headers, content_type=CONTENT_TYPE)


def error_response(error: CognitoError) -> Response:
    response = cognito_response({"__type": error.error_type, "message": error.message}, error.status)
    response.headers["x-amzn-ErrorType"] = f"{error.error_type}:"
    response.headers["x-amzn-ErrorMessage"] = _header_safe(error.message)
    return response


def is_json_answer(response: Response) -> bool:
    return (response.mimetype or "").endswith("json")
