"""Keeping to the engine's send rate: End User Messaging's Notify tier accepts 1 send request a second
(Basic) or 25 (Advanced), per configuration, so per deployment.

Each second of the deployment has a slot item (``rate#<epoch second>``) counting the sends made in it.
Taking a slot is one more JoinedWrite in the send's commit (the all-or-nothing write that records the send
against the number's limits and the budget): a send refused by a limit takes no slot, and a send that
finds its second full records nothing at all (RateSlotTaken). It then waits for the next second and tries
again, as long as the invocation still has the time for an engine call after the wait; when it has not,
the send is refused with EngineRateLimited (HTTP 503 with Retry-After, a REFUSED round in a sign-in). No
extra call is made while the rate has room.

The slot is taken on the same clock as the limits (the sandbox's moves with ``/_sandbox/clock``). A send
may still reach AWS a few milliseconds into the next second; AWS's ThrottlingException is then retried by
the adapter, within the same time budget (otp/adapters/retries.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from otp.domain.errors import OtpError, SendRefused
from otp.domain.ports import JoinedWrite
from otp.domain.reasons import RejectReason
from otp.domain.records import record

RATE_KEY_PREFIX = "rate#"
#: A slot item outlives its second by this much before DynamoDB may delete it (its TTL).
SLOT_TTL_SECONDS = 120
#: Waiters spread over the start of the next second rather than all arriving at once.
_JITTER_SECONDS = 0.05


@record
class RateSlot(JoinedWrite):
    """One send in the second ``key`` names: counted only while fewer than ``per_second`` are."""

    per_second: int
    expires_at: int  # epoch seconds: the item's TTL

    def refused(self) -> OtpError:
        return RateSlotTaken("this second's sends are all taken")


class RateSlotTaken(OtpError):
    """The send's second already holds the tier's sends: nothing was recorded; the next second may do."""


class EngineRateLimited(SendRefused):
    """No slot within the time the invocation could wait: the deployment sends at its tier's rate."""

    def __init__(self, per_second: int) -> None:
        super().__init__(
            f"the messaging engine's send rate ({per_second} a second for this deployment) is used up; "
            "try again in a moment",
            reason=RejectReason.ENGINE_RATE_LIMITED,
            retry_after=1,
        )


class EngineRate:
    """The slots of one deployment's send rate.

    ``clock`` is the limits' clock (epoch seconds); ``time_left`` the seconds the invocation has left
    (otp.invocation), of which ``reserve_seconds`` must remain for the engine call after any wait.
    """

    def __init__(
        self,
        per_second: int,
        *,
        time_left: Callable[[], float],
        reserve_seconds: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = lambda: random.uniform(0, _JITTER_SECONDS),
    ) -> None:
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self.per_second = per_second
        self._time_left = time_left
        self._reserve = reserve_seconds
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter

    def slot(self) -> RateSlot:
        """A slot in the current second."""
        second = int(self._clock())
        return RateSlot(
            key=f"{RATE_KEY_PREFIX}{second}", per_second=self.per_second, expires_at=second + SLOT_TTL_SECONDS
        )

    def wait_for_next_second(self) -> None:
        """Sleep into the next second, or raise EngineRateLimited when the invocation cannot afford it."""
        now = self._clock()
        delay = (int(now) + 1 - now) + self._jitter()
        if self._time_left() - delay < self._reserve:
            raise EngineRateLimited(self.per_second)
        self._sleep(delay)
