"""POST /otp through the real handler, a real boto3 client and the sandbox's AWS endpoint.

Every test runs on both engines (the ``engine`` fixture, tests/conftest.py) unless it is about one
engine's own answers: those are pinned with ``PINPOINT_ONLY`` and say why; the End User Messaging
counterparts are in test_api_end_user_messaging.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.conftest import ApiResult, Invoke
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT

PHONE = "+12065550100"
# For tests of what only Pinpoint answers (its delivery statuses, its exception names, its application).
PINPOINT_ONLY = pytest.mark.parametrize("engine", [PINPOINT])


def assert_no_secrets(result: ApiResult, *secrets: str) -> None:
    """Neither the code nor the full number may appear in the response, a log line or a metric."""
    printed = result.telemetry.raw + str(result.body) + str(result.headers)
    for secret in secrets:
        assert secret not in printed


def assert_problem(result: ApiResult, status: int) -> dict[str, Any]:
    assert result.status == status
    assert result.headers["Content-Type"] == "application/problem+json"
    body = result.body
    assert body["status"] == status
    assert body["type"].startswith("urn:otp:problem:")
    assert body["title"]
    assert body["detail"]
    assert body["requestId"]
    return body


def delivery_metrics(result: ApiResult) -> list[str]:
    return [doc["dimensions"]["DeliveryStatus"] for doc in result.telemetry.metric_values("OtpDelivery")]


def test_a_code_is_sent_and_described_without_the_code(invoke: Invoke, pinpoint_endpoint: Any) -> None:
    # Given a valid US number
    before = datetime.now(UTC)
    # When the client asks for a code
    result = invoke("POST", "/otp", {"phoneNumber": PHONE})
    # Then 202 with a generated reference, the message id and the expiry
    assert result.status == 202
    assert result.headers["Content-Type"] == "application/json"
    assert set(result.body) == {"referenceId", "deliveryStatus", "messageId", "expiresAt", "channel"}
    assert result.body["deliveryStatus"] == "SUCCESSFUL"
    assert result.body["channel"] == "SMS"
    assert 1 <= len(result.body["referenceId"]) <= 48
    expires = datetime.fromisoformat(result.body["expiresAt"].replace("Z", "+00:00"))
    assert (
        before + timedelta(minutes=5) - timedelta(seconds=2)
        <= expires
        <= datetime.now(UTC) + timedelta(minutes=5)
    )
    # and exactly one SMS went out, with the brand, to that number, under that reference
    [sms] = pinpoint_endpoint.emulator.outbox()
    assert (sms.destination, sms.channel) == (PHONE, "SMS")
    assert sms.reference_id == result.body["referenceId"]
    assert sms.message_id == result.body["messageId"]
    # worded as Pinpoint words it (End User Messaging's default template is the same text)
    assert sms.body == f"This is your One Time Password: {sms.code} from Acme"
    # and one OtpDelivery metric for SUCCESSFUL in the OtpService namespace
    [metric] = result.telemetry.metric_values("OtpDelivery")
    assert metric["namespace"] == "OtpService"
    assert metric["dimensions"] == {"service": "otp", "DeliveryStatus": "SUCCESSFUL"}
    # and a log line with the masked number, reference, status, status code and message id
    [log] = result.telemetry.logs_with("otp sent")
    assert log["phoneNumber"] == "+1********00"
    assert log["referenceId"] == result.body["referenceId"]
    assert log["deliveryStatus"] == "SUCCESSFUL"
    assert log["statusCode"] == 200
    assert log["messageId"] == result.body["messageId"]
    assert log["correlation_id"]
    # and the code itself is nowhere but in the SMS
    assert_no_secrets(result, sms.code, PHONE)


# Pinpoint only: End User Messaging's SMS text is the deployment's template, not a language of AWS's.
@PINPOINT_ONLY
def test_the_callers_reference_and_language_are_passed_to_pinpoint(
    invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a caller that brings its own reference and wants Latin American Spanish
    # When
    result = invoke("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "signup-42", "language": "es-419"})
    # Then the reference is kept and the SMS is bound to it
    assert result.status == 202
    assert result.body["referenceId"] == "signup-42"
    [sms] = pinpoint_endpoint.emulator.outbox()
    assert sms.reference_id == "signup-42"
    issued = pinpoint_endpoint.emulator.current_code(pinpoint_endpoint.application_id, "signup-42")
    assert issued is not None
    assert issued.code == sms.code


# Each test number of the sandbox, the status Pinpoint reports, and the documented HTTP mapping.
DELIVERY_CASES = [
    ("+12065550101", "THROTTLED", 429, "60"),
    ("+12065550102", "TEMPORARY_FAILURE", 503, "30"),
    ("+12065550103", "PERMANENT_FAILURE", 422, None),
    ("+12065550104", "UNKNOWN_FAILURE", 502, None),
    ("+12065550105", "OPT_OUT", 409, None),
    ("+12065550106", "DUPLICATE", 409, None),
    ("+12065550107", "TIMEOUT", 503, "30"),
]


# Pinpoint only: End User Messaging reports no delivery status in its answer (see
# test_api_end_user_messaging.py for what these numbers get there).
@PINPOINT_ONLY
@pytest.mark.parametrize(("number", "status", "http", "retry_after"), DELIVERY_CASES)
def test_each_delivery_status_has_its_http_answer_metric_and_log(
    invoke: Invoke, pinpoint_endpoint: Any, number: str, status: str, http: int, retry_after: str | None
) -> None:
    # Given a number for which Pinpoint reports a delivery status other than SUCCESSFUL
    # When a code is requested
    result = invoke("POST", "/otp", {"phoneNumber": number})
    # Then the documented status, as problem+json that names the delivery status
    body = assert_problem(result, http)
    assert body["deliveryStatus"] == status
    assert body["referenceId"]
    assert result.headers.get("Retry-After") == retry_after
    # and one OtpDelivery metric with that status, a warning log with the masked number
    assert delivery_metrics(result) == [status]
    [log] = result.telemetry.logs_with("otp not delivered")
    assert log["level"] == "WARNING"
    assert log["deliveryStatus"] == status
    assert log["phoneNumber"] == f"+1********{number[-2:]}"
    assert log["statusCode"] is not None
    # and nothing reached a phone
    assert pinpoint_endpoint.emulator.outbox() == []
    assert_no_secrets(result, number)


# The engine's exception for each scripted number, and how many calls the adapter may make: Pinpoint
# refused before doing anything either way (retried), End User Messaging's InternalServerException
# happens "during the processing of the request" (not retried: the code may have been sent).
SCRIPTED_EXCEPTIONS = [
    (PINPOINT, "+12065550129", "TooManyRequestsException", 429, "5", 3),
    (PINPOINT, "+12065550150", "InternalServerErrorException", 503, "10", 3),
    (END_USER_MESSAGING, "+12065550129", "ThrottlingException", 429, "5", 3),
    (END_USER_MESSAGING, "+12065550150", "InternalServerException", 503, "10", 1),
]


@pytest.mark.parametrize(
    ("engine", "number", "error_code", "http", "retry_after", "calls"), SCRIPTED_EXCEPTIONS
)
def test_scripted_exceptions_are_retried_only_when_safe_then_mapped(
    invoke: Invoke,
    pinpoint_endpoint: Any,
    number: str,
    error_code: str,
    http: int,
    retry_after: str,
    calls: int,
) -> None:
    # Given a number for which the engine refuses every call with an exception
    pinpoint_endpoint.emulator.clear_calls()
    # When a code is requested
    result = invoke("POST", "/otp", {"phoneNumber": number})
    # Then the adapter tried as often as is safe (at most 3), then answered the documented status
    assert len(pinpoint_endpoint.emulator.calls()) == calls
    body = assert_problem(result, http)
    assert body["errorCode"] == error_code
    assert result.headers["Retry-After"] == retry_after
    # and the failure is counted by error code, with no delivery metric
    assert [m["dimensions"]["ErrorCode"] for m in result.telemetry.metric_values("OtpUpstreamError")] == [
        error_code
    ]
    assert delivery_metrics(result) == []
    assert_no_secrets(result, number)


# Each engine's resource the stack creates, misnamed, and the exception the engine answers.
MISSING_RESOURCE = {
    PINPOINT: ("PINPOINT_APPLICATION_ID", "0123456789abcdef0123456789abcdef", "NotFoundException"),
    END_USER_MESSAGING: ("OTP_CONFIGURATION_SET", "otp-missing", "ResourceNotFoundException"),
}


def test_a_missing_engine_resource_is_a_deployment_fault(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, pinpoint_endpoint: Any, engine: str
) -> None:
    # Given a function configured with an application or configuration set that does not exist
    from otp import wiring

    variable, value, error_code = MISSING_RESOURCE[engine]
    monkeypatch.setenv(variable, value)
    wiring.reset()
    # When a code is requested
    result = invoke("POST", "/otp", {"phoneNumber": PHONE})
    # Then 500 (not the caller's fault), logged as an error and counted for the alarm, not retried
    body = assert_problem(result, 500)
    assert body["errorCode"] == error_code
    [log] = result.telemetry.logs_with("upstream call failed")
    assert log["level"] == "ERROR"
    assert [m["dimensions"]["ErrorCode"] for m in result.telemetry.metric_values("OtpUpstreamError")] == [
        error_code
    ]
    assert pinpoint_endpoint.emulator.outbox() == []


# Every exception Pinpoint documents, injected by the sandbox, and the documented HTTP answer.
EXCEPTION_CASES = [
    ("BadRequestException", 400, None, "ERROR"),
    ("ForbiddenException", 500, None, "ERROR"),
    ("NotFoundException", 500, None, "ERROR"),
    ("MethodNotAllowedException", 500, None, "ERROR"),
    ("PayloadTooLargeException", 413, None, "WARNING"),
    ("TooManyRequestsException", 429, "5", "WARNING"),
    ("InternalServerErrorException", 503, "10", "WARNING"),
]


# Pinpoint only: its exception names (End User Messaging's: test_api_end_user_messaging.py).
@PINPOINT_ONLY
@pytest.mark.parametrize(("error_code", "http", "retry_after", "level"), EXCEPTION_CASES)
def test_each_pinpoint_exception_has_its_http_answer_metric_and_log(
    invoke: Invoke, pinpoint_endpoint: Any, error_code: str, http: int, retry_after: str | None, level: str
) -> None:
    # Given Pinpoint answers every call with this exception
    pinpoint_endpoint.inject_fault(error_code, count=10)
    # When a code is requested
    result = invoke("POST", "/otp", {"phoneNumber": PHONE})
    # Then the documented status as problem+json naming the error, never Pinpoint's own message
    body = assert_problem(result, http)
    assert body["errorCode"] == error_code
    assert "injected" not in body["detail"]
    assert result.headers.get("Retry-After") == retry_after
    # and one OtpUpstreamError metric, a log line at the documented level, nothing sent
    errors = result.telemetry.metric_values("OtpUpstreamError")
    assert [m["dimensions"]["ErrorCode"] for m in errors] == [error_code]
    [log] = result.telemetry.logs_with("upstream call failed")
    assert log["level"] == level
    assert pinpoint_endpoint.emulator.outbox() == []
    assert_no_secrets(result, PHONE)


# Pinpoint only: its exception names (End User Messaging's: test_api_end_user_messaging.py).
@PINPOINT_ONLY
@pytest.mark.parametrize("error_code", ["TooManyRequestsException", "InternalServerErrorException"])
def test_a_transient_exception_is_retried_and_the_retry_delivers_once(
    invoke: Invoke, pinpoint_endpoint: Any, error_code: str
) -> None:
    # Given Pinpoint refuses the first two calls only
    pinpoint_endpoint.inject_fault(error_code, count=2)
    # When a code is requested
    result = invoke("POST", "/otp", {"phoneNumber": PHONE})
    # Then the third attempt delivers: 202, exactly one SMS, no error metric
    assert result.status == 202
    assert len(pinpoint_endpoint.emulator.calls()) == 3
    assert len(pinpoint_endpoint.emulator.outbox()) == 1
    assert result.telemetry.metric_values("OtpUpstreamError") == []


# Pinpoint only: its exception names (End User Messaging's: test_api_end_user_messaging.py).
@PINPOINT_ONLY
@pytest.mark.parametrize(
    "error_code", ["BadRequestException", "ForbiddenException", "PayloadTooLargeException"]
)
def test_a_definite_exception_is_not_retried(invoke: Invoke, pinpoint_endpoint: Any, error_code: str) -> None:
    pinpoint_endpoint.inject_fault(error_code, count=1)
    result = invoke("POST", "/otp", {"phoneNumber": PHONE})
    assert result.body["errorCode"] == error_code
    assert len(pinpoint_endpoint.emulator.calls()) == 1


def test_a_language_pinpoint_does_not_support_is_refused_before_pinpoint(
    invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a well-formed language tag that is not one of Pinpoint's OTP languages
    # When a code is requested
    result = invoke("POST", "/otp", {"phoneNumber": PHONE, "language": "nl-NL"})
    # Then 400 naming the field, and Pinpoint is never called
    body = assert_problem(result, 400)
    assert "language" in body["detail"]
    assert pinpoint_endpoint.emulator.calls() == []


def test_a_send_that_times_out_is_not_retried_and_answers_504(invoke: Invoke, pinpoint_endpoint: Any) -> None:
    # Given the slow number, which Pinpoint answers only after the function's read timeout (1 s here)
    pinpoint_endpoint.emulator.clear_calls()
    # When a code is requested
    result = invoke("POST", "/otp", {"phoneNumber": "+12065550198"})
    # Then 504 saying the SMS may have been sent, after a single call: a retry could text twice
    body = assert_problem(result, 504)
    assert body["errorCode"] == "Timeout"
    assert "may have been sent" in body["detail"]
    assert len(pinpoint_endpoint.emulator.calls()) == 1
    assert [m["dimensions"]["ErrorCode"] for m in result.telemetry.metric_values("OtpUpstreamError")] == [
        "Timeout"
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phoneNumber": "2065550100"}, "phoneNumber"),
        ({"phoneNumber": "+12065550100", "extra": 1}, "members other than phoneNumber"),
        ({}, "phoneNumber"),
        ({"phoneNumber": "+12065550100", "referenceId": "has space"}, "referenceId"),
        ({"phoneNumber": "+12065550100", "language": "english"}, "language"),
        ({"phoneNumber": 12065550100}, "phoneNumber"),
        ({"phoneNumber": "+12065550100", "channel": "EMAIL"}, "channel: Input should be 'SMS'"),
        ({"phoneNumber": "+12065550100", "channel": "voice"}, "channel"),
        ({"phoneNumber": "+12065550100", "channel": 1}, "channel"),
    ],
)
def test_invalid_bodies_are_400_problems_naming_the_field(
    invoke: Invoke, pinpoint_endpoint: Any, body: dict[str, Any], field: str
) -> None:
    # Given a body that breaks the schema
    # When it is posted
    result = invoke("POST", "/otp", body)
    # Then 400 problem+json naming the field, an OtpRejected metric, and no call to Pinpoint
    problem = assert_problem(result, 400)
    assert field in problem["detail"]
    assert [m["dimensions"]["Reason"] for m in result.telemetry.metric_values("OtpRejected")] == [
        "INVALID_REQUEST"
    ]
    assert pinpoint_endpoint.emulator.outbox() == []


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("+12005550100", "INVALID_PHONE_NUMBER"),  # area code 200 does not exist
        ("+33612345678", "COUNTRY_NOT_ALLOWED"),
    ],
)
def test_numbers_that_fail_domain_rules_are_refused_before_pinpoint(
    invoke: Invoke, pinpoint_endpoint: Any, number: str, reason: str
) -> None:
    # Given a well-formed number that is invalid, or of a country this deployment does not serve
    # When a code is requested
    result = invoke("POST", "/otp", {"phoneNumber": number})
    # Then 400 with the field named, the refusal counted by reason, nothing sent, the number not echoed
    problem = assert_problem(result, 400)
    assert problem["field"] == "phoneNumber"
    assert [m["dimensions"]["Reason"] for m in result.telemetry.metric_values("OtpRejected")] == [reason]
    assert pinpoint_endpoint.emulator.outbox() == []
    assert_no_secrets(result, number)


def test_malformed_json_is_a_400_problem(invoke: Invoke) -> None:
    result = invoke("POST", "/otp", "{not json")
    assert_problem(result, 400)


def test_unknown_routes_are_404_problems(invoke: Invoke) -> None:
    result = invoke("POST", "/otp/resend", {"phoneNumber": PHONE})
    assert_problem(result, 404)


# ------------------------------------------------------------------------------------------- channel


def test_sms_is_the_default_channel_and_can_be_named(invoke: Invoke, pinpoint_endpoint: Any) -> None:
    # When one code is asked for without a channel, and one naming SMS (null means the default too)
    plain = invoke("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "plain"})
    named = invoke("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "named", "channel": "SMS"})
    null = invoke("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "null", "channel": None})
    # Then each is an SMS, and the answer says so
    assert [r.status for r in (plain, named, null)] == [202, 202, 202]
    assert [r.body["channel"] for r in (plain, named, null)] == ["SMS", "SMS", "SMS"]
    assert [(m.reference_id, m.channel) for m in pinpoint_endpoint.emulator.outbox()] == [
        ("plain", "SMS"),
        ("named", "SMS"),
        ("null", "SMS"),
    ]


# A channel the schema knows but the deployment does not offer: on Pinpoint (SMS only), a call; on End
# User Messaging with otp.channels=SMS,VOICE, WhatsApp.
NOT_OFFERED = {PINPOINT: ("VOICE", "SMS"), END_USER_MESSAGING: ("WHATSAPP", "SMS,VOICE")}


def test_a_channel_the_deployment_does_not_offer_is_a_400_naming_the_field(
    invoke: Invoke, pinpoint_endpoint: Any, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    from otp import wiring

    channel, offered = NOT_OFFERED[engine]
    monkeypatch.setenv("OTP_CHANNELS", offered)
    wiring.reset()
    # When a code is asked for on that channel
    result = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": channel})
    # Then 400 on the field channel, saying which channels there are, counted by its own reason
    problem = assert_problem(result, 400)
    assert problem["field"] == "channel"
    assert problem["detail"] == f"channel must be one this deployment offers: {', '.join(offered.split(','))}"
    assert [m["dimensions"]["Reason"] for m in result.telemetry.metric_values("OtpRejected")] == [
        "CHANNEL_NOT_OFFERED"
    ]
    # and the engine was never asked
    assert pinpoint_endpoint.emulator.calls() == []
    assert_no_secrets(result, PHONE)
