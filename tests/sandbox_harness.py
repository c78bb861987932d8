"""Start the sandbox for tests: as a subprocess on free ports, or its AWS endpoint in-process.

- ``running_sandbox()`` runs ``python -m local --aws-port 0 --api-port 0 --ready-file ...`` (never
  4566/3000, so tests pass while ``make run`` is up and under pytest-xdist), waits for
  ``/_sandbox/health`` and yields a ``RunningSandbox`` with URLs and helpers; it stops the process
  with SIGINT (Ctrl-C) on exit.
- ``serving_pinpoint_endpoint()`` serves ``local.aws_endpoint.AwsEndpoint`` from a background thread
  of this process and yields a ``PinpointEndpointServer``; ``PinpointEndpointServer.fresh()`` gives a
  ``PinpointEndpoint`` with a new Pinpoint application and an empty outbox for one test.

Only stdlib HTTP here (urllib), so benchmarks can use the harness without the test dependencies.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import BaseWSGIServer, make_server

from local.aws_endpoint import AwsEndpoint
from local.clock import SandboxClock
from local.notify_code_emulator import NotifyCodeEmulator
from local.otp_emulator import OtpEmulator

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
DUMMY_KEY = "testing"  # moto accepts any credentials; these keep real ones out of the tests
# Short enough that a test of the slow number takes seconds, longer than the read timeouts tests use.
TEST_SLOW_SECONDS = 3.0
# The handler settings the tests are written against, whatever the developer has exported.
SANDBOX_TEST_ENV = {
    "OTP_BRAND_NAME": "Sandbox",
    "OTP_ORIGINATION_IDENTITY": "+12065550199",
    "OTP_ALLOWED_ATTEMPTS": "3",
    "OTP_VALIDITY_MINUTES": "5",
    "OTP_CODE_LENGTH": "6",
    "SANDBOX_SLOW_SECONDS": str(TEST_SLOW_SECONDS),
    # A session's tests text hundreds of fresh numbers; the send budget has tests (and sandboxes) of its own.
    "OTP_SEND_BUDGET_PER_HOUR": "1000000",
    "OTP_SEND_BUDGET_PER_DAY": "10000000",
    # Likewise the adaptive defence: a session texts a few ranges hundreds of times without entering the
    # codes. Its sandbox tests turn it on (tests/e2e/test_adaptive_sandbox.py).
    "OTP_ADAPTIVE_PROTECTION": "false",
}
PINPOINT = "pinpoint"
END_USER_MESSAGING = "endusermessaging"
#: What a sandbox (or a handler) needs to run on each engine, on top of SANDBOX_TEST_ENV. The suites that
#: must behave the same on both engines parametrize over these keys (``running_sandbox(ENGINE_ENV[e])``).
ENGINE_ENV: dict[str, dict[str, str]] = {
    PINPOINT: {},
    END_USER_MESSAGING: {
        "OTP_ENGINE": END_USER_MESSAGING,
        "OTP_CHANNELS": "SMS,VOICE,WHATSAPP",
        "OTP_CONFIGURATION_SET": "otp-sandbox",
        "OTP_WHATSAPP_TEMPLATE_NAME": "otp_sandbox",
        "OTP_WHATSAPP_ORIGINATION_IDENTITY": "phone-number-id-0123456789abcdef0123456789abcdef",
        # The tier the in-process endpoint emulates by default (local/notify_limits.py).
        "OTP_NOTIFY_TIER": "ADVANCED",
    },
}


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or the text when it is not JSON, or None when empty


def http_call(
    method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None, timeout: float = 30
) -> HttpAnswer:
    """One HTTP request with a JSON body (unless ``body`` is bytes); never raises on an HTTP status."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None and not isinstance(body, bytes):
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, answer_headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, dict(error.headers), error.read()
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(text) if text else None
    except json.JSONDecodeError:
        parsed = text
    return HttpAnswer(status, answer_headers, parsed)


def aws_client(service: str, endpoint_url: str, *, config: Config | None = None, region: str = REGION) -> Any:
    """A stock boto3 client for a sandbox (or moto) endpoint: nothing special but the URL and fake keys."""
    # The boto3 stubs type only literal service names; callers annotate the client they asked for.
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=DUMMY_KEY,
        aws_secret_access_key=DUMMY_KEY,
        config=config,
    )


