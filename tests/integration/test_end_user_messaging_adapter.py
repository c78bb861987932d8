"""The End User Messaging adapter with its real boto3 client (built from the shipped model) against the
sandbox's endpoint: what it sends for each channel, the reference mapping, retries and error mapping."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local.faults import NOTIFY_ERROR_STATUS
from local.test_numbers import SLOW_NUMBER as SLOW_NUMBER_FOR_TESTS
from otp import engine_rules
from otp.adapters.end_user_messaging import (
    EndUserMessagingGateway,
    EndUserMessagingOptions,
    end_user_messaging_client,
    end_user_messaging_reference,
    send_parameters,
)
from otp.adapters.notify_code_configurations import NotifyCodeConfigurations, desired_configuration
from otp.domain.errors import UpstreamError
from otp.domain.models import Channel, SendOtpRequest
from tests.handler_env import use_handler_env
from tests.sandbox_harness import PinpointEndpoint

PHONE = "+12065550100"


@pytest.fixture
def client(pinpoint_endpoint: PinpointEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The adapter's own client factory, pointed at the sandbox through AWS_ENDPOINT_URL as deployed."""
    use_handler_env(monkeypatch, pinpoint_endpoint)
    end_user_messaging_client.cache_clear()
    yield end_user_messaging_client(2.0, 1.0)
    end_user_messaging_client.cache_clear()


def gateway(client: Any, *, sleeps: list[float] | None = None, **options: Any) -> EndUserMessagingGateway:
    defaults: dict[str, Any] = {"configuration_set": "otp-sandbox"}
    return EndUserMessagingGateway(
        client,
        EndUserMessagingOptions(**{**defaults, **options}),
        max_attempts=3,
        sleep=(sleeps.append if sleeps is not None else lambda _: None),
    )


def request(**overrides: Any) -> SendOtpRequest:
    values: dict[str, Any] = {
        "destination": PHONE,
        "reference_id": "ref-1",
        "brand_name": "Acme",
        "origination_identity": "+12065550199",
        "code_length": 7,
        "validity_minutes": 2,
        "allowed_attempts": 2,
        "language": "en-US",
        "entity_id": None,
        "template_id": None,
        "channel": Channel.SMS,
    }
    values.update(overrides)
    return SendOtpRequest(**values)


def test_an_sms_carries_the_template_with_the_brand_and_the_policy(client, pinpoint_endpoint):
    # When the adapter sends an SMS code
    report = gateway(client, message_template="{{brand}}: {{code}} is your code").send(request())

    # Then it is accepted, and the phone got the deployment's text with a 7-digit code
    [message] = pinpoint_endpoint.emulator.outbox()
    assert report.status.value == "SUCCESSFUL"
    assert report.message_id == message.message_id
    assert (report.status_message or "").startswith("verificationId vrf-")
    assert message.body == f"Acme: {message.code} is your code"
    assert len(message.code) == 7
    assert message.code.isdigit()
    # and the policy reached the service: 2 attempts, 2 minutes
    held = pinpoint_endpoint.notify_codes.live_verification(PHONE, "ref-1")
    assert held is not None
    assert (held.request.max_attempts, held.request.validity_minutes) == (2, 2)
    assert held.request.configuration_set == "otp-sandbox"
    assert held.request.context == {"referenceId": "ref-1"}


def test_a_voice_code_is_a_call_in_the_configured_voice_from_the_voice_number(client, pinpoint_endpoint):
    gateway(
        client,
        voice_template="{{brand}} code: {{code}}",
        voice_language="en-GB",
        voice_id="Amy",
        voice_origination_identity="+12065550188",
    ).send(request(channel=Channel.VOICE))
    [call] = pinpoint_endpoint.emulator.outbox()
    assert call.channel == "VOICE"
    assert call.body == f"Acme code: {call.code}"
    assert (call.language, call.voice_id, call.origination) == ("en-GB", "Amy", "+12065550188")


def test_a_whatsapp_code_uses_the_template_name_in_the_users_language(client, pinpoint_endpoint):
    gateway(
        client, whatsapp_template_name="otp_code", whatsapp_origination_identity="phone-number-id-abc"
    ).send(request(channel=Channel.WHATSAPP, language="pt-BR"))
    [message] = pinpoint_endpoint.emulator.outbox()
    assert (message.channel, message.language, message.origination) == (
        "WHATSAPP",
        "pt-BR",
        "phone-number-id-abc",
    )


def test_india_dlt_ids_travel_as_destination_country_parameters(client, pinpoint_endpoint):
    # The keys are the SMS and Voice v2 API's own for India's DLT registration.
    gateway(client).send(request(entity_id="1101234567890123456", template_id="1107890123456789012"))
    held = pinpoint_endpoint.notify_codes.live_verification(PHONE, "ref-1")
    assert held is not None
    assert held.request.country_parameters == {
        "IN_ENTITY_ID": "1101234567890123456",
        "IN_TEMPLATE_ID": "1107890123456789012",
    }


@pytest.mark.parametrize("reference", ["plain", "a.b:c_d-e", "_", "x" * 48])
def test_every_reference_of_ours_round_trips(client, pinpoint_endpoint, reference):
    # Given a code sent under one of this service's references (which may hold '.', ':' and '_')
    adapter = gateway(client)
    adapter.send(request(reference_id=reference))
    code = pinpoint_endpoint.emulator.outbox()[-1].code

    # Then it verifies under that same reference, and the sandbox shows the caller's reference
    assert adapter.verify(destination=PHONE, reference_id=reference, code=code) is True
    assert pinpoint_endpoint.emulator.outbox()[-1].reference_id == reference


def test_the_reference_mapping_never_merges_two_references(client, pinpoint_endpoint):
    # Given two references that a naive character substitution would make equal
    adapter = gateway(client)
    adapter.send(request(reference_id="a.b"))
    code = pinpoint_endpoint.emulator.outbox()[-1].code

    # Then the code of one is not valid for the other
    assert end_user_messaging_reference("a.b") != end_user_messaging_reference("a_db")
    assert adapter.verify(destination=PHONE, reference_id="a_db", code=code) is False
    assert adapter.verify(destination=PHONE, reference_id="a.b", code=code) is True


def test_a_wrong_code_is_false_and_spends_an_attempt(client, pinpoint_endpoint):
    adapter = gateway(client)
    adapter.send(request(allowed_attempts=1))
    code = pinpoint_endpoint.emulator.outbox()[-1].code
    wrong = "".join(str((int(c) + 1) % 10) for c in code)
    assert adapter.verify(destination=PHONE, reference_id="ref-1", code=wrong) is False
    assert adapter.verify(destination=PHONE, reference_id="ref-1", code=code) is False


def _send_calls(endpoint: PinpointEndpoint) -> int:
    return sum(1 for c in endpoint.emulator.calls() if c.operation == "SendNotifyCodeVerification")


def test_throttling_is_retried_and_then_sends_once(client, pinpoint_endpoint):
    # Given the service throttles the first two attempts
    pinpoint_endpoint.inject_fault("ThrottlingException", operation="SendNotifyCodeVerification", count=2)
    sleeps: list[float] = []

    # When the adapter sends
    report = gateway(client, sleeps=sleeps).send(request())

    # Then it tried three times, backed off twice within the cap, and one code reached the phone
    assert report.status.value == "SUCCESSFUL"
    assert _send_calls(pinpoint_endpoint) == 3
    assert len(sleeps) == 2
    assert all(0 <= s <= 1.0 for s in sleeps)
    assert len(pinpoint_endpoint.emulator.outbox()) == 1


def test_throttling_that_persists_fails_after_the_attempt_budget(client, pinpoint_endpoint):
    pinpoint_endpoint.inject_fault("ThrottlingException", count=5)
    with pytest.raises(UpstreamError) as caught:
        gateway(client).send(request())
    assert (caught.value.code, caught.value.maybe_sent) == ("ThrottlingException", False)
    assert _send_calls(pinpoint_endpoint) == 3


@pytest.mark.parametrize("error_type", sorted(set(NOTIFY_ERROR_STATUS) - {"ThrottlingException"}))
def test_other_errors_are_not_retried_and_keep_their_name(client, pinpoint_endpoint, error_type):
    # Given one failure of the send
    pinpoint_endpoint.inject_fault(error_type, operation="SendNotifyCodeVerification")

    # When the adapter sends, then it fails at once with the service's error name
    with pytest.raises(UpstreamError) as caught:
        gateway(client).send(request())
    assert caught.value.code == error_type
    assert caught.value.operation == "SendNotifyCodeVerification"
    assert _send_calls(pinpoint_endpoint) == 1
    # Only a failure during processing (5xx) may have sent the code
    assert caught.value.maybe_sent is (NOTIFY_ERROR_STATUS[error_type] >= 500)


def test_an_internal_error_on_validation_is_not_retried(client, pinpoint_endpoint):
    pinpoint_endpoint.inject_fault("InternalServerException", operation="ValidateNotifyCodeVerification")
    with pytest.raises(UpstreamError) as caught:
        gateway(client).verify(destination=PHONE, reference_id="ref-1", code="123456")
    assert (caught.value.code, caught.value.maybe_sent) == ("InternalServerException", False)
    validations = [
        c for c in pinpoint_endpoint.emulator.calls() if c.operation == "ValidateNotifyCodeVerification"
    ]
    assert len(validations) == 1


