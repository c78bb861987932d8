"""Make every sign-in round that could tell a registered number from an unknown one take a drawn time.

A decoy (unknown user, or no number we may text) sends nothing and checks nothing; a real round may be
refused before any engine call (a malformed answer, a limit). Left alone, each path takes its own time
and timing tells registered users apart. So every such round, real or decoy, whatever its outcome,
waits until a duration drawn from a fixed distribution has passed since it began:

- **Fixed, not learned.** An earlier version drew from the container's recent real durations; an
  attacker who owned one account could feed it fast refusals and make decoys fast (issue 20). Nothing
  a request does changes the distribution here.
- **Unpredictable.** Each draw comes from the operating system's random source (``secrets``), so one
  round's wait says nothing about the next.
- **Both paths.** A real round and a decoy of the same kind wait for the same distribution; the work a
  round does (a table transaction, an engine call) happens inside the wait, so only a round whose work
  outlasts its draw shows its own duration. The bounds are chosen above what that work takes on AWS
  (``otp.wiring.sign_in_floors``); what outlasts them is the residue the threat model states.

The cost: every real sign-in round waits too, and a decoy holds its Lambda instance (and one unit of
reserved concurrency) while it waits.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

_RANDOM = secrets.SystemRandom()


class LatencyFloor:
    """Wait until a duration drawn uniformly from ``[low, high]`` seconds has passed since a start."""

    def __init__(
        self,
        low: float,
        high: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        draw: Callable[[float, float], float] = _RANDOM.uniform,
    ) -> None:
        if not 0 <= low <= high:
            raise ValueError(f"a floor needs 0 <= low <= high, got {low} and {high}")
        self.low, self.high = low, high
        self.clock = clock
        self._sleep = sleep
        self._draw = draw

    def wait(self, started: float) -> None:
        """Sleep out the rest of a fresh draw since ``started`` (this floor's clock); no wait if it passed."""
        remaining = self._draw(self.low, self.high) - (self.clock() - started)
        if remaining > 0:
            self._sleep(remaining)
