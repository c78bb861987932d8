"""Moving a running deployment from Pinpoint to End User Messaging without failing the codes in flight.

The switch is a redeploy: the functions restart with the new engine's settings. A code Pinpoint sent
before it must still verify afterwards, through the HTTP API and through Cognito's Verify trigger, for as
long as ``previousEngine`` is set; new codes go out through End User Messaging only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from otp import wiring
from otp.domain.gateway_fallback import FallbackVerifyGateway
from otp.domain.models import Channel, DeliveryReport, SendOtpRequest
from tests.handler_env import use_handler_env
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT

PHONE = "+12065550100"


@pytest.fixture
def deploy(pinpoint_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Redeploy the functions with an engine (and a previous one), as a cdk deploy would."""

    def _deploy(engine: str, **overrides: str) -> Any:
        use_handler_env(monkeypatch, pinpoint_endpoint, engine=engine, **overrides)
        return wiring.otp_service()

    yield _deploy
    wiring.reset()


def _operations(endpoint: Any) -> list[str]:
    return [call.operation for call in endpoint.emulator.calls()]


def test_a_pinpoint_code_sent_before_the_switch_still_verifies_after_it(deploy, pinpoint_endpoint):
    # Given a code Pinpoint sent while it was the engine
    before = deploy(PINPOINT)
    before.send(PHONE, reference_id="in-flight")
    [pinpoint_sms] = pinpoint_endpoint.emulator.outbox()
    assert pinpoint_sms.engine == PINPOINT

    # When the deployment switches to End User Messaging with previousEngine=pinpoint
    after = deploy(END_USER_MESSAGING, OTP_PREVIOUS_ENGINE=PINPOINT)
    pinpoint_endpoint.emulator.clear_calls()

    # Then the Pinpoint code verifies: End User Messaging is asked first, then Pinpoint
    assert after.verify(PHONE, reference_id="in-flight", code=pinpoint_sms.code) is True
    assert _operations(pinpoint_endpoint) == ["ValidateNotifyCodeVerification", "VerifyOTPMessage"]


def test_new_codes_go_through_the_new_engine_and_need_one_call_to_verify(deploy, pinpoint_endpoint):
    after = deploy(END_USER_MESSAGING, OTP_PREVIOUS_ENGINE=PINPOINT)
    after.send(PHONE, reference_id="new")
    [sms] = pinpoint_endpoint.emulator.outbox()
    assert sms.engine == END_USER_MESSAGING
    pinpoint_endpoint.emulator.clear_calls()
    assert after.verify(PHONE, reference_id="new", code=sms.code) is True
    assert _operations(pinpoint_endpoint) == ["ValidateNotifyCodeVerification"]


def test_a_wrong_code_is_wrong_on_both_engines(deploy, pinpoint_endpoint):
    deploy(PINPOINT).send(PHONE, reference_id="in-flight")
    [sms] = pinpoint_endpoint.emulator.outbox()
    wrong = "".join(str((int(c) + 1) % 10) for c in sms.code)
    after = deploy(END_USER_MESSAGING, OTP_PREVIOUS_ENGINE=PINPOINT)
    assert after.verify(PHONE, reference_id="in-flight", code=wrong) is False
    # and the guess spent one of Pinpoint's attempts, as it would have before the switch
    view = pinpoint_endpoint.localstack_view("in-flight").body
    assert view["Attempts"] == 1


def test_once_previous_engine_is_removed_pinpoint_is_no_longer_asked(deploy, pinpoint_endpoint):
    deploy(PINPOINT).send(PHONE, reference_id="in-flight")
    [sms] = pinpoint_endpoint.emulator.outbox()
    deploy(END_USER_MESSAGING, OTP_PREVIOUS_ENGINE=PINPOINT)
    done = deploy(END_USER_MESSAGING)
    pinpoint_endpoint.emulator.clear_calls()
    assert done.verify(PHONE, reference_id="in-flight", code=sms.code) is False
    assert _operations(pinpoint_endpoint) == ["ValidateNotifyCodeVerification"]


def test_the_cognito_verify_trigger_accepts_a_pinpoint_code_after_the_switch(deploy, pinpoint_endpoint):
    from otp.domain.challenge import SmsChallenges
    from otp.domain.challenge_state import PRIVATE_DESTINATION, PRIVATE_REFERENCE_ID

    # Given a sign-in whose code Pinpoint sent before the switch (the session keeps its reference)
    deploy(PINPOINT).send(PHONE, reference_id="signin-ref")
    [sms] = pinpoint_endpoint.emulator.outbox()
    private = {PRIVATE_REFERENCE_ID: "signin-ref", PRIVATE_DESTINATION: PHONE}

    # When the user answers after the switch, then the answer is right
    after = deploy(END_USER_MESSAGING, OTP_PREVIOUS_ENGINE=PINPOINT)
    challenges = SmsChallenges(after, allowed_countries={"US"}, decoy_key=b"k")
    assert challenges.check_answer(private, sms.code) is True


def test_a_failing_engine_fails_the_verification_instead_of_answering_not_valid(deploy, pinpoint_endpoint):
    from otp.domain.errors import UpstreamError

    deploy(PINPOINT).send(PHONE, reference_id="in-flight")
    [sms] = pinpoint_endpoint.emulator.outbox()
    after = deploy(END_USER_MESSAGING, OTP_PREVIOUS_ENGINE=PINPOINT)
    # The new engine fails: the previous one is not asked
    pinpoint_endpoint.inject_fault("InternalServerException", operation="ValidateNotifyCodeVerification")
    pinpoint_endpoint.emulator.clear_calls()
    with pytest.raises(UpstreamError) as caught:
        after.verify(PHONE, reference_id="in-flight", code=sms.code)
    assert caught.value.code == "InternalServerException"
    assert _operations(pinpoint_endpoint) == ["ValidateNotifyCodeVerification"]
    # The previous engine fails after the new one said "not valid": its error, not False
    pinpoint_endpoint.inject_fault("ForbiddenException", operation="VerifyOTPMessage")
    with pytest.raises(UpstreamError) as caught:
        after.verify(PHONE, reference_id="in-flight", code=sms.code)
    assert caught.value.code == "ForbiddenException"
    # and once both answer, the in-flight code still verifies
    assert after.verify(PHONE, reference_id="in-flight", code=sms.code) is True


class _Recorded:
    """A stand-in engine that answers as told and records what it was asked."""

    def __init__(self, valid: bool) -> None:
        self.valid = valid
        self.sent: list[SendOtpRequest] = []
        self.asked = 0

    def send(self, request: SendOtpRequest) -> DeliveryReport:
        self.sent.append(request)
        return DeliveryReport("SUCCESSFUL", "m-1", 200, None)

    def verify(self, *, destination: str, reference_id: str, code: str) -> bool:
        self.asked += 1
        return self.valid


def test_the_fallback_never_sends_through_the_previous_engine():
    new, old = _Recorded(valid=False), _Recorded(valid=True)
    gateway = FallbackVerifyGateway(new, old)
    request = SendOtpRequest(PHONE, "r", "Acme", "+1", 6, 5, 3, "en-US", None, None, Channel.VOICE)
    gateway.send(request)
    assert (len(new.sent), len(old.sent)) == (1, 0)
    # and the previous engine is asked only after the new one refused
    new.valid = True
    assert gateway.verify(destination=PHONE, reference_id="r", code="123456") is True
    assert old.asked == 0
