"""VerifyOTPMessage through a stock boto3 client: binding, expiry, attempts, consumption, concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.conftest import PHONE, Send, Verify, only_code, wrong_code_for
from tests.sandbox_harness import PinpointEndpoint, pinpoint_client


def test_the_right_code_is_valid_once(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a code sent for a reference and number
    send()
    code = only_code(pinpoint_endpoint)
    # When it is verified
    first = verify(code)
    # Then it is valid, and a successful verify consumes it
    assert first is True
    assert verify(code) is False


def test_a_wrong_code_is_invalid_and_the_right_one_still_works_within_the_attempts(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a code allowing 3 attempts
    send(AllowedAttempts=3)
    code = only_code(pinpoint_endpoint)
    # When two wrong guesses come first
    assert verify(wrong_code_for(code)) is False
    assert verify(wrong_code_for(code)) is False
    # Then the third attempt, with the right code, is valid
    assert verify(code) is True


@pytest.mark.parametrize("allowed", [1, 3, 5])
def test_once_the_attempts_are_spent_even_the_right_code_is_invalid(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint, allowed: int
) -> None:
    # Given a code allowing N attempts
    send(AllowedAttempts=allowed)
    code = only_code(pinpoint_endpoint)
    # When N wrong guesses are made
    for _ in range(allowed):
        assert verify(wrong_code_for(code)) is False
    # Then the right code is refused too
    assert verify(code) is False
    # and the sandbox shows every attempt spent
    issued = pinpoint_endpoint.emulator.current_code(pinpoint_endpoint.application_id, "ref-1")
    assert issued is not None
    assert issued.attempts == allowed


def test_the_code_is_bound_to_its_reference_and_destination(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a code sent to PHONE under ref-1
    send()
    code = only_code(pinpoint_endpoint)
    # When it is verified under another reference, or for another number
    other_reference = verify(code, reference_id="ref-2")
    other_number = verify(code, destination="+12065550111")
    # Then neither is valid, and neither spent one of the real code's attempts
    assert (other_reference, other_number) == (False, False)
    issued = pinpoint_endpoint.emulator.current_code(pinpoint_endpoint.application_id, "ref-1")
    assert issued is not None
    assert issued.attempts == 0
    assert verify(code) is True


def test_the_code_is_bound_to_its_application(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a code sent through one application, and a second application
    send()
    code = only_code(pinpoint_endpoint)
    other = pinpoint_client(pinpoint_endpoint.url).create_app(CreateApplicationRequest={"Name": "other"})
    # When the code is verified through the other application
    # Then it is not valid there
    assert verify(code, application_id=other["ApplicationResponse"]["Id"]) is False
    assert verify(code) is True


def test_a_reference_that_was_never_sent_is_invalid(verify: Verify) -> None:
    # Given nothing sent
    # When a code is verified
    # Then it is not valid
    assert verify("123456", reference_id="never-sent") is False


@pytest.mark.parametrize(
    ("minutes", "elapsed_seconds", "valid"),
    [(5, 299, True), (5, 300, False), (60, 3599, True), (60, 3600, False)],
)
def test_a_code_expires_after_its_validity_period(
    send: Send,
    verify: Verify,
    pinpoint_endpoint: PinpointEndpoint,
    minutes: int,
    elapsed_seconds: int,
    valid: bool,
) -> None:
    # Given a code valid for some minutes
    send(ValidityPeriod=minutes)
    code = only_code(pinpoint_endpoint)
    # When the sandbox's clock moves on (no sleeping)
    pinpoint_endpoint.clock.advance(elapsed_seconds)
    # Then it is valid until, and not at, the end of the period
    assert verify(code) is valid


def test_an_expired_code_disappears_from_the_localstack_view(
    send: Send, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a code
    send()
    assert pinpoint_endpoint.localstack_view("ref-1").status == 200
    # When it expires
    pinpoint_endpoint.clock.advance(5 * 60)
    # Then there is no live code for the reference
    assert pinpoint_endpoint.localstack_view("ref-1").status == 404


@pytest.mark.parametrize("missing", ["DestinationIdentity", "Otp", "ReferenceId"])
def test_each_verify_member_is_required(
    pinpoint: Any, pinpoint_endpoint: PinpointEndpoint, missing: str
) -> None:
    # Given a verify request without one member
    parameters = {"DestinationIdentity": PHONE, "Otp": "123456", "ReferenceId": "ref-1"}
    del parameters[missing]
    # When it is sent
    with pytest.raises(ClientError) as excinfo:
        pinpoint.verify_otp_message(
            ApplicationId=pinpoint_endpoint.application_id, VerifyOTPMessageRequestParameters=parameters
        )
    # Then BadRequestException naming it
    error = excinfo.value.response["Error"]
    assert error["Code"] == "BadRequestException"
    assert missing in error["Message"]


def test_verify_on_an_unknown_application_is_not_found(verify: Verify) -> None:
    # Given an application that does not exist
    # When a code is verified through it
    with pytest.raises(ClientError) as excinfo:
        verify("123456", application_id="0123456789abcdef0123456789abcdef")
    # Then NotFoundException
    assert excinfo.value.response["Error"]["Code"] == "NotFoundException"


def concurrent_verifies(endpoint: PinpointEndpoint, guesses: list[str]) -> list[bool]:
    """Fire all guesses at once (a barrier releases them together), each on its own connection."""
    client = pinpoint_client(endpoint.url, max_pool_connections=len(guesses))
    barrier = threading.Barrier(len(guesses))

    def guess(otp: str) -> bool:
        barrier.wait()
        response = client.verify_otp_message(
            ApplicationId=endpoint.application_id,
            VerifyOTPMessageRequestParameters={
                "DestinationIdentity": PHONE,
                "Otp": otp,
                "ReferenceId": "ref-1",
            },
        )
        return bool(response["VerificationResponse"]["Valid"])

    with ThreadPoolExecutor(max_workers=len(guesses)) as pool:
        return list(pool.map(guess, guesses))


def test_concurrent_wrong_guesses_cannot_exceed_the_attempts(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a code allowing 5 attempts
    send(AllowedAttempts=5)
    code = only_code(pinpoint_endpoint)
    # When 40 wrong guesses arrive at the same moment
    results = concurrent_verifies(pinpoint_endpoint, [wrong_code_for(code)] * 40)
    # Then all fail, and the attempts were counted without losing any: the right code is now refused
    assert results == [False] * 40
    assert verify(code) is False
    issued = pinpoint_endpoint.emulator.current_code(pinpoint_endpoint.application_id, "ref-1")
    assert issued is not None
    assert issued.attempts == 5


def test_concurrent_right_guesses_succeed_exactly_once(
    send: Send, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a code
    send(AllowedAttempts=5)
    code = only_code(pinpoint_endpoint)
    # When 30 verifies of the right code arrive at the same moment
    results = concurrent_verifies(pinpoint_endpoint, [code] * 30)
    # Then exactly one of them is valid: checking and consuming is one atomic step
    assert results.count(True) == 1
