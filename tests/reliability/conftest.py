"""Fixtures of the reliability suite: the in-process handler (shared with tests/integration) and a
sandbox subprocess of its own, so that fuzzing and fault injection never disturb other tests' limits.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import handler_env, invoke  # noqa: F401  (fixtures reused here)
from tests.reliability import budget
from tests.sandbox_harness import RunningSandbox, running_sandbox

# The read timeout the fault tests give the handler: below the sandbox's slow number (3 s), so that
# number times out; the whole answer must still come well within API Gateway's 29 s.
READ_TIMEOUT_SECONDS = "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-long", action="store_true", help="long fuzzing run (make fuzz)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz: generated-input tests; make fuzz runs them long")
    budget.LONG = bool(config.getoption("--fuzz-long", default=False))


@pytest.fixture(scope="session")
def reliability_sandbox() -> Iterator[RunningSandbox]:
    """The sandbox as ``make run`` starts it (protection on), with a short Pinpoint read timeout and the
    service logging at DEBUG, its most verbose (what the leak test must search)."""
    env = {"PINPOINT_READ_TIMEOUT": READ_TIMEOUT_SECONDS, "POWERTOOLS_LOG_LEVEL": "DEBUG"}
    with running_sandbox(env) as sandbox:
        yield sandbox
