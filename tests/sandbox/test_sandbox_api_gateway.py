"""The HTTP API front: requests become REST proxy events, proxy results become responses."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from typing import Any

import pytest
from werkzeug.test import Client

from local.api_gateway import MAX_PAYLOAD_BYTES, ApiGatewayProxy, LambdaHandler


class RecordingHandler:
    """A stand-in function that records its event and context and answers a fixed proxy result."""

    def __init__(self, result: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.result = result if result is not None else {"statusCode": 200, "body": "{}"}

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        return self.result


def client_for(handler: LambdaHandler, **options: Any) -> Client:
    return Client(ApiGatewayProxy(lambda: handler, **options))


def test_a_request_becomes_the_rest_proxy_event_api_gateway_sends() -> None:
    # Given the HTTP API in front of a recording function
    handler = RecordingHandler()
    client = client_for(handler)
    # When a client posts JSON to /v1/otp with a repeated query parameter and a custom header
    client.post(
        "/v1/otp?a=1&a=2&b=3",
        data=b'{"phoneNumber": "+12065550100"}',
        headers={"Content-Type": "application/json", "Idempotency-Key": "k-1"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    # Then the function got API Gateway's event for stage v1, resource /otp
    [event] = handler.events
    assert event["resource"] == "/otp"
    assert event["path"] == "/otp"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["Idempotency-Key"] == "k-1"
    assert event["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert event["queryStringParameters"] == {"a": "2", "b": "3"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["3"]}
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert json.loads(event["body"]) == {"phoneNumber": "+12065550100"}
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert uuid.UUID(context["requestId"])
    assert (context["stage"], context["resourcePath"], context["httpMethod"]) == ("v1", "/otp", "POST")
    assert context["path"] == "/v1/otp"
    assert context["identity"]["sourceIp"] == "203.0.113.7"
    assert abs(context["requestTimeEpoch"] - time.time() * 1000) < 5000
    assert context["domainName"] == "localhost"
    assert context["apiId"]


def test_no_query_and_no_body_are_null_as_in_api_gateway() -> None:
    # Given / When a request without query string or body
    handler = RecordingHandler()
    client_for(handler).post("/v1/otp/verify")
    # Then those fields are null
    [event] = handler.events
    assert event["resource"] == "/otp/verify"
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["body"] is None


def test_a_binary_body_arrives_base64_encoded() -> None:
    # Given a body that is not UTF-8
    handler = RecordingHandler()
    # When it is posted
    client_for(handler).post("/v1/otp", data=b"\xff\xfe\x00")
    # Then the function gets it base64-encoded and flagged
    [event] = handler.events
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe\x00"


def test_the_function_gets_a_lambda_context_with_api_gateways_budget() -> None:
    # Given / When a request
    handler = RecordingHandler()
    client_for(handler).post("/v1/otp")
    # Then the context has what Powertools reads, and about 29 s left
    [context] = handler.contexts
    assert context.function_name == "otp-api"
    assert context.memory_limit_in_mb == 256
    assert context.invoked_function_arn.endswith(":function:otp-api")
    assert uuid.UUID(context.aws_request_id)
    assert 28_000 < context.get_remaining_time_in_millis() <= 29_000


def test_the_proxy_result_becomes_the_response() -> None:
    # Given a function answering status, single and multi-value headers and a body
    handler = RecordingHandler(
        {
            "statusCode": 202,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": '{"ok": true}',
            "isBase64Encoded": False,
        }
    )
    # When it is called
    answer = client_for(handler).post("/v1/otp")
    # Then the client gets exactly that, plus API Gateway's request id
    assert answer.status_code == 202
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert answer.get_data() == b'{"ok": true}'
    assert uuid.UUID(answer.headers["x-amzn-RequestId"])


def test_a_base64_result_is_decoded() -> None:
    # Given a function answering a base64 body
    handler = RecordingHandler(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    # When / Then
    assert client_for(handler).post("/v1/otp").get_data() == b"\x00\x01"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/nothing"),
        ("GET", "/v1/otp"),
        ("POST", "/otp"),
        ("POST", "/v2/otp"),
        ("DELETE", "/v1/otp/verify"),
    ],
)
def test_what_the_api_does_not_define_is_missing_authentication_token(method: str, path: str) -> None:
    # Given the HTTP API
    handler = RecordingHandler()
    # When a resource or method it does not define is called
    answer = client_for(handler).open(path, method=method)
    # Then 403 "Missing Authentication Token", like API Gateway, and the function is not called
    assert answer.status_code == 403
    assert answer.json == {"message": "Missing Authentication Token"}
    assert handler.events == []


def test_a_payload_over_10_mb_is_refused_with_413() -> None:
    # Given a body one byte over API Gateway's 10 MB quota
    handler = RecordingHandler()
    # When it is posted
    answer = client_for(handler).post("/v1/otp", data=b"x" * (MAX_PAYLOAD_BYTES + 1))
    # Then 413, and the function is not called
    assert answer.status_code == 413
    assert handler.events == []


def test_a_failing_function_is_a_502() -> None:
    # Given a function that raises
    def failing(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("boom")

    # When it is called
    answer = client_for(failing).post("/v1/otp")
    # Then API Gateway's 502, without the exception's text
    assert answer.status_code == 502
    assert answer.json == {"message": "Internal server error"}


@pytest.mark.parametrize(
    "result", [None, {"body": "{}"}, {"statusCode": "200"}, {"statusCode": 200, "body": 5}]
)
def test_a_malformed_proxy_result_is_a_502(result: Any) -> None:
    # Given a function whose answer is not a proxy result
    handler = RecordingHandler()
    handler.result = result
    # When / Then
    assert client_for(handler).post("/v1/otp").status_code == 502


def test_a_function_past_the_integration_timeout_is_a_504() -> None:
    # Given a function slower than the integration timeout (shortened here)
    release = threading.Event()

    def slow(event: dict[str, Any], context: Any) -> Any:
        release.wait(5)
        return {"statusCode": 200, "body": ""}

    # When it is called
    started = time.monotonic()
    answer = client_for(slow, timeout_seconds=0.2).post("/v1/otp")
    release.set()
    # Then API Gateway gives up with 504 at the timeout
    assert answer.status_code == 504
    assert answer.json == {"message": "Endpoint request timed out"}
    assert time.monotonic() - started < 2


def test_the_function_is_imported_on_first_use_only() -> None:
    # Given a proxy whose loader records when it runs
    loads: list[str] = []

    def loader() -> LambdaHandler:
        loads.append("loaded")
        return RecordingHandler()

    proxy = ApiGatewayProxy(loader)
    # When nothing has been requested yet, then two requests arrive
    assert loads == []
    Client(proxy).post("/v1/otp")
    Client(proxy).post("/v1/otp")
    # Then the function was imported once, at the first request (as a Lambda container's init)
    assert loads == ["loaded"]
