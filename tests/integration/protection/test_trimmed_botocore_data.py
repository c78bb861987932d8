"""The API handler with the clients Lambda builds (the bundle's trimmed botocore data), end to end:
real boto3 calls to the sandbox's Pinpoint (AWS_ENDPOINT_URL) and to moto's DynamoDB, protection and
Idempotency-Key on. Any operation an adapter or Powertools calls that the trimmed data lacks fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdk_sms_otp import botocore_data
from otp.adapters import aws_sdk
from tests.handler_env import use_handler_env
from tests.integration.conftest import Invoke
from tests.lambda_events import LambdaContext, rest_api_event
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT

PHONE = "+12065550100"


@pytest.fixture(scope="module")
def trimmed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("botocore-data")
    botocore_data.write_data(target)
    return target


@pytest.fixture
def bundled(
    handler_env: dict[str, str],
    dynamodb_url: str,
    table_name: str,
    trimmed_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """Protection on (moto's DynamoDB), no send cooldown, and the adapters' clients built as in the
    bundle, from the trimmed data."""
    from otp import wiring

    monkeypatch.setenv("OTP_TABLE_NAME", table_name)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_url)
    monkeypatch.setenv("OTP_SEND_COOLDOWN_SECONDS", "0")
    monkeypatch.setattr(aws_sdk, "DATA_DIR", trimmed_dir)
    aws_sdk.reset()
    wiring.reset()
    yield
    aws_sdk.reset()
    wiring.reset()


# Pinpoint only: it asserts Pinpoint's client; End User Messaging's counterpart is at the end of this file.
@pytest.mark.parametrize("engine", [PINPOINT])
def test_send_replay_and_verify_work_with_the_trimmed_data(
    bundled: None, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    from otp.adapters.pinpoint import pinpoint_client
    from otp.adapters.store import dynamodb_client

    # Given the handler, protection on, its clients from the trimmed data
    # When a code is sent with an Idempotency-Key (GetItem + PutItem for the limits; PutItem and
    # UpdateItem for the key), the send is replayed (the key's conditional PutItem fails with the old
    # record), and the code is verified (the verify limits commit two histories in a transaction)
    headers = {"Idempotency-Key": "trimmed-1"}
    first = invoke("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "trimmed"}, headers=headers)
    replay = invoke("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "trimmed"}, headers=headers)
    (sms,) = pinpoint_endpoint.emulator.outbox()
    verified = invoke(
        "POST", "/otp/verify", {"phoneNumber": PHONE, "referenceId": "trimmed", "code": sms.code}
    )

    # Then everything answered as with botocore's full data: one SMS, the same replayed answer, valid
    assert first.status == replay.status == 202
    assert replay.body == first.body
    assert verified.status == 200
    assert verified.body == {"valid": True}
    # and the clients that did it were the trimmed ones, pointed at the local endpoints
    pinpoint = pinpoint_client(*_pinpoint_timeouts())  # the cached one the handler used
    assert sorted(pinpoint.meta.service_model.operation_names) == ["SendOTPMessage", "VerifyOTPMessage"]
    assert pinpoint.meta.endpoint_url == pinpoint_endpoint.url
    assert "TransactWriteItems" in dynamodb_client().meta.service_model.operation_names
    assert len(dynamodb_client().meta.service_model.operation_names) < 10


# An error each engine's send answers once, and does not retry.
SEND_REFUSAL = {
    PINPOINT: ("BadRequestException", "SendOTPMessage"),
    END_USER_MESSAGING: ("ValidationException", "SendNotifyCodeVerification"),
}


def test_a_failed_send_drops_its_idempotency_claim_with_the_trimmed_data(
    bundled: None, invoke: Invoke, pinpoint_endpoint: Any, engine: str
) -> None:
    # Given a send with a key that the engine refuses once (a fault queued in the sandbox)
    headers = {"Idempotency-Key": "trimmed-failed"}
    error, operation = SEND_REFUSAL[engine]
    pinpoint_endpoint.emulator.faults.add(error, operation=operation)
    failed = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers=headers)

    # When it is retried with the same key
    retried = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers=headers)

    # Then the failure did not stick to the key (Powertools deleted its claim: DeleteItem), and the
    # retry sent the code
    assert failed.status >= 400
    assert retried.status == 202
    assert len(pinpoint_endpoint.emulator.outbox()) == 1


def _pinpoint_timeouts() -> tuple[float, float]:
    from otp.settings import get_settings

    settings = get_settings()
    return settings.connect_timeout, settings.read_timeout


@pytest.fixture
def bundled_end_user_messaging(
    pinpoint_endpoint: Any,
    dynamodb_url: str,
    table_name: str,
    trimmed_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """The same on the End User Messaging engine (the sandbox speaks its protocol on the same endpoint)."""
    from otp import wiring

    use_handler_env(monkeypatch, pinpoint_endpoint, engine=END_USER_MESSAGING)
    monkeypatch.setenv("OTP_TABLE_NAME", table_name)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_url)
    monkeypatch.setattr(aws_sdk, "DATA_DIR", trimmed_dir)
    aws_sdk.reset()
    wiring.reset()
    yield
    aws_sdk.reset()
    wiring.reset()


def test_the_end_user_messaging_engine_works_with_the_trimmed_data(
    bundled_end_user_messaging: None, pinpoint_endpoint: Any
) -> None:
    from otp.handlers.api import lambda_handler

    # Given the handler on the End User Messaging engine, protection on, clients from the trimmed data
    # When a code is sent and verified
    sent = lambda_handler(
        rest_api_event("POST", "/otp", {"phoneNumber": PHONE, "referenceId": "eum"}), LambdaContext()
    )
    (sms,) = pinpoint_endpoint.emulator.outbox()
    body = {"phoneNumber": PHONE, "referenceId": "eum", "code": sms.code}
    verified = lambda_handler(rest_api_event("POST", "/otp/verify", body), LambdaContext())

    # Then both worked, through the engine's own API, and its client came from the trimmed data (the
    # model shipped with the code, the fallback, was never loaded)
    assert (sent["statusCode"], verified["statusCode"]) == (202, 200)
    assert sms.engine == "endusermessaging"
    assert aws_sdk._session_with_models.cache_info().currsize == 0
    assert aws_sdk._trimmed_session.cache_info().currsize == 1
