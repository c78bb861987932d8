"""Errors injected on purpose: every exception either engine documents for its OTP operations, and the
DynamoDB errors that mean a throttled, contended or unavailable table, on demand.

The test numbers provoke throttling and internal errors; the rest (a forbidden call, a missing
method, an oversized payload, a request the engine calls bad, a quota) cannot be provoked by any input
the service sends, yet each has a documented HTTP mapping that deserves a test. Nor can any input make
DynamoDB throttle, cancel every transaction or fail. ``POST /_sandbox/faults`` queues one: the next
``count`` calls of the operation answer with it. A fault belongs to one service (``pinpoint``,
``endusermessaging`` or ``dynamodb``) and only ever hits that service's operations, and only those whose
model lists the error. The engines' error names do not overlap; DynamoDB shares ``ThrottlingException``
with End User Messaging, so a DynamoDB fault names its service or one of its operations.
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

# DynamoDB's errors that say the table is throttled, contended or unavailable, with the HTTP status
# DynamoDB answers each with (its developer guide, "Error handling with DynamoDB": botocore's model gives
# no status for them). A conditional-check storm is TransactionCanceledException for a transaction and
# ConditionalCheckFailedException for a single-item write.
DYNAMODB_ERROR_STATUS: Final[dict[str, int]] = {
    "ProvisionedThroughputExceededException": 400,
    "ThrottlingException": 400,
    "RequestLimitExceeded": 400,
    "ConditionalCheckFailedException": 400,
    "TransactionConflictException": 400,
    "TransactionCanceledException": 400,
    "InternalServerError": 500,
}
_THROTTLED: Final = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
# The item operations and the errors of DYNAMODB_ERROR_STATUS that botocore's model lists for each.
DYNAMODB_OPERATION_ERRORS: Final[dict[str, frozenset[str]]] = {
    **{
        operation: _THROTTLED | {"InternalServerError"}
        for operation in ("GetItem", "BatchGetItem", "Query", "Scan", "BatchWriteItem")
    },
    **{
        operation: _THROTTLED
        | {"InternalServerError", "TransactionConflictException", "ConditionalCheckFailedException"}
        for operation in ("PutItem", "UpdateItem", "DeleteItem")
    },
    **{
        operation: _THROTTLED | {"InternalServerError", "TransactionCanceledException"}
        for operation in ("TransactWriteItems", "TransactGetItems")
    },
}
OPERATION_ERRORS.update(DYNAMODB_OPERATION_ERRORS)
OPERATIONS: Final = tuple(OPERATION_ERRORS)
PINPOINT, END_USER_MESSAGING, DYNAMODB = "pinpoint", "endusermessaging", "dynamodb"
#: Each service's operations, in the order a fault naming neither service nor operation looks for its error.
SERVICE_OPERATIONS: Final[dict[str, tuple[str, ...]]] = {
    PINPOINT: PINPOINT_OPERATIONS,
    END_USER_MESSAGING: (NOTIFY_SEND, NOTIFY_VALIDATE),
    DYNAMODB: tuple(DYNAMODB_OPERATION_ERRORS),
}
SERVICE_ERROR_STATUS: Final[dict[str, dict[str, int]]] = {
    PINPOINT: PINPOINT_ERROR_STATUS,
    END_USER_MESSAGING: NOTIFY_ERROR_STATUS,
    DYNAMODB: DYNAMODB_ERROR_STATUS,
}


def service_of(operation: str) -> str:
    return next(service for service, operations in SERVICE_OPERATIONS.items() if operation in operations)


@dataclass
class Fault:
    error_type: str
    operation: str | None  # None: every operation of the service whose model lists the error
    remaining: int
    service: str = PINPOINT

    @property
    def http_status(self) -> int:
        return SERVICE_ERROR_STATUS[self.service][self.error_type]

    def applies_to(self, operation: str) -> bool:
        return (
            self.operation in (None, operation)
            and operation in SERVICE_OPERATIONS[self.service]
            and self.error_type in OPERATION_ERRORS[operation]
        )

    def to_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "errorType": self.error_type,
            "operation": self.operation,
            "remaining": self.remaining,
        }


class FaultQueue:
    """Queued faults, consumed first in, first out, each by the operation it names."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self, error_type: object, *, operation: object = None, count: object = 1, service: object = None
    ) -> Fault:
        """Queue a fault; the arguments come straight from a JSON body, so each is checked here.

        The service is the operation's when one is named, else ``service``, else the first service (the
        engines before DynamoDB) that has the error: ``ThrottlingException`` alone is End User
        Messaging's, as it was before DynamoDB's errors could be injected.
        """
        if service is not None and (not isinstance(service, str) or service not in SERVICE_OPERATIONS):
            raise ValueError(f"service must be one of {', '.join(SERVICE_OPERATIONS)} (or omitted)")
        if operation is not None and (not isinstance(operation, str) or operation not in OPERATIONS):
            raise ValueError(f"operation must be one of {', '.join(OPERATIONS)} (or omitted for all)")
        if operation is not None:
            if service is not None and service != service_of(operation):
                raise ValueError(f"{operation} is an operation of {service_of(operation)}, not {service}")
            service = service_of(operation)
        known = {name for errors in SERVICE_ERROR_STATUS.values() for name in errors}
        if not isinstance(error_type, str) or error_type not in known:
            raise ValueError(f"errorType must be one of {', '.join(sorted(known))}")
        if service is None:
            service = next(name for name, errors in SERVICE_ERROR_STATUS.items() if error_type in errors)
        if error_type not in SERVICE_ERROR_STATUS[str(service)]:
            raise ValueError(f"{service} has no error {error_type} that the sandbox injects")
        if operation is not None and error_type not in OPERATION_ERRORS[operation]:
            raise ValueError(f"{operation} does not answer {error_type} (its model does not list it)")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise ValueError("count must be an integer from 1 to 1000")
        fault = Fault(error_type, operation, count, str(service))
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
