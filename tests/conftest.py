"""Sandbox fixtures, for every test directory.

- ``sandbox`` (session): ``python -m local`` as a subprocess on free ports, one per pytest(-xdist)
  worker; a ``tests.sandbox_harness.RunningSandbox``.
- ``sandbox_end_user_messaging`` (session): the same with ``OTP_ENGINE=endusermessaging`` and every
  channel enabled (``tests.sandbox_harness.ENGINE_ENV``).
- ``sandbox_sms_voice`` (session): End User Messaging with ``OTP_CHANNELS=SMS,VOICE`` (docs/cognito.md's
  "call me instead" example): for the channel switch end to end, the JS clients and the web page.
- ``engine_sandbox`` (session, parametrized): each of the two above in turn, for suites that must
  behave the same on both engines; ``engine_sandbox.ready["engine"]`` says which.
- ``engine`` (function, parametrized): each engine name in turn (``tests.sandbox_harness.PINPOINT``,
  ``END_USER_MESSAGING``). The handler fixtures of tests/integration and tests/reliability depend on it,
  so their suites run on both engines; a test that is about one engine only pins it with
  ``@pytest.mark.parametrize("engine", [PINPOINT])`` and says why in a comment.
- ``pinpoint_endpoint`` (function): the sandbox's AWS endpoint served in-process on a free port, with
  a new Pinpoint application and an empty outbox for each test; a ``tests.sandbox_harness.PinpointEndpoint``
  (``url``, ``application_id``, ``emulator``, ``notify_codes``, ``clock``, ``endpoint`` and the route
  helpers). The endpoint speaks End User Messaging too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox_harness import (
    END_USER_MESSAGING,
    ENGINE_ENV,
    PINPOINT,
    PinpointEndpoint,
    PinpointEndpointServer,
    RunningSandbox,
    running_sandbox,
    serving_pinpoint_endpoint,
)


@pytest.fixture(scope="session")
def sandbox_pinpoint() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


@pytest.fixture(scope="session")
def sandbox(sandbox_pinpoint: RunningSandbox) -> RunningSandbox:
    return sandbox_pinpoint


@pytest.fixture(scope="session")
def sandbox_end_user_messaging() -> Iterator[RunningSandbox]:
    with running_sandbox(ENGINE_ENV[END_USER_MESSAGING]) as running:
        yield running


@pytest.fixture(scope="session")
def sandbox_sms_voice() -> Iterator[RunningSandbox]:
    with running_sandbox({**ENGINE_ENV[END_USER_MESSAGING], "OTP_CHANNELS": "SMS,VOICE"}) as running:
        yield running


@pytest.fixture(scope="session", params=[PINPOINT, END_USER_MESSAGING])
def engine_sandbox(request: pytest.FixtureRequest) -> RunningSandbox:
    name = "sandbox_pinpoint" if request.param == PINPOINT else "sandbox_end_user_messaging"
    running: RunningSandbox = request.getfixturevalue(name)
    return running


@pytest.fixture(params=[PINPOINT, END_USER_MESSAGING])
def engine(request: pytest.FixtureRequest) -> str:
    """The messaging engine a test runs on: every test that asks for it runs on both."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def pinpoint_endpoint_server() -> Iterator[PinpointEndpointServer]:
    with serving_pinpoint_endpoint() as server:
        yield server


@pytest.fixture
def pinpoint_endpoint(pinpoint_endpoint_server: PinpointEndpointServer) -> PinpointEndpoint:
    return pinpoint_endpoint_server.fresh()
