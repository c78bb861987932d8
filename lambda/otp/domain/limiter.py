"""The send and verify guards: rolling-window limits enforced with compare-and-set on a LimitLedger.

Each guard reads the histories it needs, lets otp.domain.limits decide, and commits the new event
only if nobody else wrote in between; otherwise it reads again and decides again. A refused request
records nothing, so refusals never use up a real user's quota.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from otp.domain.errors import SendRefused
from otp.domain.limits import (
    WindowLimit,
    first_to_clear,
    retention_seconds,
    send_limits,
    verify_reference_limits,
    with_event,
)
from otp.domain.models import PhoneNumber
from otp.domain.ports import HistoryUpdate, LimitLedger
from otp.domain.reasons import RejectReason

# Enough rounds that a request can only lose every one of them after at least this many other requests
# succeeded, which is more than any per-hour cap allows at once: under contention the limit, not the
# contention, is what refuses. Limits above it can see a few early 429s (with Retry-After: 1) instead.
MAX_ROUNDS = 12
_BACKOFF_SECONDS = 0.005


def limit_key(kind: str, *parts: str) -> str:
    """A table key that does not reveal the number: the kind, then a SHA-256 digest of the parts.

    This keeps raw numbers out of keys, console views, exports and backups. It is pseudonymisation,
    not anonymisation: someone who can read the table could hash every number of a country to find one.
    """
    digest = hashlib.sha256("\x1f".join(("otp-limit", kind, *parts)).encode()).hexdigest()
    return f"{kind}#{digest[:40]}"


@dataclass(frozen=True, slots=True)
class LimitedKey:
    key: str
    limits: tuple[WindowLimit, ...]


class SlidingWindowLimiter:
    """Records one event on every key at once, or refuses with the limit that clears last."""

    def __init__(
        self,
        ledger: LimitLedger,
        *,
        clock: Callable[[], float] = time.time,
        pause: Callable[[float], None] = time.sleep,
        max_rounds: int = MAX_ROUNDS,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._pause = pause
        self._max_rounds = max_rounds

    def acquire(self, keys: Sequence[LimitedKey]) -> None:
        for round_number in range(self._max_rounds):
            histories = [self._ledger.read(limited.key) for limited in keys]
            now_ms = int(self._clock() * 1000)
            broken = [
                exceeded
                for limited, history in zip(keys, histories, strict=True)
                if (exceeded := first_to_clear(history.events_ms, now_ms, limited.limits)) is not None
            ]
            if broken:
                worst = max(broken, key=lambda exceeded: exceeded.retry_after)
                raise SendRefused(
                    worst.limit.detail, reason=worst.limit.reason, retry_after=worst.retry_after
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
            if self._ledger.commit(updates):
                return
            # Someone else wrote first; a little jitter keeps the losers from colliding again in step.
            self._pause(random.uniform(0, _BACKOFF_SECONDS * (round_number + 1)))
        raise SendRefused(
            "too many simultaneous requests for this number",
            reason=RejectReason.LIMIT_CONTENTION,
            retry_after=1,
        )


class SendRateGuard:
    """SendGuard: a cooldown between codes to one number, and caps per rolling hour and day."""

    def __init__(
        self, limiter: SlidingWindowLimiter, *, cooldown_seconds: int, per_hour: int, per_day: int
    ) -> None:
        self._limiter = limiter
        self._limits = send_limits(cooldown_seconds=cooldown_seconds, per_hour=per_hour, per_day=per_day)

    def before_send(self, destination: PhoneNumber) -> None:
        self._limiter.acquire([LimitedKey(limit_key("send", destination.e164), self._limits)])


class VerifyAttemptGuard:
    """VerifyGuard: caps guesses at one code (number + reference).

    Counted before Pinpoint is asked, whatever the answer turns out to be, so that guessing is bounded
    by this service even if Pinpoint's own AllowedAttempts were raised or counted differently. There is
    deliberately no cap across references: it would let a stranger's wrong answers in sessions of their
    own make a user's right code fail. Guessing is bounded without it, because only a reference a code
    was sent under can ever verify: guesses per number per day <= codes per day x guesses per code.
    """

    def __init__(self, limiter: SlidingWindowLimiter, *, per_reference: int) -> None:
        self._limiter = limiter
        self._reference_limits = verify_reference_limits(per_reference)

    def before_verify(self, destination: PhoneNumber, reference_id: str) -> None:
        self._limiter.acquire(
            [LimitedKey(limit_key("verify", destination.e164, reference_id), self._reference_limits)]
        )
