"""Fixtures of the reliability suite: the in-process handler (shared with tests/integration) and a
sandbox subprocess of its own per engine, so that fuzzing and fault injection never disturb other tests'
limits. Every test runs on both engines (the ``engine`` fixture of tests/conftest.py) unless it pins one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from tests.integration.conftest import handler_env, invoke  # noqa: F401  (fixtures reused here)
from tests.reliability import budget
from tests.sandbox_harness import ENGINE_ENV, RunningSandbox, running_sandbox

# The read timeout the fault tests give the handler: below the sandbox's slow number (3 s), so that
# number times out; the whole answer must still come well within API Gateway's 29 s.
READ_TIMEOUT_SECONDS = "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-long", action="store_true", help="long fuzzing run (make fuzz)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz: generated-input tests; make fuzz runs them long")
    budget.LONG = bool(config.getoption("--fuzz-long", default=False))


@pytest.fixture(scope="session")
def reliability_sandboxes() -> Iterator[Callable[[str], RunningSandbox]]:
    """The sandbox as ``make run`` starts it (protection on), with a short read timeout and the service
    logging at DEBUG, its most verbose (what the leak test must search): one per engine, each started
    the first time a test of this worker asks for it."""
    env = {"OTP_ENGINE_READ_TIMEOUT": READ_TIMEOUT_SECONDS, "POWERTOOLS_LOG_LEVEL": "DEBUG"}
    with contextlib.ExitStack() as stack:
        started: dict[str, RunningSandbox] = {}

        def on(engine: str) -> RunningSandbox:
            if engine not in started:
                started[engine] = stack.enter_context(running_sandbox({**env, **ENGINE_ENV[engine]}))
            return started[engine]

        yield on


@pytest.fixture
def reliability_sandbox(
    reliability_sandboxes: Callable[[str], RunningSandbox], engine: str
) -> RunningSandbox:
    """The reliability sandbox of the test's engine (each in turn: the ``engine`` fixture)."""
    return reliability_sandboxes(engine)
