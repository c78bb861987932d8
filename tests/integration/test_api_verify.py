"""POST /otp/verify through the real handler against the sandbox's AWS endpoint, on both engines."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Invoke
from tests.integration.test_api_send import PINPOINT_ONLY, assert_no_secrets, assert_problem
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT

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


INTERNAL_ERROR = {PINPOINT: "InternalServerErrorException", END_USER_MESSAGING: "InternalServerException"}


def test_verify_maps_engine_exceptions_like_send(invoke: Invoke, engine: str) -> None:
    # Given the number for which the engine answers its internal error on every call
    result = invoke(
        "POST", "/otp/verify", {"phoneNumber": "+12065550150", "referenceId": "r", "code": "123456"}
    )
    # Then the same mapping as for sending
    problem = assert_problem(result, 503)
    assert problem["errorCode"] == INTERNAL_ERROR[engine]
    assert result.headers["Retry-After"] == "10"
    assert verification_results(result) == []


# Pinpoint only: its exception names (End User Messaging's: test_api_end_user_messaging.py).
@PINPOINT_ONLY
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


# --------------------------------------------------------------------------------------- code length


# End User Messaging only: Pinpoint's shortest code is 5 digits (a 4-digit Pinpoint deployment is refused
# at synth and at start-up: tests/infra/test_engine_config.py, tests/unit/test_settings.py).
@pytest.mark.parametrize("engine", [END_USER_MESSAGING])
def test_a_four_digit_code_verifies_where_the_engine_issues_four_digits(
    invoke: Invoke, pinpoint_endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an End User Messaging deployment with 4-digit codes
    from otp import wiring

    monkeypatch.setenv("OTP_CODE_LENGTH", "4")
    wiring.reset()
    code = send_code(invoke, pinpoint_endpoint, "short-code")
    assert len(code) == 4
    # When a 5-digit code is given, then the right one
    too_long = invoke(
        "POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "short-code", "code": "12345"}
    )
    right = invoke("POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "short-code", "code": code})
    # Then the 5 digits are refused for their length (no attempt spent), and the 4 verify
    assert assert_problem(too_long, 400)["detail"] == "code must be exactly 4 digits"
    assert (right.status, right.body) == (200, {"valid": True})
    assert_no_secrets(right, code, PHONE)


@pytest.mark.parametrize("code", ["1234", "1234567"])
def test_a_code_the_schema_allows_but_the_deployment_cannot_issue_spends_no_attempt(
    invoke: Invoke, pinpoint_endpoint: Any, code: str
) -> None:
    # Given a 6-digit deployment and a code sent
    right = send_code(invoke, pinpoint_endpoint)
    pinpoint_endpoint.emulator.clear_calls()
    # When a 4- or 7-digit code is tried (each engine's schema takes 4 to 8) more often than allowed
    for _ in range(4):
        result = invoke(
            "POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "verify-me", "code": code}
        )
        problem = assert_problem(result, 400)
        assert (problem["field"], problem["detail"]) == ("code", "code must be exactly 6 digits")
    # Then the engine was never asked, and the right code still verifies
    assert pinpoint_endpoint.emulator.calls() == []
    result = invoke("POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "verify-me", "code": right})
    assert result.body == {"valid": True}
