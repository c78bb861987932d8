"""What each of the service's custom-resource functions does around its own work: answer CloudFormation
exactly once, whatever happened.

A custom resource that never answers holds the stack for the resource's service timeout, so every
outcome is PUT to the event's ``ResponseURL``: success with the physical id and data the work returned,
failure with a reason that says what to change. Failures the work expects (its own refusals, the
service's errors) are logged as one line; anything else also with its traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from otp.adapters.cloudformation_response import Status, response_document, send_response
from otp.observability import logger

#: The physical id of a resource whose create failed: no real id has it (pool and configuration ids are
#: [A-Za-z0-9_-], ARNs start with "arn:"), so the Delete CloudFormation sends while rolling back has
#: nothing to do.
NOT_CREATED_PREFIX: Final = "not-created:"

Work = Callable[[], tuple[str, Mapping[str, str]]]


def answer(
    event: Mapping[str, Any],
    work: Work,
    *,
    reason: Callable[[Exception], str],
    expected: tuple[type[Exception], ...],
) -> None:
    """Run ``work`` (which returns the physical id and the data) and send CloudFormation the outcome."""
    status: Status = "SUCCESS"
    why = ""
    data: Mapping[str, str] = {}
    physical_id = str(event.get("PhysicalResourceId") or NOT_CREATED_PREFIX + str(event.get("RequestId")))
    try:
        physical_id, data = work()
    except Exception as exc:
        if not isinstance(exc, expected):
            logger.exception("custom resource failed")
        status, why = "FAILED", reason(exc)
        logger.error("custom resource failed", extra={"requestType": event.get("RequestType"), "reason": why})
    send_response(
        str(event["ResponseURL"]),
        response_document(event, status, physical_resource_id=physical_id, reason=why, data=data),
    )
