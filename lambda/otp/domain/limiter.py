"""The send and verify guards: rolling-window limits enforced with compare-and-set on a LimitLedger.

Each guard reads the histories it needs, lets otp.domain.limits decide, and commits the new event
only if nobody else wrote in between; otherwise it reads again and decides again. A refused request
records nothing, so refusals never use up a real user's quota.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence

from otp.domain.adaptive import AdaptiveDefence
from otp.domain.budget import SendBudget, Shard, ShardedBudget, budgets_for, used_percent, with_bucketed_event
from otp.domain.errors import SendBudgetExhausted, SendRefused
from otp.domain.keys import limit_key as limit_key
from otp.domain.limits import (
    LimitExceeded,
    WindowLimit,
    first_to_clear,
    open_part_limits,
    retention_seconds,
    send_limits,
    sole_event_since,
    verify_reference_limits,
    with_event,
)
from otp.domain.models import OPEN_QUOTA, UNKNOWN_SOURCE, PhoneNumber, RequestSource, SendQuota
from otp.domain.ports import (
    Counters,
    EventHistory,
    HistoryUpdate,
    JoinedWrite,
    LimitLedger,
    VerificationBook,
)
from otp.domain.reasons import RejectReason
from otp.domain.records import record
from otp.domain.shares import BudgetShares, is_proven, proven_key, unproven_budgets
from otp.domain.verification import (
    NO_OWNER,
    VERIFY_WINDOW_MS,
    Verification,
    VerificationClosed,
    VerifyReason,
)

# Enough rounds that a request can only lose every one of them after at least this many other requests
# succeeded, which is more than any per-hour cap allows at once: under contention the limit, not the
# contention, is what refuses. Limits above it can see a few early 429s (with Retry-After: 1) instead.
MAX_ROUNDS = 12
_BACKOFF_SECONDS = 0.005


@record
class LimitedKey:
    """A key and its limits. ``waivable`` is left out of the decision when the only event recorded at
    or after ``waived_since_ms`` is the caller's own (a sign-in's channel switch: SendQuota)."""

    key: str
    limits: tuple[WindowLimit, ...]
    waivable: WindowLimit | None = None
    waived_since_ms: int | None = None

    def applicable(self, events_ms: Sequence[int]) -> tuple[WindowLimit, ...]:
        if (
            self.waivable is None
            or self.waived_since_ms is None
            or not sole_event_since(events_ms, self.waived_since_ms)
        ):
            return self.limits
        return tuple(limit for limit in self.limits if limit is not self.waivable)


@record
class Charged:
    """A send budget's shard as this request left it: for the budget-usage metric."""

    scope: str
    shard: Shard
    history: EventHistory
    reported: bool = True


