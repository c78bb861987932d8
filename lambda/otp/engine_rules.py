"""What each messaging engine offers and accepts, and the rules of the message templates.

One source for the functions' settings (``otp.settings``, at start-up) and the CDK configuration
(``infra/config.py``, at synth), so a value synthesis accepts is one the functions accept. Dependency-free
on purpose: the CDK app loads this file by path, as it loads ``metric_names.py``.

Sources: Pinpoint's SendOTPMessage limits (docs/configuration.md); End User Messaging's from botocore's
``endusermessaging`` 2026-09-21 model (CodeLength 4-8, ValidityPeriodMinutes 1-60, MaxVerificationAttempts
1-5, InlineTemplateBody 1-6000, VoiceId ``[A-Za-z0-9]+``, LanguageCode 2-35, WhatsAppTemplateName 1-512
with lowercase letters, digits and underscores, OriginationIdentity ``[A-Za-z0-9_:/+-]`` 1-256).
"""

from __future__ import annotations

import re
from typing import Any, Final

PINPOINT: Final = "pinpoint"
END_USER_MESSAGING: Final = "endusermessaging"
ENGINES: Final = (PINPOINT, END_USER_MESSAGING)

SMS: Final = "SMS"
VOICE: Final = "VOICE"
WHATSAPP: Final = "WHATSAPP"
CHANNELS: Final = (SMS, VOICE, WHATSAPP)
#: The channels each engine can send on; a deployment enables a subset (``otp.channels``).
ENGINE_CHANNELS: Final[dict[str, tuple[str, ...]]] = {
    PINPOINT: (SMS,),
    END_USER_MESSAGING: (SMS, VOICE, WHATSAPP),
}
CODE_LENGTH: Final[dict[str, tuple[int, int]]] = {PINPOINT: (5, 8), END_USER_MESSAGING: (4, 8)}
VALIDITY_MINUTES: Final[dict[str, tuple[int, int]]] = {PINPOINT: (5, 60), END_USER_MESSAGING: (1, 60)}
ALLOWED_ATTEMPTS: Final[dict[str, tuple[int, int]]] = {PINPOINT: (1, 5), END_USER_MESSAGING: (1, 5)}

#: End User Messaging replaces it with the code (AWS's own template examples use this spelling).
CODE_PLACEHOLDER: Final = "{{code}}"
#: This project's: replaced with ``brandName`` before the request leaves the function.
BRAND_PLACEHOLDER: Final = "{{brand}}"
#: Pinpoint's fixed English wording, so users see the same SMS after a switch of engines.
DEFAULT_MESSAGE_TEMPLATE: Final = "This is your One Time Password: {{code}} from {{brand}}"
#: Spoken twice: a listener who missed the digits the first time does not need a second call.
DEFAULT_VOICE_TEMPLATE: Final = "Your {{brand}} verification code is {{code}}. Again, your code is {{code}}."
INLINE_TEMPLATE_MAX_CHARS: Final = 6000
#: The spoken text travels in a Lambda environment variable, and all of a function's variables share
#: 4 KB: a longer call than this is no OTP call anyway (the API itself would take 6000).
VOICE_TEMPLATE_MAX_CHARS: Final = 1000
#: One SMS part: 160 GSM-7 septets (a longer text is split and billed per part; UCS-2 allows only 70).
SMS_PART_SEPTETS: Final = 160

# GSM 03.38: the basic character set (one septet each; ESC is not text) and its extension table, whose
# characters are sent as ESC + character (two septets each).
_GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")

