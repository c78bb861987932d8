"""POST /otp/verify through the real handler against the sandbox's Pinpoint endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Invoke
from tests.integration.test_api_send import assert_no_secrets, assert_problem

PHONE = "+14165550123"  # Toronto: a second country in the allowed list


def send_code(invoke: Invoke, pinpoint_endpoint: Any, reference: str = "verify-me") -> str:
    result = invoke("POST", "/otp", {"phoneNumber": PHONE, "referenceId": reference})
    assert result.status == 202
    sms = pinpoint_endpoint.emulator.outbox()[-1]
    assert sms.reference_id == reference
    return str(sms.code)


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def verification_results(result: Any) -> list[str]:
    return [m["dimensions"]["Result"] for m in result.telemetry.metric_values("OtpVerification")]


def test_the_right_code_is_valid(invoke: Invoke, pinpoint_endpoint: Any) -> None:
    # Given a code sent to a number under a reference
    code = send_code(invoke, pinpoint_endpoint)
    # When the user gives it back
    result = invoke("POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "verify-me", "code": code})
    # Then it is valid, counted as VALID, logged with the masked number, and the code is not printed
    assert (result.status, result.body) == (200, {"valid": True})
    assert verification_results(result) == ["VALID"]
    [log] = result.telemetry.logs_with("otp verified")
    assert (log["phoneNumber"], log["result"]) == ("+1********23", "VALID")
    assert_no_secrets(result, code, PHONE)


def test_a_wrong_code_is_invalid_not_an_error(invoke: Invoke, pinpoint_endpoint: Any) -> None:
    code = send_code(invoke, pinpoint_endpoint)
    result = invoke(
        "POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "verify-me", "code": wrong(code)}
    )
    assert (result.status, result.body) == (200, {"valid": False})
    assert verification_results(result) == ["INVALID"]
    assert_no_secrets(result, code, wrong(code))


def test_a_code_is_bound_to_its_reference_and_number(invoke: Invoke, pinpoint_endpoint: Any) -> None:
    # Given a code sent under one reference to one number
    code = send_code(invoke, pinpoint_endpoint)
    # When it is offered for another reference, or for another number
    other_reference = invoke(
        "POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "other", "code": code}
    )
    other_number = invoke(
        "POST", "/otp/verify", {"phoneNumber": "+12065550100", "referenceId": "verify-me", "code": code}
    )
    # Then neither is valid
    assert other_reference.body == {"valid": False}
    assert other_number.body == {"valid": False}


def test_a_code_of_the_wrong_shape_is_refused_without_spending_an_attempt(
    invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a code sent (the deployment uses 6 digits and 3 attempts)
    code = send_code(invoke, pinpoint_endpoint)
    pinpoint_endpoint.emulator.clear_calls()
    # When the user sends 5 digits, three times
    for _ in range(3):
        result = invoke(
            "POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "verify-me", "code": "12345"}
        )
        problem = assert_problem(result, 400)
        assert problem["field"] == "code"
    # Then Pinpoint was never asked, so the right code still works
    assert pinpoint_endpoint.emulator.calls() == []
    result = invoke("POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "verify-me", "code": code})
    assert result.body == {"valid": True}


def test_after_the_allowed_attempts_even_the_right_code_is_invalid(
    invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a code and a deployment that allows 3 attempts
    code = send_code(invoke, pinpoint_endpoint)
    # When three wrong codes are tried
    for _ in range(3):
        assert invoke(
            "POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "verify-me", "code": wrong(code)}
        ).body == {"valid": False}
    # Then the right one no longer works
    result = invoke("POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "verify-me", "code": code})
    assert result.body == {"valid": False}


def test_an_expired_code_is_invalid(invoke: Invoke, pinpoint_endpoint: Any) -> None:
    # Given a code valid for 5 minutes
    code = send_code(invoke, pinpoint_endpoint)
    # When 5 minutes and a second pass on the sandbox's clock
    pinpoint_endpoint.clock.advance(5 * 60 + 1)
    # Then it is no longer valid
    result = invoke("POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "verify-me", "code": code})
    assert result.body == {"valid": False}


@pytest.mark.parametrize(
    "body",
    [
        {"phoneNumber": PHONE, "referenceId": "r"},
        {"phoneNumber": PHONE, "code": "123456"},
        {"phoneNumber": PHONE, "referenceId": "r", "code": "12a456"},
        {"phoneNumber": PHONE, "referenceId": "r", "code": 123456},
    ],
)
def test_incomplete_or_malformed_verifications_are_400(invoke: Invoke, body: dict[str, Any]) -> None:
    result = invoke("POST", "/otp/verify", body)
    problem = assert_problem(result, 400)
    assert "123456" not in problem["detail"]
    assert "12a456" not in problem["detail"]


def test_verify_maps_pinpoint_exceptions_like_send(invoke: Invoke) -> None:
    # Given the number for which Pinpoint answers InternalServerError on every call
    result = invoke(
        "POST", "/otp/verify", {"phoneNumber": "+12065550150", "referenceId": "r", "code": "123456"}
    )
    # Then the same mapping as for sending
    problem = assert_problem(result, 503)
    assert problem["errorCode"] == "InternalServerErrorException"
    assert verification_results(result) == []


@pytest.mark.parametrize(
    ("error_code", "http"),
    [
        ("BadRequestException", 400),
        ("ForbiddenException", 500),
        ("NotFoundException", 500),
        ("MethodNotAllowedException", 500),
        ("PayloadTooLargeException", 413),
        ("TooManyRequestsException", 429),
    ],
)
def test_verify_maps_every_injected_exception(
    invoke: Invoke, pinpoint_endpoint: Any, error_code: str, http: int
) -> None:
    # Given a code, and Pinpoint refusing every verification with this exception
    code = send_code(invoke, pinpoint_endpoint)
    pinpoint_endpoint.inject_fault(error_code, operation="VerifyOTPMessage", count=10)
    # When the user verifies
    result = invoke("POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "verify-me", "code": code})
    # Then the documented status, no verification metric, and no code in any output
    problem = assert_problem(result, http)
    assert problem["errorCode"] == error_code
    assert verification_results(result) == []
    assert_no_secrets(result, code, PHONE)
