"""Verification caps on DynamoDB: per code (number + reference), and none across references.

The guard is the real VerifyAttemptGuard on the real DynamoDbVerificationBook (moto's server, with
DynamoDB's atomic conditional writes): one conditional UpdateItem per verify both checks and counts.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from otp.adapters.store import DynamoDbLimitLedger
from otp.adapters.verification_store import DynamoDbVerificationBook
from otp.domain.errors import SendRefused
from otp.domain.limiter import SendRateGuard, SlidingWindowLimiter, VerifyAttemptGuard, limit_key
from otp.domain.models import Channel, PhoneNumber
from otp.domain.reasons import RejectReason
from otp.domain.verification import NO_OWNER, VerificationClosed, VerificationStart, VerifyReason
from tests.integration.protection.conftest import FakeClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NUMBER = PhoneNumber(e164="+12065550100", region="US", country_code=1)


@pytest.fixture
def book(dynamodb: DynamoDBClient, table_name: str) -> DynamoDbVerificationBook:
    return DynamoDbVerificationBook(dynamodb, table_name)


def verify_guard(
    book: DynamoDbVerificationBook, clock: FakeClock, *, per_reference: int = 5
) -> VerifyAttemptGuard:
    return VerifyAttemptGuard(book, per_reference=per_reference, clock=clock)


def refusal(guard: VerifyAttemptGuard, reference: str) -> SendRefused:
    with pytest.raises(SendRefused) as refused:
        guard.before_verify(NUMBER, reference)
    return refused.value


def closed(guard: VerifyAttemptGuard, reference: str) -> VerifyReason:
    with pytest.raises(VerificationClosed) as refused:
        guard.before_verify(NUMBER, reference)
    return refused.value.reason


def start(
    ledger: DynamoDbLimitLedger, clock: FakeClock, reference: str, *, allowed: int = 3, minutes: int = 5
) -> None:
    """Send a code's limits and its verification in one transaction, as OtpService.send does."""
    sent_ms = int(clock() * 1000)
    guard = SendRateGuard(
        SlidingWindowLimiter(ledger, clock=clock), cooldown_seconds=0, per_hour=50, per_day=50
    )
    write = VerificationStart(
        key=limit_key("verify", NUMBER.e164, reference),
        owner=NO_OWNER,
        nonce=f"n{sent_ms}",
        sent_ms=sent_ms,
        expires_ms=sent_ms + minutes * 60_000,
        channel=Channel.SMS,
        allowed_attempts=allowed,
        expires_at=sent_ms // 1000 + 86_460,
    )
    guard.before_send(NUMBER, joined=(write,))


def test_a_reference_gets_its_cap_of_attempts_then_none(
    book: DynamoDbVerificationBook, clock: FakeClock
) -> None:
    # Given the default cap of 5 attempts per reference (no code recorded: the engine decides each)
    guard = verify_guard(book, clock)
    for _ in range(5):
        assert guard.before_verify(NUMBER, "ref-a") is None
        clock.advance(1)
    # When a sixth attempt comes, even an hour later
    clock.advance(3600)
    refused = refusal(guard, "ref-a")
    # Then it is refused for this reference until the first call is a day old; another reference still has
    # its own attempts
    assert refused.reason is RejectReason.VERIFY_LIMIT_REFERENCE
    assert 86_400 - 3600 - 5 <= refused.retry_after <= 86_400 - 3600
    guard.before_verify(NUMBER, "ref-b")


def test_a_full_list_makes_room_once_its_oldest_call_is_a_day_old(
    book: DynamoDbVerificationBook, clock: FakeClock
) -> None:
    # Given a reference whose five calls were a minute apart, a day ago
    guard = verify_guard(book, clock)
    for _ in range(5):
        guard.before_verify(NUMBER, "ref-old")
        clock.advance(60)
    clock.advance(86_400 - 5 * 60 + 1)
    # When it is verified again: the first call has left the window, the other four have not
    guard.before_verify(NUMBER, "ref-old")
    # Then it is counted, and the list holds the four live calls and this one: a second call is refused
    assert book.read(limit_key("verify", NUMBER.e164, "ref-old")).calls_in_window(int(clock() * 1000)) == 5
    assert refusal(guard, "ref-old").reason is RejectReason.VERIFY_LIMIT_REFERENCE


