"""Faults end to end: every test number through the sandbox's HTTP API (API Gateway emulation, the
real handler, the engine's emulator) in a subprocess, with abuse protection on as in ``make run``, on
both engines (``OTP_ENGINE=endusermessaging make run`` too).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.reliability.contract import API_GATEWAY_LIMIT_SECONDS, ScriptedNumber, every_scripted_number
from tests.sandbox_harness import RunningSandbox

DAY_SECONDS = 86_400


def emf_count(console: str, metric: str, dimension: str, value: str) -> int:
    """How many EMF documents on the sandbox console count ``metric`` with ``dimension`` = ``value``."""
    count = 0
    for line in console.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document: dict[str, Any] = json.loads(line)
        if metric in document and document.get(dimension) == value:
            count += 1
    return count


def logs_for(console: str, request_id: str) -> list[dict[str, Any]]:
    records = []
    for line in console.splitlines():
        if line.startswith('{"level"') and f'"correlation_id":"{request_id}"' in line:
            records.append(json.loads(line))
    return records


@pytest.mark.parametrize(("engine", "scripted"), [(n.engine, n) for n in every_scripted_number()], ids=str)
def test_every_test_number_over_http_is_documented_counted_and_sent_at_most_once(
    reliability_sandbox: RunningSandbox, scripted: ScriptedNumber
) -> None:
    sandbox = reliability_sandbox
    # Given a day has passed, so no per-number limit from an earlier request applies
    sandbox.advance_clock(DAY_SECONDS)
    dimension = "DeliveryStatus" if scripted.metric == "OtpDelivery" else "ErrorCode"
    metrics_before = emf_count(sandbox.console(), scripted.metric, dimension, scripted.dimension)
    sms_before = len(sandbox.outbox(destination=scripted.number))
    calls_before = [call for call in sandbox.calls() if call["destination"] == scripted.number]
    # When a client asks for a code over HTTP
    started = time.monotonic()
    answer = sandbox.api("POST", "/v1/otp", {"phoneNumber": scripted.number})
    elapsed = time.monotonic() - started
    # Then the documented status and Retry-After, as problem+json, inside API Gateway's limit
    assert answer.status == scripted.answer.http, answer.body
    assert answer.headers.get("Retry-After") == scripted.answer.retry_after
    accepted = answer.status == 202  # End User Messaging accepts what Pinpoint scripts as a failed delivery
    assert answer.headers["Content-Type"] == ("application/json" if accepted else "application/problem+json")
    assert elapsed < API_GATEWAY_LIMIT_SECONDS
    # and the outbox and the call log show exactly what may happen for this outcome
    assert len(sandbox.outbox(destination=scripted.number)) - sms_before == scripted.sms_sent
    calls = [call for call in sandbox.calls() if call["destination"] == scripted.number][len(calls_before) :]
    assert len(calls) == scripted.pinpoint_calls
    # and one metric for the outcome, and a log line under the request id the caller was given
    time.sleep(0.2)  # the console is a file the sandbox appends to
    console = sandbox.console()
    assert emf_count(console, scripted.metric, dimension, scripted.dimension) - metrics_before == 1
    if accepted:
        [record] = [
            r for r in logs_for(console, answer.headers["x-amzn-RequestId"]) if r["message"] == "otp sent"
        ]
        assert record["deliveryStatus"] == "SUCCESSFUL"
        return
    [record] = [r for r in logs_for(console, answer.body["requestId"]) if r["level"] in {"WARNING", "ERROR"}]
    assert scripted.dimension in (record.get("deliveryStatus"), record.get("errorCode"))
