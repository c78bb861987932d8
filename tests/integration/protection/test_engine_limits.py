"""End User Messaging's own limits on both doors (HTTP API and the Cognito Create Auth Challenge trigger),
in-process against the sandbox's endpoint and a real protection table: the tier's send rate kept before a
send (a full second waited out, or refused with 503 + Retry-After when the invocation cannot wait), AWS's
ThrottlingException retried only within the invocation's time, and ServiceQuotaExceededException (the
monthly spend limit) as a documented 503, its own metric and nothing sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.conftest import ApiResult
from tests.integration.protection.conftest import Configure, FakeClock
from tests.lambda_events import LambdaContext, rest_api_event
from tests.sandbox_harness import END_USER_MESSAGING
from tests.telemetry import Telemetry, captured_output, parse_output
from tests.unit.test_cognito_triggers import create_event, user_attributes

# These limits are End User Messaging's; Pinpoint has no tier and no such quota.
pytestmark = pytest.mark.parametrize("engine", [END_USER_MESSAGING])

PHONE = "+12065550100"
OTHER = "+12065550111"
SENDS = "SendNotifyCodeVerification"


@dataclass
class ShortContext(LambdaContext):
    """A Lambda context with ``seconds`` left."""

    seconds: float = 20.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The limits' clock, a quarter into a second; a wait for the next second moves it, not real time."""
    from otp import wiring

    fake = FakeClock(1_800_000_000.25)
    monkeypatch.setattr(wiring, "limits_clock", fake)
    monkeypatch.setattr(wiring, "limits_sleep", fake.advance)
    return fake


@pytest.fixture
def basic(protect: Configure, clock: FakeClock) -> None:
    # The Basic tier: one send a second, for the whole deployment. No cooldown: the numbers are what the
    # tests choose, the rate is what they are about.
    protect(OTP_NOTIFY_TIER="BASIC", OTP_SEND_COOLDOWN_SECONDS="0")


def send(phone: str, *, seconds: float = 20.0) -> ApiResult:
    from otp.handlers.api import lambda_handler

    with captured_output() as output:
        response = lambda_handler(
            rest_api_event("POST", "/otp", {"phoneNumber": phone}), ShortContext(seconds=seconds)
        )
    headers = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return ApiResult(
        response["statusCode"], headers, json.loads(response["body"]), parse_output(output.getvalue())
    )


def sign_in_round(phone: str, *, seconds: float = 5.0) -> tuple[dict[str, Any], Telemetry]:
    """Create Auth Challenge's first round for a user with a verified number (Cognito gives it 5 s)."""
    from otp.handlers.cognito import create_auth_challenge

    with captured_output() as output:
        create_auth_challenge(create_event(user_attributes(phone)), ShortContext(seconds=seconds))
    telemetry = parse_output(output.getvalue())
    [created] = telemetry.logs_with("sign-in challenge created")
    return created, telemetry


def reasons(telemetry: Telemetry) -> list[str]:
    return [m["dimensions"]["Reason"] for m in telemetry.metric_values("OtpRejected")]


def sends(pinpoint_endpoint: Any) -> list[Any]:
    return [call for call in pinpoint_endpoint.emulator.calls() if call.operation == SENDS]


# ---------------------------------------------------------------------------------------- the tier's rate


def test_http_a_send_in_a_full_second_waits_for_the_next_one_and_is_delivered(
    basic, clock, pinpoint_endpoint
):
    # Given the deployment's one send of this second already made
    assert send(PHONE).status == 202
    # When another number asks for a code in the same second
    result = send(OTHER)
    # Then the send waited into the next second and went out: the caller sees a plain 202
    assert result.status == 202
    assert clock.now == pytest.approx(1_800_000_001.0, abs=0.06)
    assert [sms.destination for sms in pinpoint_endpoint.emulator.outbox()] == [PHONE, OTHER]
    assert reasons(result.telemetry) == []


def test_http_a_send_that_cannot_wait_is_a_503_with_retry_after_and_costs_the_number_nothing(
    basic, clock, pinpoint_endpoint, protect
):
    protect(OTP_NOTIFY_TIER="BASIC", OTP_SEND_COOLDOWN_SECONDS="30")
    assert send(PHONE).status == 202
    # When a send with 3 s left (an engine call may need connect 2 s + read 1 s) finds the second full
    refused = send(OTHER, seconds=3.0)
    # Then it is refused at once with the documented 503, not sent, counted under its own reason
    assert (refused.status, refused.headers["Retry-After"]) == (503, "1")
    assert refused.body["type"] == "urn:otp:problem:engine-rate-limited"
    assert reasons(refused.telemetry) == ["ENGINE_RATE_LIMITED"]
    assert [call.destination for call in sends(pinpoint_endpoint)] == [PHONE]
    # and nothing was recorded for the number: a second later it gets its code, the 30 s cooldown unspent
    clock.advance(1)
    assert send(OTHER).status == 202


