"""The send budget's policy: shards, shares and buckets, as pure functions of a history and "now"."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from otp.domain.budget import (
    MAX_SHARDS,
    BudgetCaps,
    SendBudget,
    budgets_for,
    shard_count,
    sharded,
    used_percent,
    with_bucketed_event,
)
from otp.domain.limits import first_to_clear
from otp.domain.reasons import RejectReason

T0 = 1_800_000_000_000
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def test_the_shares_add_up_to_the_budget_exactly() -> None:
    for per_hour, per_day in [(1, 1), (19, 19), (20, 100), (500, 2000), (1001, 24_007), (10**6, 10**7)]:
        budget = sharded("ALL", BudgetCaps(per_hour, per_day))
        hourly = [shard.limits[0].max_events for shard in budget.shards]
        daily = [shard.limits[1].max_events for shard in budget.shards]
        assert (sum(hourly), sum(daily)) == (per_hour, per_day)
        assert min(hourly) >= 1
        assert 1 <= len(budget.shards) <= MAX_SHARDS
        assert len({shard.key for shard in budget.shards}) == len(budget.shards)


def test_small_budgets_have_one_shard_and_the_default_has_eight() -> None:
    assert shard_count(BudgetCaps(10, 100)) == 1
    assert shard_count(BudgetCaps(500, 2000)) == 8


def test_a_send_is_charged_to_the_total_and_to_its_countrys_budget_only() -> None:
    budget = SendBudget(total=BudgetCaps(500, 2000), by_country={"GB": BudgetCaps(50, 200)})
    assert [b.scope for b in budgets_for(budget, "GB")] == ["ALL", "GB"]
    assert [b.scope for b in budgets_for(budget, "US")] == ["ALL"]
    gb = budgets_for(budget, "GB")[1]
    assert {shard.limits[0].reason for shard in gb.shards} == {RejectReason.COUNTRY_SEND_BUDGET_HOURLY}
    assert all(shard.key.startswith("budget#GB#") for shard in gb.shards)


def test_a_send_is_recorded_no_earlier_than_it_happened() -> None:
    # Given a send in the middle of a five-minute bucket
    events, counts = with_bucketed_event((), (), T0 + 90_000)
    # Then it is recorded at the end of its bucket, not before
    assert counts == (1,)
    assert events[0] >= T0 + 90_000
    assert events[0] - (T0 + 90_000) < 5 * MINUTE


def test_old_buckets_merge_into_their_hour_only_once_out_of_the_hourly_window() -> None:
    # Given sends spread over three hours, one every ten minutes
    events: tuple[int, ...] = ()
    counts: tuple[int, ...] = ()
    for step in range(18):
        events, counts = with_bucketed_event(events, counts, T0 + step * 10 * MINUTE)
    now = T0 + 17 * 10 * MINUTE
    # Then nothing was lost, the history stays short, and the last hour is still counted at fine grain
    assert sum(counts) == 18
    assert len(events) < 18
    in_last_hour = sum(c for e, c in zip(events, counts, strict=True) if e > now - HOUR)
    assert in_last_hour >= 6
    # And a day later everything has aged out
    events, counts = with_bucketed_event(events, counts, now + DAY + HOUR)
    assert (events, counts) == ((events[-1],), (1,))


def test_usage_is_the_fullest_window_in_percent() -> None:
    shard = sharded("ALL", BudgetCaps(10, 40)).shards[0]
    events, counts = with_bucketed_event((), (), T0)
    for _ in range(4):
        events, counts = with_bucketed_event(events, counts, T0)
    assert used_percent(events, counts, T0, shard) == 50  # 5 of 10 this hour, 5 of 40 today


@settings(max_examples=80, deadline=None)
@given(
    per_hour=st.integers(1, 12),
    extra_per_day=st.integers(0, 30),
    gaps=st.lists(st.integers(0, 3 * HOUR), min_size=1, max_size=150),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_budget_is_never_exceeded_in_any_window_and_only_refuses_when_every_shard_is_full(
    per_hour: int, extra_per_day: int, gaps: list[int], seed: int
) -> None:
    # Given a sharded budget, and sends attempted at arbitrary moments, each charged to the first shard
    # (in a random order) that has room, exactly as the limiter does
    caps = BudgetCaps(per_hour * 10, per_hour * 10 + extra_per_day)
    budget = sharded("ALL", caps)
    shuffle = random.Random(seed).shuffle
    state: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
        shard.key: ((), ()) for shard in budget.shards
    }
    sent: list[int] = []
    now = T0
    for gap in gaps:
        now += gap
        order = list(budget.shards)
        shuffle(order)
        for shard in order:
            events, counts = state[shard.key]
            if first_to_clear(events, now, shard.limits, counts) is None:
                state[shard.key] = with_bucketed_event(events, counts, now)
                sent.append(now)
                break
        else:
            # Refused: then the exact rolling windows hold at least the budget minus what the buckets
            # may still count (sends up to 5 minutes / an hour older than the window)
            in_hour_late = sum(1 for t in sent if t > now - HOUR - 5 * MINUTE)
            in_day_late = sum(1 for t in sent if t > now - DAY - HOUR)
            assert in_hour_late >= caps.per_hour or in_day_late >= caps.per_day
    # Then in every rolling hour and day (ending at any send), the real sends never exceed the budget
    for end in sent:
        assert sum(1 for t in sent if end - HOUR < t <= end) <= caps.per_hour
        assert sum(1 for t in sent if end - DAY < t <= end) <= caps.per_day
