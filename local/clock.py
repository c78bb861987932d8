"""The sandbox's notion of "now": wall-clock time plus an offset that tests can move forward.

Expiry is the one rule that would otherwise need minutes of sleeping to test; advancing an offset
lets a test jump past a code's validity period instantly while every other clock stays real.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class SandboxClock:
    """Thread-safe ``time.time()`` plus a settable, forward-only offset."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self._wall_clock = wall_clock
        self._offset_seconds = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], object]] = []

    def on_advance(self, listener: Callable[[], object]) -> None:
        """Call ``listener`` after every move of the clock (e.g. to run what has come due)."""
        self._listeners.append(listener)

    def now(self) -> float:
        """Seconds since the epoch, as the sandbox sees them."""
        with self._lock:
            return self._wall_clock() + self._offset_seconds

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset_seconds

    def advance(self, seconds: float) -> float:
        """Move the clock forward; returns the new total offset.

        Only forward: moving back would let an expired code come back to life, which no real clock does.
        """
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite number >= 0")
        with self._lock:
            self._offset_seconds += seconds
            offset = self._offset_seconds
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                logging.getLogger("local.clock").exception("a clock listener failed")
        return offset


def iso_utc(epoch_seconds: float) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, the way AWS APIs print timestamps."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
