"""Distinct, valid destination numbers that the sandbox delivers (no scripted test number).

Every request of a benchmark texts a different number, so that no per-number rule (the handler's
limits, Pinpoint's duplicate detection) can make one side do different work from the other.
"""

from __future__ import annotations

from collections.abc import Iterator

# The sandbox's scripted numbers are +120655501xx; the whole +1206555 block is otherwise delivered.
_SCRIPTED_BLOCK = range(100, 200)


def destinations(start: int = 0) -> Iterator[str]:
    """+12065550200, +12065550201, ... (then the next area codes), skipping the scripted block."""
    for area in (206, 212, 312, 415, 617):
        for line in range(10_000):
            if area == 206 and line in _SCRIPTED_BLOCK:
                continue
            if start > 0:
                start -= 1
                continue
            yield f"+1{area}555{line:04d}"
