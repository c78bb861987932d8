"""Make a decoy sign-in round take as long as a real one.

A decoy (unknown user, or no number we may text) sends nothing and checks nothing, so without help it
answers in a few milliseconds where a real first round spends tens to hundreds on the protection store
and Pinpoint; timing alone would tell registered users apart. The pacer remembers how long the real
rounds of this container took and makes each decoy wait until a duration drawn from them has passed:
within a container the two durations then come from the same distribution.

What it cannot hide: a container that has served no real round yet draws from ``prior`` instead; and
a decoy holds its Lambda instance (and one unit of reserved concurrency) for as long as it waits.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

# Enough real rounds to follow changes in Pinpoint's latency, few enough to forget a slow spell.
RESERVOIR = 64


class LatencyPacer:
    def __init__(
        self,
        *,
        prior: Sequence[float],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        choose: Callable[[Sequence[float]], float] = random.choice,
    ) -> None:
        self._prior = tuple(prior)
        self._observed: deque[float] = deque(maxlen=RESERVOIR)
        self._lock = threading.Lock()  # the sandbox runs triggers on several threads
        self.clock = clock
        self._sleep = sleep
        self._choose = choose

    def observe(self, started: float) -> None:
        """A real round that began at ``started`` (this pacer's clock) just ended."""
        with self._lock:
            self._observed.append(self.clock() - started)

    def pace(self, started: float) -> None:
        """Wait until a duration like a real round's has passed since ``started``."""
        with self._lock:
            samples = tuple(self._observed) or self._prior
        remaining = self._choose(samples) - (self.clock() - started)
        if remaining > 0:
            self._sleep(remaining)
