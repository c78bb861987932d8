"""The sandbox (``python -m local`` on free ports) and the environment the handler needs to use it.

The sandbox runs in its own process: in the benchmark's process its server threads would share the
GIL with the code being timed, and each thread switch would be charged to whichever side was measured.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.sandbox_harness import running_sandbox

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "lambda"
# The deployment's sender; never a destination of the benchmark.
ORIGINATION = "+12065550199"
# The sandbox creates its protection table under this name; the "with protection" rows use it.
PROTECTION_TABLE = "otp-bench-protection"


@dataclass(frozen=True)
class Endpoint:
    url: str
    application_id: str
    api_url: str = ""


@contextmanager
def sandbox_endpoint() -> Iterator[Endpoint]:
    """The sandbox's AWS endpoint (Pinpoint, DynamoDB) and HTTP API on free loopback ports."""
    with running_sandbox({"OTP_TABLE_NAME": PROTECTION_TABLE}) as sandbox:
        yield Endpoint(url=sandbox.aws_url, application_id=sandbox.application_id, api_url=sandbox.api_url)


def handler_environment(endpoint: Endpoint, *, protection: bool = False) -> dict[str, str]:
    """What the deployed function is given, pointed at the endpoint; tracing and protection off.

    Tracing is off as in the sandbox (``POWERTOOLS_TRACE_DISABLED``): with it on, the X-Ray SDK is the
    cost being measured, not this code. Protection off unless asked (no ``OTP_TABLE_NAME``): the
    per-number limits and the send budget need three DynamoDB calls per send, which the bare baseline
    does not make; every request of the benchmark texts a different number, so the limits would never
    refuse one anyway.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(LAMBDA_DIR),
        "AWS_ENDPOINT_URL": endpoint.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PINPOINT_APPLICATION_ID": endpoint.application_id,
        "OTP_BRAND_NAME": "Bench",
        "OTP_ORIGINATION_IDENTITY": ORIGINATION,
        "POWERTOOLS_SERVICE_NAME": "otp",
        "POWERTOOLS_METRICS_NAMESPACE": "OtpService",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    if protection:
        env["OTP_TABLE_NAME"] = PROTECTION_TABLE
        # Thousands of sends in minutes: the account-wide send budget is charged, but must not refuse,
        # and thousands of codes nobody enters in a few ranges must not look like a pump to the adaptive
        # defence (it still reads and counts each send: bench.triggers.BENCH_OVERRIDES says why).
        env["OTP_SEND_BUDGET_PER_HOUR"] = "1000000"
        env["OTP_SEND_BUDGET_PER_DAY"] = "10000000"
        env["OTP_ADAPTIVE_MIN_SENDS"] = "100000"
    return env
