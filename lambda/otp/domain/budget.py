"""The account-wide send budget: at most N codes in any rolling hour and any rolling day, in all and per
country, whatever numbers they go to and through whichever door (HTTP API or Cognito sign-in).

How it holds under concurrency without one hot DynamoDB item:

- **Shards.** A budget of N is split over S items (``budget#<scope>#<i>``), shard i allowing its share
  ``N // S`` (+1 for the first ``N % S`` shards), so the shares add up to exactly N. A send is charged
  to one shard, tried in a random order: the first with room takes it, with the same compare-and-set
  as the per-number limits (and in the same transaction, so a refused request records nothing
  anywhere). Concurrent sends mostly touch different shards; a shard that is full is remembered by the
  container until it can have room again, so a spent budget costs no reads.
- **Buckets.** A shard keeps counts per time bucket, not one timestamp per send: each send is recorded
  at the *end* of its five-minute bucket, and buckets older than an hour are merged into the end of
  their hour. A recorded time is never earlier than the send, so a send is never forgotten early.

What is guaranteed: **never more than N** in any rolling window, under any concurrency: every shard
stays within its share in every window it checks, the shares sum to N, and each send is counted at
or after its real time. What that costs: a budget may **refuse slightly early** - a send counts for
up to 5 minutes longer against the hourly budget and up to an hour longer against the daily one than
an exact rolling window would count it, and under heavy contention a request can lose every
compare-and-set round and be refused (``LIMIT_CONTENTION``, Retry-After 1). It never refuses while a
shard has room because another is full: every shard is tried before a refusal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import field

from otp.domain.limits import DAY_SECONDS, HOUR_SECONDS, WindowLimit
from otp.domain.reasons import RejectReason
from otp.domain.records import record

FINE_BUCKET_MS = 5 * 60 * 1000
COARSE_BUCKET_MS = HOUR_SECONDS * 1000
_HOUR_MS = HOUR_SECONDS * 1000
_DAY_MS = DAY_SECONDS * 1000
# One shard absorbs about a hundred compare-and-set writes a second; eight cover any stage throttle
# this stack allows by default many times over. Fewer shards for small budgets, so that each shard's
# share stays at least this many sends an hour (a share of 0 would refuse everything sent to it).
MAX_SHARDS = 8
MIN_HOURLY_SHARE = 20
KEY_PREFIX = "budget"
TOTAL_SCOPE = "ALL"


@record
class BudgetCaps:
    per_hour: int
    per_day: int


@record
class SendBudget:
    """The deployment's budgets: ``total`` for every send, ``by_country`` for sends to one country."""

    total: BudgetCaps
    by_country: Mapping[str, BudgetCaps] = field(default_factory=dict)


@record
class Shard:
    """One item of a sharded budget and the share of each window it may take."""

    key: str
    limits: tuple[WindowLimit, ...]


@record
class ShardedBudget:
    """A budget split over shards; ``scope`` is ``ALL`` or an ISO country code (the metric's dimension)."""

    scope: str
    shards: tuple[Shard, ...]
    # Whether its use is a metric (OtpSendBudgetUsed by Budget): the total's and the countries' are;
    # the unproven shares' (otp/domain/shares.py), one per range, are not (too many dimension values).
    reported: bool = True


def shard_count(caps: BudgetCaps) -> int:
    return max(1, min(MAX_SHARDS, caps.per_hour // MIN_HOURLY_SHARE))


def _share(total: int, shards: int, index: int) -> int:
    return total // shards + (1 if index < total % shards else 0)


def sharded(
    scope: str,
    caps: BudgetCaps,
    *,
    reasons: tuple[RejectReason, RejectReason] | None = None,
    whose: str | None = None,
    reported: bool = True,
) -> ShardedBudget:
    """The shards of one budget, each with its share of the hourly and the daily cap."""
    count = shard_count(caps)
    if whose is None:
        whose = "the service's" if scope == TOTAL_SCOPE else f"this service's {scope}"
    hourly, daily = reasons or (
        (RejectReason.SEND_BUDGET_HOURLY, RejectReason.SEND_BUDGET_DAILY)
        if scope == TOTAL_SCOPE
        else (RejectReason.COUNTRY_SEND_BUDGET_HOURLY, RejectReason.COUNTRY_SEND_BUDGET_DAILY)
    )
    return ShardedBudget(
        reported=reported,
        scope=scope,
        shards=tuple(
            Shard(
                key=f"{KEY_PREFIX}#{scope}#{index}",
                limits=(
                    WindowLimit(
                        _share(caps.per_hour, count, index),
                        HOUR_SECONDS,
                        hourly,
                        f"{whose} hourly SMS budget is spent; no code was sent",
                    ),
                    WindowLimit(
                        _share(caps.per_day, count, index),
                        DAY_SECONDS,
                        daily,
                        f"{whose} daily SMS budget is spent; no code was sent",
                    ),
                ),
            )
            for index in range(count)
        ),
    )


def budgets_for(budget: SendBudget, country: str) -> tuple[ShardedBudget, ...]:
    """The budgets one send to ``country`` is charged to: the total, and the country's if it has one."""
    scopes = [sharded(TOTAL_SCOPE, budget.total)]
    if country in budget.by_country:
        scopes.append(sharded(country, budget.by_country[country]))
    return tuple(scopes)


def with_bucketed_event(
    events_ms: Sequence[int], counts: Sequence[int], now_ms: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The shard's buckets after one more send at ``now_ms``, merged and trimmed (see the module doc)."""
    buckets: dict[int, int] = {}
    fine_end = math.ceil(now_ms / FINE_BUCKET_MS) * FINE_BUCKET_MS
    for event_ms, count in [*zip(events_ms, counts, strict=True), (fine_end, 1)]:
        if event_ms <= now_ms - _DAY_MS:
            continue  # outside every window, for good
        coarse_end = math.ceil(event_ms / COARSE_BUCKET_MS) * COARSE_BUCKET_MS
        # Merged into its hour only once the whole hour bucket is out of the hourly window: moving a
        # count later in time must never bring it back into a window it has left.
        at = coarse_end if coarse_end <= now_ms - _HOUR_MS else event_ms
        buckets[at] = buckets.get(at, 0) + count
    ordered = sorted(buckets.items())
    return tuple(at for at, _ in ordered), tuple(count for _, count in ordered)


def used_percent(events_ms: Sequence[int], counts: Sequence[int], now_ms: int, shard: Shard) -> int:
    """How full the shard is, in percent of its fullest window: the budget-usage metric's value."""
    fullest = 0.0
    for limit in shard.limits:
        oldest_ms = now_ms - limit.window_seconds * 1000
        used = sum(count for event_ms, count in zip(events_ms, counts, strict=True) if event_ms > oldest_ms)
        fullest = max(fullest, used / limit.max_events)
    return min(100, math.floor(fullest * 100))
