"""schemathesis against docs/openapi.json on the sandbox's HTTP API (a subprocess, protection on), on both
engines.

Every response must have a status the document lists, match that status's schema and content type,
and be a 5xx only for the documented upstream failures of the sandbox's test numbers. Short in
``make test``, long in ``make fuzz``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, event, settings
from schemathesis import Case, CheckContext
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reliability import budget
from tests.reliability.contract import documented_5xx_numbers
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT, RunningSandbox

ENGINES = (PINPOINT, END_USER_MESSAGING)

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
schema = schemathesis.openapi.from_path(OPENAPI)

pytestmark = pytest.mark.fuzz

Check = Callable[[CheckContext, Any, "Case[Any]"], "bool | None"]


def server_errors_only_for_documented_test_numbers(engine: str) -> Check:
    """A 5xx is a bug unless the request used a test number whose documented answer on ``engine`` is
    that failure."""
    allowed = documented_5xx_numbers(engine)

    def check(ctx: CheckContext, response: Any, case: Case[Any]) -> bool | None:
        if response.status_code < 500:
            return None
        body = case.body if isinstance(case.body, dict) else {}
        if body.get("phoneNumber") in allowed:
            return None
        raise AssertionError(f"undocumented server error {response.status_code}: {response.text[:300]}")

    return check


SERVER_ERROR_CHECKS = {engine: server_errors_only_for_documented_test_numbers(engine) for engine in ENGINES}
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@schema.parametrize()
@settings(
    max_examples=budget.examples(short=40, long=1000),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_documented_contract(
    case: Case[Any], reliability_sandbox: RunningSandbox, engine: str
) -> None:
    # Given a request generated from the documented schema (valid, or deliberately invalid)
    # When it is sent to the sandbox's HTTP API
    response = case.call(base_url=f"{reliability_sandbox.api_url}/v1", timeout=30)
    # Then the answer conforms: documented status, content type, schema and headers; no stray 5xx
    event(f"HTTP {response.status_code}")  # --hypothesis-show-statistics shows what was reached
    case.validate_response(response, checks=[SERVER_ERROR_CHECKS[engine], *CHECKS])
    if response.status_code >= 400 and response.text.startswith('{"type"'):
        assert json.loads(response.text)["status"] == response.status_code
