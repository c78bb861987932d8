"""Every log line of an API request carries that request's API Gateway request id as correlation_id."""

from __future__ import annotations

import json
from typing import Any

from tests.lambda_events import LambdaContext, rest_api_event
from tests.telemetry import captured_output, parse_output


def _logs_of(event: dict[str, Any]) -> list[dict[str, Any]]:
    from otp.handlers.api import lambda_handler

    with captured_output() as output:
        lambda_handler(event, LambdaContext())
    return parse_output(output.getvalue()).logs


def test_each_requests_log_lines_carry_its_own_request_id(handler_env: dict[str, str]) -> None:
    # Given a send, a malformed body and a second send, each with its own API Gateway request id
    events = [
        rest_api_event("POST", "/otp", {"phoneNumber": "+12065550100"}),
        rest_api_event("POST", "/otp", "{not json"),
        rest_api_event("POST", "/otp", {"phoneNumber": "+12065550111"}),
    ]
    for event in events:
        # When the handler answers it
        logs = _logs_of(event)
        # Then it logged, and every line names this request and no other
        assert logs, json.dumps(event)
        assert {line.get("correlation_id") for line in logs} == {event["requestContext"]["requestId"]}


def test_an_event_without_a_request_context_logs_no_correlation_id(handler_env: dict[str, str]) -> None:
    # Given an event with no requestContext (as a test console or a direct invoke may send)
    event = rest_api_event("POST", "/otp", {"phoneNumber": "+12065550100"})
    del event["requestContext"]
    # When the handler answers it, after a request that had one
    _logs_of(rest_api_event("POST", "/otp", {"phoneNumber": "+12065550122"}))
    logs = _logs_of(event)
    # Then no line carries the previous request's id (or any)
    assert logs
    assert all("correlation_id" not in line for line in logs)


def test_api_log_lines_carry_no_key_a_cognito_trigger_left_behind(handler_env: dict[str, str]) -> None:
    # Given a Cognito trigger that ran in the same process first (the sandbox runs every handler in one
    # process, sharing one logger), leaving its per-invocation keys
    from otp.handlers.cognito import define_auth_challenge
    from tests.unit.test_cognito_triggers import define_event

    with captured_output():
        define_auth_challenge(define_event([], user_not_found=True), LambdaContext())
    # When the API answers a request
    logs = _logs_of(rest_api_event("POST", "/otp", {"phoneNumber": "+12065550133"}))
    # Then none of its lines carries the trigger's keys (issue 20: they did)
    assert logs
    leftovers = {key for line in logs for key in ("trigger", "userNotFound", "userPoolId", "userSub")} & {
        key for line in logs for key in line
    }
    assert leftovers == set()
