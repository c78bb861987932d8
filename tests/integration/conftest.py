"""Drive the real API handler in-process against the sandbox's AWS endpoint (a real socket), per engine."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.handler_env import use_handler_env
from tests.lambda_events import LambdaContext, rest_api_event
from tests.telemetry import Telemetry, captured_output, parse_output


@dataclass
class ApiResult:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    telemetry: Telemetry


Invoke = Callable[..., ApiResult]


@pytest.fixture
def handler_env(
    pinpoint_endpoint: Any, engine: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The deployment's environment on ``engine`` (each in turn, tests/conftest.py), pointing at the
    sandbox's endpoint, which speaks both; caches reset so each test starts cold."""
    from otp import wiring

    yield use_handler_env(
        monkeypatch,
        pinpoint_endpoint,
        engine=engine,
        OTP_ALLOWED_COUNTRIES="US,CA,GB,IN",
        OTP_ENGINE_READ_TIMEOUT="1",
    )
    wiring.reset()


@pytest.fixture
def invoke(handler_env: dict[str, str]) -> Invoke:
    """Call the handler with an API Gateway event; return the response and what it printed."""
    from otp.handlers.api import lambda_handler

    def _invoke(
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        query: dict[str, list[str]] | None = None,
        identity: dict[str, str] | None = None,
    ) -> ApiResult:
        event = rest_api_event(method, path, body, headers=headers, query=query, identity=identity)
        with captured_output() as output:
            response = lambda_handler(event, LambdaContext())
        merged = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
        merged.update(response.get("headers") or {})
        return ApiResult(
            status=response["statusCode"],
            headers=merged,
            body=json.loads(response["body"]) if response.get("body") else {},
            telemetry=parse_output(output.getvalue()),
        )

    return _invoke
