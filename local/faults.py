"""Errors injected on purpose: every exception Pinpoint documents for the OTP operations, on demand.

The test numbers provoke throttling and internal errors; the rest (a forbidden call, a missing
method, an oversized payload, a request Pinpoint calls bad) cannot be provoked by any input the
service sends, yet each has a documented HTTP mapping that deserves a test. ``POST /_sandbox/faults``
queues one: the next ``count`` calls of the operation answer with it.
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
OPERATIONS: Final = ("SendOTPMessage", "VerifyOTPMessage")


@dataclass
class Fault:
    error_type: str
    operation: str | None  # None: either operation
    remaining: int

    @property
    def http_status(self) -> int:
        return PINPOINT_ERROR_STATUS[self.error_type]

    def to_json(self) -> dict[str, object]:
        return {"errorType": self.error_type, "operation": self.operation, "remaining": self.remaining}


class FaultQueue:
    """Queued faults, consumed first in, first out, each by the operation it names."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, error_type: object, *, operation: object = None, count: object = 1) -> Fault:
        """Queue a fault; the arguments come straight from a JSON body, so each is checked here."""
        if not isinstance(error_type, str) or error_type not in PINPOINT_ERROR_STATUS:
            raise ValueError(f"errorType must be one of {', '.join(PINPOINT_ERROR_STATUS)}")
        if operation is not None and (not isinstance(operation, str) or operation not in OPERATIONS):
            raise ValueError(f"operation must be one of {', '.join(OPERATIONS)} (or omitted for both)")
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
                if fault.operation in (None, operation):
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
