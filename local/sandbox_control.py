"""The sandbox's own routes on the AWS endpoint: health, outbox, API-call log, clock, LocalStack's code path.

These are the only places besides the sandbox console where an OTP code can be read.

- ``GET /_sandbox/health`` - 503 ``{"status": "starting"}`` until ready, then 200 with
  ``{"status", "applicationId", "userPoolId", "userPoolClientId", "engine"}``.
- ``GET /_sandbox/messages[?destination=...&referenceId=...&channel=...]`` - ``{"messages": [...]}``,
  the messages delivered by either engine (SMS, voice calls, WhatsApp), oldest first; ``DELETE`` empties
  the outbox.
- ``GET /_sandbox/calls`` - ``{"calls": [...]}``, every OTP API call received (no codes), so a test
  can count what a client really sent, retries included; ``DELETE`` empties it.
- ``GET /_sandbox/clock``, ``POST /_sandbox/clock {"advanceSeconds": n}`` - ``{"offsetSeconds", "now"}``.
- ``GET /_sandbox/notify-limits``, ``POST {"tier"?, "spendLimitMessages"?, "reset"?}`` - End User
  Messaging's account limits the sandbox enforces (local/notify_limits.py) and the messages counted.
- ``GET /_aws/pinpoint/{applicationId}/{referenceId}`` - LocalStack's view of the newest live code
  for the reference (``{"Code", "Attempts", "AllowedAttempts", ...}``), 404 when there is none.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from local.clock import iso_utc
from local.http_json import BodyError, json_object_body, json_response
from local.notify_limits import NotifyLimits
from local.otp_emulator import OtpEmulator


@dataclass(frozen=True)
class ReadyInfo:
    """The resources the sandbox created at start-up, as /_sandbox/health reports them."""

    application_id: str
    user_pool_id: str | None = None
    user_pool_client_id: str | None = None
    engine: str = "pinpoint"  # OTP_ENGINE: which engine the handlers send through
    # End User Messaging's notify code configuration every send names (created at start-up).
    notify_code_configuration_id: str | None = None


class SandboxStatus:
    """Starting until ``mark_ready``; health answers 503 until then so clients know to wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: ReadyInfo | None = None

    def mark_ready(self, info: ReadyInfo) -> None:
        with self._lock:
            self._ready = info

    @property
    def ready(self) -> ReadyInfo | None:
        with self._lock:
            return self._ready


def _method_not_allowed() -> Response:
    return json_response(405, {"message": "method not allowed"})


class SandboxControl:
    """An endpoint override answering ``/_sandbox/*`` and ``/_aws/pinpoint/*``."""

    def __init__(
        self, emulator: OtpEmulator, status: SandboxStatus, *, notify_limits: NotifyLimits | None = None
    ) -> None:
        self._emulator = emulator
        self._status = status
        self._notify_limits = notify_limits or NotifyLimits()

    def __call__(self, request: Request) -> Response | None:
        path = request.path.rstrip("/")
        if path.startswith("/_aws/pinpoint/"):
            return self._localstack_code(request, path.removeprefix("/_aws/pinpoint/"))
        routes = {
            "/_sandbox/health": self._health,
            "/_sandbox/messages": self._messages,
            "/_sandbox/calls": self._calls,
            "/_sandbox/clock": self._clock,
            "/_sandbox/faults": self._faults,
            "/_sandbox/notify-limits": self._limits,
        }
        route = routes.get(path)
        if route is not None:
            return route(request)
        if path.startswith("/_sandbox"):
            return json_response(404, {"message": f"no sandbox route {request.path}"})
        return None

    def _health(self, request: Request) -> Response:
        if request.method != "GET":
            return _method_not_allowed()
        info = self._status.ready
        if info is None:
            return json_response(503, {"status": "starting"})
        return json_response(
            200,
            {
                "status": "ready",
                "applicationId": info.application_id,
                "userPoolId": info.user_pool_id,
                "userPoolClientId": info.user_pool_client_id,
                "engine": info.engine,
                **(
                    {"notifyCodeConfigurationId": info.notify_code_configuration_id}
                    if info.notify_code_configuration_id
                    else {}
                ),
            },
        )

    def _messages(self, request: Request) -> Response:
        if request.method == "DELETE":
            self._emulator.clear_outbox()
            return json_response(200, {"messages": []})
        if request.method != "GET":
            return _method_not_allowed()
        # Note for curl users: "+" in a query string means a space, so send the number as %2B1206....
        destination = request.args.get("destination")
        reference_id = request.args.get("referenceId")
        channel = request.args.get("channel")
        messages = [
            sms.to_json()
            for sms in self._emulator.outbox()
            if (destination is None or sms.destination == destination)
            and (reference_id is None or sms.reference_id == reference_id)
            and (channel is None or sms.channel == channel)
        ]
        return json_response(200, {"messages": messages})

    def _calls(self, request: Request) -> Response:
        if request.method == "DELETE":
            self._emulator.clear_calls()
            return json_response(200, {"calls": []})
        if request.method != "GET":
            return _method_not_allowed()
        return json_response(200, {"calls": [call.to_json() for call in self._emulator.calls()]})

    def _clock(self, request: Request) -> Response:
        clock = self._emulator.clock
        if request.method == "POST":
            try:
                seconds = _advance_seconds(json_object_body(request))
                clock.advance(seconds)
            except (BodyError, ValueError) as exc:
                return json_response(400, {"message": str(exc)})
        elif request.method != "GET":
            return _method_not_allowed()
        return json_response(200, {"offsetSeconds": clock.offset_seconds, "now": iso_utc(clock.now())})

    def _faults(self, request: Request) -> Response:
        faults = self._emulator.faults
        if request.method == "DELETE":
            faults.clear()
        elif request.method == "POST":
            try:
                body = json_object_body(request)
                faults.add(
                    body.get("errorType"),
                    operation=body.get("operation"),
                    count=body.get("count", 1),
                    service=body.get("service"),
                )
            except (BodyError, ValueError) as exc:
                return json_response(400, {"message": str(exc)})
        elif request.method != "GET":
            return _method_not_allowed()
        return json_response(200, {"faults": [fault.to_json() for fault in faults.pending()]})

    def _limits(self, request: Request) -> Response:
        limits = self._notify_limits
        if request.method == "POST":
            try:
                body = json_object_body(request)
                limits.configure(
                    tier=body.get("tier"),
                    spend_limit_messages=body.get("spendLimitMessages", ...),
                    reset=body.get("reset") is True,
                )
            except (BodyError, ValueError) as exc:
                return json_response(400, {"message": str(exc)})
        elif request.method != "GET":
            return _method_not_allowed()
        return json_response(200, limits.view().to_json())

    def _localstack_code(self, request: Request, rest: str) -> Response:
        if request.method != "GET":
            return _method_not_allowed()
        application_id, _, reference_id = rest.partition("/")
        if not application_id or not reference_id:
            return json_response(404, {"message": "expected /_aws/pinpoint/<applicationId>/<referenceId>"})
        issued = self._emulator.current_code(application_id, reference_id)
        if issued is None:
            return json_response(404, {"message": f"no live code for reference {reference_id!r}"})
        return json_response(200, issued.localstack_view())


def _advance_seconds(body: dict[str, Any]) -> float:
    value = body.get("advanceSeconds")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError('expected {"advanceSeconds": <number of seconds >= 0>}')
    return float(value)
