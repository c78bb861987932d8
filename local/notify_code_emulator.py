"""An in-memory emulation of AWS End User Messaging code verification, with its rules.

SendNotifyCodeVerification / ValidateNotifyCodeVerification (API 2026-09-21). The wire format is in
``local/notify_code_wire.py``; this module holds the rules. Sources: botocore's ``endusermessaging``
model and the End User Messaging user guide ("Notify code configurations", "Send a passcode",
"Validate a passcode").

Documented rules:
- send requires ``channel`` (TEXT, VOICE, WHATSAPP), ``destinationIdentity`` (1-20 printable, no ``#``)
  and ``originationIdentity`` (1-256 of ``[A-Za-z0-9_:/+-]``); every other member has the model's bounds:
  codeLength 4-8, validityPeriodMinutes 1-60, maxAttempts 1-5, codeType NUMERIC/ALPHA/ALPHANUMERIC,
  inline templates 1-6000 with a non-blank character, context at most 5 entries, referenceId 1-256 of
  ``[A-Za-z0-9_-]``. TEXT and VOICE take an E.164 number.
- without a notify code configuration "you must supply the template in the request", and an inline
  template "must contain the code placeholder" (``{{code}}``, as AWS's examples write it); WhatsApp needs
  a template name and a language code.
- defaults when a policy field is omitted: code length 6, validity 10 minutes, 3 attempts (the console's
  stated service defaults).
- validation is VALID only when the code matches, the validity period has not elapsed and the maximum
  number of attempts has not been exceeded; with a referenceId it matches only codes sent with it.
- errors: ValidationException (400, with ``fieldList``), ResourceNotFoundException (404, with
  ``resourceId`` / ``resourceType``) for a notify code configuration or configuration set the account
  does not hold.

Decisions where AWS documents nothing (the strict reading, as for Pinpoint): a code type other than
NUMERIC is generated in upper case and compared exactly; every validation of a live code spends an
attempt and a VALID one consumes it; a new send to the same destination and reference replaces the live
code; a validation without referenceId matches only a code sent without one. The sandbox holds no notify
code configurations, and only the configuration sets it was told about (the sandbox's own,
``otp-sandbox``). How the pre-approved notify templates and WhatsApp's authentication template read is
not published: the sandbox uses its own wording, with the code in it.
"""

from __future__ import annotations

import hmac
import re
import secrets
import string
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from local.faults import NOTIFY_ERROR_STATUS, NOTIFY_SEND, NOTIFY_VALIDATE
from local.otp_emulator import ApiCall, OtpEmulator, SentSms
from local.test_numbers import SCRIPTED_NOTIFY_OUTCOMES, SLOW_NUMBER

CODE_PLACEHOLDER: Final = "{{code}}"
CHANNELS: Final = ("TEXT", "VOICE", "WHATSAPP")
CODE_TYPES: Final = {
    "NUMERIC": string.digits,
    "ALPHA": string.ascii_uppercase,
    "ALPHANUMERIC": string.ascii_uppercase + string.digits,
}
DEFAULT_CODE_TYPE: Final = "NUMERIC"
DEFAULT_CODE_LENGTH: Final = 6
DEFAULT_VALIDITY_MINUTES: Final = 10
DEFAULT_MAX_ATTEMPTS: Final = 3
CODE_LENGTH_RANGE: Final = (4, 8)
VALIDITY_MINUTES_RANGE: Final = (1, 60)
MAX_ATTEMPTS_RANGE: Final = (1, 5)
SANDBOX_CONFIGURATION_SET: Final = "otp-sandbox"
# The sandbox's wording for what AWS does not publish.
NOTIFY_TEMPLATE_TEXT: Final = "Your verification code is {{code}}."
WHATSAPP_AUTHENTICATION_TEXT: Final = (
    "{{code}} is your verification code. For your security, do not share this code."
)