def test_sign_in_a_round_in_a_full_second_waits_within_the_triggers_five_seconds(
    basic, clock, pinpoint_endpoint, protect
):
    # A 1 s connect timeout, as the stack gives the triggers: a call then needs 2.5 s of the 5 (with the
    # tests' 1 s read timeout), which leaves room for the wait even on a loaded machine
    protect(OTP_NOTIFY_TIER="BASIC", OTP_SEND_COOLDOWN_SECONDS="0", OTP_ENGINE_CONNECT_TIMEOUT="1")
    assert send(PHONE).status == 202
    # When a sign-in's first round comes in the same second (5 s left)
    created, _telemetry = sign_in_round(OTHER)
    # Then the round waited for the next second and the code went out
    assert created["sendResult"] == "SENT"
    assert [sms.destination for sms in pinpoint_endpoint.emulator.outbox()] == [PHONE, OTHER]


def test_sign_in_a_round_that_cannot_wait_sends_nothing_and_looks_like_any_other(
    basic, clock, pinpoint_endpoint
):
    assert send(PHONE).status == 202
    # When a sign-in's round has only 4 s left and the second is full
    created, telemetry = sign_in_round(OTHER, seconds=4.0)
    # Then no code went out, the challenge is still the usual one, and the refusal is counted
    assert created["sendResult"] == "REFUSED"
    assert created["decoy"] is False
    assert [call.destination for call in sends(pinpoint_endpoint)] == [PHONE]
    assert reasons(telemetry) == ["ENGINE_RATE_LIMITED"]


# ------------------------------------------------------------------------------- AWS's own throttling


def test_http_throttling_is_retried_while_the_invocation_has_time(basic, pinpoint_endpoint):
    pinpoint_endpoint.inject_fault("ThrottlingException", operation=SENDS, count=2)
    assert send(PHONE).status == 202
    assert len(sends(pinpoint_endpoint)) == 3


def test_http_throttling_is_a_429_with_retry_after_when_no_retry_fits(basic, pinpoint_endpoint):
    # Given AWS throttling, and 3 s left: another attempt after a backoff would not fit
    pinpoint_endpoint.inject_fault("ThrottlingException", operation=SENDS, count=2)
    result = send(PHONE, seconds=3.0)
    # Then one attempt only, and the documented 429
    assert (result.status, result.headers["Retry-After"]) == (429, "5")
    assert result.body["errorCode"] == "ThrottlingException"
    assert len(sends(pinpoint_endpoint)) == 1


def test_sign_in_throttling_beyond_the_triggers_time_sends_nothing(basic, pinpoint_endpoint):
    # Given AWS throttling, and a round with 3 s left: no retry after a backoff would fit
    pinpoint_endpoint.inject_fault("ThrottlingException", operation=SENDS, count=5)
    created, telemetry = sign_in_round(PHONE, seconds=3.0)
    assert created["sendResult"] == "UPSTREAM_ERROR"
    assert len(sends(pinpoint_endpoint)) == 1
    assert [m["dimensions"]["ErrorCode"] for m in telemetry.metric_values("OtpUpstreamError")] == [
        "ThrottlingException"
    ]


# --------------------------------------------------------------------------------- the spend limit


def quota_metric(telemetry: Telemetry) -> list[str]:
    return [m["dimensions"]["Engine"] for m in telemetry.metric_values("OtpEngineQuotaExceeded")]


def test_http_a_spent_limit_is_a_503_its_own_metric_and_an_error_log(basic, pinpoint_endpoint):
    # Given the account's Notify spend limit reached after one message (the sandbox counts messages)
    pinpoint_endpoint.notify_codes.limits.configure(spend_limit_messages=1)
    assert send(PHONE).status == 202
    # When another code is asked for
    result = send(OTHER)
    # Then the documented 503, an hour's Retry-After, the quota metric, an error in the log, nothing sent
    assert (result.status, result.headers["Retry-After"]) == (503, "3600")
    assert (result.body["type"], result.body["errorCode"]) == (
        "urn:otp:problem:quota-exceeded",
        "ServiceQuotaExceededException",
    )
    assert quota_metric(result.telemetry) == [END_USER_MESSAGING]
    [log] = [r for r in result.telemetry.logs if r.get("errorCode") == "ServiceQuotaExceededException"]
    assert log["level"] == "ERROR"
    assert [sms.destination for sms in pinpoint_endpoint.emulator.outbox()] == [PHONE]


def test_sign_in_a_spent_limit_sends_nothing_and_is_counted(basic, pinpoint_endpoint):
    pinpoint_endpoint.inject_fault("ServiceQuotaExceededException", operation=SENDS)
    created, telemetry = sign_in_round(OTHER)
    assert created["sendResult"] == "UPSTREAM_ERROR"
    assert created["decoy"] is False
    assert pinpoint_endpoint.emulator.outbox() == []
    assert quota_metric(telemetry) == [END_USER_MESSAGING]
