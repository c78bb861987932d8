"""The budget's shares (otp/domain/shares.py) against a real DynamoDB API (moto's server, real boto3), as
an attacker would meet them: unproven numbers in all, and of one country, take at most their part of the
hourly budget, and proven numbers keep the rest. The range share has its test with the adaptive defence
(test_adaptive_defence.py); here the defence counts but never judges, so only the shares refuse."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from otp.adapters.adaptive_store import DynamoDbBlockBook
from otp.adapters.store import DynamoDbLimitLedger
from otp.domain.adaptive import AdaptiveDefence, AdaptivePolicy
from otp.domain.budget import BudgetCaps, SendBudget
from otp.domain.errors import SendBudgetExhausted, SendRefused
from otp.domain.limiter import SendRateGuard, SlidingWindowLimiter
from otp.domain.models import OtpPolicy, PhoneNumber
from otp.domain.reasons import RejectReason
from otp.domain.service import OtpService
from otp.domain.shares import BudgetShares
from tests.integration.protection.conftest import FakeClock
from tests.integration.protection.test_adaptive_defence import wired_service

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

POLICY = OtpPolicy("Acme", "+12065550199", 6, 5, 3, "en-US")
# 100 an hour: unproven numbers may take 80 (20 % kept for proven ones), of one country 50, of one
# range (country code + 3 digits) 10.
BUDGET = SendBudget(BudgetCaps(100, 1000))
SHARES = BudgetShares(reserve_percent=20, country_percent=50, range_percent=10, proven_days=30)


def british(index: int) -> PhoneNumber:
    """A different unproven GB number each time, 9 to a 3-digit range (under the range's share of 10)."""
    wide, rest = divmod(index, 9)
    return PhoneNumber(f"+447{wide:02d}{rest:07d}", "GB", 44, "MOBILE")


def american(index: int) -> PhoneNumber:
    wide, rest = divmod(index, 9)
    return PhoneNumber(f"+1{201 + wide:03d}555{rest:04d}", "US", 1, "MOBILE")


@pytest.fixture
def service(
    ledger: DynamoDbLimitLedger, dynamodb: DynamoDBClient, table_name: str, clock: FakeClock
) -> OtpService:
    limiter = SlidingWindowLimiter(ledger, clock=clock, pause=lambda _: None)
    # Counts every send as deployed, but never judges a range within these tests (as the bench does)
    defence = AdaptiveDefence(
        AdaptivePolicy(min_sends=100_000), DynamoDbBlockBook(dynamodb, table_name), clock=clock
    )
    guard = SendRateGuard(
        limiter,
        cooldown_seconds=30,
        per_hour=5,
        per_day=10,
        budget=BUDGET,
        defence=defence,
        shares=SHARES,
    )
    return wired_service(ledger, dynamodb, table_name, clock, guard=guard, defence=defence)


def pump(service: OtpService, clock: FakeClock, numbers: list[PhoneNumber]) -> tuple[int, set[str]]:
    sent = 0
    reasons: set[str] = set()
    for number in numbers:
        clock.advance(2)
        try:
            service.send(number)
            sent += 1
        except (SendRefused, SendBudgetExhausted) as exc:
            reasons.add(exc.reason)
    return sent, reasons


def proven(service: OtpService, clock: FakeClock, number: PhoneNumber) -> PhoneNumber:
    """The number verified a code: proven for 30 days."""
    outcome = service.send(number)
    assert service.verify(number, reference_id=outcome.reference_id, code="123456")
    clock.advance(31)  # past the number's cooldown
    return number


def test_unproven_numbers_of_one_country_take_at_most_its_share_and_others_are_served(
    service: OtpService, clock: FakeClock
) -> None:
    # Given a GB number that verified a code earlier (proven), then a pump of fresh GB numbers spread
    # over 3-digit ranges (each under its range's share), nobody entering its codes
    regular = proven(service, clock, british(500))
    # When it asks for 70 codes in the hour
    sent, reasons = pump(service, clock, [british(index) for index in range(70)])
    # Then it got the country's share, 50 % of 100 less the proven number's one, and no more
    assert (sent, reasons) == (49, {RejectReason.UNPROVEN_COUNTRY_SHARE})
    # And an unproven number of another country, and the proven GB number, are still served
    service.send(american(0))
    service.send(regular)


def test_unproven_numbers_in_all_take_at_most_the_unproven_part_and_proven_numbers_keep_the_rest(
    service: OtpService, clock: FakeClock
) -> None:
    # Given a proven number, then a pump over two countries, each under its country's share
    regular = proven(service, clock, american(500))
    numbers = [british(index) for index in range(45)] + [american(index) for index in range(45)]
    # When it asks for 90 codes in the hour
    sent, reasons = pump(service, clock, numbers)
    # Then it got the unproven part, 80 % of 100 less the proven number's first code (unproven then)
    assert (sent, reasons) == (79, {RejectReason.UNPROVEN_BUDGET_HOURLY})
    # And the proven number is still served from the 20 % kept for proven numbers
    service.send(regular)
    # While an unproven GB number of a range that had no code yet is refused: the part is spent
    with pytest.raises((SendRefused, SendBudgetExhausted)) as refused:
        service.send(british(600))
    assert refused.value.reason is RejectReason.UNPROVEN_BUDGET_HOURLY


def test_a_pump_that_enters_its_own_codes_gets_at_most_its_ranges_daily_share(
    service: OtpService, clock: FakeClock
) -> None:
    # Given a pump into one 3-digit range that enters a third of its own codes (attack C: never blocked
    # for its conversion, and here the defence does not judge), 12 codes an hour for 12 hours
    sent = 0
    reasons: set[str] = set()
    for hour in range(12):
        for index in range(12):
            number = PhoneNumber(f"+44770{hour:02d}{index:05d}", "GB", 44, "MOBILE")
            clock.advance(300)
            try:
                outcome = service.send(number)
            except (SendRefused, SendBudgetExhausted) as exc:
                reasons.add(exc.reason)
                continue
            sent += 1
            if index % 3 == 0:
                assert service.verify(number, reference_id=outcome.reference_id, code="123456")
    # Then it got the range's share: 10 an hour (10 % of 100), and no more than 100 in the day (10 % of
    # 1,000), whatever it entered
    assert sent == 100
    assert reasons == {RejectReason.UNPROVEN_RANGE_SHARE}