# (pattern, min, max) of the model's string shapes used by the two operations.
_DESTINATION: Final = (re.compile(r"[\x21-\x22\x24-\x7E]+"), 1, 20)
_ORIGINATION: Final = (re.compile(r"[A-Za-z0-9_:/+-]+"), 1, 256)
_CONFIGURATION_ID: Final = (re.compile(r"[A-Za-z0-9_:/-]+"), 1, 256)
_CONFIGURATION_SET: Final = (re.compile(r"[A-Za-z0-9_-]+"), 1, 256)
_REFERENCE: Final = (re.compile(r"[A-Za-z0-9_-]+"), 1, 256)
_TEMPLATE: Final = (re.compile(r"[\s\S]*\S[\s\S]*"), 1, 6000)
_LANGUAGE: Final = (re.compile(r"\S+"), 2, 35)
_VOICE_ID: Final = (re.compile(r"[A-Za-z0-9]+"), 1, 64)
_NOTIFY_TEMPLATE_ID: Final = (re.compile(r"[A-Za-z0-9_-]+"), 1, 256)
_WHATSAPP_TEMPLATE: Final = (re.compile(r"\S+"), 1, 512)
_COUNTRY_PARAMETER: Final = (re.compile(r"\S+"), 1, 64)
_CONTEXT_KEY: Final = (re.compile(r"\S+"), 1, 100)
_CONTEXT_VALUE: Final = (re.compile(r"\S(?:[\s\S]*\S)?"), 1, 800)
_CODE: Final = (re.compile(r"[A-Za-z0-9]+"), 4, 8)
_E164: Final = re.compile(r"\+[1-9][0-9]{1,14}")
# The service's own rule for Meta template names (the model says it enforces it).
_WHATSAPP_NAME_CHARS: Final = re.compile(r"[a-z0-9_]+")


class NotifyCodeError(Exception):
    """An error End User Messaging answers instead of a result, with the members its shape defines."""

    def __init__(self, error_type: str, message: str, **members: Any) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.http_status = NOTIFY_ERROR_STATUS[error_type]
        self.message = message
        self.members = members


def validation_error(path: str, message: str) -> NotifyCodeError:
    return NotifyCodeError(
        "ValidationException", f"{path}: {message}", fieldList=[{"path": path, "message": message}]
    )


def not_found(resource_type: str, resource_id: str) -> NotifyCodeError:
    return NotifyCodeError(
        "ResourceNotFoundException",
        f"{resource_type} {resource_id} not found",
        resourceId=resource_id,
        resourceType=resource_type,
    )


def _string(
    raw: Mapping[str, object], name: str, shape: tuple[re.Pattern[str], int, int], path: str
) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    pattern, low, high = shape
    where = f"{path}/{name}"
    if not isinstance(value, str):
        raise validation_error(where, "must be a string")
    if not low <= len(value) <= high:
        raise validation_error(where, f"length must be between {low} and {high}")
    if not pattern.fullmatch(value):
        raise validation_error(where, f"must satisfy the pattern {pattern.pattern}")
    return value


def _required(
    raw: Mapping[str, object], name: str, shape: tuple[re.Pattern[str], int, int], path: str
) -> str:
    value = _string(raw, name, shape, path)
    if value is None:
        raise validation_error(f"{path}/{name}", "is required")
    return value


