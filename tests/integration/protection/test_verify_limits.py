"""Verification caps: per code (number + reference) and per number across references, on DynamoDB."""

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
    ledger: DynamoDbLimitLedger, clock: FakeClock, *, per_reference: int = 5, per_number: int = 15
) -> VerifyAttemptGuard:
    limiter = SlidingWindowLimiter(ledger, clock=clock, pause=lambda _: None)
    return VerifyAttemptGuard(limiter, per_reference=per_reference, per_number_per_hour=per_number)


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


def test_new_references_do_not_buy_more_guesses_at_one_number(
    ledger: DynamoDbLimitLedger, clock: FakeClock
) -> None:
    # Given 15 attempts at one number spread over three references (under each reference's cap)
    guard = verify_guard(ledger, clock)
    for reference in ("ref-1", "ref-2", "ref-3"):
        for _ in range(5):
            guard.before_verify(NUMBER, reference)
    # When a fourth reference is tried within the hour
    clock.advance(60)
    refused = refusal(guard, "ref-4")
    # Then the per-number cap refuses it until the first attempt is an hour old
    assert refused.reason is RejectReason.VERIFY_LIMIT_NUMBER
    assert refused.retry_after == 3600 - 60
    clock.advance(3600 - 60)
    guard.before_verify(NUMBER, "ref-4")


def test_a_refused_attempt_is_not_counted_against_the_other_cap(
    ledger: DynamoDbLimitLedger, clock: FakeClock
) -> None:
    # Given one reference at its cap of 2, and a per-number cap of 4
    guard = verify_guard(ledger, clock, per_reference=2, per_number=4)
    guard.before_verify(NUMBER, "ref-a")
    guard.before_verify(NUMBER, "ref-a")
    # When that reference is tried many more times
    for _ in range(10):
        refusal(guard, "ref-a")
    # Then the number still has its two remaining attempts (both caps are written together or not at all)
    guard.before_verify(NUMBER, "ref-b")
    guard.before_verify(NUMBER, "ref-b")
    assert refusal(guard, "ref-c").reason is RejectReason.VERIFY_LIMIT_NUMBER


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
