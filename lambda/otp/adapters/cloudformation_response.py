"""The answer a Lambda-backed custom resource owes CloudFormation: a JSON document PUT to the event's
``ResponseURL`` (a pre-signed S3 URL), as AWS's own ``cfn-response`` module sends it.

The URL is signed for an empty ``Content-Type``, so the request sends exactly that. It is never logged:
whoever holds it can answer for the resource until it expires.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

Status = Literal["SUCCESS", "FAILED"]
#: CloudFormation shows at most this much of a reason; the rest would be cut anyway.
MAX_REASON_CHARS: Final = 1000
ATTEMPTS: Final = 3


def response_document(
    event: Mapping[str, Any],
    status: Status,
    *,
    physical_resource_id: str,
    reason: str = "",
    data: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The document CloudFormation reads: the event's ids, the outcome, the resource's id and data."""
    document: dict[str, Any] = {
        "Status": status,
        "Reason": reason[:MAX_REASON_CHARS] or status,
        "PhysicalResourceId": physical_resource_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
    }
    if data:
        document["Data"] = dict(data)
    return document


def send_response(
    url: str,
    document: Mapping[str, Any],
    *,
    timeout: float = 10,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """PUT the document to the pre-signed URL, trying again on a network failure or a 5xx."""
    body = json.dumps(document).encode()
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(
            url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                answer.read()
            return
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == ATTEMPTS:
                raise
        except (urllib.error.URLError, TimeoutError):
            if attempt == ATTEMPTS:
                raise
        sleep(attempt)
