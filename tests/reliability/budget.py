"""How hard the reliability tests push: short in ``make test``, long in ``make fuzz`` (``--fuzz-long``)."""

from __future__ import annotations

LONG = False  # set by tests/reliability/conftest.py from --fuzz-long before the test modules load


def examples(short: int, long: int) -> int:
    return long if LONG else short
