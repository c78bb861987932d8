"""API Gateway REST proxy events and a Lambda context, shaped as AWS sends them."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LambdaContext:
    function_name: str = "otp-api"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:otp-api"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/otp-api"
    log_stream_name: str = "2026/11/26/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 20_000


def rest_api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    source_ip: str = "203.0.113.10",
    query: dict[str, list[str]] | None = None,
    identity: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API (v1 payload) proxy event for stage v1, as API Gateway builds it: the resource and its
    path parameters matched as the sandbox's API Gateway matches them (``local.api_gateway``)."""
    from local.api_gateway import RESOURCES, match_resource

    matched = match_resource(RESOURCES, path)
    resource, path_parameters = matched if matched is not None else (path, {})
    all_headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "pytest",
        "X-Forwarded-For": source_ip,
        **(headers or {}),
    }
    raw_body = body if isinstance(body, str) or body is None else json.dumps(body)
    request_id = str(uuid.uuid4())
    return {
        "version": "1.0",
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": {name: values[-1] for name, values in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "extendedRequestId": request_id,
            "httpMethod": method,
            "identity": {"sourceIp": source_ip, "userAgent": "pytest", **(identity or {})},
            "path": f"/v1{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "resourcePath": resource,
            "stage": "v1",
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }
