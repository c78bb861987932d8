"""The engine clients skip botocore's parameter validation (a documented switch for performance; it was
~5 % of a warm POST /otp's instructions), so this is where every kind of request the two engine adapters
build is held to its operation's input shape, with botocore's own validator and the models the clients
use. A member of the wrong type, a missing required one or one the operation does not have fails here."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError
from botocore.model import ServiceModel
from botocore.validate import ParamValidator

from otp.adapters.end_user_messaging import (
    SERVICE_MODELS_DIR,
    EndUserMessagingOptions,
    end_user_messaging_client,
    send_parameters,
    validate_parameters,
)
from otp.adapters.pinpoint import pinpoint_client, request_parameters, verify_parameters
from otp.domain.models import Channel, SendOtpRequest


def _model(service: str, *, extra_models: str | None = None) -> ServiceModel:
    session = botocore.session.Session()
    if extra_models is not None:
        session.get_component("data_loader").search_paths.insert(0, extra_models)
    return session.get_service_model(service)


def _problems(model: ServiceModel, operation: str, params: dict[str, Any]) -> str:
    shape = model.operation_model(operation).input_shape
    assert shape is not None
    report = ParamValidator().validate(params, shape)
    return report.generate_report() if report.has_errors() else ""


def _request(channel: Channel = Channel.SMS, **overrides: Any) -> SendOtpRequest:
    values: dict[str, Any] = {
        "destination": "+12065550100",
        "reference_id": "Ab3_-x.y:z" + "0" * 22,
        "brand_name": "Acme",
        "origination_identity": "+12065550199",
        "code_length": 6,
        "validity_minutes": 5,
        "allowed_attempts": 3,
        "language": "en-US",
        "entity_id": None,
        "template_id": None,
        "channel": channel,
    }
    values.update(overrides)
    return SendOtpRequest(**values)


INDIA_IDS = {"entity_id": "1101234567890123456", "template_id": "1107123456789012345"}


@pytest.mark.parametrize("overrides", [{}, INDIA_IDS, {"language": "pt-BR", "code_length": 8}])
def test_every_pinpoint_request_is_valid_for_its_operation(overrides: dict[str, Any]) -> None:
    # Given the Pinpoint model the client uses and requests as the adapter builds them
    model = _model("pinpoint")
    send = {
        "ApplicationId": "0123456789abcdef0123456789abcdef",
        "SendOTPMessageRequestParameters": request_parameters(_request(**overrides)),
    }
    verify = {
        "ApplicationId": "0123456789abcdef0123456789abcdef",
        "VerifyOTPMessageRequestParameters": verify_parameters("+12065550100", "ref-1", "123456"),
    }
    # Then botocore's validator finds nothing wrong with either
    assert _problems(model, "SendOTPMessage", send) == ""
    assert _problems(model, "VerifyOTPMessage", verify) == ""


_EUM_OPTIONS = [
    EndUserMessagingOptions(configuration_set="otp-events"),
    EndUserMessagingOptions(),
    EndUserMessagingOptions(
        notify_code_configuration="ncc-abc12345678901234", configuration_set="otp-events"
    ),
    EndUserMessagingOptions(
        voice_origination_identity="+12065550198",
        whatsapp_origination_identity="phone-number-id-0123456789",
        whatsapp_template_name="otp_code",
    ),
]


@pytest.mark.parametrize(
    ("options", "channel", "overrides"),
    [
        (options, channel, overrides)
        for options, channel, overrides in itertools.product(
            _EUM_OPTIONS, (Channel.SMS, Channel.VOICE, Channel.WHATSAPP), ({}, INDIA_IDS)
        )
        if channel is Channel.SMS or options.voice_origination_identity
    ],
)
def test_every_end_user_messaging_request_is_valid_for_its_operation(
    options: EndUserMessagingOptions, channel: Channel, overrides: dict[str, Any]
) -> None:
    # Given the model the client uses (the shipped one ahead of botocore's) and each channel's request
    model = _model("endusermessaging", extra_models=str(SERVICE_MODELS_DIR))
    send = dict(send_parameters(_request(channel, **overrides), options))
    # Then botocore's validator finds nothing wrong with the send or the check of a code
    assert _problems(model, "SendNotifyCodeVerification", send) == ""
    validate = dict(validate_parameters("+12065550100", "Ab3_-x.y:z" + "0" * 22, "123456"))
    assert _problems(model, "ValidateNotifyCodeVerification", validate) == ""


def test_the_engine_clients_leave_the_checks_to_these_tests_and_the_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given each engine client as the adapters build it, its requests answered before they leave
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    pinpoint_client.cache_clear()
    end_user_messaging_client.cache_clear()
    try:
        pinpoint, eum = pinpoint_client(1.0, 5.0), end_user_messaging_client(1.0, 5.0)
        sent: list[str] = []

        class Body:
            def stream(self, **_: Any) -> Iterator[bytes]:
                yield b"{}"

        def answer(request: Any, **_: Any) -> AWSResponse:
            sent.append(request.url)
            return AWSResponse(request.url, 400, HTTPHeaders(), Body())

        for client in (pinpoint, eum):
            client.meta.events.register("before-send", answer)  # type: ignore[arg-type]
        # When each is handed a request botocore's validator would refuse (a number where text belongs)
        with pytest.raises(ClientError):
            pinpoint.send_otp_message(ApplicationId=7, SendOTPMessageRequestParameters={})  # type: ignore[arg-type,typeddict-item]
        with pytest.raises(ClientError):
            eum.validate_notify_code_verification(destinationIdentity=7, referenceId="r", code="1")  # type: ignore[arg-type]
        # Then it is serialised and sent, for the engine to judge, rather than refused by botocore
        assert len(sent) == 2
    finally:
        pinpoint_client.cache_clear()
        end_user_messaging_client.cache_clear()
