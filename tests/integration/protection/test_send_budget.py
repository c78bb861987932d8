"""The account-wide send budget on DynamoDB (moto's server, real boto3), and through the API handler."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from otp.adapters.store import DynamoDbLimitLedger
from otp.domain.budget import BudgetCaps, SendBudget
from otp.domain.errors import SendBudgetExhausted, SendRefused
from otp.domain.limiter import SendRateGuard, SlidingWindowLimiter
from otp.domain.models import PhoneNumber
from otp.domain.reasons import RejectReason
from tests.integration.conftest import Invoke
from tests.integration.protection.conftest import Configure, FakeClock
from tests.integration.protection.test_api_protection import assert_problem, rejected_reasons

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def number(index: int, region: str = "US") -> PhoneNumber:
    if region == "GB":
        return PhoneNumber(e164=f"+4474001{index:05d}", region="GB", country_code=44, number_type="MOBILE")
    return PhoneNumber(e164=f"+1206555{index:04d}", region="US", country_code=1, number_type="MOBILE")


def guard(
    ledger: DynamoDbLimitLedger,
    clock: FakeClock,
    budget: SendBudget,
    usage: list[tuple[str, int]] | None = None,
) -> SendRateGuard:
    limiter = SlidingWindowLimiter(ledger, clock=clock, pause=lambda _: None, max_rounds=200)
    return SendRateGuard(
        limiter,
        cooldown_seconds=30,
        per_hour=5,
        per_day=10,
        budget=budget,
        report_usage=(lambda scope, percent: usage.append((scope, percent)))
        if usage is not None
        else (lambda *_: None),
    )


def test_the_budget_counts_sends_to_every_number_and_refuses_past_it(
    ledger: DynamoDbLimitLedger, clock: FakeClock
) -> None:
    # Given a budget of 3 an hour, 5 a day
    usage: list[tuple[str, int]] = []
    send = guard(ledger, clock, SendBudget(BudgetCaps(3, 5)), usage)
    # When three different numbers get a code, then a fourth asks
    for index in range(3):
        send.before_send(number(index))
    with pytest.raises(SendBudgetExhausted) as refused:
        send.before_send(number(3))
    # Then the fourth is refused for the hourly budget until the first send's bucket leaves the hour
    assert refused.value.reason is RejectReason.SEND_BUDGET_HOURLY
    assert 3600 <= refused.value.retry_after <= 3600 + 300
    assert usage == [("ALL", 33), ("ALL", 66), ("ALL", 100)]
    # and the refused number's own quota was not touched: it gets its code once the budget frees up
    clock.advance(refused.value.retry_after)
    send.before_send(number(3))
    send.before_send(number(4))
    # then the daily budget (5) refuses the sixth
    with pytest.raises(SendBudgetExhausted) as daily:
        send.before_send(number(5))
    assert daily.value.reason is RejectReason.SEND_BUDGET_DAILY


def test_a_countrys_budget_refuses_its_country_only(ledger: DynamoDbLimitLedger, clock: FakeClock) -> None:
    # Given a total of 100 an hour and 2 an hour for GB
    send = guard(ledger, clock, SendBudget(BudgetCaps(100, 1000), {"GB": BudgetCaps(2, 10)}))
    send.before_send(number(0, "GB"))
    send.before_send(number(1, "GB"))
    # When a third GB number and a US number ask
    with pytest.raises(SendBudgetExhausted) as refused:
        send.before_send(number(2, "GB"))
    send.before_send(number(2))
    # Then only GB is refused
    assert refused.value.reason is RejectReason.COUNTRY_SEND_BUDGET_HOURLY


def test_a_refusal_by_the_per_number_limits_does_not_spend_the_budget(
    ledger: DynamoDbLimitLedger, clock: FakeClock
) -> None:
    # Given a budget of 2, and one number hammered inside its cooldown
    send = guard(ledger, clock, SendBudget(BudgetCaps(2, 2)))
    send.before_send(number(0))
    for _ in range(20):
        with pytest.raises(SendRefused) as refused:
            send.before_send(number(0))
        assert refused.value.reason is RejectReason.SEND_COOLDOWN
    # When another number asks / Then the budget still has its second send
    send.before_send(number(1))


def test_a_spent_budget_is_not_read_again_until_it_can_have_room(
    dynamodb: DynamoDBClient, table_name: str, clock: FakeClock
) -> None:
    # Given a ledger that counts its reads, and a spent budget of 40 (two shards)
    reads: list[str] = []

    class CountingLedger(DynamoDbLimitLedger):
        def read(self, key: str) -> Any:
            reads.append(key)
            return super().read(key)

    send = guard(CountingLedger(dynamodb, table_name), clock, SendBudget(BudgetCaps(40, 40)))
    for index in range(40):
        send.before_send(number(index))
    with pytest.raises(SendBudgetExhausted):
        send.before_send(number(40))
    # When more numbers ask within the hour
    reads.clear()
    for index in range(41, 51):
        with pytest.raises(SendBudgetExhausted):
            send.before_send(number(index))
    # Then only their own histories were read, never the full shards
    assert all(key.startswith("send#") for key in reads)


def test_concurrent_senders_never_exceed_the_budget(ledger: DynamoDbLimitLedger, clock: FakeClock) -> None:
    # Given a budget of 45 an hour (two shards), and 120 sends to distinct numbers on 24 threads
    send = guard(ledger, clock, SendBudget(BudgetCaps(45, 45)))

    def attempt(index: int) -> str:
        try:
            send.before_send(number(index))
        except SendBudgetExhausted:
            return "budget"
        except SendRefused as refused:
            return str(refused.reason)
        return "sent"

    indexes = list(range(120))
    random.shuffle(indexes)
    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(pool.map(attempt, indexes))
    # Then exactly the budget went out: never more, and no refusal while a shard had room
    assert outcomes.count("sent") == 45
    assert outcomes.count("budget") == 75


# ------------------------------------------------------------------------------------- through the API


def test_a_spent_budget_is_a_503_with_retry_after_and_sends_nothing(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a budget of 2 codes an hour
    protect(OTP_SEND_BUDGET_PER_HOUR="2", OTP_SEND_BUDGET_PER_DAY="10")
    first = invoke("POST", "/otp", {"phoneNumber": "+12065550123"})
    invoke("POST", "/otp", {"phoneNumber": "+12065550124"})
    # When a third number asks
    result = invoke("POST", "/otp", {"phoneNumber": "+12065550125"})
    # Then 503 problem+json "send-budget-exhausted" with Retry-After, counted, and no third SMS
    body = assert_problem(result, 503, "send-budget-exhausted")
    assert "hourly SMS budget" in body["detail"]
    assert 3600 <= int(result.headers["Retry-After"]) <= 3900
    assert rejected_reasons(result) == ["SEND_BUDGET_HOURLY"]
    assert "+12065550125" not in result.telemetry.raw
    assert len(pinpoint_endpoint.emulator.outbox()) == 2
    # and each send reported how full the budget was
    [usage] = first.telemetry.metric_values("OtpSendBudgetUsed")
    assert usage["dimensions"]["Budget"] == "ALL"
    assert usage["value"] == [50.0]  # EMF holds the values of one document as a list
