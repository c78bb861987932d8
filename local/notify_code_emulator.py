"""An in-memory emulation of AWS End User Messaging code verification, with its rules.

SendNotifyCodeVerification / ValidateNotifyCodeVerification (API 2026-09-21). The wire format is in
``local/notify_code_wire.py``, the notify code configurations a send may name in
``local/notify_code_configurations.py``; this module holds the rules of the two operations. Sources:
botocore's ``endusermessaging`` model and the End User Messaging user guide ("Notify code
configurations", "Send a passcode", "Validate a passcode").

Documented rules:
- send requires ``channel`` (TEXT, VOICE, WHATSAPP), ``destinationIdentity`` (1-20 printable, no ``#``)
  and ``originationIdentity`` (1-256 of ``[A-Za-z0-9_:/+-]``); every other member has the model's bounds:
  codeLength 4-8, validityPeriodMinutes 1-60, maxAttempts 1-5, codeType NUMERIC/ALPHA/ALPHANUMERIC,
  inline templates 1-6000 with a non-blank character, context at most 5 entries, referenceId 1-256 of
  ``[A-Za-z0-9_-]``. TEXT and VOICE take an E.164 number.
- ``notifyCodeConfiguration`` (an id or ARN) supplies the policy and templates; "the per-send overrides
  ... override the values from the referenced notify code configuration. When you do not specify a value,
  the value from the configuration is used, and if neither is set, the service default applies". The
  policy is "captured ... at the time of the request": a later update or delete of the configuration
  does not change a code already sent.
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
code; a validation without referenceId matches only a code sent without one; a send's channel overrides
replace the configuration's parameters member by member. The sandbox knows only the configuration sets
it was told about (its own, ``otp-sandbox``). How the pre-approved notify templates and WhatsApp's
authentication template read is not published: the sandbox uses its own wording, with the code in it.
"""

from __future__ import annotations

import hmac
import re
import secrets
import string
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from local import notify_code_validation as v
from local.faults import NOTIFY_SEND, NOTIFY_VALIDATE
from local.notify_code_configurations import (
    CodeConfiguration,
    NotifyCodeConfigurations,
    parse_channels,
    parse_policy,
)
from local.notify_code_validation import NotifyCodeError, not_found, validation_error
from local.notify_limits import NotifyLimits
from local.otp_emulator import ApiCall, OtpEmulator, SentSms
from local.test_numbers import SCRIPTED_NOTIFY_OUTCOMES, SLOW_NUMBER

CODE_PLACEHOLDER: Final = v.CODE_PLACEHOLDER
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
CODE_LENGTH_RANGE: Final = v.CODE_LENGTH_RANGE
VALIDITY_MINUTES_RANGE: Final = v.VALIDITY_MINUTES_RANGE
MAX_ATTEMPTS_RANGE: Final = v.MAX_ATTEMPTS_RANGE
SANDBOX_CONFIGURATION_SET: Final = "otp-sandbox"
# The sandbox's wording for what AWS does not publish.
NOTIFY_TEMPLATE_TEXT: Final = "Your verification code is {{code}}."
WHATSAPP_AUTHENTICATION_TEXT: Final = (
    "{{code}} is your verification code. For your security, do not share this code."
)
_E164: Final = re.compile(r"\+[1-9][0-9]{1,14}")
# moto's account (every sandbox ARN is in it) and the region of a request that is not signed.
DEFAULT_ACCOUNT_ID: Final = "123456789012"
DEFAULT_REGION: Final = "us-east-1"

#: Finds the configuration a send names (id or ARN), or raises ResourceNotFoundException.
Resolve = Callable[[str], CodeConfiguration]


def _no_configurations(identifier: str) -> CodeConfiguration:
    raise not_found("NotifyCodeConfiguration", identifier)


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
    configuration_id: str | None = None  # the notify code configuration the send named


def _policy(overrides: Mapping[str, Any], configuration: CodeConfiguration | None) -> dict[str, Any]:
    """Each policy member from the send's overrides, else the configuration, else the service default."""
    defaults = {
        "codeType": DEFAULT_CODE_TYPE,
        "codeLength": DEFAULT_CODE_LENGTH,
        "validityPeriodMinutes": DEFAULT_VALIDITY_MINUTES,
        "maxAttempts": DEFAULT_MAX_ATTEMPTS,
    }
    stored = configuration.policy if configuration is not None else {}
    return {
        member: overrides.get(member, stored.get(member, default)) for member, default in defaults.items()
    }


def _channel_parameters(
    overrides: Mapping[str, dict[str, Any]], configuration: CodeConfiguration | None
) -> dict[str, dict[str, Any]]:
    """The parameters each route uses: the configuration's, each member overridden by the send's own."""
    stored = configuration.channels if configuration is not None else {}
    return {
        channel: {**stored.get(channel, {}), **overrides.get(channel, {})}
        for channel in set(stored) | set(overrides)
    }


