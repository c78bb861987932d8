"""Per-number send limits: the domain guard on the DynamoDB adapter, real boto3 against moto's server.

Time is a fake clock injected into the guard: windows of an hour and a day are crossed instantly.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from otp.adapters.store import DynamoDbLimitLedger
from otp.domain.errors import PROTECTION_STORE_UNAVAILABLE, SendRefused, UpstreamError
from otp.domain.limiter import SendRateGuard, SlidingWindowLimiter, limit_key
from otp.domain.models import PhoneNumber
from otp.domain.reasons import RejectReason
from tests.integration.protection.conftest import FakeClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NUMBER = PhoneNumber(e164="+12065550100", region="US", country_code=1)
OTHER_NUMBER = PhoneNumber(e164="+12065550111", region="US", country_code=1)


def send_guard(
    ledger: DynamoDbLimitLedger, clock: FakeClock, *, cooldown: int = 30, per_hour: int = 5, per_day: int = 10
) -> SendRateGuard:
    limiter = SlidingWindowLimiter(ledger, clock=clock, pause=lambda _: None)
    return SendRateGuard(limiter, cooldown_seconds=cooldown, per_hour=per_hour, per_day=per_day)


def refusal(guard: SendRateGuard, number: PhoneNumber = NUMBER) -> SendRefused:
    with pytest.raises(SendRefused) as refused:
        guard.before_send(number)
    return refused.value


def test_the_cooldown_refuses_a_second_code_with_the_seconds_left(
    ledger: DynamoDbLimitLedger, clock: FakeClock
) -> None:
    # Given a code just sent to a number
    guard = send_guard(ledger, clock)
    guard.before_send(NUMBER)
    # When another is asked for 12 s later
    clock.advance(12)
    refused = refusal(guard)
    # Then it is refused with the seconds left; another number is not affected
    assert refused.reason is RejectReason.SEND_COOLDOWN
    assert refused.retry_after == 18
    guard.before_send(OTHER_NUMBER)
    # and once the cooldown is over, a code can be sent again
    clock.advance(18)
    guard.before_send(NUMBER)


def test_the_hourly_cap_holds_for_any_sixty_minutes(ledger: DynamoDbLimitLedger, clock: FakeClock) -> None:
    # Given five codes, each after the cooldown
    guard = send_guard(ledger, clock)
    for _ in range(5):
        guard.before_send(NUMBER)
        clock.advance(30)
    # When a sixth is asked for 150 s after the first
    refused = refusal(guard)
    # Then the hourly cap refuses it until the first code is an hour old
    assert refused.reason is RejectReason.SEND_LIMIT_HOURLY
    assert refused.retry_after == 3600 - 150
    clock.advance(3600 - 150 - 1)
    assert refusal(guard).retry_after == 1
    clock.advance(1)
    guard.before_send(NUMBER)


def test_the_daily_cap_holds_across_hours(ledger: DynamoDbLimitLedger, clock: FakeClock) -> None:
    # Given five codes in each of two hours
    guard = send_guard(ledger, clock)
    for _hour in range(2):
        for _ in range(5):
            guard.before_send(NUMBER)
            clock.advance(60)
        clock.advance(3600)
    # When an eleventh is asked for, with the hourly cap clear again
    refused = refusal(guard)
    # Then the daily cap refuses it until the first code is a day old
    assert refused.reason is RejectReason.SEND_LIMIT_DAILY
    elapsed = 2 * (5 * 60 + 3600)
    assert refused.retry_after == 86400 - elapsed
    clock.advance(refused.retry_after)
    guard.before_send(NUMBER)


def test_a_refused_request_uses_up_nothing(
    ledger: DynamoDbLimitLedger, clock: FakeClock, dynamodb: DynamoDBClient, table_name: str
) -> None:
    # Given one code sent, then a burst of refused requests during the cooldown
    guard = send_guard(ledger, clock)
    guard.before_send(NUMBER)
    for _ in range(10):
        clock.advance(1)
        refusal(guard)
    # When the stored history is read back
    history = ledger.read(limit_key("send", NUMBER.e164))
    # Then it holds the one send only, and the next code is allowed 30 s after it
    assert len(history.events_ms) == 1
    clock.advance(20)
    guard.before_send(NUMBER)


def test_the_table_holds_no_phone_number_and_every_item_expires(
    ledger: DynamoDbLimitLedger, clock: FakeClock, dynamodb: DynamoDBClient, table_name: str
) -> None:
    # Given codes sent to two numbers
    guard = send_guard(ledger, clock)
    guard.before_send(NUMBER)
    guard.before_send(OTHER_NUMBER)
    # When the whole table is read
    items = dynamodb.scan(TableName=table_name)["Items"]
    # Then keys are hashes, no number appears anywhere, and each item has a TTL a day after its send
    assert len(items) == 2
    assert all(item["pk"]["S"].startswith("send#") for item in items)
    dump = str(items)
    for number in (NUMBER, OTHER_NUMBER):
        assert number.e164 not in dump
        assert number.e164[1:] not in dump
    assert all(int(item["expiration"]["N"]) >= clock() + 86400 for item in items)
    ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    assert ttl.get("AttributeName") == "expiration"


@pytest.mark.parametrize(("cooldown", "allowed"), [(30, 1), (0, 5)])
def test_concurrent_requests_cannot_exceed_the_limits(
    ledger: DynamoDbLimitLedger, clock: FakeClock, cooldown: int, allowed: int
) -> None:
    # Given a fresh number and 20 requests for it at the same moment, on 20 threads
    guard = send_guard(ledger, clock, cooldown=cooldown)

    def attempt(_: int) -> SendRefused | None:
        try:
            guard.before_send(NUMBER)
        except SendRefused as refused:
            return refused
        return None

    # When they all race
    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    # Then exactly the allowed number got through (one with the cooldown, the hourly cap without),
    # and every other was refused by a limit (not by the contention), with a Retry-After
    refusals = [outcome for outcome in outcomes if outcome is not None]
    assert len(outcomes) - len(refusals) == allowed
    expected = RejectReason.SEND_COOLDOWN if cooldown else RejectReason.SEND_LIMIT_HOURLY
    assert {refused.reason for refused in refusals} == {expected}
    assert all(refused.retry_after >= 1 for refused in refusals)
    assert len(ledger.read(limit_key("send", NUMBER.e164)).events_ms) == allowed


def test_without_its_table_the_guard_fails_closed(dynamodb: DynamoDBClient, clock: FakeClock) -> None:
    # Given a ledger on a table that does not exist
    guard = send_guard(DynamoDbLimitLedger(dynamodb, "no-such-table"), clock)
    # When a send is checked
    with pytest.raises(UpstreamError) as error:
        guard.before_send(NUMBER)
    # Then it is stopped with the store's error code, so nothing can be sent unprotected
    assert error.value.code == PROTECTION_STORE_UNAVAILABLE
