"""The sandbox's test numbers: scripted delivery statuses, API errors and the slow number."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.sandbox.conftest import Send, Verify, send_parameters
from tests.sandbox_harness import PinpointEndpoint, pinpoint_client

DELIVERY_STATUSES = [
    ("+12065550101", "THROTTLED"),
    ("+12065550102", "TEMPORARY_FAILURE"),
    ("+12065550103", "PERMANENT_FAILURE"),
    ("+12065550104", "UNKNOWN_FAILURE"),
    ("+12065550105", "OPT_OUT"),
    ("+12065550106", "DUPLICATE"),
    ("+12065550107", "TIMEOUT"),
]


@pytest.mark.parametrize(("number", "status"), DELIVERY_STATUSES)
def test_a_scripted_number_reports_its_status_and_sends_nothing(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint, number: str, status: str
) -> None:
    # Given a test number with a scripted delivery status
    # When a code is sent to it
    response = send(DestinationIdentity=number)
    # Then Pinpoint answers 200 with that status and a plausible code and message
    result = response["Result"][number]
    assert result["DeliveryStatus"] == status
    assert result["StatusCode"] >= 400
    assert result["StatusMessage"]
    assert result["MessageId"]
    # and no SMS went out and no code is held, so no guess can be valid
    assert pinpoint_endpoint.emulator.outbox() == []
    assert pinpoint_endpoint.localstack_view("ref-1").status == 404
    assert verify("123456", destination=number) is False


def test_any_other_valid_number_is_delivered(send: Send, pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given a number that is not a test number, in another country
    # When a code is sent
    response = send(DestinationIdentity="+442071838750")
    # Then it is delivered
    assert response["Result"]["+442071838750"]["DeliveryStatus"] == "SUCCESSFUL"
    assert [sms.destination for sms in pinpoint_endpoint.emulator.outbox()] == ["+442071838750"]


@pytest.mark.parametrize(
    ("number", "error", "status"),
    [
        ("+12065550129", "TooManyRequestsException", 429),
        ("+12065550150", "InternalServerErrorException", 500),
    ],
)
@pytest.mark.parametrize("operation", ["send", "verify"])
def test_a_scripted_number_fails_the_whole_call(
    send: Send,
    verify: Verify,
    pinpoint_endpoint: PinpointEndpoint,
    number: str,
    error: str,
    status: int,
    operation: str,
) -> None:
    # Given a number scripted to make Pinpoint refuse the call
    def call() -> object:
        return (
            send(DestinationIdentity=number) if operation == "send" else verify("123456", destination=number)
        )

    # When either operation is called for it
    with pytest.raises(ClientError) as excinfo:
        call()
    # Then the API error comes back with its HTTP status, and nothing is sent
    response = excinfo.value.response
    assert response["Error"]["Code"] == error
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert pinpoint_endpoint.emulator.outbox() == []


def test_the_slow_number_answers_successful_after_the_delay(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given the slow number, answering after a short delay here
    pinpoint_endpoint.emulator.slow_seconds = 0.5
    # When a patient client sends a code
    started = time.monotonic()
    response = send(DestinationIdentity="+12065550198")
    # Then it is delivered, but only after the delay
    assert time.monotonic() - started >= 0.5
    assert response["Result"]["+12065550198"]["DeliveryStatus"] == "SUCCESSFUL"
    [sms] = pinpoint_endpoint.emulator.outbox()
    assert verify(sms.code, destination="+12065550198") is True


def test_the_slow_number_records_one_sms_however_often_a_client_retries(
    pinpoint_endpoint: PinpointEndpoint,
) -> None:
    # Given the slow number and a stock client that gives up after 0.2 s and retries read timeouts
    pinpoint_endpoint.emulator.slow_seconds = 1.0
    client = pinpoint_client(
        pinpoint_endpoint.url, read_timeout=0.2, retries={"mode": "standard", "total_max_attempts": 3}
    )
    # When it asks for a code
    with pytest.raises(ReadTimeoutError):
        client.send_otp_message(
            ApplicationId=pinpoint_endpoint.application_id,
            SendOTPMessageRequestParameters=send_parameters(DestinationIdentity="+12065550198"),
        )
    # Then Pinpoint saw every attempt, but the phone got one SMS with one code
    assert [call.operation for call in pinpoint_endpoint.emulator.calls()] == ["SendOTPMessage"] * 3
    [sms] = pinpoint_endpoint.emulator.outbox()
    assert sms.destination == "+12065550198"
    # and that SMS is there as soon as the request arrived, though no answer ever came back
    assert pinpoint_endpoint.code_for("ref-1") == sms.code