def _integer(raw: Mapping[str, object], name: str, bounds: tuple[int, int], path: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise validation_error(f"{path}/{name}", f"must be an integer from {low} to {high}")
    return value


def _object(raw: Mapping[str, object], name: str, path: str) -> Mapping[str, object]:
    value = raw.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise validation_error(f"{path}/{name}", "must be an object")
    return value


def _string_map(
    raw: Mapping[str, object],
    name: str,
    path: str,
    *,
    keys: tuple[re.Pattern[str], int, int],
    values: tuple[re.Pattern[str], int, int],
    entries: tuple[int, int],
) -> dict[str, str]:
    mapping = _object(raw, name, path)
    low, high = entries
    if name in raw and not low <= len(mapping) <= high:
        raise validation_error(f"{path}/{name}", f"must have {low} to {high} entries")
    for key in mapping:
        _required({"key": key}, "key", keys, f"{path}/{name}")
        _required(mapping, key, values, f"{path}/{name}")
    return {str(k): str(v) for k, v in mapping.items()}


def _enum(raw: Mapping[str, object], name: str, allowed: Iterable[str], path: str) -> str | None:
    value = raw.get(name)
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise validation_error(f"{path}/{name}", f"must be one of {', '.join(allowed)}")
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class SendRequest:
    """SendNotifyCodeVerificationInput after validation, with the template resolved for the channel."""

    channel: str
    destination: str
    origination: str
    reference_id: str | None
    code_type: str
    code_length: int
    validity_minutes: int
    max_attempts: int
    body_template: str  # the text, with the code placeholder where the code goes
    language: str | None
    voice_id: str | None
    configuration_set: str | None
    context: dict[str, str]
    country_parameters: dict[str, str] = field(default_factory=dict)


def _template(parameters: Mapping[str, object], path: str) -> str | None:
    template = _string(parameters, "inlineTemplateBody", _TEMPLATE, path)
    if template is not None and CODE_PLACEHOLDER not in template:
        raise validation_error(
            f"{path}/inlineTemplateBody", f"must contain the code placeholder {CODE_PLACEHOLDER}"
        )
    return template


def parse_send(raw: Mapping[str, object], configuration_sets: Iterable[str]) -> SendRequest:
    """Validate SendNotifyCodeVerificationInput the way the service does; raises NotifyCodeError."""
    channel = _enum(raw, "channel", CHANNELS, "")
    if channel is None:
        raise validation_error("/channel", "is required")
    destination = _required(raw, "destinationIdentity", _DESTINATION, "")
    origination = _required(raw, "originationIdentity", _ORIGINATION, "")
    reference_id = _string(raw, "referenceId", _REFERENCE, "")
    configuration_set = _string(raw, "configurationSetName", _CONFIGURATION_SET, "")
    context = _string_map(raw, "context", "", keys=_CONTEXT_KEY, values=_CONTEXT_VALUE, entries=(0, 5))
    policy = _object(raw, "overrideCodeConfigurationParameters", "")
    where = "/overrideCodeConfigurationParameters"
    code_type = _enum(policy, "codeType", CODE_TYPES, where) or DEFAULT_CODE_TYPE
    code_length = _integer(policy, "codeLength", CODE_LENGTH_RANGE, where) or DEFAULT_CODE_LENGTH
    validity = (
        _integer(policy, "validityPeriodMinutes", VALIDITY_MINUTES_RANGE, where) or DEFAULT_VALIDITY_MINUTES
    )
    attempts = _integer(policy, "maxAttempts", MAX_ATTEMPTS_RANGE, where) or DEFAULT_MAX_ATTEMPTS

    overrides = _object(raw, "overrideChannelParameters", "")
    where = "/overrideChannelParameters"
    text, voice = _object(overrides, "text", where), _object(overrides, "voice", where)
    notify, whatsapp = _object(overrides, "notify", where), _object(overrides, "whatsApp", where)
    text_template = _template(text, f"{where}/text")
    country_parameters = _string_map(
        text, "destinationCountryParameters", f"{where}/text",
        keys=_COUNTRY_PARAMETER, values=_COUNTRY_PARAMETER, entries=(1, 10),
    )  # fmt: skip
    voice_template = _template(voice, f"{where}/voice")
    voice_language = _string(voice, "languageCode", _LANGUAGE, f"{where}/voice")
    voice_id = _string(voice, "voiceId", _VOICE_ID, f"{where}/voice")
    _enum(voice, "voiceMessageBodyTextType", ("TEXT", "SSML"), f"{where}/voice")
    notify_template = _string(notify, "notifyTemplateId", _NOTIFY_TEMPLATE_ID, f"{where}/notify")
    notify_voice = _string(notify, "voiceId", _VOICE_ID, f"{where}/notify")
    whatsapp_name = _string(whatsapp, "whatsAppTemplateName", _WHATSAPP_TEMPLATE, f"{where}/whatsApp")
    whatsapp_language = _string(whatsapp, "languageCode", _LANGUAGE, f"{where}/whatsApp")

    configuration_id = _string(raw, "notifyCodeConfiguration", _CONFIGURATION_ID, "")
    if configuration_id is not None:
        raise not_found("NotifyCodeConfiguration", configuration_id)
    if configuration_set is not None and configuration_set not in set(configuration_sets):
        raise not_found("ConfigurationSet", configuration_set)
    if channel in ("TEXT", "VOICE") and not _E164.fullmatch(destination):
        raise validation_error(
            "/destinationIdentity", f"must be an E.164 phone number for the {channel} channel"
        )

    language: str | None = None
    if channel == "TEXT":
        body = text_template or (NOTIFY_TEMPLATE_TEXT if notify_template else None)
        chosen_voice = None
    elif channel == "VOICE":
        body = voice_template or (NOTIFY_TEMPLATE_TEXT if notify_template else None)
        chosen_voice = voice_id if voice_template else notify_voice
        language = voice_language
    else:
        if whatsapp_name is not None and not _WHATSAPP_NAME_CHARS.fullmatch(whatsapp_name):
            raise validation_error(
                f"{where}/whatsApp/whatsAppTemplateName", "must be lowercase letters, digits and underscores"
            )
        if whatsapp_name is not None and whatsapp_language is None:
            raise validation_error(f"{where}/whatsApp/languageCode", "is required for the WHATSAPP channel")
        body = WHATSAPP_AUTHENTICATION_TEXT if whatsapp_name else None
        chosen_voice = None
        language = whatsapp_language
    if body is None:
        raise validation_error(
            where,
            f"a template for the {channel} channel is required when no notifyCodeConfiguration is given",
        )
    return SendRequest(
        channel=channel,
        destination=destination,
        origination=origination,
        reference_id=reference_id,
        code_type=code_type,
        code_length=code_length,
        validity_minutes=validity,
        max_attempts=attempts,
        body_template=body,
        language=language,
        voice_id=chosen_voice,
        configuration_set=configuration_set,
        context=context,
        country_parameters=country_parameters,
    )


@dataclass(frozen=True)
class ValidateRequest:
    destination: str
    reference_id: str | None
    code: str


def parse_validate(raw: Mapping[str, object]) -> ValidateRequest:
    return ValidateRequest(
        destination=_required(raw, "destinationIdentity", _DESTINATION, ""),
        reference_id=_string(raw, "referenceId", _REFERENCE, ""),
        code=_required(raw, "code", _CODE, ""),
    )


VerificationKey = tuple[str, str | None]  # (destination, referenceId)


@dataclass
class Verification:
    """A code the service holds for a destination and reference. Mutated only under the lock."""

    request: SendRequest
    verification_id: str
    message_id: str
    code: str
    created_at: float
    expires_at: float
    attempts: int = 0
    validated: bool = False

    @property
    def shown_reference(self) -> str | None:
        return self.request.context.get("referenceId") or self.request.reference_id


@dataclass
class _State:
    verifications: dict[VerificationKey, Verification] = field(default_factory=dict)


def _new_code(code_type: str, length: int) -> str:
    alphabet = CODE_TYPES[code_type]
    return "".join(secrets.choice(alphabet) for _ in range(length))


class NotifyCodeEmulator:
    """End User Messaging's two code operations, sharing the Pinpoint emulator's phone, clock, call log and
    faults, so the outbox, ``/_sandbox/clock`` and ``/_sandbox/faults`` work for both engines."""

    def __init__(
        self, phone: OtpEmulator, *, configuration_sets: Iterable[str] = (SANDBOX_CONFIGURATION_SET,)
    ):
        self.phone = phone
        self.configuration_sets = set(configuration_sets)
        self._lock = threading.Lock()
        self._state = _State()

    def send(self, raw: Mapping[str, object], request_id: str) -> dict[str, str]:
        """SendNotifyCodeVerification: ``{"verificationId", "messageId"}``, or raises NotifyCodeError."""
        self._record_call(NOTIFY_SEND, raw)
        self._raise_injected_fault(NOTIFY_SEND)
        request = parse_send(raw, self.configuration_sets)
        scripted = SCRIPTED_NOTIFY_OUTCOMES.get(request.destination)
        if scripted is not None and scripted.error_type is not None:
            raise NotifyCodeError(scripted.error_type, scripted.message)
        if scripted is not None:
            # Accepted, never delivered: the real service would report it only as a delivery event.
            return {"verificationId": _new_verification_id(), "messageId": str(uuid.uuid4())}
        verification, message = self._issue(request)
        if message is not None:
            self.phone.deliver(message)
        if request.destination == SLOW_NUMBER:
            # The message is already on the phone: a client that gives up still "received" it.
            self.phone.hold_slow_answer()
        return {"verificationId": verification.verification_id, "messageId": verification.message_id}

    def validate(self, raw: Mapping[str, object]) -> str:
        """ValidateNotifyCodeVerification: ``VALID`` or ``INVALID``, or raises NotifyCodeError."""
        self._record_call(NOTIFY_VALIDATE, raw)
        self._raise_injected_fault(NOTIFY_VALIDATE)
        request = parse_validate(raw)
        scripted = SCRIPTED_NOTIFY_OUTCOMES.get(request.destination)
        if scripted is not None and scripted.error_type in ("ThrottlingException", "InternalServerException"):
            raise NotifyCodeError(scripted.error_type, scripted.message)
        with self._lock:
            held = self._state.verifications.get((request.destination, request.reference_id))
            now = self.phone.clock.now()
            if held is None or held.validated or now >= held.expires_at:
                return "INVALID"
            if held.attempts >= held.request.max_attempts:
                return "INVALID"
            held.attempts += 1
            # Constant-time comparison: the sandbox should not teach a timing side channel.
            if hmac.compare_digest(held.code.encode(), request.code.encode()):
                held.validated = True
                return "VALID"
            return "INVALID"

    def live_verification(self, destination: str, reference_id: str | None) -> Verification | None:
        """The live code for a destination and reference (tests and the sandbox routes)."""
        with self._lock:
            held = self._state.verifications.get((destination, reference_id))
            if held is None or held.validated or self.phone.clock.now() >= held.expires_at:
                return None
            return held

    def _issue(self, request: SendRequest) -> tuple[Verification, SentSms | None]:
        key = (request.destination, request.reference_id)
        with self._lock:
            now = self.phone.clock.now()
            existing = self._state.verifications.get(key)
            if (
                request.destination == SLOW_NUMBER
                and existing is not None
                and not existing.validated
                and now < existing.expires_at
            ):
                return existing, None  # a retried slow send: the same code, no second message
            code = _new_code(request.code_type, request.code_length)
            verification = Verification(
                request=request,
                verification_id=_new_verification_id(),
                message_id=str(uuid.uuid4()),
                code=code,
                created_at=now,
                expires_at=now + request.validity_minutes * 60,
            )
            self._state.verifications[key] = verification
        message = SentSms(
            application_id="",
            reference_id=verification.shown_reference or "",
            destination=request.destination,
            origination=request.origination,
            body=request.body_template.replace(CODE_PLACEHOLDER, code),
            code=code,
            language=request.language or "",
            message_id=verification.message_id,
            sent_at=now,
            channel={"TEXT": "SMS"}.get(request.channel, request.channel),
            engine="endusermessaging",
            voice_id=request.voice_id,
        )
        return verification, message

    def _raise_injected_fault(self, operation: str) -> None:
        fault = self.phone.faults.take(operation)
        if fault is not None:
            raise NotifyCodeError(fault.error_type, f"{fault.error_type} (injected by the sandbox)")

    def _record_call(self, operation: str, raw: Mapping[str, object]) -> None:
        destination = raw.get("destinationIdentity")
        destination = destination if isinstance(destination, str) else None
        reference = _shown_reference(raw)
        if operation == NOTIFY_VALIDATE and destination is not None:
            with self._lock:
                held = self._state.verifications.get((destination, reference))
            if held is not None:
                reference = held.shown_reference
        self.phone.log_call(
            ApiCall(
                operation=operation,
                application_id="",
                reference_id=reference,
                destination=destination,
                received_at=self.phone.clock.now(),
            )
        )


def _shown_reference(raw: Mapping[str, object]) -> str | None:
    """The reference the outbox and call log show: the send's ``context.referenceId`` when it has one
    (this service puts the caller's own reference there: the API's alphabet is narrower), else the
    ``referenceId``."""
    context = raw.get("context")
    reference = context.get("referenceId") if isinstance(context, dict) else None
    if not isinstance(reference, str):
        reference = raw.get("referenceId")
    return reference if isinstance(reference, str) else None


def _new_verification_id() -> str:
    return "vrf-" + secrets.token_hex(16)
