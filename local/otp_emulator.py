"""An in-memory emulation of Pinpoint's OTP feature (SendOTPMessage / VerifyOTPMessage) with its rules.

Rules, from the Pinpoint developer guide ("Sending and validating One-Time Passwords") and the API model:
- required: BrandName, Channel, DestinationIdentity, OriginationIdentity, ReferenceId (send) and
  DestinationIdentity, Otp, ReferenceId (verify); BrandName at most 20 characters; Channel "SMS" only;
  CodeLength 5-8; ValidityPeriod 5-60 minutes; AllowedAttempts at most 5; ReferenceId 1-48 characters;
  DestinationIdentity in E.164; Language one of the documented tags.
- a code is valid only for the same application, ReferenceId and DestinationIdentity, before it expires.

Decisions where AWS documents nothing (all chosen to be the strict reading):
- defaults: CodeLength 6, ValidityPeriod 5 minutes, AllowedAttempts 5 (the documented maximum).
- every verify of a live code spends one attempt; once AllowedAttempts are spent the code is invalid
  even when the next guess is right. A successful verify consumes the code: a second verify is false.
- a new send with the same reference and destination replaces the previous code (the old one dies).
- the slow test number is delivered once per reference: a client that times out and retries gets the
  same code and message id back, and the outbox shows one SMS (see ``SLOW_NUMBER``).

Every check-and-update happens under one lock, so concurrent guesses cannot beat the attempt limit.
"""

from __future__ import annotations

import heapq
import hmac
import re
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from local.clock import SandboxClock, iso_utc
from local.faults import FaultQueue
from local.otp_messages import DEFAULT_LANGUAGE, TEMPLATES, otp_message
from local.test_numbers import DEFAULT_SLOW_SECONDS, SCRIPTED_API_ERRORS, SCRIPTED_DELIVERIES, SLOW_NUMBER

BRAND_NAME_MAX_CHARS: Final = 20
CODE_LENGTH_RANGE: Final = (5, 8)
VALIDITY_MINUTES_RANGE: Final = (5, 60)
ALLOWED_ATTEMPTS_RANGE: Final = (1, 5)
REFERENCE_ID_MAX_CHARS: Final = 48
DEFAULT_CODE_LENGTH: Final = 6
DEFAULT_VALIDITY_MINUTES: Final = 5
DEFAULT_ALLOWED_ATTEMPTS: Final = 5

_E164: Final = re.compile(r"\+[1-9][0-9]{1,14}")
_MESSAGE_ID_ALPHABET: Final = string.ascii_lowercase + string.digits
# Enough for a long debugging session, bounded so a load test cannot grow the process without limit.
_HISTORY_LIMIT: Final = 10_000

CodeKey = tuple[str, str, str]  # (application id, reference id, destination)