def test_a_read_timeout_is_not_retried_and_may_have_sent(client, pinpoint_endpoint):
    # Given the slow test number (delivered at once, answered after the 1 s read timeout)
    pinpoint_endpoint.emulator.slow_seconds = 2.0
    with pytest.raises(UpstreamError) as caught:
        gateway(client).send(request(destination=SLOW_NUMBER_FOR_TESTS))
    assert (caught.value.code, caught.value.maybe_sent) == ("Timeout", True)
    assert _send_calls(pinpoint_endpoint) == 1
    assert len(pinpoint_endpoint.emulator.outbox()) == 1


def test_an_unreachable_endpoint_is_retried_then_a_connection_error(monkeypatch, pinpoint_endpoint):
    use_handler_env(monkeypatch, pinpoint_endpoint, AWS_ENDPOINT_URL="http://127.0.0.1:9")
    end_user_messaging_client.cache_clear()
    sleeps: list[float] = []
    try:
        with pytest.raises(UpstreamError) as caught:
            gateway(end_user_messaging_client(0.5, 0.5), sleeps=sleeps).send(request())
    finally:
        end_user_messaging_client.cache_clear()
    assert (caught.value.code, caught.value.maybe_sent) == ("ConnectionError", False)
    assert len(sleeps) == 2


# --------------------------------------------------------------- sends that name a notify code configuration


def deployment_configuration(client: Any, **changes: Any) -> str:
    """The deployment's configuration, built as the stack builds it and created as its custom resource
    creates it; its id."""
    values: dict[str, Any] = {
        "name": "SmsOtp-otp",
        "brand": "Acme",
        "code_length": 5,
        "validity_minutes": 3,
        "allowed_attempts": 4,
        "channels": ("SMS", "VOICE", "WHATSAPP"),
        "message_template": "{{brand}} code {{code}}",
        "voice_template": "{{brand}} says {{code}}",
        "voice_language": "en-GB",
        "voice_id": "Amy",
        "whatsapp_template_name": "otp_code",
        "whatsapp_language": "en-US",
    }
    values.update(changes)
    configuration = engine_rules.notify_code_configuration(**values)
    created = NotifyCodeConfigurations(client).create(
        desired_configuration(configuration), client_token=uuid.uuid4().hex
    )
    return created.configuration_id


def test_with_a_configuration_a_send_names_it_and_carries_no_policy_or_template(client):
    options = EndUserMessagingOptions(notify_code_configuration="ncc-abc12345678901234")
    for channel in (Channel.SMS, Channel.VOICE):
        params = send_parameters(request(channel=channel), options)
        assert params["notifyCodeConfiguration"] == "ncc-abc12345678901234"
        assert "overrideCodeConfigurationParameters" not in params
        assert "overrideChannelParameters" not in params
    whatsapp = EndUserMessagingOptions(
        notify_code_configuration="ncc-abc12345678901234",
        whatsapp_template_name="otp_code",
        whatsapp_origination_identity="phone-number-id-0123456789abcdef0123456789abcdef",
    )
    params = send_parameters(request(channel=Channel.WHATSAPP, language="es-419"), whatsapp)
    # WhatsApp's approved template is the user's language: the one thing a request still says
    assert params["overrideChannelParameters"] == {
        "whatsApp": {"whatsAppTemplateName": "otp_code", "languageCode": "es-419"}
    }


def test_the_configuration_decides_the_policy_and_the_words_on_every_channel(client, pinpoint_endpoint):
    configuration_id = deployment_configuration(client)
    adapter = gateway(
        client,
        notify_code_configuration=configuration_id,
        whatsapp_template_name="otp_code",
        whatsapp_origination_identity="phone-number-id-0123456789abcdef0123456789abcdef",
    )
    # The request's own policy (7 digits, 2 attempts) is not what is sent: the configuration's is
    adapter.send(request(reference_id="sms"))
    adapter.send(request(reference_id="call", channel=Channel.VOICE))
    adapter.send(request(reference_id="chat", channel=Channel.WHATSAPP, language="es-419"))
    sms, call, chat = pinpoint_endpoint.emulator.outbox()
    assert sms.body == f"Acme code {sms.code}"
    assert call.body == f"Acme says {call.code}"
    assert (call.channel, call.voice_id, call.language) == ("VOICE", "Amy", "en-GB")
    assert (chat.channel, chat.language) == ("WHATSAPP", "es-419")
    assert {len(m.code) for m in (sms, call, chat)} == {5}
    held = pinpoint_endpoint.notify_codes.live_verification(PHONE, "sms")
    assert held is not None
    assert (held.request.max_attempts, held.request.validity_minutes) == (4, 3)
    assert held.request.configuration_id == configuration_id
    assert adapter.verify(destination=PHONE, reference_id="sms", code=sms.code) is True


def test_a_configuration_the_account_does_not_hold_is_a_deployment_fault(client):
    with pytest.raises(UpstreamError) as caught:
        gateway(client, notify_code_configuration="ncc-doesnotexist00000").send(request())
    assert caught.value.code == "ResourceNotFoundException"
    assert caught.value.failure.value == "MISCONFIGURED"
