"""DynamoDB faults on the sandbox's AWS endpoint: a queued fault answers as DynamoDB answers it.

An endpoint override placed before the table's own (``local.protection_table.AtomicDynamoDb``): a
DynamoDB request (``X-Amz-Target: DynamoDB_20120810.<Operation>``) for which ``POST /_sandbox/faults``
queued a ``dynamodb`` fault gets DynamoDB's error instead of moto's answer, and moto never sees it:

- the status DynamoDB answers with (``local.faults.DYNAMODB_ERROR_STATUS``) and its JSON 1.0 error body,
  ``{"__type": "com.amazonaws.dynamodb.v20120810#<Name>", "message": ...}``, which botocore parses
  into the modeled exception, and retries as it would retry DynamoDB's (throttling and 5xx);
- ``TransactionCanceledException`` (a conditional-check storm): ``CancellationReasons``, one per item
  of the request in its order, as DynamoDB lists them: ``{"Code": "ConditionalCheckFailed", ...}`` for
  each item written or checked with a ``ConditionExpression`` (every condition found its item changed
  by someone else), ``{"Code": "None"}`` for an item without one (nothing in it can fail); the message
  names the reasons as DynamoDB's does;
- ``ConditionalCheckFailedException`` (a storm on single-item writes) without the item, as DynamoDB
  answers when the item a condition names does not exist (even with ``ReturnValuesOnConditionCheckFailure``).

A request whose body cannot be read is left to moto, which words the refusal.
"""

from __future__ import annotations

import json
from typing import Any, Final

from werkzeug.wrappers import Request, Response

from local.faults import DYNAMODB, Fault, FaultQueue

_TARGET_PREFIX: Final = "DynamoDB_20120810."
_ERROR_NAMESPACE: Final = "com.amazonaws.dynamodb.v20120810#"
_CONTENT_TYPE: Final = "application/x-amz-json-1.0"
_CONDITION_FAILED: Final = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
_MESSAGES: Final[dict[str, str]] = {
    "ProvisionedThroughputExceededException": "The level of configured provisioned throughput for the "
    "table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
    "ThrottlingException": "Throughput exceeds the current capacity for one or more global secondary "
    "indexes. DynamoDB is automatically scaling your index so please try again shortly.",
    "RequestLimitExceeded": "Throughput exceeds the current throughput limit for your account.",
    "TransactionConflictException": "Transaction is ongoing for the item",
    "ConditionalCheckFailedException": "The conditional request failed",
    "InternalServerError": "Internal server error",
}


class DynamoDbFaults:
    """An endpoint override: a DynamoDB request answers with the fault queued for its operation."""

    def __init__(self, faults: FaultQueue) -> None:
        self._faults = faults

    def __call__(self, request: Request) -> Response | None:
        target = request.headers.get("X-Amz-Target", "")
        if not target.startswith(_TARGET_PREFIX):
            return None
        fault = self._faults.take(target.removeprefix(_TARGET_PREFIX))
        if fault is None:
            return None
        assert fault.service == DYNAMODB
        return Response(
            json.dumps(_error_body(fault, request)),
            status=fault.http_status,
            content_type=_CONTENT_TYPE,
        )


def _error_body(fault: Fault, request: Request) -> dict[str, Any]:
    name = fault.error_type
    if name != "TransactionCanceledException":
        return {"__type": _ERROR_NAMESPACE + name, "message": _MESSAGES[name]}
    try:
        items = json.loads(request.get_data(cache=True) or b"{}").get("TransactItems") or []
    except (ValueError, AttributeError):
        items = []
    reasons = [_reason(item) for item in items if isinstance(item, dict)] or [dict(_CONDITION_FAILED)]
    codes = ", ".join(reason["Code"] for reason in reasons)
    return {
        "__type": _ERROR_NAMESPACE + name,
        "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        "CancellationReasons": reasons,
    }


def _reason(item: dict[str, Any]) -> dict[str, str]:
    """The cancellation reason of one TransactItems entry ({"Put": {...}}, {"ConditionCheck": {...}}...)."""
    action = next(iter(item.values()), None)
    if isinstance(action, dict) and action.get("ConditionExpression"):
        return dict(_CONDITION_FAILED)
    return {"Code": "None"}