class SlidingWindowLimiter:
    """Records one event on every key at once, or refuses with the limit that clears last.

    Besides exact per-key histories it charges sharded budgets (otp/domain/budget.py): one shard per
    budget, the first in a random order that has room, in the same all-or-nothing commit.
    """

    def __init__(
        self,
        ledger: LimitLedger,
        *,
        clock: Callable[[], float] = time.time,
        pause: Callable[[float], None] = time.sleep,
        max_rounds: int = MAX_ROUNDS,
        shuffle: Callable[[list[Shard]], None] = random.shuffle,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._pause = pause
        self._max_rounds = max_rounds
        self._shuffle = shuffle
        # Shards found full, with what was broken and until when (epoch ms): a shard only frees up as
        # time passes, so until then it need not be read again by this container.
        self._full_until: dict[str, tuple[int, LimitExceeded]] = {}

    def now(self) -> float:
        return self._clock()

    def acquire(
        self,
        keys: Sequence[LimitedKey],
        budgets: Sequence[ShardedBudget] = (),
        joined: Sequence[JoinedWrite] = (),
        *,
        reads: Sequence[str] = (),
        check: Callable[[Mapping[str, Counters], int], bool] | None = None,
        conditional: Sequence[ShardedBudget] = (),
    ) -> tuple[Charged, ...]:
        """Record one event on every key and budget, with the ``joined`` writes, or refuse.

        One read and one write when nothing collides: the histories, one candidate shard per budget and
        the items ``reads`` names come in one batch. ``check`` sees those items first: it may refuse, and
        says whether the ``conditional`` budgets are charged too. Only a candidate shard found full
        costs more reads (the container then remembers it is full)."""
        for round_number in range(self._max_rounds):
            now_ms = int(self._clock() * 1000)
            every = [*budgets, *conditional]
            candidates = [self._candidate(budget, now_ms) for budget in every]
            for budget, shard in zip(budgets, candidates, strict=False):
                if shard is None:
                    # Every shard is known to be full: refuse with no call at all.
                    self._shard_with_room(budget, now_ms)
            history_keys = [limited.key for limited in keys]
            history_keys += [shard.key for shard in candidates if shard is not None]
            read, items = self._ledger.read_batch(history_keys, reads)
            if check is not None and not check(items, now_ms):
                every, candidates = every[: len(budgets)], candidates[: len(budgets)]
            histories = read[: len(keys)]
            shard_histories = iter(read[len(keys) :])
            broken = [
                exceeded
                for limited, history in zip(keys, histories, strict=True)
                if (
                    exceeded := first_to_clear(
                        history.events_ms, now_ms, limited.applicable(history.events_ms)
                    )
                )
                is not None
            ]
            if broken:
                worst = max(broken, key=lambda exceeded: exceeded.retry_after)
                raise SendRefused(
                    worst.limit.detail, reason=worst.limit.reason, retry_after=worst.retry_after
                )
            charged = tuple(
                self._charge(budget, shard, None if shard is None else next(shard_histories), now_ms)
                for budget, shard in zip(every, candidates, strict=True)
            )
            updates = [
                HistoryUpdate(
                    key=limited.key,
                    events_ms=with_event(history.events_ms, now_ms, limited.limits),
                    expected_version=history.version,
                    expires_at=now_ms // 1000 + retention_seconds(limited.limits) + 60,
                )
                for limited, history in zip(keys, histories, strict=True)
            ]
            after = []
            for charge in charged:
                events, counts = with_bucketed_event(charge.history.events_ms, charge.history.counts, now_ms)
                update = HistoryUpdate(
                    key=charge.shard.key,
                    events_ms=events,
                    counts=counts,
                    expected_version=charge.history.version,
                    expires_at=now_ms // 1000 + retention_seconds(charge.shard.limits) + 3600 + 60,
                )
                updates.append(update)
                after.append(Charged(charge.scope, charge.shard, EventHistory(update.key, events, 0, counts)))
            if self._ledger.commit(updates, joined):
                return tuple(after)
            # Someone else wrote first; a little jitter keeps the losers from colliding again in step.
            self._pause(random.uniform(0, _BACKOFF_SECONDS * (round_number + 1)))
        raise SendRefused(
            "too many simultaneous requests for this number",
            reason=RejectReason.LIMIT_CONTENTION,
            retry_after=1,
        )

    def _candidate(self, budget: ShardedBudget, now_ms: int) -> Shard | None:
        """The shard to read with the histories: the first, in a random order, not known to be full."""
        order = list(budget.shards)
        self._shuffle(order)
        for shard in order:
            remembered = self._full_until.get(shard.key)
            if remembered is None or remembered[0] <= now_ms:
                return shard
        return None

    def _charge(
        self, budget: ShardedBudget, shard: Shard | None, history: EventHistory | None, now_ms: int
    ) -> Charged:
        if shard is not None and history is not None:
            exceeded = first_to_clear(history.events_ms, now_ms, shard.limits, history.counts)
            if exceeded is None:
                self._full_until.pop(shard.key, None)
                return Charged(budget.scope, shard, history, budget.reported)
            self._full_until[shard.key] = (now_ms + exceeded.retry_after * 1000, exceeded)
        return self._shard_with_room(budget, now_ms)

    def _shard_with_room(self, budget: ShardedBudget, now_ms: int) -> Charged:
        """The first shard, in a random order, with room in every window; refuse when none has."""
        order = list(budget.shards)
        self._shuffle(order)
        full: list[tuple[int, LimitExceeded]] = []
        for shard in order:
            remembered = self._full_until.get(shard.key)
            if remembered is not None and remembered[0] > now_ms:
                full.append(remembered)
                continue
            history = self._ledger.read(shard.key)
            exceeded = first_to_clear(history.events_ms, now_ms, shard.limits, history.counts)
            if exceeded is None:
                self._full_until.pop(shard.key, None)
                return Charged(budget.scope, shard, history, budget.reported)
            until_ms = now_ms + exceeded.retry_after * 1000
            self._full_until[shard.key] = (until_ms, exceeded)
            full.append((until_ms, exceeded))
        # Every shard is full: the budget frees up when the first of them does.
        until_ms, first = min(full, key=lambda entry: entry[0])
        raise SendBudgetExhausted(
            first.limit.detail,
            reason=first.limit.reason,
            retry_after=max(1, -(-(until_ms - now_ms) // 1000)),
        )


class SendRateGuard:
    """SendGuard: per number, a cooldown and caps per rolling hour and day; and, across all numbers, the
    account-wide send budget (in all and per country). One all-or-nothing write records the send in
    every one of them, so a request refused by any records nothing in the others.

    A sign-in's channel switch (SendQuota.cooldown_waived_since_ms) skips the cooldown when nothing but
    the sign-in's own code was sent to the number since it began: with one switch per sign-in, at most
    two codes reach a number in any cooldown window (docs/architecture.md, "Switching channels").

    The daily cap has an open part and a reserve (``reserve_per_day``). Every send is recorded in the
    number's history (``send#``), whose caps bound the total; a send without a valid device ticket is
    also recorded in the open part's history (``open#``), capped at the daily cap less the reserve, in
    the same commit. So strangers, who have no ticket, can spend at most the open part, and the total
    never exceeds the daily cap whoever sends.
    """

    def __init__(
        self,
        limiter: SlidingWindowLimiter,
        *,
        cooldown_seconds: int,
        per_hour: int,
        per_day: int,
        reserve_per_day: int = 0,
        budget: SendBudget | None = None,
        report_usage: Callable[[str, int], None] = lambda scope, percent: None,
        defence: AdaptiveDefence | None = None,
        shares: BudgetShares | None = None,
    ) -> None:
        self._limiter = limiter
        self._defence = defence
        self._shares = shares if shares is not None and shares.enabled and budget is not None else None
        self._limits = send_limits(cooldown_seconds=cooldown_seconds, per_hour=per_hour, per_day=per_day)
        self._open_limits = open_part_limits(per_day=per_day, reserve=reserve_per_day)
        self._cooldown = next(
            (limit for limit in self._limits if limit.reason is RejectReason.SEND_COOLDOWN), None
        )
        self._budget = budget
        self._report_usage = report_usage

    def before_send(
        self,
        destination: PhoneNumber,
        quota: SendQuota = OPEN_QUOTA,
        joined: Sequence[JoinedWrite] = (),
        source: RequestSource = UNKNOWN_SOURCE,
    ) -> None:
        budgets = budgets_for(self._budget, destination.region) if self._budget is not None else ()
        number = LimitedKey(
            limit_key("send", destination.e164),
            self._limits,
            waivable=self._cooldown,
            waived_since_ms=quota.cooldown_waived_since_ms,
        )
        keys = [number]
        if self._open_limits and not quota.reserve:
            keys.append(LimitedKey(limit_key("open", destination.e164), self._open_limits))
        now_ms = int(self._limiter.now() * 1000)
        reads: list[str] = []
        defence = self._defence
        shared = self._shares is not None and self._budget is not None
        if defence is not None and not quota.reserve:
            # A range block holds back unproven numbers only: a device ticket's send, or (with the shares)
            # a number that verified a code lately, is served from the budget they keep. Without the
            # shares, a block this container read a moment ago refuses with no call; otherwise the
            # range's block and counters come in the send's one read, and ``check`` refuses there.
            suspended = None if shared else defence.suspended(destination, now_ms)
            if suspended is not None:
                raise suspended
            reads += defence.reads(destination, now_ms)
        # The unproven shares (otp/domain/shares.py): not for a device ticket's send, nor for a number that
        # verified a code lately (its proven# item comes in the same read).
        conditional: tuple[ShardedBudget, ...] = ()
        if self._shares is not None and self._budget is not None and not quota.reserve:
            conditional = unproven_budgets(self._budget.total, self._shares, destination)
            reads.append(proven_key(destination))

        def check(items: Mapping[str, Counters], at_ms: int) -> bool:
            proven = is_proven(items, destination, at_ms)
            if defence is not None and not quota.reserve and not proven:
                defence.check(destination, items, at_ms)
            return not proven

        charged = self._limiter.acquire(
            keys, budgets, joined, reads=reads, check=check, conditional=conditional
        )
        for charge in charged:
            if not charge.reported:
                continue
            history = charge.history
            self._report_usage(
                charge.scope, used_percent(history.events_ms, history.counts, now_ms, charge.shard)
            )


class VerifyAttemptGuard:
    """VerifyGuard: caps guesses at one code (number + reference), and keeps the verification's lifecycle.

    Counted before the engine is asked, whatever the answer turns out to be, so that guessing is bounded
    by this service even if the engine's own allowed attempts were raised or counted differently. There
    is deliberately no cap across references: it would let a stranger's wrong answers in sessions of
    their own make a user's right code fail. Guessing is bounded without it, because only a reference a
    code was sent under can ever verify: guesses per number per day <= codes per day x guesses per code.

    One conditional write per verify (``VerificationBook.attempt``) both checks and counts: the call is
    counted only while fewer than ``per_reference`` calls are in the day's list and the lifecycle record
    (if any) is the caller's and leaves the code open, so concurrent guesses cannot beat either bound,
    and a caller that did not start the verification can neither guess at it nor spend its attempts.
    When the write is refused, the item as it was says why: the lifecycle (VerificationClosed: no engine
    call, nothing counted), the cap (SendRefused, 429), or a full list whose oldest call has left the
    window (the list is then replaced, compare-and-set, and the call counted).
    """

    def __init__(
        self,
        book: VerificationBook,
        *,
        per_reference: int,
        clock: Callable[[], float] = time.time,
        max_rounds: int = MAX_ROUNDS,
    ) -> None:
        self._book = book
        self._limits = verify_reference_limits(per_reference)
        self._cap = per_reference
        self._clock = clock
        self._max_rounds = max_rounds

    @property
    def cap(self) -> int:
        return self._cap

    def before_verify(
        self, destination: PhoneNumber, reference_id: str, owner: str = NO_OWNER
    ) -> Verification | None:
        key = limit_key("verify", destination.e164, reference_id)
        for _ in range(self._max_rounds):
            now_ms = int(self._clock() * 1000)
            expires_at = now_ms // 1000 + retention_seconds(self._limits) + 60
            result = self._book.attempt(key, owner=owner, now_ms=now_ms, cap=self._cap, expires_at=expires_at)
            state = result.state
            if result.recorded:
                return state.verification
            verification = state.verification
            if verification is not None and verification.owner != owner:
                # Another caller's: as if there were none, and nothing spent of the owner's attempts.
                raise VerificationClosed(VerifyReason.NOT_FOUND, verification)
            reason = verification.closed_reason(now_ms) if verification is not None else None
            if reason is not None:
                raise VerificationClosed(reason, verification)
            exceeded = first_to_clear(state.calls_ms, now_ms, self._limits)
            if exceeded is not None:
                raise SendRefused(
                    exceeded.limit.detail, reason=exceeded.limit.reason, retry_after=exceeded.retry_after
                )
            # The list is full of calls that have left the window: make room for this one.
            live = [call for call in state.calls_ms if call > now_ms - VERIFY_WINDOW_MS]
            replaced = self._book.attempt_replacing(
                key,
                owner=owner,
                calls_ms=(*live, now_ms),
                now_ms=now_ms,
                expected=state.calls_ms,
                expires_at=expires_at,
            )
            if replaced.recorded:
                return replaced.state.verification
        raise SendRefused(
            "too many simultaneous requests for this reference",
            reason=RejectReason.LIMIT_CONTENTION,
            retry_after=1,
        )