def test_guesses_at_other_references_never_refuse_a_reference_with_attempts_left(
    book: DynamoDbVerificationBook, clock: FakeClock
) -> None:
    # Given 50 guesses at one number spread over ten references, each up to its cap, within a minute
    guard = verify_guard(book, clock)
    for index in range(10):
        for _ in range(5):
            guard.before_verify(NUMBER, f"stranger-{index}")
    # When the number's owner verifies under their own reference
    clock.advance(60)
    # Then it is allowed: only that reference's own attempts count against it
    for _ in range(5):
        guard.before_verify(NUMBER, "owner")
    assert refusal(guard, "owner").reason is RejectReason.VERIFY_LIMIT_REFERENCE


def test_concurrent_guesses_cannot_beat_the_cap(book: DynamoDbVerificationBook, clock: FakeClock) -> None:
    # Given 20 guesses at one reference fired at once on 20 threads
    guard = verify_guard(book, clock)

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


def test_concurrent_guesses_cannot_beat_the_codes_allowed_attempts(
    ledger: DynamoDbLimitLedger, book: DynamoDbVerificationBook, clock: FakeClock
) -> None:
    # Given a code the engine allows 3 attempts at, and 20 guesses fired at once
    start(ledger, clock, "ref-code", allowed=3)
    guard = verify_guard(book, clock)

    def attempt(_: int) -> VerifyReason | None:
        try:
            guard.before_verify(NUMBER, "ref-code")
        except VerificationClosed as exc:
            return exc.reason
        return None

    # When they race
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(attempt, range(20)))
    # Then 3 reach the engine and every other one is told the attempts are used up, without a call
    assert answers.count(None) == 3
    assert answers.count(VerifyReason.ATTEMPTS_EXHAUSTED) == 17
    state = book.read(limit_key("verify", NUMBER.e164, "ref-code"))
    assert state.verification is not None
    assert state.verification.attempts == 3
    assert len(state.calls_ms) == 3


def test_a_new_code_under_the_reference_gets_its_own_attempts_within_the_references_cap(
    ledger: DynamoDbLimitLedger, book: DynamoDbVerificationBook, clock: FakeClock
) -> None:
    # Given a code whose 3 attempts were spent
    start(ledger, clock, "ref-again", allowed=3)
    guard = verify_guard(book, clock)
    for _ in range(3):
        guard.before_verify(NUMBER, "ref-again")
    assert closed(guard, "ref-again") is VerifyReason.ATTEMPTS_EXHAUSTED
    # When a new code is sent under the same reference
    clock.advance(60)
    start(ledger, clock, "ref-again", allowed=3)
    # Then it may be tried again, but only up to the reference's cap of 5 calls a day in all
    guard.before_verify(NUMBER, "ref-again")
    guard.before_verify(NUMBER, "ref-again")
    assert refusal(guard, "ref-again").reason is RejectReason.VERIFY_LIMIT_REFERENCE


def test_an_expired_code_is_refused_without_counting(
    ledger: DynamoDbLimitLedger, book: DynamoDbVerificationBook, clock: FakeClock
) -> None:
    # Given a code valid for 5 minutes, tried once
    start(ledger, clock, "ref-late", minutes=5)
    guard = verify_guard(book, clock)
    guard.before_verify(NUMBER, "ref-late")
    # When it is tried at the end of its validity
    clock.advance(5 * 60)
    # Then it is expired, and the refusal counted nothing
    assert closed(guard, "ref-late") is VerifyReason.EXPIRED
    state = book.read(limit_key("verify", NUMBER.e164, "ref-late"))
    assert state.verification is not None
    assert (state.verification.attempts, len(state.calls_ms)) == (1, 1)
