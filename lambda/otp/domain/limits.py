"""Rolling-window limits as pure functions of an event history: the policy half of rate limiting.

A limit "at most N events in any W seconds" is broken exactly when the N-th most recent event is less
than W seconds old, so a history only needs the newest max(N) timestamps of its longest window. Rolling
windows (rather than calendar hours) mean "5 per hour" holds for every 60 minutes, including across
the top of the hour, and Retry-After is the exact moment the oldest counted event ages out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from otp.domain.reasons import RejectReason
from otp.domain.records import record

HOUR_SECONDS = 3600
DAY_SECONDS = 86400


@record
class WindowLimit:
    """At most ``max_events`` in any ``window_seconds``; ``detail`` is what the refused caller reads."""

    max_events: int
    window_seconds: int
    reason: RejectReason
    detail: str


@record
class LimitExceeded:
    limit: WindowLimit
    retry_after: int  # whole seconds until this limit allows one more event


def first_to_clear(
    events_ms: Sequence[int],
    now_ms: int,
    limits: Sequence[WindowLimit],
    counts: Sequence[int] = (),
) -> LimitExceeded | None:
    """The broken limit that clears last (its Retry-After clears every other one too), or None.

    ``counts`` weighs each event (a send budget keeps one entry per time bucket with its count); empty
    means every event counts once.
    """
    weighted = sorted(zip(events_ms, counts or [1] * len(events_ms), strict=True), reverse=True)
    worst: LimitExceeded | None = None
    for limit in limits:
        oldest_ms = now_ms - limit.window_seconds * 1000
        total = 0
        for event_ms, count in weighted:
            if event_ms <= oldest_ms:
                break
            total += count
            if total >= limit.max_events:
                # Broken until this event, the newest one that fills the window, ages out of it.
                clears_at_ms = event_ms + limit.window_seconds * 1000
                retry_after = max(1, math.ceil((clears_at_ms - now_ms) / 1000))
                if worst is None or retry_after > worst.retry_after:
                    worst = LimitExceeded(limit, retry_after)
                break
    return worst


def sole_event_since(events_ms: Sequence[int], since_ms: int) -> bool:
    """True when exactly one recorded event is at or after ``since_ms``."""
    return sum(1 for event_ms in events_ms if event_ms >= since_ms) == 1


def with_event(events_ms: Sequence[int], now_ms: int, limits: Sequence[WindowLimit]) -> tuple[int, ...]:
    """The history after one more event at ``now_ms``, trimmed to what the limits can still see."""
    horizon_ms = retention_seconds(limits) * 1000
    keep = max(limit.max_events for limit in limits)
    live = sorted(t for t in events_ms if t > now_ms - horizon_ms)
    return (*live, now_ms)[-keep:]


def retention_seconds(limits: Sequence[WindowLimit]) -> int:
    """How long a history matters: after its longest window it can be forgotten (DynamoDB TTL)."""
    return max(limit.window_seconds for limit in limits)


def send_limits(*, cooldown_seconds: int, per_hour: int, per_day: int) -> tuple[WindowLimit, ...]:
    """Codes sent to one number. A cooldown is simply "one per cooldown"; 0 switches it off."""
    limits = [
        WindowLimit(
            per_hour,
            HOUR_SECONDS,
            RejectReason.SEND_LIMIT_HOURLY,
            f"too many codes for this number: at most {per_hour} per hour",
        ),
        WindowLimit(
            per_day,
            DAY_SECONDS,
            RejectReason.SEND_LIMIT_DAILY,
            f"too many codes for this number: at most {per_day} per day",
        ),
    ]
    if cooldown_seconds > 0:
        limits.insert(
            0,
            WindowLimit(
                1,
                cooldown_seconds,
                RejectReason.SEND_COOLDOWN,
                f"a code was sent to this number less than {cooldown_seconds} seconds ago",
            ),
        )
    return tuple(limits)


def open_part_limits(*, per_day: int, reserve: int) -> tuple[WindowLimit, ...]:
    """Codes to one number without a device ticket: the daily cap less its reserve (none if no reserve)."""
    if reserve <= 0:
        return ()
    return (
        WindowLimit(
            per_day - reserve,
            DAY_SECONDS,
            RejectReason.SEND_LIMIT_DAILY_OPEN,
            f"too many codes for this number: at most {per_day - reserve} per day, the other {reserve} are "
            "kept for devices that signed in on it before",
        ),
    )


def verify_reference_limits(per_reference: int) -> tuple[WindowLimit, ...]:
    """Guesses at one code. The window outlives any code (Pinpoint's maximum validity is 60 minutes)."""
    return (
        WindowLimit(
            per_reference,
            DAY_SECONDS,
            RejectReason.VERIFY_LIMIT_REFERENCE,
            f"too many verification attempts for this reference: at most {per_reference}",
        ),
    )
