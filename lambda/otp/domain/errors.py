"""Domain exceptions. Entry points map them to HTTP problems or Cognito answers.

No message here ever contains an OTP code or a full phone number.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otp.domain.models import SendOutcome


class OtpError(Exception):
    """Base of every error the use cases raise on purpose."""


class InvalidRequest(OtpError):
    """The caller's input breaks a rule; nothing was sent. ``reason`` is the OtpRejected dimension."""

    def __init__(self, detail: str, *, field: str, reason: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.reason = reason


class PhoneNumberRejected(InvalidRequest):
    """The destination is malformed, invalid, or not one this deployment sends to."""

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail, field="phoneNumber", reason=reason)


class SendRefused(OtpError):
    """A protection rule refused a send or a verification (rate limit, cooldown); ``retry_after`` in s."""

    def __init__(self, detail: str, *, reason: str, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason
        self.retry_after = retry_after


class SendBudgetExhausted(SendRefused):
    """The account-wide (or a country's) send budget is spent: nobody can be texted until it frees up."""


class JoinedWriteRefused(OtpError):
    """A write joined to a send's or a verification's request (otp.domain.ports.JoinedWrite) found its
    item not as its condition requires: the whole request was cancelled and nothing was written."""

    def __init__(self, key_kind: str) -> None:
        super().__init__(f"a joined write's condition failed ({key_kind.split('#', 1)[0]}#...)")
        self.key_kind = key_kind.split("#", 1)[0]


class DeliveryFailed(OtpError):
    """Pinpoint accepted the request but did not deliver the SMS (any status but SUCCESSFUL)."""

    def __init__(self, outcome: SendOutcome) -> None:
        super().__init__(f"delivery status {outcome.status.value}")
        self.outcome = outcome


# UpstreamError.code when the abuse-protection store (DynamoDB) cannot be used: nothing is sent then.
PROTECTION_STORE_UNAVAILABLE = "ProtectionStoreUnavailable"


class UpstreamFailure(StrEnum):
    """What a failed call to the outside means, whichever engine or store answered: the adapter that made
    the call decides (it alone knows its service's exception names), the entry points map it."""

    #: The service refused the request this deployment built (a bug, or a bad template or identity).
    REQUEST_REJECTED = "REQUEST_REJECTED"
    #: A resource, permission or method the deployment needs is missing: an operator must act.
    MISCONFIGURED = "MISCONFIGURED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    THROTTLED = "THROTTLED"
    #: The service failed or could not be reached; trying later may work.
    UNAVAILABLE = "UNAVAILABLE"
    #: No answer in time: the request may have been carried out.
    TIMEOUT = "TIMEOUT"
    #: The destination's or sender's state refuses the message; trying again will not help.
    DESTINATION_CONFLICT = "DESTINATION_CONFLICT"
    #: An account quota (e.g. a monthly spend limit) is used up: nothing is sent until it is raised.
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    #: The abuse-protection store cannot be used: nothing is sent without it (fail closed).
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
    #: The deployment secret cannot be read.
    SECRET_UNAVAILABLE = "SECRET_UNAVAILABLE"
    #: Anything the adapter does not recognise.
    UNEXPECTED = "UNEXPECTED"


class UpstreamError(OtpError):
    """The messaging engine or a store answered with an exception, or could not be reached in time.

    ``code`` is the service's own exception name (``TooManyRequestsException``, ``ThrottlingException``...)
    or ``Timeout`` / ``ConnectionError``, for logs and metrics; ``failure`` is what it means.
    ``maybe_sent`` is true when the request may have reached the engine and sent a code. ``operation``
    names the API call, for the logs.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        failure: UpstreamFailure,
        operation: str,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.failure = failure
        self.maybe_sent = maybe_sent
        self.operation = operation
