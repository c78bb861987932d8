"""Print the OpenAPI document of the HTTP API: `make openapi` writes docs/openapi.json.

Built from otp/api_schema.py, the same declaration the handler validates requests with and API
Gateway's request models are converted from; nothing else is imported (no settings needed).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from otp.api_schema import OPERATIONS, SCHEMAS


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SMS OTP API",
            "version": "1.0.0",
            "summary": "Send and verify SMS one-time passwords with Amazon Pinpoint",
            "description": (
                "Deployed behind API Gateway (stage v1) with IAM (SigV4) or API-key authorization. "
                "Every error is application/problem+json (RFC 9457)."
            ),
        },
        "servers": [
            {
                "url": "https://{apiId}.execute-api.{region}.amazonaws.com/v1",
                "variables": {"apiId": {"default": "abc123"}, "region": {"default": "us-east-1"}},
            },
            {"url": "http://127.0.0.1:3000/v1", "description": "local sandbox (make run)"},
        ],
        "paths": copy.deepcopy(OPERATIONS),
        "components": {"schemas": copy.deepcopy(SCHEMAS)},
    }


def openapi_json() -> str:
    return json.dumps(openapi_document(), indent=2) + "\n"


if __name__ == "__main__":
    print(openapi_json(), end="")
