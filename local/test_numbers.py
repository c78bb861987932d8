"""Destination numbers with scripted outcomes, so every Pinpoint answer can be provoked on purpose.

The numbers are in the 555-01xx block that North American numbering reserves for fiction, so no real
phone is ever one of them. Any other valid E.164 number is delivered (SUCCESSFUL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class ScriptedDelivery:
    """A MessageResult that Pinpoint returns with HTTP 200 although nothing reached the phone."""

    delivery_status: str
    status_code: int
    status_message: str


@dataclass(frozen=True)
class ScriptedApiError:
    """An API-level failure: Pinpoint answers with this HTTP status and error type instead of a result."""

    error_type: str
    http_status: int
    message: str


# Pinpoint reports these in MessageResponse.Result with HTTP 200; no SMS is sent and no code is stored.
SCRIPTED_DELIVERIES: Final[dict[str, ScriptedDelivery]] = {
    "+12065550101": ScriptedDelivery("THROTTLED", 429, "Message throttled by the carrier; try again later"),
    "+12065550102": ScriptedDelivery("TEMPORARY_FAILURE", 503, "Temporary failure delivering to the carrier"),
    "+12065550103": ScriptedDelivery("PERMANENT_FAILURE", 400, "Destination cannot receive SMS messages"),
    "+12065550104": ScriptedDelivery("UNKNOWN_FAILURE", 500, "Unknown error delivering the message"),
    "+12065550105": ScriptedDelivery("OPT_OUT", 400, "Destination has opted out of messages from you"),
    "+12065550106": ScriptedDelivery("DUPLICATE", 400, "Duplicate destination in the request"),
    "+12065550107": ScriptedDelivery("TIMEOUT", 504, "Message could not be sent within the timeout period"),
}

# Pinpoint refuses the whole call; both OTP operations answer these, so either side's mapping can be tested.
SCRIPTED_API_ERRORS: Final[dict[str, ScriptedApiError]] = {
    "+12065550129": ScriptedApiError("TooManyRequestsException", 429, "Too many requests"),
    "+12065550150": ScriptedApiError("InternalServerErrorException", 500, "Internal server error"),
}

# Delivered, but the answer comes only after a delay (SANDBOX_SLOW_SECONDS, default 30 s), longer
# than a sensible client read timeout: this is how a timed-out send that did reach the phone looks.
SLOW_NUMBER: Final = "+12065550198"
DEFAULT_SLOW_SECONDS: Final = 30.0


@dataclass(frozen=True)
class ScriptedNotifyOutcome:
    """What End User Messaging answers for a test number.

    It has no delivery status in its answer: it accepts the code (200) and reports the delivery later as
    events of the configuration set. So the numbers that script a Pinpoint delivery status are accepted
    here and nothing reaches the phone (the outbox stays empty), except an opted-out number, which the
    SMS and Voice v2 API refuses with ConflictException, and the numbers that script an API error.
    """

    error_type: str | None  # answer this error instead of accepting
    message: str
    delivery_event: str | None = None  # the event AWS would report for an accepted, undelivered code


SCRIPTED_NOTIFY_OUTCOMES: Final[dict[str, ScriptedNotifyOutcome]] = {
    "+12065550101": ScriptedNotifyOutcome(None, "accepted; the carrier throttled it", "TEXT_CARRIER_BLOCKED"),
    "+12065550102": ScriptedNotifyOutcome(
        None, "accepted; temporarily unreachable", "TEXT_CARRIER_UNREACHABLE"
    ),
    "+12065550103": ScriptedNotifyOutcome(None, "accepted; the destination is invalid", "TEXT_INVALID"),
    "+12065550104": ScriptedNotifyOutcome(None, "accepted; the outcome is unknown", "TEXT_UNKNOWN"),
    "+12065550105": ScriptedNotifyOutcome("ConflictException", "The destination phone number opted out"),
    "+12065550106": ScriptedNotifyOutcome(None, "accepted; a duplicate of a message in flight", "TEXT_SPAM"),
    "+12065550107": ScriptedNotifyOutcome(None, "accepted; not delivered in time", "TEXT_TTL_EXPIRED"),
    "+12065550129": ScriptedNotifyOutcome("ThrottlingException", "Rate exceeded"),
    "+12065550150": ScriptedNotifyOutcome("InternalServerException", "Internal server error"),
}
