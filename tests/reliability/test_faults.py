"""Faults, in-process: every scripted outcome of the sandbox, and an endpoint that is down or hangs.

For each: the documented answer (docs/http-api.md, "Status mapping"), well inside API Gateway's 29 s, the one
right metric, and exactly the engine calls and SMS that may happen: nothing lost, nothing doubled. On both
engines: each scripted number's expectation is the engine's own (tests/reliability/contract.py).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import ApiResult, Invoke
from tests.reliability.contract import (
    API_GATEWAY_LIMIT_SECONDS,
    ScriptedNumber,
    documented_answers,
    every_scripted_number,
)

SENDS = {"SendOTPMessage", "SendNotifyCodeVerification"}

# tests/integration/conftest.py gives the handler a 1 s read timeout and the default 3 attempts. The
# adapter's worst case is then 3 x (connect, at most 2 s) + 1 s read + < 1.5 s backoff.
HANDLER_BUDGET_SECONDS = 3 * 2 + 1 + 1.5
assert HANDLER_BUDGET_SECONDS < API_GATEWAY_LIMIT_SECONDS


def timed(invoke: Invoke, *args: Any) -> tuple[ApiResult, float]:
    started = time.monotonic()
    result = invoke(*args)
    return result, time.monotonic() - started


def metric_dimensions(result: ApiResult, metric: str, dimension: str) -> list[str]:
    return [doc["dimensions"][dimension] for doc in result.telemetry.metric_values(metric)]


def assert_documented(result: ApiResult, name: str) -> None:
    documented = documented_answers()[name]
    assert result.status == documented.http, result.body
    assert result.headers.get("Retry-After") == documented.retry_after
    if documented.http == 202:  # End User Messaging accepts what Pinpoint scripts as a failed delivery
        assert result.headers["Content-Type"] == "application/json"
        return
    assert result.headers["Content-Type"] == "application/problem+json"
    assert result.body["status"] == documented.http


@pytest.mark.parametrize(("engine", "scripted"), [(n.engine, n) for n in every_scripted_number()], ids=str)
def test_every_test_number_gets_its_documented_answer_metric_and_sms_count(
    invoke: Invoke, pinpoint_endpoint: Any, scripted: ScriptedNumber
) -> None:
    # Given a number for which the sandbox scripts a delivery status, an exception or a slow answer
    emulator = pinpoint_endpoint.emulator
    # When a code is requested
    result, elapsed = timed(invoke, "POST", "/otp", {"phoneNumber": scripted.number})
    # Then the documented answer, well within API Gateway's limit
    assert_documented(result, scripted.dimension)
    assert elapsed < HANDLER_BUDGET_SECONDS
    # and exactly one metric, for this outcome, and no other send metric
    dimension = "DeliveryStatus" if scripted.metric == "OtpDelivery" else "ErrorCode"
    assert metric_dimensions(result, scripted.metric, dimension) == [scripted.dimension]
    other = "OtpUpstreamError" if scripted.metric == "OtpDelivery" else "OtpDelivery"
    assert result.telemetry.metric_values(other) == []
    # and the engine was asked only as often as is safe, and the outbox shows what really went out
    sends = [call for call in emulator.calls() if call.operation in SENDS]
    assert len(sends) == scripted.pinpoint_calls
    assert len({call.reference_id for call in sends}) == 1  # retries reuse the reference: no 2nd code
    assert [sms.destination for sms in emulator.outbox()] == [scripted.number] * scripted.sms_sent


# The sandbox scripts exceptions for both operations; only sends are slow, and an opted-out number
# (End User Messaging's ConflictException) may still check a code it received before.
FAILING_CALLS = [
    number
    for number in every_scripted_number()
    if number.metric == "OtpUpstreamError" and number.dimension not in {"Timeout", "ConflictException"}
]


@pytest.mark.parametrize(("engine", "scripted"), [(n.engine, n) for n in FAILING_CALLS], ids=str)
def test_verification_against_a_failing_engine_is_documented_too(
    invoke: Invoke, pinpoint_endpoint: Any, scripted: ScriptedNumber
) -> None:
    # Given a number for which the engine refuses every call with an exception
    body = {"phoneNumber": scripted.number, "referenceId": "fault-verify", "code": "123456"}
    # When a code is checked
    result, elapsed = timed(invoke, "POST", "/otp/verify", body)
    # Then the same documented answer as a send, counted once, never a verification result
    assert_documented(result, scripted.dimension)
    assert elapsed < HANDLER_BUDGET_SECONDS
    assert metric_dimensions(result, "OtpUpstreamError", "ErrorCode") == [scripted.dimension]
    assert result.telemetry.metric_values("OtpVerification") == []


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def hanging_endpoint() -> Iterator[tuple[str, socket.socket]]:
    """A port that accepts connections (the kernel completes them) but never answers a request."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", listener


def point_handler_at(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from otp import wiring

    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    wiring.reset()


@pytest.mark.parametrize("path", ["/otp", "/otp/verify"])
def test_a_sandbox_that_is_down_is_a_503_after_bounded_retries(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, closed_port: int, path: str
) -> None:
    # Given the Pinpoint endpoint is down (connection refused)
    point_handler_at(f"http://127.0.0.1:{closed_port}", monkeypatch)
    body = {"phoneNumber": "+12065550100", "referenceId": "down-1", "code": "123456"}
    if path == "/otp":
        del body["code"]
    # When a client calls the API
    result, elapsed = timed(invoke, "POST", path, body)
    # Then 503 with Retry-After, after the adapter's bounded retries, well within the limit
    assert_documented(result, "ConnectionError")
    assert result.body["errorCode"] == "ConnectionError"
    assert elapsed < HANDLER_BUDGET_SECONDS
    # and the failure is counted once, by its cause
    assert metric_dimensions(result, "OtpUpstreamError", "ErrorCode") == ["ConnectionError"]


def test_a_sandbox_that_hangs_is_a_504_without_a_retry(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, hanging_endpoint: tuple[str, socket.socket]
) -> None:
    # Given an endpoint that accepts the connection and then never answers
    url, listener = hanging_endpoint
    point_handler_at(url, monkeypatch)
    # When a code is requested
    result, elapsed = timed(invoke, "POST", "/otp", {"phoneNumber": "+12065550100"})
    # Then 504 once the read timeout (1 s) passes: the request may have been sent, so no retry
    assert_documented(result, "Timeout")
    assert "may have been sent" in result.body["detail"]
    assert 1.0 <= elapsed < HANDLER_BUDGET_SECONDS
    assert metric_dimensions(result, "OtpUpstreamError", "ErrorCode") == ["Timeout"]
    # and exactly one connection reached the endpoint
    listener.setblocking(False)
    accepted = []
    while True:
        try:
            accepted.append(listener.accept()[0])
        except BlockingIOError:
            break
    for connection in accepted:
        connection.close()
    assert len(accepted) == 1
