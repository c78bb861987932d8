"""The adaptive defence against a real DynamoDB API (moto's server, real boto3): what a protected send and
a verify cost in calls, and a pump blocked while real users are served, as an attacker would try it."""

from __future__ import annotations

import contextlib
import datetime
from typing import TYPE_CHECKING

import pytest

from otp.adapters.adaptive_store import DynamoDbBlockBook
from otp.adapters.store import PARTITION_KEY, DynamoDbLimitLedger
from otp.adapters.verification_store import DynamoDbVerificationBook
from otp.domain.adaptive import HOUR_MS, AdaptiveDefence, AdaptivePolicy, RangeSuspended, block_key
from otp.domain.budget import BudgetCaps, SendBudget
from otp.domain.errors import SendBudgetExhausted, SendRefused
from otp.domain.limiter import SendRateGuard, SlidingWindowLimiter, VerifyAttemptGuard
from otp.domain.models import OtpPolicy, PhoneNumber
from otp.domain.ports import RangeBlock
from otp.domain.reasons import RejectReason
from otp.domain.service import OtpService
from otp.domain.shares import BudgetShares, ProvenNumbers
from tests.integration.protection.conftest import CallLog, FakeClock
from tests.integration.protection.test_joined_writes import AnsweringGateway, QuietObserver

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REAL = PhoneNumber("+12065550100", "US", 1, "MOBILE")
POLICY = OtpPolicy("Acme", "+12065550199", 6, 5, 3, "en-US")


def pumped(index: int, prefix: str = "+4477009") -> PhoneNumber:
    """A number of the pumped range: the attacker's numbers are all different."""
    national = prefix[3:] + f"{index:0{13 - len(prefix)}d}"
    return PhoneNumber(f"+44{national}", "GB", 44, "MOBILE")


class Blocks:
    def __init__(self) -> None:
        self.seen: list[tuple[RangeBlock, str]] = []

    def __call__(self, block: RangeBlock, country: str) -> None:
        self.seen.append((block, country))


@pytest.fixture
def blocks() -> Blocks:
    return Blocks()


@pytest.fixture
def service(
    ledger: DynamoDbLimitLedger, dynamodb: DynamoDBClient, table_name: str, clock: FakeClock, blocks: Blocks
) -> OtpService:
    """A service wired as otp.wiring wires it, on moto, with a fake clock and an engine that says yes to
    123456."""
    limiter = SlidingWindowLimiter(ledger, clock=clock, pause=lambda _: None)
    defence = AdaptiveDefence(
        AdaptivePolicy(), DynamoDbBlockBook(dynamodb, table_name), report=blocks, clock=clock
    )
    shares = BudgetShares(reserve_percent=20, country_percent=50, range_percent=10, proven_days=30)
    guard = SendRateGuard(
        limiter,
        cooldown_seconds=30,
        per_hour=5,
        per_day=10,
        reserve_per_day=4,
        budget=SendBudget(BudgetCaps(500, 2000), {"GB": BudgetCaps(400, 1600)}),
        defence=defence,
        shares=shares,
    )
    return wired_service(ledger, dynamodb, table_name, clock, guard=guard, defence=defence)


def wired_service(
    ledger: DynamoDbLimitLedger,
    dynamodb: DynamoDBClient,
    table_name: str,
    clock: FakeClock,
    *,
    guard: SendRateGuard,
    defence: AdaptiveDefence,
) -> OtpService:
    """The service around ``guard`` and ``defence`` as otp.wiring wires it: verify caps and lifecycle on
    the table, the defence's counters on sends and right codes, and right codes proving their number."""
    book = DynamoDbVerificationBook(dynamodb, table_name)
    return OtpService(
        gateway=AnsweringGateway(),
        policy=POLICY,
        allowed_countries={"US", "GB"},
        observer=QuietObserver(),
        send_guards=[guard],
        verify_guards=[VerifyAttemptGuard(book, per_reference=5, clock=clock)],
        send_records=[defence],
        verify_records=[defence, ProvenNumbers(30, lambda: int(clock() * 1000))],
        record_store=ledger,
        verifications=book,
        clock=lambda: datetime.datetime.fromtimestamp(clock(), datetime.UTC),
    )


def test_a_protected_send_makes_two_dynamodb_calls_and_a_verify_two(
    service: OtpService, dynamodb: DynamoDBClient
) -> None:
    # Given every protection on: per-number limits and reserve, the budget and a country's, the shares,
    # the adaptive counters and blocks, the verification's lifecycle
    calls = CallLog(dynamodb)
    # When a code is sent, then verified
    service.send(REAL, reference_id="ref-1")
    send_calls = calls.take()
    assert service.verify(REAL, reference_id="ref-1", code="123456")
    verify_calls = calls.take()
    # Then each made two calls: one read and one all-or-nothing write; one update and one write
    assert send_calls == ["BatchGetItem", "TransactWriteItems"]
    assert verify_calls == ["UpdateItem", "TransactWriteItems"]


