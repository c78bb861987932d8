"""Print the OpenAPI document generated from the API handler: `make openapi` writes docs/openapi.json."""

from __future__ import annotations

import json
import os
from typing import Any

# Powertools documents its own 422 for validation errors; this API answers those with 400 problem+json,
# exactly as API Gateway's request validator does before the function runs.
_UNUSED_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def openapi_document() -> dict[str, Any]:
    # The handler validates its settings at import; the document does not depend on their values.
    for name, value in {
        "PINPOINT_APPLICATION_ID": "openapi",
        "OTP_BRAND_NAME": "openapi",
        "OTP_ORIGINATION_IDENTITY": "openapi",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        os.environ.setdefault(name, value)
    from otp.handlers.api import app

    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title="SMS OTP API",
            version="1.0.0",
            summary="Send and verify SMS one-time passwords with Amazon Pinpoint",
            description=(
                "Deployed behind API Gateway (stage v1) with IAM (SigV4) or API-key authorization. "
                "Every error is application/problem+json (RFC 9457)."
            ),
        )
    )
    document["servers"] = [
        {
            "url": "https://{apiId}.execute-api.{region}.amazonaws.com/v1",
            "variables": {"apiId": {"default": "abc123"}, "region": {"default": "us-east-1"}},
        },
        {"url": "http://127.0.0.1:3000/v1", "description": "local sandbox (make run)"},
    ]
    for path in document["paths"].values():
        for operation in path.values():
            responses = operation["responses"]
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]
    for schema in _UNUSED_SCHEMAS:
        document["components"]["schemas"].pop(schema, None)
    return document


def openapi_json() -> str:
    return json.dumps(openapi_document(), indent=2) + "\n"


if __name__ == "__main__":
    print(openapi_json(), end="")
