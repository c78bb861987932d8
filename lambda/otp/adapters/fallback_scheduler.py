"""EventBridge Scheduler as the channel fallback's scheduler (otp.domain.fallback.FallbackScheduler).

Each job is a one-time schedule (``at(...)`` in UTC, no flexible window) in the deployment's schedule
group, whose target is the fallback function with the job as its input; EventBridge Scheduler deletes it
once it has run (``ActionAfterCompletion: DELETE``). Its name is a digest of the job, so a repeated
request for the same job finds it there (ConflictException) and counts as done. Nothing cancels a
schedule: the job itself finds a verified or cancelled verification and does nothing.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol, cast

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from otp.adapters import aws_sdk
from otp.domain.errors import UpstreamError, UpstreamFailure
from otp.domain.fallback import FallbackJob


class EventBridgeSchedulerClient(Protocol):
    """The one operation used (the project installs no boto3 stubs for this service)."""

    def create_schedule(self, **kwargs: Any) -> Any: ...


CREATE_SCHEDULE = "CreateSchedule"
#: A retry of the target after a failed invocation: the job is safe to repeat (it checks the nonce).
RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_SECONDS = 300
_CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=3,
    retries={"mode": "standard", "total_max_attempts": 2},
    tcp_keepalive=True,
)


@lru_cache(maxsize=1)
def scheduler_client() -> EventBridgeSchedulerClient:
    return cast("EventBridgeSchedulerClient", aws_sdk.client("scheduler", _CLIENT_CONFIG))


def schedule_name(job: FallbackJob) -> str:
    """The schedule's name: what it is for, never the number or the reference (names show in consoles)."""
    digest = hashlib.sha256(
        "\x1f".join(("otp-fallback", job.phone_number, job.reference_id, str(job.step), job.nonce)).encode()
    ).hexdigest()
    return f"otp-fallback-{digest[:40]}"


def at_expression(at_ms: int) -> str:
    """``at(yyyy-mm-ddThh:mm:ss)`` of the whole second at or after ``at_ms``."""
    moment = datetime.fromtimestamp(math.ceil(at_ms / 1000), UTC)
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


class EventBridgeFallbackScheduler:
    def __init__(
        self, client: EventBridgeSchedulerClient, *, group: str, target_arn: str, role_arn: str
    ) -> None:
        self._client = client
        self._group = group
        self._target_arn = target_arn
        self._role_arn = role_arn

    def schedule(self, job: FallbackJob, *, at_ms: int) -> None:
        try:
            self._client.create_schedule(
                Name=schedule_name(job),
                GroupName=self._group,
                ScheduleExpression=at_expression(at_ms),
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": self._target_arn,
                    "RoleArn": self._role_arn,
                    "Input": job.to_json(),
                    "RetryPolicy": {
                        "MaximumRetryAttempts": RETRY_ATTEMPTS,
                        "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
                    },
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code") or "UnknownError"
            if code == "ConflictException":
                return  # this job is already scheduled
            failure = (
                UpstreamFailure.MISCONFIGURED
                if code in ("AccessDeniedException", "ResourceNotFoundException", "ValidationException")
                else UpstreamFailure.UNAVAILABLE
            )
            raise UpstreamError(
                code,
                exc.response.get("Error", {}).get("Message") or "",
                failure=failure,
                operation=CREATE_SCHEDULE,
            ) from exc
        except BotoCoreError as exc:
            raise UpstreamError(
                "ConnectionError",
                type(exc).__name__,
                failure=UpstreamFailure.UNAVAILABLE,
                operation=CREATE_SCHEDULE,
            ) from exc
