"""otp.tracing: how traces are produced, and what each mode deploys.

- ``active`` (default): Lambda's active tracing and API Gateway's tracing record every request's
  segments; the functions do not load the X-Ray SDK (POWERTOOLS_TRACE_DISABLED), which costs a cold start.
- ``sdk``: the same, and the functions' Powertools Tracer adds subsegments for each AWS call.
- ``off``: no X-Ray at all (no segments, no X-Ray permissions).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.support import REAL_IDENTITY, Synth, synth


@pytest.fixture(scope="module")
def sdk() -> Synth:
    return synth({**REAL_IDENTITY, "otp.tracing": "sdk"})


@pytest.fixture(scope="module")
def off() -> Synth:
    return synth({**REAL_IDENTITY, "otp.tracing": "off"})


@pytest.fixture(scope="module")
def default() -> Synth:
    return synth(REAL_IDENTITY)


def _functions(s: Synth) -> list[dict[str, Any]]:
    return [f["Properties"] for f in s.resources("AWS::Lambda::Function").values()]


def _stage(s: Synth) -> dict[str, Any]:
    (stage,) = s.resources("AWS::ApiGateway::Stage").values()
    props: dict[str, Any] = stage["Properties"]
    return props


def _xray_actions(s: Synth) -> set[str]:
    actions: set[str] = set()
    for policy in s.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            actions |= {action for action in listed if action.startswith("xray:")}
    return actions


def test_by_default_lambda_traces_every_function_without_the_sdk(default: Synth) -> None:
    # Given the default deployment
    # Then every function has active tracing, and its code is told not to load the X-Ray SDK
    for function in _functions(default):
        assert function["TracingConfig"] == {"Mode": "Active"}
        assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    # and the stage is traced, and the functions may write segments
    assert _stage(default)["TracingEnabled"] is True
    assert _xray_actions(default) >= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_sdk_mode_lets_powertools_tracer_load_the_sdk(sdk: Synth) -> None:
    for function in _functions(sdk):
        assert function["TracingConfig"] == {"Mode": "Active"}
        assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "false"
    assert _stage(sdk)["TracingEnabled"] is True


def test_off_mode_deploys_no_tracing_and_no_xray_permission(off: Synth) -> None:
    for function in _functions(off):
        assert function.get("TracingConfig", {"Mode": "PassThrough"}) == {"Mode": "PassThrough"}
        assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert _stage(off)["TracingEnabled"] is False
    assert _xray_actions(off) == set()
