"""Helpers for the sandbox's own tests: stock boto3 Pinpoint clients against the in-process endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox_harness import PinpointEndpoint, pinpoint_client

PHONE = "+12065550100"
ORIGINATION = "+12065550199"

Send = Callable[..., dict[str, Any]]
Verify = Callable[..., bool]


def send_parameters(**overrides: Any) -> dict[str, Any]:
    """Valid SendOTPMessageRequestParameters; an override of None removes the member."""
    parameters: dict[str, Any] = {
        "BrandName": "Acme",
        "Channel": "SMS",
        "DestinationIdentity": PHONE,
        "OriginationIdentity": ORIGINATION,
        "ReferenceId": "ref-1",
    }
    parameters.update(overrides)
    return {name: value for name, value in parameters.items() if value is not None}


@pytest.fixture
def pinpoint(pinpoint_endpoint: PinpointEndpoint) -> Any:
    """A stock client that validates nothing itself (so the server's rules are what is tested) and never
    retries (so every scripted error reaches the test as it was answered)."""
    return pinpoint_client(
        pinpoint_endpoint.url, parameter_validation=False, retries={"total_max_attempts": 1}
    )


@pytest.fixture
def send(pinpoint: Any, pinpoint_endpoint: PinpointEndpoint) -> Send:
    def _send(application_id: str | None = None, **overrides: Any) -> dict[str, Any]:
        response = pinpoint.send_otp_message(
            ApplicationId=application_id or pinpoint_endpoint.application_id,
            SendOTPMessageRequestParameters=send_parameters(**overrides),
        )
        message_response: dict[str, Any] = response["MessageResponse"]
        return message_response

    return _send


@pytest.fixture
def verify(pinpoint: Any, pinpoint_endpoint: PinpointEndpoint) -> Verify:
    def _verify(
        otp: str | None,
        *,
        reference_id: str | None = "ref-1",
        destination: str | None = PHONE,
        application_id: str | None = None,
    ) -> bool:
        parameters = {"DestinationIdentity": destination, "Otp": otp, "ReferenceId": reference_id}
        response = pinpoint.verify_otp_message(
            ApplicationId=application_id or pinpoint_endpoint.application_id,
            VerifyOTPMessageRequestParameters={k: v for k, v in parameters.items() if v is not None},
        )
        return bool(response["VerificationResponse"]["Valid"])

    return _verify


def only_code(endpoint: PinpointEndpoint) -> str:
    """The code of the one SMS in the outbox (fails if there is not exactly one)."""
    [sms] = endpoint.emulator.outbox()
    return sms.code


def wrong_code_for(code: str) -> str:
    """A code of the same length that is certainly not ``code``."""
    return "".join(str((int(digit) + 1) % 10) for digit in code)