class PinpointError(Exception):
    """An error Pinpoint answers instead of a result: its error type, HTTP status and message."""

    def __init__(self, error_type: str, http_status: int, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.http_status = http_status
        self.message = message


def bad_request(message: str) -> PinpointError:
    return PinpointError("BadRequestException", 400, message)


def not_found(message: str) -> PinpointError:
    return PinpointError("NotFoundException", 404, message)


@dataclass(frozen=True)
class SendParameters:
    """SendOTPMessageRequestParameters after Pinpoint's validation, defaults filled in."""

    brand_name: str
    channel: str
    destination: str
    origination: str
    reference_id: str
    code_length: int
    validity_minutes: int
    allowed_attempts: int
    language: str
    entity_id: str | None
    template_id: str | None


@dataclass(frozen=True)
class VerifyParameters:
    destination: str
    otp: str
    reference_id: str


@dataclass(frozen=True)
class SentSms:
    """One message the sandbox "delivered" (an SMS, a voice call or a WhatsApp message): what the phone
    would show or say, and where it came from. End User Messaging's have no application id."""

    application_id: str
    reference_id: str
    destination: str
    origination: str
    body: str  # the text shown, or spoken on a call
    code: str  # also in the body; separate so tests need not parse a localised text
    language: str
    message_id: str
    sent_at: float
    channel: str = "SMS"
    engine: str = "pinpoint"
    voice_id: str | None = None

    def to_json(self) -> dict[str, str]:
        document = {
            "channel": self.channel,
            "engine": self.engine,
            "destination": self.destination,
            "origination": self.origination,
            "body": self.body,
            "code": self.code,
            "language": self.language,
            "referenceId": self.reference_id,
            "applicationId": self.application_id,
            "messageId": self.message_id,
            "time": iso_utc(self.sent_at),
        }
        if not self.application_id:
            del document["applicationId"]
        if self.voice_id:
            document["voiceId"] = self.voice_id
        return document


@dataclass(frozen=True)
class ApiCall:
    """One OTP API call as received (never the code), so tests can count what a client really sent."""

    operation: str
    application_id: str
    reference_id: str | None
    destination: str | None
    received_at: float

    def to_json(self) -> dict[str, str | None]:
        return {
            "operation": self.operation,
            "applicationId": self.application_id,
            "referenceId": self.reference_id,
            "destination": self.destination,
            "time": iso_utc(self.received_at),
        }


@dataclass
class IssuedCode:
    """A code Pinpoint holds for (application, reference, destination). Mutated only under the lock."""

    application_id: str
    parameters: SendParameters
    code: str
    message_id: str
    created_at: float
    expires_at: float
    attempts: int = 0
    verified: bool = False

    def localstack_view(self) -> dict[str, Any]:
        """The fields LocalStack's ``/_aws/pinpoint/<app>/<reference>`` returns, plus expiry and state."""
        params = self.parameters
        return {
            "AllowedAttempts": params.allowed_attempts,
            "BrandName": params.brand_name,
            "CodeLength": params.code_length,
            "DestinationIdentity": params.destination,
            "OriginationIdentity": params.origination,
            "ReferenceId": params.reference_id,
            "ValidityPeriod": params.validity_minutes,
            "Attempts": self.attempts,
            "ApplicationId": self.application_id,
            "CreatedTimestamp": iso_utc(self.created_at),
            "ExpiresTimestamp": iso_utc(self.expires_at),
            "Verified": self.verified,
            "Code": self.code,
        }


def _required_string(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    if value is None or value == "":
        raise bad_request(f"{name} is required")
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string")
    return value


def _optional_string(raw: Mapping[str, object], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string")
    return value


def _bounded_int(raw: Mapping[str, object], name: str, bounds: tuple[int, int], default: int) -> int:
    value = raw.get(name)
    if value is None:
        return default
    # bool is an int in Python but not in JSON; Pinpoint would refuse true/false here.
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{name} must be an integer")
    low, high = bounds
    if not low <= value <= high:
        raise bad_request(f"{name} must be between {low} and {high}, got {value}")
    return value


def parse_send_parameters(raw: Mapping[str, object]) -> SendParameters:
    """Validate SendOTPMessageRequestParameters the way Pinpoint does; raises BadRequestException."""
    brand_name = _required_string(raw, "BrandName")
    channel = _required_string(raw, "Channel")
    destination = _required_string(raw, "DestinationIdentity")
    origination = _required_string(raw, "OriginationIdentity")
    reference_id = _required_string(raw, "ReferenceId")
    if len(brand_name) > BRAND_NAME_MAX_CHARS:
        raise bad_request(f"BrandName must be at most {BRAND_NAME_MAX_CHARS} characters")
    if channel != "SMS":
        raise bad_request(f"Channel {channel!r} is not supported; supported values: [SMS]")
    if not _E164.fullmatch(destination):
        raise bad_request("DestinationIdentity must be a phone number in E.164 format")
    if len(reference_id) > REFERENCE_ID_MAX_CHARS:
        raise bad_request(f"ReferenceId must be between 1 and {REFERENCE_ID_MAX_CHARS} characters")
    language = _optional_string(raw, "Language") or DEFAULT_LANGUAGE
    if language not in TEMPLATES:
        raise bad_request(f"Language {language!r} is not supported; supported values: {sorted(TEMPLATES)}")
    return SendParameters(
        brand_name=brand_name,
        channel=channel,
        destination=destination,
        origination=origination,
        reference_id=reference_id,
        code_length=_bounded_int(raw, "CodeLength", CODE_LENGTH_RANGE, DEFAULT_CODE_LENGTH),
        validity_minutes=_bounded_int(
            raw, "ValidityPeriod", VALIDITY_MINUTES_RANGE, DEFAULT_VALIDITY_MINUTES
        ),
        allowed_attempts=_bounded_int(
            raw, "AllowedAttempts", ALLOWED_ATTEMPTS_RANGE, DEFAULT_ALLOWED_ATTEMPTS
        ),
        language=language,
        entity_id=_optional_string(raw, "EntityId"),
        template_id=_optional_string(raw, "TemplateId"),
    )


def parse_verify_parameters(raw: Mapping[str, object]) -> VerifyParameters:
    """Validate VerifyOTPMessageRequestParameters: all three are required strings."""
    return VerifyParameters(
        destination=_required_string(raw, "DestinationIdentity"),
        otp=_required_string(raw, "Otp"),
        reference_id=_required_string(raw, "ReferenceId"),
    )


def _new_code(length: int) -> str:
    return f"{secrets.randbelow(10**length):0{length}d}"


def _new_message_id() -> str:
    return "".join(secrets.choice(_MESSAGE_ID_ALPHABET) for _ in range(36))


def _raise_scripted_api_error(destination: str) -> None:
    scripted = SCRIPTED_API_ERRORS.get(destination)
    if scripted is not None:
        raise PinpointError(scripted.error_type, scripted.http_status, scripted.message)


@dataclass
class _State:
    """Everything the lock guards."""

    codes: dict[CodeKey, IssuedCode] = field(default_factory=dict)
    # (expires_at, sequence, key, code): lets expired codes be dropped without scanning every code.
    expiry_heap: list[tuple[float, int, CodeKey, IssuedCode]] = field(default_factory=list)
    sequence: int = 0
    outbox: deque[SentSms] = field(default_factory=lambda: deque(maxlen=_HISTORY_LIMIT))
    calls: deque[ApiCall] = field(default_factory=lambda: deque(maxlen=_HISTORY_LIMIT))


class OtpEmulator:
    """Pinpoint's OTP operations over an in-memory store; safe to call from many threads at once."""

    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        slow_seconds: float = DEFAULT_SLOW_SECONDS,
        on_delivery: Callable[[SentSms], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clock = clock or SandboxClock()
        self.slow_seconds = slow_seconds
        self._on_delivery = on_delivery
        self._sleep = sleep
        self._lock = threading.Lock()
        self._state = _State()
        self.faults = FaultQueue()

    # -- the two Pinpoint operations -------------------------------------------------------------

    def send_otp(self, application_id: str, raw: Mapping[str, object], request_id: str) -> dict[str, Any]:
        """SendOTPMessage: returns the MessageResponse, or raises PinpointError."""
        self._record_call("SendOTPMessage", application_id, raw)
        self._raise_injected_fault("SendOTPMessage")
        params = parse_send_parameters(raw)
        _raise_scripted_api_error(params.destination)

        scripted = SCRIPTED_DELIVERIES.get(params.destination)
        if scripted is not None:
            result = {
                "DeliveryStatus": scripted.delivery_status,
                "MessageId": _new_message_id(),
                "StatusCode": scripted.status_code,
                "StatusMessage": scripted.status_message,
            }
            return self._message_response(application_id, request_id, params.destination, result)

        issued, delivered = self._issue(application_id, params)
        if delivered is not None and self._on_delivery is not None:
            self._on_delivery(delivered)
        if params.destination == SLOW_NUMBER:
            # The SMS is already in the outbox: a client that gives up still "received" it.
            self.hold_slow_answer()
        result = {
            "DeliveryStatus": "SUCCESSFUL",
            "MessageId": issued.message_id,
            "StatusCode": 200,
            "StatusMessage": f"MessageId: {issued.message_id}",
        }
        return self._message_response(application_id, request_id, params.destination, result)

    def verify_otp(self, application_id: str, raw: Mapping[str, object]) -> bool:
        """VerifyOTPMessage: True only for a live code of this reference and destination, within attempts."""
        self._record_call("VerifyOTPMessage", application_id, raw)
        self._raise_injected_fault("VerifyOTPMessage")
        params = parse_verify_parameters(raw)
        _raise_scripted_api_error(params.destination)
        key = (application_id, params.reference_id, params.destination)
        with self._lock:
            issued = self._state.codes.get(key)
            if issued is None or issued.verified or self.clock.now() >= issued.expires_at:
                return False
            if issued.attempts >= issued.parameters.allowed_attempts:
                return False
            issued.attempts += 1
            # Constant-time comparison: the sandbox should not teach a timing side channel.
            if hmac.compare_digest(issued.code.encode(), params.otp.encode()):
                issued.verified = True
                return True
            return False

    def _raise_injected_fault(self, operation: str) -> None:
        fault = self.faults.take(operation)
        if fault is not None:
            raise PinpointError(
                fault.error_type, fault.http_status, f"{fault.error_type} (injected by the sandbox)"
            )

    # -- the sandbox's phone and call log, shared with the other engine's emulator ---------------

    def deliver(self, message: SentSms) -> None:
        """Put a message in the outbox (and on the console) as the phone received it."""
        with self._lock:
            self._state.outbox.append(message)
        if self._on_delivery is not None:
            self._on_delivery(message)

    def hold_slow_answer(self) -> None:
        """What the slow test number costs a caller: ``slow_seconds`` before the answer."""
        self._sleep(self.slow_seconds)

    def log_call(self, call: ApiCall) -> None:
        with self._lock:
            self._state.calls.append(call)

    # -- what the sandbox shows developers -------------------------------------------------------

    def outbox(self) -> list[SentSms]:
        """Every SMS delivered, oldest first."""
        with self._lock:
            return list(self._state.outbox)

    def clear_outbox(self) -> None:
        with self._lock:
            self._state.outbox.clear()

    def calls(self) -> list[ApiCall]:
        """Every OTP API call received, oldest first (including refused ones)."""
        with self._lock:
            return list(self._state.calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._state.calls.clear()

    def current_code(self, application_id: str, reference_id: str) -> IssuedCode | None:
        """The newest code issued for a reference (any destination) that has not expired."""
        with self._lock:
            now = self.clock.now()
            live = [
                issued
                for (app, reference, _), issued in self._state.codes.items()
                if app == application_id and reference == reference_id and now < issued.expires_at
            ]
            newest = max(live, key=lambda issued: issued.created_at, default=None)
            # A copy, so the caller can read it without the lock while verifies go on.
            return None if newest is None else replace(newest)

    # -- internals -------------------------------------------------------------------------------

    def _issue(self, application_id: str, params: SendParameters) -> tuple[IssuedCode, SentSms | None]:
        """Store a new code (replacing any for the same key) and put its SMS in the outbox."""
        key = (application_id, params.reference_id, params.destination)
        with self._lock:
            now = self.clock.now()
            self._drop_expired(now)
            existing = self._state.codes.get(key)
            if (
                params.destination == SLOW_NUMBER
                and existing is not None
                and not existing.verified
                and now < existing.expires_at
            ):
                return existing, None
            issued = IssuedCode(
                application_id=application_id,
                parameters=params,
                code=_new_code(params.code_length),
                message_id=_new_message_id(),
                created_at=now,
                expires_at=now + params.validity_minutes * 60,
            )
            self._state.codes[key] = issued
            self._state.sequence += 1
            heapq.heappush(self._state.expiry_heap, (issued.expires_at, self._state.sequence, key, issued))
            sms = SentSms(
                application_id=application_id,
                reference_id=params.reference_id,
                destination=params.destination,
                origination=params.origination,
                body=otp_message(params.language, issued.code, params.brand_name),
                code=issued.code,
                language=params.language,
                message_id=issued.message_id,
                sent_at=now,
            )
            self._state.outbox.append(sms)
            return issued, sms

    def _drop_expired(self, now: float) -> None:
        heap = self._state.expiry_heap
        while heap and heap[0][0] <= now:
            _, _, key, issued = heapq.heappop(heap)
            # The key may hold a newer code by now; only drop the one that expired.
            if self._state.codes.get(key) is issued:
                del self._state.codes[key]

    def _record_call(self, operation: str, application_id: str, raw: Mapping[str, object]) -> None:
        reference = raw.get("ReferenceId")
        destination = raw.get("DestinationIdentity")
        call = ApiCall(
            operation=operation,
            application_id=application_id,
            reference_id=reference if isinstance(reference, str) else None,
            destination=destination if isinstance(destination, str) else None,
            received_at=self.clock.now(),
        )
        self.log_call(call)

    @staticmethod
    def _message_response(
        application_id: str, request_id: str, destination: str, result: dict[str, Any]
    ) -> dict[str, Any]:
        return {"ApplicationId": application_id, "RequestId": request_id, "Result": {destination: result}}
