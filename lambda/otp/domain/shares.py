"""The budget kept for people who prove themselves, and the share one country or range may take.

A number that verified a code within ``proven_days`` (``proven#`` item, written in the verification's
one request) or a send with a valid device ticket is *proven*; every other send is *unproven* and is
charged, besides the send budget, to three more sharded budgets (otp/domain/budget.py) in the same
commit: unproven sends in all (the budget less ``reserve_percent``), of the number's country
(``country_percent`` of the budget) and of its range, the country code and 3 digits (``range_percent``).
So a pump, which proves nothing, can spend at most the unproven part, and at most a range's share of it
in any one range; returning users keep the reserve whatever it does. The shares are read with the rest
of the send's one read (the candidate shards and the ``proven#`` item).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from otp.domain.adaptive import ProvenMark, ranges_of
from otp.domain.budget import BudgetCaps, ShardedBudget, sharded
from otp.domain.keys import limit_key
from otp.domain.models import PhoneNumber, RequestSource
from otp.domain.ports import Counters, JoinedWrite
from otp.domain.reasons import RejectReason

UNPROVEN_SCOPE = "UNPROVEN"
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class BudgetShares:
    reserve_percent: int = 20
    country_percent: int = 50
    range_percent: int = 10
    proven_days: int = 30

    @property
    def enabled(self) -> bool:
        return self.reserve_percent > 0 or self.country_percent < 100 or self.range_percent < 100


def proven_key(destination: PhoneNumber) -> str:
    return limit_key("proven", destination.e164)


def is_proven(items: Mapping[str, Counters], destination: PhoneNumber, now_ms: int) -> bool:
    return items.get(proven_key(destination), {}).get("until", 0) > now_ms


def _part(caps: BudgetCaps, percent: int) -> BudgetCaps:
    return BudgetCaps(max(1, caps.per_hour * percent // 100), max(1, caps.per_day * percent // 100))


def unproven_budgets(
    total: BudgetCaps, shares: BudgetShares, destination: PhoneNumber
) -> tuple[ShardedBudget, ...]:
    """What an unproven send to ``destination`` is charged to, besides the send budget."""
    budgets = []
    if shares.reserve_percent > 0:
        budgets.append(
            sharded(
                UNPROVEN_SCOPE,
                _part(total, 100 - shares.reserve_percent),
                reasons=(RejectReason.UNPROVEN_BUDGET_HOURLY, RejectReason.UNPROVEN_BUDGET_DAILY),
                whose="the part of this service's",
                reported=False,
            )
        )
    if shares.country_percent < 100:
        budgets.append(
            sharded(
                f"{UNPROVEN_SCOPE}-{destination.region}",
                _part(total, shares.country_percent),
                reasons=(RejectReason.UNPROVEN_COUNTRY_SHARE, RejectReason.UNPROVEN_COUNTRY_SHARE),
                whose="this country's share of this service's",
                reported=False,
            )
        )
    wide = ranges_of(destination)[-1:]
    if shares.range_percent < 100 and wide:
        budgets.append(
            sharded(
                f"{UNPROVEN_SCOPE}{wide[0]}",
                _part(total, shares.range_percent),
                reasons=(RejectReason.UNPROVEN_RANGE_SHARE, RejectReason.UNPROVEN_RANGE_SHARE),
                whose="this number range's share of this service's",
                reported=False,
            )
        )
    return tuple(budgets)


@dataclass(frozen=True, slots=True)
class ProvenNumbers:
    """VerifyRecords: a right code makes its number proven for ``days``, in the verification's request."""

    days: int
    clock_ms: Callable[[], int]

    def joined_for_verify(
        self, destination: PhoneNumber, reference_id: str, source: RequestSource, *, valid: bool
    ) -> Sequence[JoinedWrite]:
        if not valid:
            return ()
        return (ProvenMark(proven_key(destination), self.clock_ms() + self.days * _DAY_MS),)
