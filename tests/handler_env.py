"""The deployment environment of the Lambda functions, pointed at a test's sandbox Pinpoint endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox_harness import DUMMY_KEY, ENGINE_ENV, PINPOINT, REGION

_ENGINE_VARIABLES = {name for engine in ENGINE_ENV.values() for name in engine} | {
    "OTP_PREVIOUS_ENGINE",
    "OTP_MESSAGE_TEMPLATE",
    "OTP_VOICE_TEMPLATE",
    "OTP_VOICE_LANGUAGE",
    "OTP_VOICE_ID",
    "OTP_VOICE_ORIGINATION_IDENTITY",
    "OTP_DEPLOYMENT_ID",
}


def use_handler_env(
    monkeypatch: pytest.MonkeyPatch, pinpoint_endpoint: Any, *, engine: str = PINPOINT, **overrides: str
) -> dict[str, str]:
    """Set the functions' variables (protection off unless a test turns it on) and reset cached wiring.

    ``engine`` picks the messaging engine (``tests.sandbox_harness.ENGINE_ENV``); the endpoint speaks both.
    Returns the variables set, so a test can derive others from them.
    """
    from otp import wiring

    env = {
        "AWS_ENDPOINT_URL": pinpoint_endpoint.url,
        "AWS_ACCESS_KEY_ID": DUMMY_KEY,
        "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "PINPOINT_APPLICATION_ID": pinpoint_endpoint.application_id,
        "OTP_BRAND_NAME": "Acme",
        "OTP_ORIGINATION_IDENTITY": "+12065550199",
        "OTP_ALLOWED_ATTEMPTS": "3",
        "POWERTOOLS_SERVICE_NAME": "otp",
        "POWERTOOLS_METRICS_NAMESPACE": "OtpService",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # These tests text the same few ranges again and again without entering the codes; the adaptive
        # defence has tests of its own (tests/integration/protection/test_adaptive_*.py), which turn it on.
        "OTP_ADAPTIVE_PROTECTION": "false",
        **ENGINE_ENV[engine],
        **overrides,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # Per-number limits are tested on their own; these tests send to the same numbers again and again.
    monkeypatch.delenv("OTP_TABLE_NAME", raising=False)
    # Nothing of another engine's configuration may leak in from the shell or an earlier call.
    for name in _ENGINE_VARIABLES - set(env):
        monkeypatch.delenv(name, raising=False)
    wiring.reset()
    return env
