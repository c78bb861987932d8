"""EventBridge Scheduler's one-time schedules, run on the sandbox clock.

moto keeps the schedules (``CreateSchedule`` and the rest reach its scheduler backend through the AWS
endpoint, as a stock boto3 client's would); this runner plays the service's part: a schedule whose
``at(...)`` time has come by the sandbox clock invokes its target with its input, then is deleted
(``ActionAfterCompletion: DELETE``, what this project asks for). Only targets the sandbox knows can run:
the channel fallback function, served by the project's own handler (``otp.handlers.fallback``), as the
Cognito triggers are.

It runs every second (real time passing) and right after ``POST /_sandbox/clock`` moves the clock, before
that request is answered: advancing the clock past a fallback's ``afterSeconds`` puts its call in the
outbox by the time the test reads it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

_log = logging.getLogger("local.schedules")

SANDBOX_ACCOUNT: Final = "123456789012"
FALLBACK_GROUP: Final = "otp-sandbox-fallback"
FALLBACK_FUNCTION_ARN: Final = f"arn:aws:lambda:us-east-1:{SANDBOX_ACCOUNT}:function:otp-sandbox-fallback"
SCHEDULER_ROLE_ARN: Final = f"arn:aws:iam::{SANDBOX_ACCOUNT}:role/otp-sandbox-scheduler"
POLL_SECONDS: Final = 1.0

Handler = Callable[[dict[str, Any], Any], Any]


def due_at(expression: str) -> float | None:
    """Epoch seconds of an ``at(yyyy-mm-ddThh:mm:ss)`` expression in UTC; None for any other kind."""
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    try:
        moment = datetime.strptime(expression[3:-1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp()


class _Context:
    """The parts of a Lambda context the handlers read."""

    function_name = "otp-sandbox-fallback"
    invoked_function_arn = FALLBACK_FUNCTION_ARN
    memory_limit_in_mb = 256
    aws_request_id = "sandbox-schedule"
    log_group_name = ""
    log_stream_name = "sandbox"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class ScheduleRunner:
    """Runs the due one-time schedules of the groups it watches; one run at a time."""

    def __init__(
        self,
        client_factory: Callable[[], Any],
        clock: Callable[[], float],
        targets: Mapping[str, Callable[[], Handler]],
        groups: tuple[str, ...] = (FALLBACK_GROUP,),
    ) -> None:
        self._client_factory = client_factory
        self._clock = clock
        self._targets = targets
        self._groups = groups
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self) -> int:
        """Invoke every schedule that is due; how many ran."""
        with self._lock:
            client = self._client_factory()
            ran = 0
            for group in self._groups:
                for name in self._names(client, group):
                    schedule = client.get_schedule(GroupName=group, Name=name)
                    at = due_at(schedule.get("ScheduleExpression", ""))
                    if at is None or at > self._clock():
                        continue
                    self._invoke(schedule.get("Target") or {})
                    if schedule.get("ActionAfterCompletion") == "DELETE":
                        client.delete_schedule(GroupName=group, Name=name)
                    ran += 1
            return ran

    def _names(self, client: Any, group: str) -> list[str]:
        try:
            pages = client.get_paginator("list_schedules").paginate(GroupName=group)
            return [item["Name"] for page in pages for item in page.get("Schedules", [])]
        except Exception:  # the group does not exist (yet): nothing to run
            return []

    def _invoke(self, target: Mapping[str, Any]) -> None:
        handler_factory = self._targets.get(str(target.get("Arn")))
        if handler_factory is None:
            _log.warning("schedule target %s is not one the sandbox can run", target.get("Arn"))
            return
        try:
            handler_factory()(json.loads(target.get("Input") or "{}"), _Context())
        except Exception:
            _log.exception("schedule target %s failed", target.get("Arn"))

    def start(self) -> None:
        """Run due schedules every second, until ``stop``."""

        def loop() -> None:
            while not self._stop.wait(POLL_SECONDS):
                try:
                    self.run_due()
                except Exception:
                    _log.exception("running due schedules failed")

        self._thread = threading.Thread(target=loop, name="schedules", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
