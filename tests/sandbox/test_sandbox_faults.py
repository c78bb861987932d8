"""Injected faults: every error Pinpoint documents for the OTP operations, through a stock boto3 client."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from local.faults import PINPOINT_ERROR_STATUS
from tests.sandbox.conftest import Send, Verify
from tests.sandbox_harness import PinpointEndpoint, http_call


@pytest.mark.parametrize(("error_type", "status"), sorted(PINPOINT_ERROR_STATUS.items()))
def test_an_injected_fault_reaches_boto3_as_pinpoints_modelled_exception(
    send: Send, pinpoint_endpoint: PinpointEndpoint, error_type: str, status: int
) -> None:
    # Given one queued fault of this type
    assert pinpoint_endpoint.inject_fault(error_type).status == 200
    # When a code is sent
    with pytest.raises(ClientError) as caught:
        send()
    # Then boto3 parses Pinpoint's error type and status, and nothing was sent
    error = caught.value.response
    assert error["Error"]["Code"] == error_type
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert pinpoint_endpoint.emulator.outbox() == []
    # and the fault is spent: the next call goes through
    send()
    assert len(pinpoint_endpoint.emulator.outbox()) == 1


def test_a_fault_for_one_operation_leaves_the_other_alone(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a fault queued for verification only, three times
    pinpoint_endpoint.inject_fault("ForbiddenException", operation="VerifyOTPMessage", count=3)
    # When a code is sent, then verified
    send()
    [sms] = pinpoint_endpoint.emulator.outbox()
    # Then the send went through and each of the three verifications was refused
    for _ in range(3):
        with pytest.raises(ClientError) as caught:
            verify(sms.code)
        assert caught.value.response["Error"]["Code"] == "ForbiddenException"
    # and, the fault spent, the code still verifies (refused calls spent no attempt)
    assert verify(sms.code) is True


@pytest.mark.parametrize(
    "body",
    [
        {"errorType": "NoSuchException"},
        {"errorType": "ForbiddenException", "operation": "SendMessages"},
        {"errorType": "ForbiddenException", "count": 0},
        {"errorType": ["ForbiddenException"]},
        {},
    ],
)
def test_a_malformed_fault_is_refused(pinpoint_endpoint: PinpointEndpoint, body: dict[str, object]) -> None:
    answer = http_call("POST", f"{pinpoint_endpoint.aws_url}/_sandbox/faults", body)
    assert answer.status == 400
    assert pinpoint_endpoint.emulator.faults.pending() == []
