"""A verification's lifecycle: what this service keeps about the code under one number + reference, and
the rules that turn it into a status, a verify decision and a cancellation.

The engine keeps the code (Pinpoint and End User Messaging both generate, send and check it, and answer
only "valid" or "not valid"); this service keeps what it needs to say more, in the protection table, on
the item that already counts the verify calls of that number + reference (``verify#<sha256>``):

- who started it (``owner``: a digest of the API caller's account or API key; empty for the Cognito
  sign-in, whose codes no API caller may read or cancel),
- the code in force: when it was sent, when it expires, on which channel, how many attempts the engine
  allows it and how many were made (each new code under the reference starts at zero, as the engine's
  own count does),
- every send of this verification (the first, then the fallback channels), with what the engine said,
- whether it was verified or cancelled, and when,
- the fallback plan (otp/domain/fallback.py) and the nonce of the newest send, which a scheduled fallback
  must still find before it sends (a newer send, a verification or a cancellation retires it).

Status, in this order (the first that applies):
VERIFIED (the engine accepted a code) > CANCELLED > EXPIRED (the code's validity ended: the engine
refuses it from then on) > LOCKED (no attempt left: the engine's ``allowedAttempts`` for this code, or
this service's per-reference cap, ``verifyLimitPerReference`` calls a day) > PENDING.

Verifying never asks the engine about a verification that is verified, cancelled, expired or out of
attempts; it answers why instead. A reference this service has no record of (a code sent before this
record existed, or never) is still checked with the engine, as before.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

from otp.domain.errors import OtpError
from otp.domain.limits import DAY_SECONDS
from otp.domain.models import Channel, DeliveryStatus, Door, RequestSource
from otp.domain.ports import JoinedWrite
from otp.domain.records import record

#: The window of the per-reference verify cap (otp.domain.limits.verify_reference_limits).
VERIFY_WINDOW_MS = DAY_SECONDS * 1000
#: Owner of the Cognito sign-in's codes: matches no API caller, so none can read or cancel them.
NO_OWNER = ""


class VerificationStatus(StrEnum):
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    EXPIRED = "EXPIRED"
    LOCKED = "LOCKED"
    CANCELLED = "CANCELLED"


class VerifyReason(StrEnum):
    """Why ``POST /otp/verify`` answered ``{"valid": false}``."""

    WRONG_CODE = "WRONG_CODE"
    EXPIRED = "EXPIRED"
    ATTEMPTS_EXHAUSTED = "ATTEMPTS_EXHAUSTED"
    CANCELLED = "CANCELLED"
    # No code waits under this number + reference: none was sent (or this caller did not send it), or
    # it was verified already.
    NOT_FOUND = "NOT_FOUND"


def owner_digest(scope: str) -> str:
    """What is stored for an API caller (an account id or API key id): a digest, never the id."""
    return hashlib.sha256(f"otp-owner\x1f{scope}".encode()).hexdigest()[:32]


def owner_of(source: RequestSource) -> str:
    """Whose a verification is: the sign-in's belong to no API caller; an API caller's to its AWS account
    (IAM: an integrator's backends may run as several roles of one account) or to its API key."""
    if source.door is Door.SIGN_IN or not source.caller:
        return NO_OWNER  # the sign-in's, or a use case called without a caller (no API request)
    caller = source.caller
    if caller.startswith("arn:") and caller.count(":") >= 5:
        caller = "account:" + caller.split(":")[4]
    return owner_digest(caller)


def new_nonce() -> str:
    return secrets.token_hex(8)


@record
class SendEntry:
    """One send of a verification: the channel, what the engine said, when (epoch ms)."""

    channel: Channel
    delivery_status: str
    at_ms: int


@record
class FallbackStep:
    """Send the next code on ``channel`` if the verification is still open ``after_seconds`` after it
    began."""

    channel: Channel
    after_seconds: int


@record
class Verification:
    """The lifecycle record of one number + reference, as last stored."""

    owner: str
    nonce: str
    started_ms: int
    sent_ms: int
    expires_ms: int
    channel: Channel
    allowed_attempts: int
    attempts: int
    sends: tuple[SendEntry, ...]
    verified_ms: int | None = None
    cancelled_ms: int | None = None
    fallback: tuple[FallbackStep, ...] = ()
    language: str | None = None

    def closed_reason(self, now_ms: int) -> VerifyReason | None:
        """Why a verify must not reach the engine now, or None while the code can still be tried."""
        if self.verified_ms is not None:
            return VerifyReason.NOT_FOUND
        if self.cancelled_ms is not None:
            return VerifyReason.CANCELLED
        if now_ms >= self.expires_ms:
            return VerifyReason.EXPIRED
        if self.attempts >= self.allowed_attempts:
            return VerifyReason.ATTEMPTS_EXHAUSTED
        return None

    @property
    def open(self) -> bool:
        """Neither verified nor cancelled: a fallback may still send."""
        return self.verified_ms is None and self.cancelled_ms is None


@record
class VerifyState:
    """The ``verify#`` item: the verify calls in the cap's window and the lifecycle record, if any."""

    calls_ms: tuple[int, ...] = ()
    verification: Verification | None = None

    def calls_in_window(self, now_ms: int) -> int:
        return sum(1 for call in self.calls_ms if call > now_ms - VERIFY_WINDOW_MS)


@record
class VerificationView:
    """What ``GET /otp/{referenceId}`` shows: never a code, never the number."""

    status: VerificationStatus
    attempts_remaining: int
    expires_ms: int
    channel: Channel
    sends: tuple[SendEntry, ...]


def view_of(state: VerifyState, now_ms: int, *, cap: int) -> VerificationView:
    """The status and the attempts left: the fewer of the engine's and the per-reference cap's."""
    verification = state.verification
    if verification is None:
        raise ValueError("no verification to show")
    remaining = max(
        0,
        min(verification.allowed_attempts - verification.attempts, cap - state.calls_in_window(now_ms)),
    )
    if verification.verified_ms is not None:
        status = VerificationStatus.VERIFIED
    elif verification.cancelled_ms is not None:
        status = VerificationStatus.CANCELLED
    elif now_ms >= verification.expires_ms:
        status = VerificationStatus.EXPIRED
    elif remaining == 0:
        status = VerificationStatus.LOCKED
    else:
        status = VerificationStatus.PENDING
    return VerificationView(
        status=status,
        attempts_remaining=remaining if status in (VerificationStatus.PENDING,) else 0,
        expires_ms=verification.expires_ms,
        channel=verification.channel,
        sends=verification.sends,
    )


# ------------------------------------------------------------------------------ writes that join a send


@record
class VerificationStart(JoinedWrite):
    """A new verification under the reference (POST /otp, a sign-in round): written in the same
    transaction as the send's limits, before the engine is asked. It replaces whatever the reference
    held (the engine replaces the code too), except the verify calls counted against the cap."""

    owner: str
    nonce: str
    sent_ms: int
    expires_ms: int
    channel: Channel
    allowed_attempts: int
    expires_at: int  # epoch seconds: the item's TTL
    fallback: tuple[FallbackStep, ...] = ()
    language: str | None = None

    @property
    def entry(self) -> SendEntry:
        return SendEntry(self.channel, DeliveryStatus.SUCCESSFUL.value, self.sent_ms)


@record
class VerificationStep(JoinedWrite):
    """A fallback's new code under the same reference: written only while the verification is open
    and still at ``expected_nonce`` (the send the fallback was planned after)."""

    expected_nonce: str
    nonce: str
    sent_ms: int
    expires_ms: int
    channel: Channel
    expires_at: int

    @property
    def entry(self) -> SendEntry:
        return SendEntry(self.channel, DeliveryStatus.SUCCESSFUL.value, self.sent_ms)

    def refused(self) -> OtpError:
        return StepRefused("the verification was verified, cancelled or sent again before this step")


VerificationWrite = VerificationStart | VerificationStep


@record
class VerificationVerified(JoinedWrite):
    """The engine accepted a code: written in the verification's one request after the engine answered
    (with whatever else a verification records). Unconditional, so it never cancels that request; the
    first mark stays."""

    at_ms: int


# ----------------------------------------------------------------------------------------------- errors


class VerificationClosed(OtpError):
    """A verify that must not reach the engine: answered ``{"valid": false, "reason": ...}``."""

    def __init__(self, reason: VerifyReason, verification: Verification | None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.verification = verification


class VerificationNotFound(OtpError):
    """No verification this caller may see under the number + reference (HTTP 404)."""


class VerificationAlreadyVerified(OtpError):
    """A cancellation of a verification that is already verified (HTTP 409)."""


class StepRefused(OtpError):
    """A fallback step found the verification closed or moved on (verified, cancelled, a newer send)."""