VOICE_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9]{1,64}$")
# BCP 47 tags such as en-US, es-419 or zh-Hant-TW; the API allows 2-35 characters.
LANGUAGE_CODE_PATTERN: Final = re.compile(r"^(?=.{2,35}$)[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
WHATSAPP_TEMPLATE_NAME_PATTERN: Final = re.compile(r"^[a-z0-9_]{1,512}$")
ORIGINATION_IDENTITY_PATTERN: Final = re.compile(r"^[A-Za-z0-9_:/+-]{1,256}$")
# CloudFormation's limit for AWS::SMSVOICE::ConfigurationSet names (the send API allows 256).
CONFIGURATION_SET_NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def gsm7_septets(text: str) -> int | None:
    """How many GSM-7 septets ``text`` takes, or None when a character is outside GSM-7."""
    septets = 0
    for char in text:
        if char in _GSM7_BASIC:
            septets += 1
        elif char in _GSM7_EXTENSION:
            septets += 2
        else:
            return None
    return septets


def render(template: str, *, brand: str, code: str) -> str:
    """The text a recipient gets: the brand first (it is ours), then the code (AWS's, shown here)."""
    return template.replace(BRAND_PLACEHOLDER, brand).replace(CODE_PLACEHOLDER, code)


def sms_template_problem(template: str, *, brand: str, code_length: int) -> str | None:
    """Why ``template`` cannot be the SMS text, or None: it must hold the code placeholder and, with the
    brand and a code of ``code_length`` digits in place, fit one SMS part in GSM-7."""
    problem = _template_problem(template)
    if problem:
        return problem
    text = render(template, brand=brand, code="0" * code_length)
    septets = gsm7_septets(text)
    if septets is None:
        outside = sorted({c for c in text if gsm7_septets(c) is None})
        return (
            f"must be GSM-7 text (with the brand in place); {', '.join(repr(c) for c in outside)} would make "
            "the SMS UCS-2, at most 70 characters per part"
        )
    if septets > SMS_PART_SEPTETS:
        return (
            f"must fit one SMS part: {septets} GSM-7 septets with the brand and a {code_length}-digit code "
            f"in place (characters of ^{{}}\\[~]|€ count twice), at most {SMS_PART_SEPTETS}"
        )
    return None


def voice_template_problem(template: str, *, brand: str) -> str | None:
    """Why ``template`` cannot be the spoken text, or None."""
    problem = _template_problem(template)
    if problem is None and len(template.replace(BRAND_PLACEHOLDER, brand)) > VOICE_TEMPLATE_MAX_CHARS:
        problem = (
            f"must be at most {VOICE_TEMPLATE_MAX_CHARS} characters with the brand in place (it travels in "
            "the functions' environment, which Lambda limits to 4 KB)"
        )
    return problem


def _template_problem(template: str) -> str | None:
    if not template.strip():
        return "must not be empty"
    if CODE_PLACEHOLDER not in template:
        return f"must contain the code placeholder {CODE_PLACEHOLDER}"
    if len(template) > INLINE_TEMPLATE_MAX_CHARS:
        return f"must be at most {INLINE_TEMPLATE_MAX_CHARS} characters"
    return None


# ----------------------------------------------------------------------------- End User Messaging's limits
# From the user guide's "Quotas" of Notify: "Messages to a single destination number per day, per
# configuration and per account: 10" (account-wide, not adjustable); "Send API rate limits are 1 request
# per second on the Basic tier and 25 requests per second on the Advanced tier"; Basic sends at most 200
# messages a day per configuration, Advanced has no daily cap. A separate monthly Notify spend limit
# answers ServiceQuotaExceededException when it is reached.

#: The most messages an engine delivers to one number in a day (None: the engine sets no such limit).
DESTINATION_DAILY_LIMIT: Final[dict[str, int | None]] = {PINPOINT: None, END_USER_MESSAGING: 10}
BASIC: Final = "BASIC"
ADVANCED: Final = "ADVANCED"
NOTIFY_TIERS: Final = (BASIC, ADVANCED)
#: Send requests per second each tier accepts; the functions keep to it (OTP_NOTIFY_TIER).
NOTIFY_TIER_SEND_RATE: Final[dict[str, int]] = {BASIC: 1, ADVANCED: 25}
#: Messages per day each tier sends (None: unlimited).
NOTIFY_TIER_DAILY_MESSAGES: Final[dict[str, int | None]] = {BASIC: 200, ADVANCED: None}


def offers_fallback(engine: str, channels: tuple[str, ...]) -> bool:
    """Channel fallback (a next channel when a code is not verified in time) needs End User Messaging with
    more than one channel; the stack then deploys its fifth function, Fallback."""
    return engine == END_USER_MESSAGING and len(channels) > 1


def notify_code_configuration(
    *,
    name: str,
    brand: str,
    code_length: int,
    validity_minutes: int,
    allowed_attempts: int,
    channels: tuple[str, ...],
    message_template: str,
    voice_template: str,
    voice_language: str,
    voice_id: str | None,
    whatsapp_template_name: str | None,
    whatsapp_language: str,
    entity_id: str | None = None,
    template_id: str | None = None,
) -> dict[str, Any]:
    """The notify code configuration a deployment holds: CreateNotifyCodeConfiguration's members.

    The code policy (digits: what a keypad types and what ``CODE_LENGTH`` tells sign-in clients) and the
    parameters of each enabled channel, with the brand in place in the templates. A send names the
    configuration and carries no template or policy of its own (WhatsApp's language is the request's).
    One source for the stack's custom resource (infra) and the sandbox's configuration.
    """
    parameters: dict[str, dict[str, Any]] = {}
    if SMS in channels:
        text: dict[str, Any] = {"inlineTemplateBody": message_template.replace(BRAND_PLACEHOLDER, brand)}
        # India's DLT registration, under the keys the SMS and Voice v2 API defines for it.
        country = {
            key: value
            for key, value in (("IN_ENTITY_ID", entity_id), ("IN_TEMPLATE_ID", template_id))
            if value
        }
        if country:
            text["destinationCountryParameters"] = country
        parameters["text"] = text
    if VOICE in channels:
        voice: dict[str, Any] = {
            "inlineTemplateBody": voice_template.replace(BRAND_PLACEHOLDER, brand),
            "languageCode": voice_language,
            "voiceMessageBodyTextType": "TEXT",
        }
        if voice_id:
            voice["voiceId"] = voice_id
        parameters["voice"] = voice
    if WHATSAPP in channels and whatsapp_template_name:
        parameters["whatsApp"] = {
            "whatsAppTemplateName": whatsapp_template_name,
            "languageCode": whatsapp_language,
        }
    configuration: dict[str, Any] = {
        "notifyCodeConfigurationName": name,
        "codeConfigurationParameters": {
            "codeType": "NUMERIC",
            "codeLength": code_length,
            "validityPeriodMinutes": validity_minutes,
            "maxAttempts": allowed_attempts,
        },
    }
    if parameters:
        configuration["channelParameters"] = parameters
    return configuration


def notify_code_configuration_name(deployment: str) -> str:
    """A configuration name for a deployment (the model allows 1-64 of letters, digits, _ - and space)."""
    cleaned = re.sub(r"[^A-Za-z0-9_ -]", "-", deployment).strip() or "otp"
    return f"{cleaned[:60]}-otp"
