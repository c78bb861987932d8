"""Every lifecycle status through the sandbox, with a stock HTTP client (requests), on both engines.

``python -m local`` as a subprocess; the code is read from the sandbox's outbox as the phone's owner
would, and time moves with ``POST /_sandbox/clock``. Each test uses numbers of its own: the sandbox is
shared by the tests of one worker and its per-number limits are real.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.sandbox_harness import RunningSandbox


@pytest.fixture
def sandbox(engine_sandbox: RunningSandbox) -> RunningSandbox:
    return engine_sandbox


def api(sandbox: RunningSandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{sandbox.api_url}/v1{path}", timeout=30, **kwargs)


def send(sandbox: RunningSandbox, phone: str) -> tuple[str, str]:
    sent = api(sandbox, "POST", "/otp", json={"phoneNumber": phone})
    assert sent.status_code == 202, sent.text
    reference = sent.json()["referenceId"]
    [message] = sandbox.outbox(destination=phone, reference_id=reference)
    return reference, message["code"]


def status_of(sandbox: RunningSandbox, phone: str, reference: str) -> dict[str, Any]:
    # requests encodes the query for us: the + of the number goes as %2B
    answer = api(sandbox, "GET", f"/otp/{reference}", params={"phoneNumber": phone})
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def verify(sandbox: RunningSandbox, phone: str, reference: str, code: str) -> dict[str, Any]:
    body = {"phoneNumber": phone, "referenceId": reference, "code": code}
    answer = api(sandbox, "POST", "/otp/verify", json=body)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def other(code: str) -> str:
    return "".join(str((int(digit) + 1) % 10) for digit in code)


def test_every_status_is_reachable(sandbox: RunningSandbox) -> None:
    # PENDING: a code just sent
    pending_phone = "+12065550140"
    reference, code = send(sandbox, pending_phone)
    pending = status_of(sandbox, pending_phone, reference)
    assert (pending["status"], pending["attemptsRemaining"], pending["channel"]) == ("PENDING", 3, "SMS")
    assert [send_["deliveryStatus"] for send_ in pending["sends"]] == ["SUCCESSFUL"]
    assert code not in str(pending)
    assert pending_phone not in str(pending)

    # VERIFIED: the right code
    assert verify(sandbox, pending_phone, reference, code) == {"valid": True}
    assert status_of(sandbox, pending_phone, reference)["status"] == "VERIFIED"

    # LOCKED: three wrong codes
    locked_phone = "+12065550141"
    locked_reference, locked_code = send(sandbox, locked_phone)
    for _ in range(3):
        assert verify(sandbox, locked_phone, locked_reference, other(locked_code))["reason"] == "WRONG_CODE"
    assert status_of(sandbox, locked_phone, locked_reference)["status"] == "LOCKED"
    assert verify(sandbox, locked_phone, locked_reference, locked_code) == {
        "valid": False,
        "reason": "ATTEMPTS_EXHAUSTED",
    }

    # CANCELLED: DELETE, the number in the body
    cancelled_phone = "+12065550142"
    cancelled_reference, cancelled_code = send(sandbox, cancelled_phone)
    cancelled = api(sandbox, "DELETE", f"/otp/{cancelled_reference}", json={"phoneNumber": cancelled_phone})
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "CANCELLED")
    assert verify(sandbox, cancelled_phone, cancelled_reference, cancelled_code) == {
        "valid": False,
        "reason": "CANCELLED",
    }

    # EXPIRED: the sandbox's clock past the 5 minutes of validity
    expired_phone = "+12065550143"
    expired_reference, expired_code = send(sandbox, expired_phone)
    assert requests.post(f"{sandbox.aws_url}/_sandbox/clock", json={"advanceSeconds": 300}, timeout=30).ok
    assert status_of(sandbox, expired_phone, expired_reference)["status"] == "EXPIRED"
    assert verify(sandbox, expired_phone, expired_reference, expired_code) == {
        "valid": False,
        "reason": "EXPIRED",
    }


def test_an_unknown_verification_is_a_problem_404(sandbox: RunningSandbox) -> None:
    answer = api(sandbox, "GET", "/otp/never-sent", params={"phoneNumber": "+12065550144"})
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:otp:problem:verification-not-found"


def test_an_unencoded_plus_is_told_apart(sandbox: RunningSandbox) -> None:
    # A hand-written query string with a bare + (which means a space there)
    answer = requests.get(f"{sandbox.api_url}/v1/otp/ref-x?phoneNumber=+12065550145", timeout=30)
    assert answer.status_code == 400
    assert "%2B" in answer.json()["detail"]


def test_a_reference_called_verify_is_the_verify_resource(sandbox: RunningSandbox) -> None:
    # As in API Gateway, the literal /otp/verify wins over /otp/{referenceId}, and has no GET
    answer = api(sandbox, "GET", "/otp/verify", params={"phoneNumber": "+12065550146"})
    assert answer.status_code == 403
