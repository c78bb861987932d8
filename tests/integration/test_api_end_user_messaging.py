"""The API handler and the send/verify use cases on the End User Messaging engine, against the sandbox.

Every exception of the endusermessaging API reaches the caller as the docs' error table says
(status, Retry-After, errorCode) and is counted once by OtpUpstreamError; the code never leaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.faults import NOTIFY_ERROR_STATUS
from local.test_numbers import SCRIPTED_NOTIFY_OUTCOMES
from otp.adapters.end_user_messaging import FAILURES
from otp.domain.errors import InvalidRequest
from otp.domain.models import Channel
from otp.handlers.problems import UPSTREAM_PROBLEMS
from otp.metric_names import DEPLOYMENT_FAULT_ERROR_CODES_BY_ENGINE, ENGINE_QUOTA_ERROR_CODES_BY_ENGINE
from tests.handler_env import use_handler_env
from tests.integration.conftest import ApiResult
from tests.lambda_events import LambdaContext, rest_api_event
from tests.sandbox_harness import END_USER_MESSAGING
from tests.telemetry import captured_output, parse_output

PHONE = "+12065550100"

# The table for End User Messaging exceptions (docs/http-api.md): (status, Retry-After or None, problem slug).
DOCUMENTED = {
    "ValidationException": (400, None, "upstream-bad-request"),
    "AccessDeniedException": (500, None, "service-misconfigured"),
    "ResourceNotFoundException": (500, None, "service-misconfigured"),
    "ConflictException": (409, None, "destination-conflict"),
    "ServiceQuotaExceededException": (503, "3600", "quota-exceeded"),
    "ThrottlingException": (429, "5", "too-many-requests"),
    "InternalServerException": (503, "10", "upstream-unavailable"),
}


@pytest.fixture
def eum_env(pinpoint_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    from otp import wiring

    yield use_handler_env(
        monkeypatch, pinpoint_endpoint, engine=END_USER_MESSAGING, OTP_ENGINE_READ_TIMEOUT="1"
    )
    wiring.reset()


def call(method: str, path: str, body: Any = None) -> ApiResult:
    from otp.handlers.api import lambda_handler

    with captured_output() as output:
        response = lambda_handler(rest_api_event(method, path, body), LambdaContext())
    merged = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    merged.update(response.get("headers") or {})
    return ApiResult(
        status=response["statusCode"],
        headers=merged,
        body=json.loads(response["body"]) if response.get("body") else {},
        telemetry=parse_output(output.getvalue()),
    )


def test_the_documented_table_covers_every_exception_of_the_api():
    assert set(DOCUMENTED) == set(NOTIFY_ERROR_STATUS)
    for error, (status, retry_after, slug) in DOCUMENTED.items():
        kind = UPSTREAM_PROBLEMS[FAILURES[error]]
        assert (kind.status, kind.slug) == (status, slug)
        assert (str(kind.retry_after) if kind.retry_after is not None else None) == retry_after


def test_a_code_goes_out_and_verifies_through_end_user_messaging(eum_env, pinpoint_endpoint):
    # When the quick start's request is made on this engine
    sent = call("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "quickstart-1"})

    # Then the same 202 comes back, and the phone got the deployment's template with the brand
    assert sent.status == 202
    assert sent.body["deliveryStatus"] == "SUCCESSFUL"
    [sms] = pinpoint_endpoint.emulator.outbox()
    assert sms.engine == "endusermessaging"
    assert sms.body == f"This is your One Time Password: {sms.code} from Acme"
    assert sms.message_id == sent.body["messageId"]
    assert [c.operation for c in pinpoint_endpoint.emulator.calls()] == ["SendNotifyCodeVerification"]
    # and the same metrics and log line as with Pinpoint, with the channel in the log
    assert [m["dimensions"]["DeliveryStatus"] for m in sent.telemetry.metric_values("OtpDelivery")] == [
        "SUCCESSFUL"
    ]
    [log] = sent.telemetry.logs_with("otp sent")
    assert log["channel"] == "SMS"
    assert sms.code not in sent.telemetry.raw

    verified = call(
        "POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "quickstart-1", "code": sms.code}
    )
    assert (verified.status, verified.body) == (200, {"valid": True})
    again = call(
        "POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "quickstart-1", "code": sms.code}
    )
    assert again.body == {"valid": False}


@pytest.mark.parametrize("error_type", sorted(DOCUMENTED))
def test_every_exception_of_a_send_is_the_documented_problem(eum_env, pinpoint_endpoint, error_type):
    # Given the service answers the send with this exception (every retry too)
    pinpoint_endpoint.inject_fault(error_type, operation="SendNotifyCodeVerification", count=3)

    # When a code is requested
    result = call("POST", "/otp", {"phoneNumber": PHONE})

    # Then the problem, Retry-After and errorCode are the documented ones, counted once, nothing sent
    status, retry_after, slug = DOCUMENTED[error_type]
    assert result.status == status
    assert result.headers["Content-Type"] == "application/problem+json"
    assert result.body["type"] == f"urn:otp:problem:{slug}"
    assert result.body["errorCode"] == error_type
    assert result.headers.get("Retry-After") == retry_after
    assert [m["dimensions"]["ErrorCode"] for m in result.telemetry.metric_values("OtpUpstreamError")] == [
        error_type
    ]
    assert pinpoint_endpoint.emulator.outbox() == []
    # and a deployment fault is logged as an error, anything else as a warning
    [log] = [r for r in result.telemetry.logs if r.get("errorCode") == error_type]
    faults = DEPLOYMENT_FAULT_ERROR_CODES_BY_ENGINE[END_USER_MESSAGING]
    quota = ENGINE_QUOTA_ERROR_CODES_BY_ENGINE[END_USER_MESSAGING]
    assert log["level"] == ("ERROR" if error_type in (*faults, *quota) else "WARNING")
    # and a used-up quota has its metric of its own (its alarm: OtpEngineQuotaExceeded)
    quota_metric = [
        m["dimensions"]["Engine"] for m in result.telemetry.metric_values("OtpEngineQuotaExceeded")
    ]
    assert quota_metric == ([END_USER_MESSAGING] if error_type in quota else [])
    assert log["operation"] == "SendNotifyCodeVerification"


def test_a_throttled_send_is_retried_and_succeeds(eum_env, pinpoint_endpoint):
    pinpoint_endpoint.inject_fault("ThrottlingException", operation="SendNotifyCodeVerification", count=2)
    result = call("POST", "/otp", {"phoneNumber": PHONE})
    assert result.status == 202
    assert len(pinpoint_endpoint.emulator.outbox()) == 1


def test_an_internal_error_on_send_says_the_code_may_have_been_sent(eum_env, pinpoint_endpoint):
    pinpoint_endpoint.inject_fault("InternalServerException", operation="SendNotifyCodeVerification")
    result = call("POST", "/otp", {"phoneNumber": PHONE})
    assert result.status == 503
    assert "may have been sent" in result.body["detail"]
    sends = [c for c in pinpoint_endpoint.emulator.calls() if c.operation == "SendNotifyCodeVerification"]
    assert len(sends) == 1


@pytest.mark.parametrize(
    "error_type",
    ["ValidationException", "AccessDeniedException", "ThrottlingException", "InternalServerException"],
)
def test_every_exception_of_a_validation_is_the_documented_problem(eum_env, pinpoint_endpoint, error_type):
    pinpoint_endpoint.inject_fault(error_type, operation="ValidateNotifyCodeVerification", count=3)
    result = call("POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "r-1", "code": "123456"})
    status, retry_after, _ = DOCUMENTED[error_type]
    assert (result.status, result.body["errorCode"]) == (status, error_type)
    assert result.headers.get("Retry-After") == retry_after
    assert "may have been sent" not in result.body["detail"]


def test_the_use_case_sends_a_voice_call_and_whatsapp_when_the_deployment_offers_them(
    eum_env, pinpoint_endpoint
):
    from otp.wiring import otp_service

    # When the send use case is asked for each channel
    for channel in ("VOICE", "WHATSAPP", "SMS"):
        outcome = otp_service().send(PHONE, reference_id=f"r-{channel.lower()}", channel=channel)
        assert outcome.channel is Channel(channel)

    # Then the phone got a call that speaks the code, a WhatsApp message and an SMS
    messages = pinpoint_endpoint.emulator.outbox()
    assert [m.channel for m in messages] == ["VOICE", "WHATSAPP", "SMS"]
    call_, whatsapp, _ = messages
    assert call_.body == f"Your Acme verification code is {call_.code}. Again, your code is {call_.code}."
    assert call_.language == "en-US"
    assert whatsapp.language == "en-US"
    # and each code verifies under its own reference only
    service = otp_service()
    assert service.verify(PHONE, reference_id="r-voice", code=call_.code) is True
    assert service.verify(PHONE, reference_id="r-whatsapp", code=whatsapp.code) is True


def test_a_channel_the_deployment_does_not_offer_is_refused_before_anything(pinpoint_endpoint, monkeypatch):
    from otp import wiring

    use_handler_env(monkeypatch, pinpoint_endpoint, engine=END_USER_MESSAGING, OTP_CHANNELS="SMS")
    try:
        with captured_output() as output, pytest.raises(InvalidRequest) as caught:
            wiring.otp_service().send(PHONE, channel="VOICE")
        assert (caught.value.field, caught.value.reason) == ("channel", "CHANNEL_NOT_OFFERED")
        assert "SMS" in caught.value.detail
        rejected = parse_output(output.getvalue()).metric_values("OtpRejected")
        assert [m["dimensions"]["Reason"] for m in rejected] == ["CHANNEL_NOT_OFFERED"]
        assert pinpoint_endpoint.emulator.calls() == []
    finally:
        wiring.reset()


def test_pinpoint_offers_sms_only(pinpoint_endpoint, monkeypatch):
    from otp import wiring

    use_handler_env(monkeypatch, pinpoint_endpoint)
    try:
        with pytest.raises(InvalidRequest) as caught:
            wiring.otp_service().send(PHONE, channel="VOICE")
        assert caught.value.field == "channel"
        assert wiring.otp_service().send(PHONE, channel="SMS").channel is Channel.SMS
    finally:
        wiring.reset()


def test_a_voice_call_and_a_whatsapp_message_over_http(eum_env, pinpoint_endpoint):
    # When a client asks POST /otp for a call, then for a WhatsApp message
    call_ = call("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "by-voice", "channel": "VOICE"})
    whatsapp = call("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "by-wa", "channel": "WHATSAPP"})

    # Then each is a 202 that names its channel
    assert (call_.status, call_.body["channel"]) == (202, "VOICE")
    assert (whatsapp.status, whatsapp.body["channel"]) == (202, "WHATSAPP")
    # and the phone got a call speaking the code, and a WhatsApp message, under the caller's references
    spoken, message = pinpoint_endpoint.emulator.outbox()
    assert (spoken.channel, spoken.reference_id) == ("VOICE", "by-voice")
    assert spoken.body == f"Your Acme verification code is {spoken.code}. Again, your code is {spoken.code}."
    assert (message.channel, message.reference_id) == ("WHATSAPP", "by-wa")
    # and the log line names the channel, the code is in no output
    [log] = call_.telemetry.logs_with("otp sent")
    assert log["channel"] == "VOICE"
    assert spoken.code not in call_.telemetry.raw + json.dumps(call_.body)
    # and the code the call spoke verifies like any other
    verified = call(
        "POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "by-voice", "code": spoken.code}
    )
    assert verified.body == {"valid": True}


@pytest.mark.parametrize("number", sorted(SCRIPTED_NOTIFY_OUTCOMES))
def test_the_test_numbers_get_this_engines_answers(eum_env, pinpoint_endpoint, number):
    # Given a sandbox test number (Pinpoint's answers for them: test_api_send.py)
    scripted = SCRIPTED_NOTIFY_OUTCOMES[number]
    # When a code is asked for
    result = call("POST", "/otp", {"phoneNumber": number})
    # Then a number End User Messaging accepts is a 202 (the delivery outcome comes later, as an event),
    # with nothing on the phone; one it refuses is its exception's documented problem
    assert pinpoint_endpoint.emulator.outbox() == []
    if scripted.error_type is None:
        assert (result.status, result.body["deliveryStatus"]) == (202, "SUCCESSFUL")
    else:
        status, retry_after, slug = DOCUMENTED[scripted.error_type]
        assert (result.status, result.body["type"]) == (status, f"urn:otp:problem:{slug}")
        assert result.headers.get("Retry-After") == retry_after
        assert result.body["errorCode"] == scripted.error_type
    assert number not in result.telemetry.raw
