"""Verification caps on DynamoDB: per code (number + reference), and none across references."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from otp.adapters.store import DynamoDbLimitLedger
from otp.domain.errors import SendRefused
from otp.domain.limiter import SlidingWindowLimiter, VerifyAttemptGuard
from otp.domain.models import PhoneNumber
from otp.domain.reasons import RejectReason
from tests.integration.protection.conftest import FakeClock

NUMBER = PhoneNumber(e164="+12065550100", region="US", country_code=1)


def verify_guard(
    ledger: DynamoDbLimitLedger, clock: FakeClock, *, per_reference: int = 5
) -> VerifyAttemptGuard:
    limiter = SlidingWindowLimiter(ledger, clock=clock, pause=lambda _: None)
    return VerifyAttemptGuard(limiter, per_reference=per_reference)


def refusal(guard: VerifyAttemptGuard, reference: str) -> SendRefused:
    with pytest.raises(SendRefused) as refused:
        guard.before_verify(NUMBER, reference)
    return refused.value


def test_a_reference_gets_its_cap_of_attempts_then_none(
    ledger: DynamoDbLimitLedger, clock: FakeClock
) -> None:
    # Given the default cap of 5 attempts per reference
    guard = verify_guard(ledger, clock)
    for _ in range(5):
        guard.before_verify(NUMBER, "ref-a")
        clock.advance(1)
    # When a sixth attempt comes, even an hour later
    clock.advance(3600)
    refused = refusal(guard, "ref-a")
    # Then it is refused for this reference; another reference still has its own attempts
    assert refused.reason is RejectReason.VERIFY_LIMIT_REFERENCE
    assert refused.retry_after > 0
    guard.before_verify(NUMBER, "ref-b")


def test_guesses_at_other_references_never_refuse_a_reference_with_attempts_left(
    ledger: DynamoDbLimitLedger, clock: FakeClock
) -> None:
    # Given 50 guesses at one number spread over ten references, each up to its cap, within a minute
    guard = verify_guard(ledger, clock)
    for index in range(10):
        for _ in range(5):
            guard.before_verify(NUMBER, f"stranger-{index}")
    # When the number's owner verifies under their own reference
    clock.advance(60)
    # Then it is allowed: only that reference's own attempts count against it
    for _ in range(5):
        guard.before_verify(NUMBER, "owner")
    assert refusal(guard, "owner").reason is RejectReason.VERIFY_LIMIT_REFERENCE


def test_concurrent_guesses_cannot_beat_the_cap(ledger: DynamoDbLimitLedger, clock: FakeClock) -> None:
    # Given 20 guesses at one reference fired at once on 20 threads
    guard = verify_guard(ledger, clock)

    def attempt(_: int) -> bool:
        try:
            guard.before_verify(NUMBER, "ref-race")
        except SendRefused:
            return False
        return True

    # When they race
    with ThreadPoolExecutor(max_workers=20) as pool:
        passed = sum(pool.map(attempt, range(20)))
    # Then exactly the cap of 5 reached the gateway
    assert passed == 5
