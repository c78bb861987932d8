"""RFC 9457 problem details, and the mapping of domain outcomes and upstream failures to HTTP.

The tables here are the documented contract (docs/http-api.md, "Status mapping"); tests read them too. The
document's schema is ``Problem`` in otp/api_schema.py.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from otp.api_schema import PROBLEM_CONTENT_TYPE
from otp.domain.errors import UpstreamFailure
from otp.domain.models import DeliveryStatus
from otp.handlers.rest_proxy import HttpResponse

PROBLEM_TYPE_PREFIX = "urn:otp:problem:"


class ProblemKind(NamedTuple):
    """A problem type: its status, URN slug, title and Retry-After (a NamedTuple: cheaper to define at
    start-up than a dataclass, which compiles its methods at import)."""

    status: int
    slug: str
    title: str
    retry_after: int | None = None


DELIVERY_PROBLEMS: dict[DeliveryStatus, ProblemKind] = {
    DeliveryStatus.DUPLICATE: ProblemKind(409, "duplicate", "Duplicate destination"),
    DeliveryStatus.OPT_OUT: ProblemKind(409, "opted-out", "Destination opted out of messages"),
    DeliveryStatus.THROTTLED: ProblemKind(429, "delivery-throttled", "Delivery throttled", 60),
    DeliveryStatus.TEMPORARY_FAILURE: ProblemKind(503, "temporary-failure", "Temporary delivery failure", 30),
    DeliveryStatus.TIMEOUT: ProblemKind(503, "delivery-timeout", "Delivery timed out", 30),
    DeliveryStatus.PERMANENT_FAILURE: ProblemKind(422, "permanent-failure", "Permanent delivery failure"),
    DeliveryStatus.UNKNOWN_FAILURE: ProblemKind(502, "unknown-failure", "Unknown delivery failure"),
}

_UNAVAILABLE = ProblemKind(503, "upstream-unavailable", "Messaging service unavailable", 10)
#: What each kind of upstream failure is over HTTP. Which exception of which service is which kind is the
#: adapters' knowledge (otp/adapters: each engine's FAILURES table).
UPSTREAM_PROBLEMS: dict[UpstreamFailure, ProblemKind] = {
    # This service's request was wrong: a bug or a bad template, brand or identity (alarmed).
    UpstreamFailure.REQUEST_REJECTED: ProblemKind(
        400, "upstream-bad-request", "Request rejected by the messaging service"
    ),
    UpstreamFailure.MISCONFIGURED: ProblemKind(500, "service-misconfigured", "Service misconfigured"),
    UpstreamFailure.PAYLOAD_TOO_LARGE: ProblemKind(413, "payload-too-large", "Payload too large"),
    UpstreamFailure.THROTTLED: ProblemKind(429, "too-many-requests", "Too many requests", 5),
    UpstreamFailure.UNAVAILABLE: _UNAVAILABLE,
    UpstreamFailure.TIMEOUT: ProblemKind(504, "upstream-timeout", "Messaging service timed out", 30),
    UpstreamFailure.DESTINATION_CONFLICT: ProblemKind(
        409, "destination-conflict", "Destination cannot receive this message"
    ),
    # An account quota (End User Messaging's monthly Notify spend limit): nothing goes out until an operator
    # raises it, so not for at least an hour (alarmed: OtpEngineQuotaExceeded).
    UpstreamFailure.QUOTA_EXCEEDED: ProblemKind(503, "quota-exceeded", "Messaging quota exceeded", 3600),
    # The abuse-protection table (DynamoDB) could not be used: nothing is sent without it (fail closed).
    UpstreamFailure.STORE_UNAVAILABLE: ProblemKind(503, "protection-unavailable", "Service unavailable", 5),
    UpstreamFailure.SECRET_UNAVAILABLE: ProblemKind(503, "protection-unavailable", "Service unavailable", 5),
}
UPSTREAM_FALLBACK = ProblemKind(502, "upstream-error", "Unexpected messaging service error")


def problem_response(kind: ProblemKind, detail: str, request_id: str, **extensions: Any) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPE_PREFIX + kind.slug,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "requestId": request_id,
        **extensions,
    }
    headers = {"Retry-After": str(kind.retry_after)} if kind.retry_after is not None else None
    return HttpResponse(kind.status, PROBLEM_CONTENT_TYPE, json.dumps(body), headers)