def pinpoint_client(endpoint_url: str, *, region: str = REGION, **config: Any) -> Any:
    """A stock boto3 Pinpoint client for the endpoint; ``config`` goes to botocore's Config."""
    return aws_client("pinpoint", endpoint_url, config=Config(**config), region=region)


def end_user_messaging_client(endpoint_url: str, *, region: str = REGION, **config: Any) -> Any:
    """A stock boto3 ``endusermessaging`` client for the endpoint; ``config`` goes to botocore's Config."""
    return aws_client("endusermessaging", endpoint_url, config=Config(**config), region=region)


class _SandboxRoutes:
    """Helpers over the sandbox's HTTP routes, shared by the subprocess and in-process variants."""

    aws_url: str
    application_id: str

    def outbox(
        self, *, destination: str | None = None, reference_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The SMS delivered, oldest first, optionally only those to a number or for a reference."""
        query = {
            name: value
            for name, value in (("destination", destination), ("referenceId", reference_id))
            if value is not None
        }
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        messages: list[dict[str, Any]] = http_call("GET", f"{self.aws_url}/_sandbox/messages{suffix}").body[
            "messages"
        ]
        return messages

    def clear_outbox(self) -> None:
        http_call("DELETE", f"{self.aws_url}/_sandbox/messages")

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = http_call("GET", f"{self.aws_url}/_sandbox/calls").body["calls"]
        return calls

    def clear_calls(self) -> None:
        http_call("DELETE", f"{self.aws_url}/_sandbox/calls")

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        answer = http_call("POST", f"{self.aws_url}/_sandbox/clock", {"advanceSeconds": seconds})
        assert answer.status == 200, answer
        clock: dict[str, Any] = answer.body
        return clock

    def inject_fault(self, error_type: str, *, operation: str | None = None, count: int = 1) -> HttpAnswer:
        """Queue a Pinpoint error for the next ``count`` calls (of ``operation``, or of either)."""
        body: dict[str, Any] = {"errorType": error_type, "count": count}
        if operation is not None:
            body["operation"] = operation
        return http_call("POST", f"{self.aws_url}/_sandbox/faults", body)

    def localstack_view(self, reference_id: str, application_id: str | None = None) -> HttpAnswer:
        app = urllib.parse.quote(application_id or self.application_id, safe="")
        return http_call(
            "GET", f"{self.aws_url}/_aws/pinpoint/{app}/{urllib.parse.quote(reference_id, safe='')}"
        )

    def code_for(self, reference_id: str, application_id: str | None = None) -> str:
        """The live code for a reference, read where LocalStack serves it; LookupError when none."""
        answer = self.localstack_view(reference_id, application_id)
        if answer.status != 200:
            raise LookupError(f"no live code for reference {reference_id!r}: {answer.body}")
        code: str = answer.body["Code"]
        return code

    def pinpoint(self, **config: Any) -> Any:
        return pinpoint_client(self.aws_url, **config)

    def end_user_messaging(self, **config: Any) -> Any:
        return end_user_messaging_client(self.aws_url, **config)


@dataclass
class RunningSandbox(_SandboxRoutes):
    """A sandbox subprocess. ``api_url`` is the HTTP API's root: its routes are under ``/v1``."""

    aws_url: str
    api_url: str
    application_id: str
    ready: dict[str, Any]
    console_path: Path
    process: subprocess.Popen[bytes]

    def api(
        self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> HttpAnswer:
        """Call the HTTP API, e.g. ``api("POST", "/v1/otp", {"phoneNumber": ...})``."""
        return http_call(method, f"{self.api_url}{path}", body, headers)

    def health(self) -> HttpAnswer:
        return http_call("GET", f"{self.aws_url}/_sandbox/health")

    def console(self) -> str:
        """Everything the sandbox printed so far (its own lines and the handler's logs and metrics)."""
        return self.console_path.read_text(encoding="utf-8", errors="replace")


def _sandbox_env(overrides: Mapping[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OTP_", "PINPOINT_", "SANDBOX_", "AWS_"))
    }
    env.update(SANDBOX_TEST_ENV)
    env.update(overrides)
    env["PYTHONUNBUFFERED"] = "1"  # console lines arrive as they happen, for console()
    return env


def _wait_until_ready(
    process: subprocess.Popen[bytes], ready_file: Path, console: Path, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = console.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"the sandbox exited with {process.returncode}:\n{output}")
        if ready_file.exists():
            ready: dict[str, Any] = json.loads(ready_file.read_text(encoding="utf-8"))
            if http_call("GET", f"{ready['awsEndpoint']}/_sandbox/health", timeout=5).status == 200:
                return ready
        time.sleep(0.05)
    raise TimeoutError(
        f"the sandbox was not ready within {timeout} s:\n{console.read_text(errors='replace')[-4000:]}"
    )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> int:
    """Ctrl-C, as a developer would; escalate only if it does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    return process.returncode


@contextlib.contextmanager
def running_sandbox(
    env: Mapping[str, str] | None = None,
    *,
    startup_timeout: float = 60,
    directory: Path | None = None,
    python_args: Sequence[str] = ("-m", "local"),
) -> Iterator[RunningSandbox]:
    """Run ``python -m local`` on free ports until the block ends. ``env`` adds or overrides variables;
    ``python_args`` replaces ``-m local`` (with something that runs it, e.g. under a recorder)."""
    with contextlib.ExitStack() as stack:
        workdir = directory or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="otp-sandbox-")))
        ready_file, console_path = workdir / "ready.json", workdir / "console.log"
        console = stack.enter_context(console_path.open("wb"))
        process = subprocess.Popen(
            [
                sys.executable,
                *python_args,
                "--aws-port",
                "0",
                "--api-port",
                "0",
                "--ready-file",
                str(ready_file),
            ],
            cwd=REPO_ROOT,
            env=_sandbox_env(env or {}),
            stdout=console,
            stderr=subprocess.STDOUT,
        )
        stack.callback(stop_process, process)
        ready = _wait_until_ready(process, ready_file, console_path, startup_timeout)
        yield RunningSandbox(
            aws_url=ready["awsEndpoint"],
            api_url=ready["apiEndpoint"],
            application_id=ready["applicationId"],
            ready=ready,
            console_path=console_path,
            process=process,
        )


@dataclass
class PinpointEndpoint(_SandboxRoutes):
    """One test's view of the in-process endpoint: its URL, its emulator and a fresh application."""

    aws_url: str
    application_id: str
    emulator: OtpEmulator
    endpoint: AwsEndpoint

    @property
    def url(self) -> str:
        return self.aws_url

    @property
    def clock(self) -> SandboxClock:
        return self.emulator.clock

    @property
    def notify_codes(self) -> NotifyCodeEmulator:
        """The endpoint's End User Messaging emulator (same phone, clock and faults as Pinpoint's)."""
        return self.endpoint.notify_codes


@dataclass
class PinpointEndpointServer:
    """The endpoint served from a background thread; shared by the tests of one pytest worker."""

    url: str
    emulator: OtpEmulator
    endpoint: AwsEndpoint

    def fresh(self) -> PinpointEndpoint:
        """A new Pinpoint application (in moto, through the endpoint), an empty outbox and call log.

        A new application per test keeps tests apart, and survives moto's backends being reset by a
        ``mock_aws`` test that ran earlier in the same worker.
        """
        self.emulator.clear_outbox()
        self.emulator.clear_calls()
        self.emulator.faults.clear()
        self.emulator.slow_seconds = TEST_SLOW_SECONDS
        self.endpoint.notify_codes.configuration_sets = {"otp-sandbox"}
        self.endpoint.notify_codes.limits.reset()
        created = pinpoint_client(self.url).create_app(CreateApplicationRequest={"Name": "otp-tests"})
        return PinpointEndpoint(
            aws_url=self.url,
            application_id=created["ApplicationResponse"]["Id"],
            emulator=self.emulator,
            endpoint=self.endpoint,
        )


@contextlib.contextmanager
def serving_pinpoint_endpoint(host: str = "127.0.0.1") -> Iterator[PinpointEndpointServer]:
    """Serve a new ``AwsEndpoint`` (with its own emulator and clock) on a free port of ``host``."""
    emulator = OtpEmulator(clock=SandboxClock(), slow_seconds=TEST_SLOW_SECONDS)
    endpoint = AwsEndpoint(emulator)
    server: BaseWSGIServer = make_server(host, 0, endpoint, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="pinpoint-endpoint", daemon=True)
    thread.start()
    try:
        yield PinpointEndpointServer(f"http://{host}:{server.server_port}", emulator, endpoint)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
