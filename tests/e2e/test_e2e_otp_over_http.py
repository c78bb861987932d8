"""End to end over real sockets: ``python -m local`` as a subprocess, driven only through its HTTP API.

Each test uses its own phone number: the service's per-number send limits are real, and the sandbox
is shared by the tests of one worker. Every test runs on both engines (``make run`` and
``OTP_ENGINE=endusermessaging make run``).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from tests.sandbox_harness import HttpAnswer, RunningSandbox, http_call


@pytest.fixture
def sandbox(engine_sandbox: RunningSandbox) -> RunningSandbox:
    """The session's sandbox of each engine in turn (tests/conftest.py)."""
    return engine_sandbox


def request_code(sandbox: RunningSandbox, phone: str) -> tuple[str, str]:
    """POST /v1/otp, then read the SMS from the outbox as the phone's owner would: (reference, code)."""
    sent = sandbox.api("POST", "/v1/otp", {"phoneNumber": phone})
    assert sent.status == 202, sent
    [sms] = sandbox.outbox(destination=phone, reference_id=sent.body["referenceId"])
    return sent.body["referenceId"], sms["code"]


def verify(sandbox: RunningSandbox, phone: str, reference_id: str, code: str) -> HttpAnswer:
    return sandbox.api(
        "POST", "/v1/otp/verify", {"phoneNumber": phone, "referenceId": reference_id, "code": code}
    )


def sandbox_now(sandbox: RunningSandbox) -> datetime:
    """The sandbox's own now (GET /_sandbox/clock): codes expire by it."""
    now = http_call("GET", f"{sandbox.aws_url}/_sandbox/clock").body["now"]
    return datetime.fromisoformat(now.replace("Z", "+00:00"))


def other_code(code: str) -> str:
    return "".join(str((int(digit) + 1) % 10) for digit in code)


def test_a_code_sent_by_sms_verifies(sandbox: RunningSandbox) -> None:
    # Given a phone number
    phone = "+12065550120"
    before = sandbox_now(sandbox)
    # When a code is requested over HTTP
    sent = sandbox.api("POST", "/v1/otp", {"phoneNumber": phone})
    # Then 202 with the contract's fields
    assert sent.status == 202, sent
    assert sent.headers["Content-Type"] == "application/json"
    assert set(sent.body) == {"referenceId", "deliveryStatus", "messageId", "expiresAt", "channel"}
    assert sent.body["deliveryStatus"] == "SUCCESSFUL"
    expires_at = datetime.fromisoformat(sent.body["expiresAt"].replace("Z", "+00:00"))
    # (on the sandbox's clock, which other tests of the session may have moved on)
    assert (
        before + timedelta(minutes=4) < expires_at <= sandbox_now(sandbox) + timedelta(minutes=5, seconds=1)
    )
    # and the phone got one SMS, worded as Pinpoint words it, under that reference and message id
    [sms] = sandbox.outbox(destination=phone)
    assert sms["referenceId"] == sent.body["referenceId"]
    assert sms["messageId"] == sent.body["messageId"]
    assert sms["body"] == f"This is your One Time Password: {sms['code']} from Sandbox"
    # When the code from the SMS is verified
    verified = verify(sandbox, phone, sent.body["referenceId"], sms["code"])
    # Then it is valid
    assert verified.status == 200
    assert verified.body == {"valid": True}


def test_a_wrong_code_is_invalid(sandbox: RunningSandbox) -> None:
    # Given a code sent to a phone
    phone = "+12065550121"
    reference_id, code = request_code(sandbox, phone)
    # When a different code of the right length is verified
    answer = verify(sandbox, phone, reference_id, other_code(code))
    # Then it is not valid: a wrong code
    assert answer.status == 200
    assert answer.body == {"valid": False, "reason": "WRONG_CODE"}


def test_once_the_attempts_are_used_up_even_the_right_code_is_invalid(sandbox: RunningSandbox) -> None:
    # Given a code sent to a phone, with the 3 attempts the sandbox tests configure
    phone = "+12065550122"
    reference_id, code = request_code(sandbox, phone)
    # When three wrong codes are tried
    for _ in range(3):
        assert verify(sandbox, phone, reference_id, other_code(code)).body == {
            "valid": False,
            "reason": "WRONG_CODE",
        }
    # Then the right code is refused as well: its attempts are used up
    answer = verify(sandbox, phone, reference_id, code)
    assert answer.status == 200
    assert answer.body == {"valid": False, "reason": "ATTEMPTS_EXHAUSTED"}


def test_a_code_expires_when_its_validity_period_is_over(sandbox: RunningSandbox) -> None:
    # Given a code valid for 5 minutes
    phone = "+12065550123"
    reference_id, code = request_code(sandbox, phone)
    # When the sandbox's clock moves 5 minutes on (instead of the test sleeping)
    sandbox.advance_clock(5 * 60)
    # Then the code is no longer valid: it expired
    answer = verify(sandbox, phone, reference_id, code)
    assert answer.status == 200
    assert answer.body == {"valid": False, "reason": "EXPIRED"}


def test_a_code_is_bound_to_its_number(sandbox: RunningSandbox) -> None:
    # Given a code sent to one phone
    reference_id, code = request_code(sandbox, "+12065550124")
    # When it is verified for another phone under the same reference
    answer = verify(sandbox, "+12065550125", reference_id, code)
    # Then it is not valid: nothing was sent to that number under the reference
    assert answer.body == {"valid": False, "reason": "NOT_FOUND"}


def test_a_refused_delivery_is_a_problem_and_sends_nothing(sandbox: RunningSandbox) -> None:
    # Given the test number whose owner opted out
    phone = "+12065550105"
    # When a code is requested
    answer = sandbox.api("POST", "/v1/otp", {"phoneNumber": phone})
    # Then 409 problem+json, as the contract maps OPT_OUT, and no SMS
    assert answer.status == 409
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["status"] == 409
    assert sandbox.outbox(destination=phone) == []


def test_an_undefined_route_is_api_gateways_403(sandbox: RunningSandbox) -> None:
    # Given / When a path the API does not define
    answer = sandbox.api("POST", "/v1/otp/resend", {})
    # Then API Gateway's answer, not the function's
    assert answer.status == 403
    assert answer.body == {"message": "Missing Authentication Token"}


def test_codes_appear_on_the_sandbox_console_but_never_in_the_services_logs(sandbox: RunningSandbox) -> None:
    # Given a code sent and verified, and a wrong one tried
    phone = "+12065550126"
    reference_id, code = request_code(sandbox, phone)
    wrong = other_code(code)
    verify(sandbox, phone, reference_id, wrong)
    verify(sandbox, phone, reference_id, code)
    # When the sandbox's console output is read
    console = sandbox.console().splitlines()
    # Then the sandbox's own delivery line shows the code (the fake phone's screen)
    assert any(line.startswith("[sandbox] SMS to") and code in line for line in console)
    # but no structured log line or metric of the service holds either code or the full number
    service_lines = [line for line in console if line.startswith("{")]
    assert service_lines, "the handler printed no JSON logs or metrics"
    # (as a whole number: a 6-digit code may well occur inside a millisecond timestamp)
    secrets = re.compile(rf"(?<![0-9])({code}|{wrong})(?![0-9])|{re.escape(phone)}")
    for line in service_lines:
        assert not secrets.search(json.dumps(json.loads(line))), line