def parse_send(
    raw: Mapping[str, object], configuration_sets: Iterable[str], resolve: Resolve = _no_configurations
) -> SendRequest:
    """Validate SendNotifyCodeVerificationInput the way the service does; raises NotifyCodeError."""
    channel = v.enum_member(raw, "channel", CHANNELS, "")
    if channel is None:
        raise validation_error("/channel", "is required")
    destination = v.required_member(raw, "destinationIdentity", v.DESTINATION, "")
    origination = v.required_member(raw, "originationIdentity", v.ORIGINATION, "")
    reference_id = v.string_member(raw, "referenceId", v.REFERENCE, "")
    configuration_set = v.string_member(raw, "configurationSetName", v.CONFIGURATION_SET, "")
    context = v.string_map_member(
        raw, "context", "", keys=v.CONTEXT_KEY, values=v.CONTEXT_VALUE, entries=(0, 5)
    )
    policy_overrides = parse_policy(raw, "overrideCodeConfigurationParameters", "")
    channel_overrides = parse_channels(raw, "overrideChannelParameters", "")
    configuration_id = v.string_member(raw, "notifyCodeConfiguration", v.CONFIGURATION_ID_OR_ARN, "")

    configuration = resolve(configuration_id) if configuration_id is not None else None
    if configuration_set is not None and configuration_set not in set(configuration_sets):
        raise not_found("ConfigurationSet", configuration_set)
    if channel in ("TEXT", "VOICE") and not _E164.fullmatch(destination):
        raise validation_error(
            "/destinationIdentity", f"must be an E.164 phone number for the {channel} channel"
        )
    policy = _policy(policy_overrides, configuration)
    parameters = _channel_parameters(channel_overrides, configuration)
    text, voice = parameters.get("text", {}), parameters.get("voice", {})
    notify, whatsapp = parameters.get("notify", {}), parameters.get("whatsApp", {})

    language: str | None = None
    if channel == "TEXT":
        body = text.get("inlineTemplateBody") or (
            NOTIFY_TEMPLATE_TEXT if notify.get("notifyTemplateId") else None
        )
        chosen_voice = None
    elif channel == "VOICE":
        voice_template = voice.get("inlineTemplateBody")
        body = voice_template or (NOTIFY_TEMPLATE_TEXT if notify.get("notifyTemplateId") else None)
        chosen_voice = voice.get("voiceId") if voice_template else notify.get("voiceId")
        language = voice.get("languageCode")
    else:
        name = whatsapp.get("whatsAppTemplateName")
        language = whatsapp.get("languageCode")
        if name is not None and language is None:
            raise validation_error(
                "/overrideChannelParameters/whatsApp/languageCode", "is required for the WHATSAPP channel"
            )
        body = WHATSAPP_AUTHENTICATION_TEXT if name else None
        chosen_voice = None
    if body is None:
        where = "a notifyCodeConfiguration with one" if configuration is None else "its configuration"
        raise validation_error(
            "/overrideChannelParameters",
            f"a template for the {channel} channel is required in the request or {where}",
        )
    return SendRequest(
        channel=channel,
        destination=destination,
        origination=origination,
        reference_id=reference_id,
        code_type=policy["codeType"],
        code_length=policy["codeLength"],
        validity_minutes=policy["validityPeriodMinutes"],
        max_attempts=policy["maxAttempts"],
        body_template=body,
        language=language,
        voice_id=chosen_voice,
        configuration_set=configuration_set,
        context=context,
        country_parameters=dict(text.get("destinationCountryParameters") or {}),
        configuration_id=configuration.configuration_id if configuration is not None else None,
    )


@dataclass(frozen=True)
class ValidateRequest:
    destination: str
    reference_id: str | None
    code: str


def parse_validate(raw: Mapping[str, object]) -> ValidateRequest:
    return ValidateRequest(
        destination=v.required_member(raw, "destinationIdentity", v.DESTINATION, ""),
        reference_id=v.string_member(raw, "referenceId", v.REFERENCE, ""),
        code=v.required_member(raw, "code", v.CODE, ""),
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
        self,
        phone: OtpEmulator,
        *,
        configuration_sets: Iterable[str] = (SANDBOX_CONFIGURATION_SET,),
        configurations: NotifyCodeConfigurations | None = None,
        limits: NotifyLimits | None = None,
    ):
        self.phone = phone
        # The account's rate, daily and spend limits (local/notify_limits.py).
        self.limits = limits or NotifyLimits()
        self.configuration_sets = set(configuration_sets)
        self.configurations = configurations or NotifyCodeConfigurations(
            account_id=DEFAULT_ACCOUNT_ID, clock=phone.clock.now
        )
        self._lock = threading.Lock()
        self._state = _State()

    def send(self, raw: Mapping[str, object], *, region: str = DEFAULT_REGION) -> dict[str, str]:
        """SendNotifyCodeVerification: ``{"verificationId", "messageId"}``, or raises NotifyCodeError."""
        self._record_call(NOTIFY_SEND, raw)
        self._raise_injected_fault(NOTIFY_SEND)
        request = parse_send(
            raw, self.configuration_sets, lambda identifier: self.configurations.resolve(identifier, region)
        )
        scripted = SCRIPTED_NOTIFY_OUTCOMES.get(request.destination)
        if scripted is not None and scripted.error_type is not None:
            raise NotifyCodeError(scripted.error_type, scripted.message)
        self.limits.admit(request.destination, self.phone.clock.now())
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
