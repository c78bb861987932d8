"""How long the current invocation has left: the entry points start the clock from Lambda's context.

A ContextVar rather than a global: the sandbox runs several invocations at once, one thread each, and a
new thread starts with an empty context. Outside an invocation (a use case called directly) there is no
deadline.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar
from typing import Protocol

_deadline: ContextVar[float | None] = ContextVar("otp_invocation_deadline", default=None)


class HasRemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def begin(context: HasRemainingTime | None) -> None:
    """An invocation starts: it must be over ``context.get_remaining_time_in_millis()`` from now."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    _deadline.set(None if remaining is None else time.monotonic() + remaining() / 1000)


def seconds_left() -> float:
    """Seconds until the invocation's deadline (infinite outside an invocation)."""
    deadline = _deadline.get()
    return math.inf if deadline is None else deadline - time.monotonic()
