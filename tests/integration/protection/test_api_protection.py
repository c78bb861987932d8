"""Abuse protection through the real API handler: real boto3 to the sandbox's Pinpoint endpoint and to
moto's DynamoDB. Each test gets a fresh protection table."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.integration.conftest import ApiResult, Invoke
from tests.integration.protection.conftest import Configure
from tests.lambda_events import LambdaContext, rest_api_event
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT
from tests.telemetry import captured_output

PHONE = "+12065550100"


def rejected_reasons(result: ApiResult) -> list[str]:
    return [doc["dimensions"]["Reason"] for doc in result.telemetry.metric_values("OtpRejected")]


def assert_problem(result: ApiResult, status: int, slug: str) -> dict[str, Any]:
    assert result.status == status
    assert result.headers["Content-Type"] == "application/problem+json"
    assert result.body["type"] == f"urn:otp:problem:{slug}"
    assert result.body["status"] == status
    assert result.body["requestId"]
    return result.body


# ------------------------------------------------------------------------------------- send limits


def test_a_second_code_within_the_cooldown_gets_429_with_retry_after_and_no_sms(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a code just sent to a number
    assert invoke("POST", "/otp", {"phoneNumber": PHONE}).status == 202
    # When another is asked for right away
    result = invoke("POST", "/otp", {"phoneNumber": PHONE})
    # Then 429 problem+json with Retry-After, the reason counted, and still one SMS
    assert_problem(result, 429, "rate-limited")
    assert 1 <= int(result.headers["Retry-After"]) <= 30
    assert rejected_reasons(result) == ["SEND_COOLDOWN"]
    assert PHONE not in result.telemetry.raw
    assert len(pinpoint_endpoint.emulator.outbox()) == 1


def test_the_hourly_cap_applies_through_the_api(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given no cooldown and a cap of 2 per hour
    protect(OTP_SEND_COOLDOWN_SECONDS="0", OTP_SEND_LIMIT_PER_HOUR="2")
    # When three codes are asked for
    statuses = [invoke("POST", "/otp", {"phoneNumber": PHONE}).status for _ in range(2)]
    third = invoke("POST", "/otp", {"phoneNumber": PHONE})
    # Then two are sent and the third is refused until the first is an hour old
    assert statuses == [202, 202]
    assert_problem(third, 429, "rate-limited")
    assert 3590 <= int(third.headers["Retry-After"]) <= 3600
    assert rejected_reasons(third) == ["SEND_LIMIT_HOURLY"]
    assert len(pinpoint_endpoint.emulator.outbox()) == 2


def test_without_its_table_nothing_is_sent(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a deployment whose table is missing
    protect(OTP_TABLE_NAME="otp-protection-missing")
    # When a code is asked for
    result = invoke("POST", "/otp", {"phoneNumber": PHONE})
    # Then 503 with Retry-After (fail closed) and no SMS
    assert_problem(result, 503, "protection-unavailable")
    assert result.headers["Retry-After"]
    assert pinpoint_endpoint.emulator.outbox() == []


def test_each_send_is_counted_by_destination_country(protect: Configure, invoke: Invoke) -> None:
    # When codes go to a US and a GB number
    us = invoke("POST", "/otp", {"phoneNumber": PHONE})
    gb = invoke("POST", "/otp", {"phoneNumber": "+447400123456"})
    # Then OtpSentByCountry counts one for each country (what the new-country alarms read)
    for result, country in ((us, "US"), (gb, "GB")):
        [metric] = result.telemetry.metric_values("OtpSentByCountry")
        assert metric["dimensions"]["Country"] == country


# ---------------------------------------------------------------------------------------- screening


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("+19002345678", "NUMBER_TYPE_NOT_ALLOWED"),  # US premium rate
        ("+18002345678", "NUMBER_TYPE_NOT_ALLOWED"),  # US toll-free, refused by default
        ("+445612345678", "NUMBER_TYPE_NOT_ALLOWED"),  # UK VoIP, refused by default
        ("+447012345678", "NUMBER_TYPE_NOT_ALLOWED"),  # UK personal numbering (070)
        ("+441212345678", "NUMBER_TYPE_NOT_ALLOWED"),  # UK landline
        ("+4915123456789", "COUNTRY_NOT_ALLOWED"),  # a German mobile: DE is not allowed here
    ],
)
def test_screened_numbers_get_400_and_no_sms(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any, number: str, reason: str
) -> None:
    # When a code is asked for a number the deployment must not text
    result = invoke("POST", "/otp", {"phoneNumber": number})
    # Then 400 problem+json on the phoneNumber field, its reason counted, nothing sent or logged in full
    body = assert_problem(result, 400, "invalid-request")
    assert body["field"] == "phoneNumber"
    assert number not in body["detail"]
    assert rejected_reasons(result) == [reason]
    assert number not in result.telemetry.raw
    assert pinpoint_endpoint.emulator.outbox() == []


def test_toll_free_voip_and_blocked_prefixes_follow_the_configuration(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given toll-free and VoIP allowed, and one area code blocked
    protect(OTP_ALLOW_TOLL_FREE="true", OTP_ALLOW_VOIP="true", OTP_BLOCKED_PREFIXES="+1206")
    # When codes are asked for a toll-free, a VoIP and a blocked number
    toll_free = invoke("POST", "/otp", {"phoneNumber": "+18002345678"})
    voip = invoke("POST", "/otp", {"phoneNumber": "+445612345678"})
    blocked = invoke("POST", "/otp", {"phoneNumber": PHONE})
    # Then the first two are sent and the blocked one is refused for its prefix
    assert (toll_free.status, voip.status) == (202, 202)
    assert_problem(blocked, 400, "invalid-request")
    assert rejected_reasons(blocked) == ["PREFIX_BLOCKED"]
    assert len(pinpoint_endpoint.emulator.outbox()) == 2


# -------------------------------------------------------------------------------------- idempotency


def test_the_same_idempotency_key_twice_sends_one_sms_and_returns_the_first_response(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a request with an Idempotency-Key that succeeded
    headers = {"Idempotency-Key": "3f1c2a8e-0d4b-4c7e-9a51-2b8f6d0e7c11"}
    first = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers=headers)
    # When the client retries it (inside the cooldown, which would refuse a new send)
    second = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers=headers)
    # Then the retry gets the identical response, and only one SMS went out
    assert first.status == second.status == 202
    assert first.body == second.body
    assert second.headers["Content-Type"] == "application/json"
    assert len(pinpoint_endpoint.emulator.outbox()) == 1
    assert second.telemetry.metric_values("OtpDelivery") == []


def test_the_idempotency_key_header_name_is_case_insensitive(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a key sent once as HTTP/1.1 spells it, then as HTTP/2 does (lower case)
    first = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers={"Idempotency-Key": "k-1"})
    second = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers={"idempotency-key": "k-1"})
    # Then both name the same key
    assert second.body == first.body
    assert len(pinpoint_endpoint.emulator.outbox()) == 1


def test_the_same_key_with_another_body_is_refused_with_422(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a key already used for one number
    headers = {"Idempotency-Key": "k-reused"}
    assert invoke("POST", "/otp", {"phoneNumber": PHONE}, headers=headers).status == 202
    # When it is sent again with another body
    result = invoke("POST", "/otp", {"phoneNumber": "+12065550111"}, headers=headers)
    # Then 422 problem+json, counted, and no second SMS
    assert_problem(result, 422, "idempotency-key-reused")
    assert rejected_reasons(result) == ["IDEMPOTENCY_KEY_REUSED"]
    assert len(pinpoint_endpoint.emulator.outbox()) == 1


# A test number each engine refuses without a retry, its answer, and the metric that counts the refusal:
# Pinpoint throttles ...0101 (a delivery status), End User Messaging refuses the opted-out ...0105.
REFUSED_ONCE = {
    PINPOINT: ("+12065550101", 429, "OtpDelivery"),
    END_USER_MESSAGING: ("+12065550105", 409, "OtpUpstreamError"),
}


def test_only_successes_are_stored_so_a_failed_send_can_be_retried_with_its_key(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any, engine: str
) -> None:
    # Given no cooldown, and a send with a key that the engine refuses
    number, status, metric = REFUSED_ONCE[engine]
    protect(OTP_SEND_COOLDOWN_SECONDS="0")
    headers = {"Idempotency-Key": "k-failed"}
    first = invoke("POST", "/otp", {"phoneNumber": number}, headers=headers)
    # When it is retried with the same key
    second = invoke("POST", "/otp", {"phoneNumber": number}, headers=headers)
    # Then the failure was not replayed: the engine was asked twice
    assert first.status == second.status == status
    assert first.body["requestId"] != second.body["requestId"]
    assert len(second.telemetry.metric_values(metric)) == 1


def test_an_invalid_idempotency_key_is_a_400(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    result = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers={"Idempotency-Key": "has spaces"})
    body = assert_problem(result, 400, "invalid-request")
    assert body["field"] == "Idempotency-Key"
    assert rejected_reasons(result) == ["INVALID_IDEMPOTENCY_KEY"]
    assert pinpoint_endpoint.emulator.outbox() == []


def test_keys_are_scoped_to_the_caller(protect: Configure, pinpoint_endpoint: Any) -> None:
    # Given two IAM callers that happen to choose the same key for the same body
    from otp.handlers.api import lambda_handler

    protect(OTP_SEND_COOLDOWN_SECONDS="0")

    def send_as(user_arn: str) -> dict[str, Any]:
        event = rest_api_event(
            "POST", "/otp", {"phoneNumber": PHONE}, headers={"Idempotency-Key": "k-shared"}
        )
        event["requestContext"]["identity"]["userArn"] = user_arn
        with captured_output():
            response = lambda_handler(event, LambdaContext())
        assert response["statusCode"] == 202
        return dict(json.loads(response["body"]))

    # When each sends
    first = send_as("arn:aws:iam::123456789012:role/app-a")
    second = send_as("arn:aws:iam::123456789012:role/app-b")
    # Then neither sees the other's answer: two SMS, two references
    assert first["referenceId"] != second["referenceId"]
    assert len(pinpoint_endpoint.emulator.outbox()) == 2


# ---------------------------------------------------------------------------------------- guessing


def sent_code(pinpoint_endpoint: Any, reference: str) -> str:
    """The code as the user reads it in the SMS body."""
    [sms] = [sms for sms in pinpoint_endpoint.emulator.outbox() if sms.reference_id == reference]
    [code] = re.findall(r"\b[0-9]{5,8}\b", sms.body)
    return str(code)


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def verify(invoke: Invoke, reference: str, code: str) -> ApiResult:
    return invoke("POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": reference, "code": code})


def test_past_the_per_reference_cap_even_the_right_code_is_refused(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a cap of 2 guesses per reference, below Pinpoint's 3 allowed attempts
    protect(OTP_VERIFY_LIMIT_PER_REFERENCE="2")
    assert invoke("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "guess-me"}).status == 202
    code = sent_code(pinpoint_endpoint, "guess-me")
    # When two wrong guesses are followed by the right code
    guesses = [verify(invoke, "guess-me", wrong(code)) for _ in range(2)]
    right = verify(invoke, "guess-me", code)
    # Then the guesses were answered "invalid", and the right code is refused with 429, never checked
    assert [(g.status, g.body) for g in guesses] == [(200, {"valid": False, "reason": "WRONG_CODE"})] * 2
    assert_problem(right, 429, "rate-limited")
    assert int(right.headers["Retry-After"]) > 0
    assert rejected_reasons(right) == ["VERIFY_LIMIT_REFERENCE"]
    assert right.telemetry.metric_values("OtpVerification") == []
    assert code not in right.telemetry.raw


def test_guesses_under_other_references_never_refuse_the_right_code(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given the owner's code under their reference, and a stranger's codes under nine others (ten codes a
    # day: End User Messaging's most for one number)
    protect(OTP_SEND_COOLDOWN_SECONDS="0", OTP_SEND_LIMIT_PER_HOUR="10", OTP_SEND_LIMIT_PER_DAY="10")
    for reference in ("owner", *(f"stranger-{i}" for i in range(9))):
        assert invoke("POST", "/otp", {"phoneNumber": PHONE, "referenceId": reference}).status == 202
    # When the stranger guesses wrongly under each of theirs until the code is locked (27 guesses in all:
    # 3 allowed attempts each; a verify after that is not a guess and reaches no engine)
    guesses = 0
    for index in range(9):
        reference = f"stranger-{index}"
        while (
            verify(invoke, reference, wrong(sent_code(pinpoint_endpoint, reference))).body.get("reason")
            == "WRONG_CODE"
        ):
            guesses += 1
    right = verify(invoke, "owner", sent_code(pinpoint_endpoint, "owner"))
    # Then the owner's right code is still valid
    assert guesses == 27
    assert (right.status, right.body) == (200, {"valid": True})


def test_guesses_per_number_per_day_are_bounded_by_codes_sent_times_allowed_attempts(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    """The threat model's guess bound: sendLimitPerDay x allowedAttempts (10 x 3 = 30 with the defaults)."""
    # Given the default limits (3 allowed attempts, 5 verify calls per reference, 10 codes a day) and
    # no cooldown or hourly cap in the way, so that a day's codes can be sent at once
    protect(OTP_SEND_COOLDOWN_SECONDS="0", OTP_SEND_LIMIT_PER_HOUR="10")
    references = []
    while (sent := invoke("POST", "/otp", {"phoneNumber": PHONE})).status == 202:
        references.append(sent.body["referenceId"])
    # When a guesser who happens to know each code tries it after k wrong guesses, for every k allowed
    could_succeed = 0
    for index, reference in enumerate(references):
        code = sent_code(pinpoint_endpoint, reference)
        misses = index % 5  # 0..4 wrong guesses first, up to the per-reference cap of 5 calls
        for _ in range(misses):
            assert verify(invoke, reference, wrong(code)).status == 200
        answer = verify(invoke, reference, code)
        could_succeed += answer.status == 200 and answer.body == {"valid": True}
        # Then the right code only works while fewer than allowedAttempts guesses were spent on it
        assert answer.body.get("valid", False) == (misses < 3), (index, misses, answer.body)
    # and a day holds ten codes, so at most 10 x 3 guesses can ever hit one
    assert len(references) == 10
    assert could_succeed == sum(1 for index in range(10) if index % 5 < 3)
