"""Sandbox fixtures, for every test directory.

- ``sandbox`` (session): ``python -m local`` as a subprocess on free ports, one per pytest(-xdist)
  worker; a ``tests.sandbox_harness.RunningSandbox``.
- ``sandbox_end_user_messaging`` (session): the same with ``OTP_ENGINE=endusermessaging`` and every
  channel enabled (``tests.sandbox_harness.ENGINE_ENV``); suites that must behave the same on both
  engines can parametrize over ``ENGINE_ENV`` the same way.
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
    PinpointEndpoint,
    PinpointEndpointServer,
    RunningSandbox,
    running_sandbox,
    serving_pinpoint_endpoint,
)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


@pytest.fixture(scope="session")
def sandbox_end_user_messaging() -> Iterator[RunningSandbox]:
    with running_sandbox(ENGINE_ENV[END_USER_MESSAGING]) as running:
        yield running


@pytest.fixture(scope="session")
def pinpoint_endpoint_server() -> Iterator[PinpointEndpointServer]:
    with serving_pinpoint_endpoint() as server:
        yield server


@pytest.fixture
def pinpoint_endpoint(pinpoint_endpoint_server: PinpointEndpointServer) -> PinpointEndpoint:
    return pinpoint_endpoint_server.fresh()
