"""Channel fallback end to end: the sandbox subprocess on End User Messaging (SMS and voice), a stock HTTP
client (requests), time moved with ``POST /_sandbox/clock`` (the sandbox runs EventBridge Scheduler's
one-time schedules on its clock, local/schedules.py). Each test uses numbers of its own."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.sandbox_harness import RunningSandbox

pytestmark = pytest.mark.slow

CALL_AFTER = [{"channel": "VOICE", "afterSeconds": 60}]


@pytest.fixture(scope="module")
def sandbox(sandbox_sms_voice: RunningSandbox) -> RunningSandbox:
    return sandbox_sms_voice


def api(sandbox: RunningSandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{sandbox.api_url}/v1{path}", timeout=30, **kwargs)


def send_with_fallback(sandbox: RunningSandbox, phone: str) -> tuple[str, str]:
    sent = api(sandbox, "POST", "/otp", json={"phoneNumber": phone, "fallback": CALL_AFTER})
    assert sent.status_code == 202, sent.text
    reference = sent.json()["referenceId"]
    [sms] = sandbox.outbox(destination=phone)
    assert (sms["channel"], sms["referenceId"]) == ("SMS", reference)
    return reference, sms["code"]


def verify(sandbox: RunningSandbox, phone: str, reference: str, code: str) -> dict[str, Any]:
    answer = api(
        sandbox, "POST", "/otp/verify", json={"phoneNumber": phone, "referenceId": reference, "code": code}
    )
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def channels(sandbox: RunningSandbox, phone: str) -> list[str]:
    return [message["channel"] for message in sandbox.outbox(destination=phone)]


def test_a_call_follows_an_unverified_text_under_the_same_reference(sandbox):
    # Given a code texted with a call as the fallback after 60 s
    phone = "+12065550171"
    reference, sms_code = send_with_fallback(sandbox, phone)
    # When 59 s pass, nothing more happens
    sandbox.advance_clock(59)
    assert channels(sandbox, phone) == ["SMS"]
    # When the clock passes 60 s without a verification
    sandbox.advance_clock(2)
    # Then a call with a new code went out under the same reference
    sms, call = sandbox.outbox(destination=phone)
    assert (call["channel"], call["referenceId"]) == ("VOICE", reference)
    assert call["code"] != sms["code"] == sms_code
    # and the status shows both sends, the call's code in force
    status = api(sandbox, "GET", f"/otp/{reference}", params={"phoneNumber": phone}).json()
    assert status["channel"] == "VOICE"
    assert [send["channel"] for send in status["sends"]] == ["SMS", "VOICE"]
    # and the texted code no longer verifies (a new code replaces it, as a new send does); the spoken one does
    assert verify(sandbox, phone, reference, sms_code) == {"valid": False, "reason": "WRONG_CODE"}
    assert verify(sandbox, phone, reference, call["code"]) == {"valid": True}
    # and no second call follows later
    sandbox.advance_clock(600)
    assert channels(sandbox, phone) == ["SMS", "VOICE"]


def test_verifying_first_stops_the_call(sandbox):
    phone = "+12065550172"
    reference, code = send_with_fallback(sandbox, phone)
    assert verify(sandbox, phone, reference, code) == {"valid": True}
    sandbox.advance_clock(61)
    assert channels(sandbox, phone) == ["SMS"]


def test_cancelling_stops_the_call(sandbox):
    phone = "+12065550173"
    reference, _ = send_with_fallback(sandbox, phone)
    cancelled = api(sandbox, "DELETE", f"/otp/{reference}", params={"phoneNumber": phone})
    assert cancelled.status_code == 200, cancelled.text
    sandbox.advance_clock(61)
    assert channels(sandbox, phone) == ["SMS"]


def test_a_new_send_under_the_reference_retires_the_planned_call(sandbox):
    phone = "+12065550174"
    reference, _ = send_with_fallback(sandbox, phone)
    sandbox.advance_clock(31)  # past the cooldown
    again = api(sandbox, "POST", "/otp", json={"phoneNumber": phone, "referenceId": reference})
    assert again.status_code == 202, again.text
    sandbox.advance_clock(30)  # the first send's 60 s have passed
    assert channels(sandbox, phone) == ["SMS", "SMS"]


def test_the_call_counts_against_the_numbers_limits(sandbox):
    # Given a text at t=0 and its fallback call at t=61
    phone = "+12065550175"
    send_with_fallback(sandbox, phone)
    sandbox.advance_clock(61)
    assert channels(sandbox, phone) == ["SMS", "VOICE"]
    # When the number asks for a code right after the call: the text alone was 61 s ago, past the 30 s
    # cooldown, so only the call can make this a cooldown refusal
    refused = api(sandbox, "POST", "/otp", json={"phoneNumber": phone})
    # Then it is refused by the cooldown the call started
    assert refused.status_code == 429, refused.text
    assert "less than 30 seconds ago" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("fallback", "fragment"),
    [
        ([{"channel": "SMS", "afterSeconds": 60}], "SMS is already a channel of this verification"),
        ([{"channel": "WHATSAPP", "afterSeconds": 60}], "WHATSAPP is not a channel this deployment offers"),
        (
            [{"channel": "VOICE", "afterSeconds": 10}],
            "afterSeconds: Input should be greater than or equal to 30",
        ),
        (
            [{"channel": "VOICE", "afterSeconds": 3601}],
            "afterSeconds: Input should be less than or equal to 3600",
        ),
        ([{"channel": "VOICE"}], "fallback"),
    ],
)
def test_a_plan_the_deployment_cannot_keep_is_a_400_naming_the_field(sandbox, fallback, fragment):
    phone = "+12065550176"
    refused = api(sandbox, "POST", "/otp", json={"phoneNumber": phone, "fallback": fallback})
    assert refused.status_code == 400, refused.text
    assert refused.json()["detail"].startswith("fallback")
    assert fragment in refused.json()["detail"]
    assert sandbox.outbox(destination=phone) == []


def test_pinpoint_has_no_fallback_a_400_naming_the_field(sandbox_pinpoint):
    phone = "+12065550177"
    refused = api(sandbox_pinpoint, "POST", "/otp", json={"phoneNumber": phone, "fallback": CALL_AFTER})
    assert refused.status_code == 400, refused.text
    assert refused.json()["field"] == "fallback"
    assert sandbox_pinpoint.outbox(destination=phone) == []
