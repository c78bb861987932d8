"""The rolling-window policy: pure functions of a history and "now"."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from otp.domain.limits import (
    DAY_SECONDS,
    HOUR_SECONDS,
    first_to_clear,
    send_limits,
    verify_reference_limits,
    with_event,
)
from otp.domain.reasons import RejectReason

T0 = 1_800_000_000_000  # epoch milliseconds
SECOND = 1000
DEFAULTS = send_limits(cooldown_seconds=30, per_hour=5, per_day=10)


def test_an_empty_history_allows_a_send() -> None:
    assert first_to_clear((), T0, DEFAULTS) is None


def test_the_cooldown_refuses_until_its_last_millisecond_and_says_how_long() -> None:
    # Given one send at T0
    history = (T0,)
    # When asked 10 s and 29.5 s later, then exactly 30 s later
    at_10 = first_to_clear(history, T0 + 10 * SECOND, DEFAULTS)
    at_29_5 = first_to_clear(history, T0 + 29_500, DEFAULTS)
    at_30 = first_to_clear(history, T0 + 30 * SECOND, DEFAULTS)
    # Then the cooldown refuses with the seconds left (rounded up), and is over at 30 s
    assert at_10 is not None
    assert at_10.limit.reason is RejectReason.SEND_COOLDOWN
    assert at_10.retry_after == 20
    assert at_29_5 is not None
    assert at_29_5.retry_after == 1
    assert at_30 is None


def test_the_hourly_cap_is_rolling_not_per_clock_hour() -> None:
    # Given five sends 30 s apart, the last ones just before the top of an hour
    history = tuple(T0 + i * 30 * SECOND for i in range(5))
    # When a sixth is asked for 31 s after the fifth, and again one hour after the first
    refused = first_to_clear(history, T0 + 151 * SECOND, DEFAULTS)
    allowed = first_to_clear(history, T0 + HOUR_SECONDS * SECOND, DEFAULTS)
    # Then it is refused until the first send is an hour old, then allowed
    assert refused is not None
    assert refused.limit.reason is RejectReason.SEND_LIMIT_HOURLY
    assert refused.retry_after == HOUR_SECONDS - 151
    assert allowed is None


def test_the_daily_cap_reports_the_limit_that_clears_last() -> None:
    # Given ten sends spread over two hours (five per hour)
    history = tuple(T0 + i * 60 * SECOND for i in range(5)) + tuple(
        T0 + HOUR_SECONDS * SECOND + i * 60 * SECOND for i in range(5)
    )
    # When an eleventh is asked for two hours after the first
    now = T0 + 2 * HOUR_SECONDS * SECOND
    refused = first_to_clear(history, now, DEFAULTS)
    # Then the day cap refuses, until the first send is a day old
    assert refused is not None
    assert refused.limit.reason is RejectReason.SEND_LIMIT_DAILY
    assert refused.retry_after == DAY_SECONDS - 2 * HOUR_SECONDS


def test_a_cooldown_of_zero_is_no_cooldown() -> None:
    limits = send_limits(cooldown_seconds=0, per_hour=5, per_day=10)
    assert all(limit.reason is not RejectReason.SEND_COOLDOWN for limit in limits)
    assert first_to_clear((T0,), T0, limits) is None


def test_a_history_keeps_only_what_the_limits_can_see() -> None:
    # Given an old event (older than a day) and twelve recent ones
    old = T0 - (DAY_SECONDS + 1) * SECOND
    recent = tuple(T0 + i * SECOND for i in range(12))
    # When one more is recorded
    history = with_event((old, *recent), T0 + 20 * SECOND, DEFAULTS)
    # Then the old one is gone and only the newest ten (the largest cap) remain, newest last
    assert old not in history
    assert len(history) == 10
    assert history[-1] == T0 + 20 * SECOND


def test_verify_limits_name_their_reasons() -> None:
    assert verify_reference_limits(5)[0].reason is RejectReason.VERIFY_LIMIT_REFERENCE


@settings(max_examples=60, deadline=None)
@given(
    cooldown=st.integers(0, 120),
    per_hour=st.integers(1, 8),
    extra_per_day=st.integers(0, 8),
    gaps=st.lists(st.integers(0, 2 * HOUR_SECONDS * SECOND), min_size=1, max_size=80),
)
def test_following_the_policy_never_exceeds_any_limit_in_any_window(
    cooldown: int, per_hour: int, extra_per_day: int, gaps: list[int]
) -> None:
    # Given a client that asks at arbitrary moments and the policy that records only allowed sends
    limits = send_limits(cooldown_seconds=cooldown, per_hour=per_hour, per_day=per_hour + extra_per_day)
    history: tuple[int, ...] = ()
    allowed: list[int] = []
    now = T0
    for gap in gaps:
        now += gap
        # When each request is decided
        if first_to_clear(history, now, limits) is None:
            history = with_event(history, now, limits)
            allowed.append(now)
    # Then no window of any limit, anchored at any allowed send, holds more than its cap
    for limit in limits:
        window = limit.window_seconds * SECOND
        for start in allowed:
            assert sum(1 for t in allowed if start <= t < start + window) <= limit.max_events