def test_a_pump_into_one_range_is_blocked_after_five_codes_and_a_real_user_is_still_served(
    service: OtpService, dynamodb: DynamoDBClient, table_name: str, clock: FakeClock, blocks: Blocks
) -> None:
    # Given a pump: a different number of one range every few seconds, none ever verified
    sent = 0
    refused: list[SendRefused] = []
    for index in range(60):
        clock.advance(5)
        try:
            service.send(pumped(index))
            sent += 1
        except SendRefused as exc:
            refused.append(exc)
    # Then 5 codes went out, and every later one was refused as a suspended range, nothing sent
    assert sent == 5
    assert {exc.reason for exc in refused} == {RejectReason.PREFIX_SUSPENDED}
    assert all(isinstance(exc, RangeSuspended) for exc in refused)
    assert len(blocks.seen) == 1
    block, country = blocks.seen[0]
    assert (block.prefix, country, block.sends, block.verified) == ("+4477009", "GB", 5, 0)
    item = dynamodb.get_item(TableName=table_name, Key={PARTITION_KEY: {"S": block_key("+4477009")}})["Item"]
    assert int(item["until"]["N"]) - int(item["since"]["N"]) == HOUR_MS
    # And a real user elsewhere, and in the same wider range, still gets codes and verifies
    outcome = service.send(REAL)
    assert service.verify(REAL, reference_id=outcome.reference_id, code="123456")
    service.send(pumped(1, prefix="+4477011"))


def test_a_range_that_pumps_again_after_its_block_is_blocked_on_two_codes_for_four_hours(
    service: OtpService, dynamodb: DynamoDBClient, table_name: str, clock: FakeClock, blocks: Blocks
) -> None:
    # Given a range blocked for an hour after 5 codes nobody entered
    for index in range(6):
        clock.advance(5)
        with contextlib.suppress(RangeSuspended):
            service.send(pumped(index))
    assert len(blocks.seen) == 1
    # When the pump comes back as the block ends
    clock.advance(3600)
    sent = 0
    for index in range(100, 110):
        clock.advance(5)
        try:
            service.send(pumped(index))
            sent += 1
        except RangeSuspended:
            pass
    # Then two codes went out before the next, longer block
    assert sent == 2
    second = blocks.seen[-1][0]
    assert (second.sends, second.offences, second.until_ms - second.since_ms) == (2, 2, 4 * HOUR_MS)


def test_a_blocked_attempt_costs_no_write_and_a_known_block_one_read(
    service: OtpService, dynamodb: DynamoDBClient, clock: FakeClock
) -> None:
    for index in range(5):
        clock.advance(5)
        service.send(pumped(index))
    calls = CallLog(dynamodb)
    clock.advance(5)
    with pytest.raises(RangeSuspended):
        service.send(pumped(100))  # imposes the block (its evidence off the wider range): one read, one write
    assert calls.take() == ["BatchGetItem", "TransactWriteItems"]
    clock.advance(5)
    with pytest.raises(RangeSuspended):
        service.send(pumped(101))  # known: no counters read, but the number's proven mark is
    assert calls.take() == ["BatchGetItem"]


def test_a_proven_number_in_a_blocked_range_is_still_served(
    service: OtpService, clock: FakeClock, blocks: Blocks
) -> None:
    # Given a user of +4477009 who verified a code yesterday
    regular = pumped(999)
    outcome = service.send(regular)
    assert service.verify(regular, reference_id=outcome.reference_id, code="123456")
    clock.advance(86_400)
    # And a pump that got the range blocked since
    for index in range(6):
        clock.advance(5)
        with contextlib.suppress(RangeSuspended):
            service.send(pumped(index))
    assert [block.prefix for block, _ in blocks.seen] == ["+4477009"]
    # When the user signs in again, then the code goes out, while a stranger of the range is refused
    service.send(regular)
    with pytest.raises(RangeSuspended):
        service.send(pumped(500))


def test_a_range_whose_users_enter_their_codes_is_never_blocked(
    service: OtpService, clock: FakeClock
) -> None:
    # Given 45 codes to one range in an hour (nine times the block's evidence, within the range's
    # unproven share), one in six never entered: real users convert about 85 %
    for index in range(45):
        clock.advance(60)
        outcome = service.send(pumped(index))
        if index % 6:
            assert service.verify(pumped(index), reference_id=outcome.reference_id, code="123456")
    # Then the next one still goes out
    clock.advance(60)
    service.send(pumped(45))


def test_the_unproven_range_share_caps_a_pump_the_blocks_do_not_see_and_spares_proven_numbers(
    service: OtpService, clock: FakeClock
) -> None:
    # Given a pump spread over many 5-digit ranges of one 3-digit range, each below the block's evidence
    # (it verifies 1 in 10 of its own codes, so no range's conversion falls below 5 %)
    sent = 0
    refusals: set[str] = set()
    for index in range(120):
        clock.advance(2)
        number = pumped(index, prefix=f"+44770{index % 60:02d}")
        try:
            outcome = service.send(number)
            sent += 1
            if index % 10 == 0:
                service.verify(number, reference_id=outcome.reference_id, code="123456")
        except (SendRefused, SendBudgetExhausted) as exc:
            refusals.add(exc.reason)
    # Then it got at most the range's share of the hourly budget: 10 % of 500
    assert sent == 50
    assert refusals == {RejectReason.UNPROVEN_RANGE_SHARE}
    # And a number of that range that verified lately (proven) is still served: it draws on the rest
    proven = pumped(0, prefix="+4477000")
    clock.advance(60)
    service.send(proven)
