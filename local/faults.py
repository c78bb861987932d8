"""Errors injected on purpose: every exception either engine documents for its OTP operations, on demand.

The test numbers provoke throttling and internal errors; the rest (a forbidden call, a missing
method, an oversized payload, a request the engine calls bad, a quota) cannot be provoked by any input
the service sends, yet each has a documented HTTP mapping that deserves a test. ``POST /_sandbox/faults``
queues one: the next ``count`` calls of the operation answer with it. An error belongs to one engine
(the names do not overlap), so a fault only ever hits that engine's operations, and only those whose
model lists the error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

# Pinpoint's error types for SendOTPMessage / VerifyOTPMessage and the HTTP status each comes with.
PINPOINT_ERROR_STATUS: Final[dict[str, int]] = {
    "BadRequestException": 400,
    "ForbiddenException": 403,
    "NotFoundException": 404,
    "MethodNotAllowedException": 405,
    "PayloadTooLargeException": 413,
    "TooManyRequestsException": 429,
    "InternalServerErrorException": 500,
}
PINPOINT_OPERATIONS: Final = ("SendOTPMessage", "VerifyOTPMessage")
# End User Messaging's errors for the two code operations and their HTTP status, from botocore's model.
NOTIFY_ERROR_STATUS: Final[dict[str, int]] = {
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ConflictException": 409,
    "ThrottlingException": 429,
    "InternalServerException": 500,
}
NOTIFY_SEND: Final = "SendNotifyCodeVerification"
NOTIFY_VALIDATE: Final = "ValidateNotifyCodeVerification"
# The errors each operation's model lists: validation cannot answer a missing resource, a conflict or a quota.
OPERATION_ERRORS: Final[dict[str, frozenset[str]]] = {
    **{operation: frozenset(PINPOINT_ERROR_STATUS) for operation in PINPOINT_OPERATIONS},
    NOTIFY_SEND: frozenset(NOTIFY_ERROR_STATUS),
    NOTIFY_VALIDATE: frozenset(
        {"ValidationException", "ThrottlingException", "AccessDeniedException", "InternalServerException"}
    ),
}
OPERATIONS: Final = tuple(OPERATION_ERRORS)
ERROR_STATUS: Final[dict[str, int]] = {**PINPOINT_ERROR_STATUS, **NOTIFY_ERROR_STATUS}


@dataclass
class Fault:
    error_type: str
    operation: str | None  # None: every operation whose model lists the error
    remaining: int

    @property
    def http_status(self) -> int:
        return ERROR_STATUS[self.error_type]

    def applies_to(self, operation: str) -> bool:
        return self.operation in (None, operation) and self.error_type in OPERATION_ERRORS[operation]

    def to_json(self) -> dict[str, object]:
        return {"errorType": self.error_type, "operation": self.operation, "remaining": self.remaining}


class FaultQueue:
    """Queued faults, consumed first in, first out, each by the operation it names."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, error_type: object, *, operation: object = None, count: object = 1) -> Fault:
        """Queue a fault; the arguments come straight from a JSON body, so each is checked here."""
        if not isinstance(error_type, str) or error_type not in ERROR_STATUS:
            raise ValueError(f"errorType must be one of {', '.join(ERROR_STATUS)}")
        if operation is not None and (not isinstance(operation, str) or operation not in OPERATIONS):
            raise ValueError(f"operation must be one of {', '.join(OPERATIONS)} (or omitted for all)")
        if operation is not None and error_type not in OPERATION_ERRORS[operation]:
            raise ValueError(f"{operation} does not answer {error_type} (its model does not list it)")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise ValueError("count must be an integer from 1 to 1000")
        fault = Fault(error_type, operation, count)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, operation: str) -> Fault | None:
        """The fault this call must answer with, if any; spends one of its uses."""
        with self._lock:
            for fault in self._faults:
                if fault.applies_to(operation):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
