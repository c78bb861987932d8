"""The adapters' retry loop: attempts, what is raised, and the backoff's bounds."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from otp.adapters.retries import BACKOFF_CAP_SECONDS, call_with_retries
from otp.domain.errors import UpstreamError, UpstreamFailure


def _throttled() -> ClientError:
    return ClientError({"Error": {"Code": "Throttled", "Message": "slow down"}}, "Send")


def _classify(exc: ClientError | Exception) -> tuple[UpstreamError, bool] | None:
    if isinstance(exc, ClientError):
        code = exc.response["Error"]["Code"]
        return UpstreamError(
            code, "mapped", failure=UpstreamFailure.THROTTLED, operation="Send"
        ), code == "Throttled"
    return None


def test_a_retryable_failure_is_tried_again_until_it_succeeds() -> None:
    # Given a call throttled twice, then answered
    outcomes: list[ClientError | str] = [_throttled(), _throttled(), "answer"]
    waits: list[float] = []

    def operation() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, ClientError):
            raise outcome
        return outcome

    # When it is called with three attempts
    result = call_with_retries(operation, _classify, max_attempts=3, sleep=waits.append)
    # Then the third attempt's answer comes back, after two waits within the backoff's bounds
    assert result == "answer"
    assert len(waits) == 2
    assert all(0 <= wait <= BACKOFF_CAP_SECONDS for wait in waits)


def test_attempts_are_bounded_and_the_mapped_error_is_raised() -> None:
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        raise _throttled()

    with pytest.raises(UpstreamError) as raised:
        call_with_retries(operation, _classify, max_attempts=3, sleep=lambda _: None)
    assert len(calls) == 3
    assert raised.value.code == "Throttled"


def test_a_failure_that_may_have_done_something_is_not_retried() -> None:
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        raise ClientError({"Error": {"Code": "Internal", "Message": "?"}}, "Send")

    with pytest.raises(UpstreamError):
        call_with_retries(operation, _classify, max_attempts=3, sleep=lambda _: None)
    assert len(calls) == 1


def test_an_exception_the_adapter_does_not_map_is_raised_as_it_is() -> None:
    def operation() -> str:
        raise NoCredentialsError()

    with pytest.raises(NoCredentialsError):
        call_with_retries(operation, _classify, max_attempts=3, sleep=lambda _: None)


def test_a_throttled_call_waits_out_the_rate_window_before_its_retry() -> None:
    # Given a call throttled twice (a quota counted per second), and a loop told so
    outcomes: list[ClientError | str] = [_throttled(), _throttled(), "answer"]
    waits: list[float] = []

    def operation() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, ClientError):
            raise outcome
        return outcome

    # When it runs, Then each retry came at least a second after the refusal (the jittered backoff alone
    # stays under 0.4 s for these attempts, inside the second that refused it)
    answer = call_with_retries(operation, _classify, max_attempts=3, sleep=waits.append, throttled_wait=1.0)
    assert answer == "answer"
    assert len(waits) == 2
    assert all(wait >= 1.0 for wait in waits)
