"""The adapters' retry loop: one AWS call, retried only after a failure that proves nothing was done.

Each engine's adapter says what a failure means (``Classify``); this module owns the loop and the
backoff, so both engines wait and give up the same way.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Final, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from otp.domain.errors import UpstreamError, UpstreamFailure

T = TypeVar("T")

#: What a failed call means: the error to raise, and whether trying again is safe. ``None`` for an
#: exception the adapter does not map, which is raised as it is.
Classify = Callable[[ClientError | BotoCoreError], "tuple[UpstreamError, bool] | None"]

BACKOFF_BASE_SECONDS: Final = 0.1
BACKOFF_CAP_SECONDS: Final = 1.0


def call_with_retries(
    operation: Callable[[], T],
    classify: Classify,
    *,
    max_attempts: int,
    sleep: Callable[[float], None] = time.sleep,
    time_left: Callable[[], float] = lambda: math.inf,
    attempt_seconds: float = 0.0,
    throttled_wait: float = 0.0,
) -> T:
    """``operation()``, at most ``max_attempts`` times, backing off between attempts, and only while the
    invocation has ``attempt_seconds`` (the longest one attempt may take) left after the backoff
    (``time_left``: otp.invocation.seconds_left), so a retry never outlives the Lambda's time.
    ``throttled_wait``: after a THROTTLED failure, wait at least this long (a quota counted per second is
    refused again within the same second, however jittered the backoff)."""
    attempt = 1
    while True:
        try:
            return operation()
        except (ClientError, BotoCoreError) as exc:
            meaning = classify(exc)
            if meaning is None:
                raise
            failure, retryable = meaning
        if not retryable or attempt >= max_attempts:
            raise failure
        # Exponential backoff with full jitter, capped so the whole budget fits API Gateway's 29 s.
        # ``random`` is reseeded after a SnapStart restore (otp/snapstart.py).
        delay = random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))
        if failure.failure is UpstreamFailure.THROTTLED:
            delay = max(delay, throttled_wait)
        if time_left() - delay < attempt_seconds:
            raise failure
        sleep(delay)
        attempt += 1


def control_plane_classifier(operation: str, retryable_codes: frozenset[str]) -> Classify:
    """How a deploy-time adapter (a custom resource's calls) reads a failure: a service exception named
    in ``retryable_codes`` is retried, any other is UNEXPECTED and final; a connection that was never made
    is UNAVAILABLE and retried; anything else is not this loop's to handle."""

    def classify(exc: ClientError | BotoCoreError) -> tuple[UpstreamError, bool] | None:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = error.get("Code") or "UnknownError"
            failure = UpstreamError(
                code, error.get("Message") or "", failure=UpstreamFailure.UNEXPECTED, operation=operation
            )
            return failure, code in retryable_codes
        if isinstance(exc, (ConnectTimeoutError, EndpointConnectionError)):
            return transport_failure(exc, operation, maybe_done=False)
        return None

    return classify


def transport_failure(
    exc: BotoCoreError, operation: str, *, maybe_done: bool
) -> tuple[UpstreamError, bool] | None:
    """A failure below HTTP, the same on every AWS call. A read timeout or a connection closed
    mid-request may have done the work (``maybe_done``: a send may have gone out), so it is never
    retried; a connection never made did nothing and is retried. ``None``: not a transport failure."""
    if isinstance(exc, ReadTimeoutError):
        return UpstreamError(
            "Timeout",
            "no answer within the read timeout",
            failure=UpstreamFailure.TIMEOUT,
            maybe_sent=maybe_done,
            operation=operation,
        ), False
    if isinstance(exc, ConnectionClosedError):
        return UpstreamError(
            "ConnectionError",
            "connection closed mid-request",
            failure=UpstreamFailure.UNAVAILABLE,
            maybe_sent=maybe_done,
            operation=operation,
        ), False
    if isinstance(exc, (ConnectTimeoutError, EndpointConnectionError)):
        return UpstreamError(
            "ConnectionError",
            "could not connect to the endpoint",
            failure=UpstreamFailure.UNAVAILABLE,
            operation=operation,
        ), True
    return None
