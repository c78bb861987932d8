"""Domain exceptions. Entry points map them to HTTP problems or Cognito answers.

No message here ever contains an OTP code or a full phone number.
"""

from __future__ import annotations

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


class DeliveryFailed(OtpError):
    """Pinpoint accepted the request but did not deliver the SMS (any status but SUCCESSFUL)."""

    def __init__(self, outcome: SendOutcome) -> None:
        super().__init__(f"delivery status {outcome.status.value}")
        self.outcome = outcome


# UpstreamError.code when the abuse-protection store (DynamoDB) cannot be used: nothing is sent then.
PROTECTION_STORE_UNAVAILABLE = "ProtectionStoreUnavailable"


class UpstreamError(OtpError):
    """The messaging engine answered with an exception, or could not be reached in time.

    ``code`` is the engine's exception name (``TooManyRequestsException``, ``ThrottlingException``...)
    or ``Timeout`` / ``ConnectionError``. ``maybe_sent`` is true when the request may have reached the
    engine and sent a code. ``operation`` names the engine's API call, for the logs (None: the caller's
    default, Pinpoint's operation names).
    """

    def __init__(
        self, code: str, message: str, *, maybe_sent: bool = False, operation: str | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.maybe_sent = maybe_sent
        self.operation = operation
