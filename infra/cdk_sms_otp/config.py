"""The deployment configuration: cdk.json context key ``otp``, typed and validated.

Sources, later ones win:

1. the ``otp`` object in cdk.json (it restates this module's defaults; a test keeps them equal);
2. ``-c otp='{"brandName": "Acme"}'`` (a JSON object as a string);
3. ``-c otp.brandName=Acme`` (one flat key per value: the CLI passes these as strings).

Every problem is reported at once, each naming the key, the value and what is allowed, so that
``cdk synth`` stops with a message the user can act on instead of a stack trace or a failed deploy.

To add a key (e.g. the abuse-protection limits): add a field to :class:`OtpConfig`, a ``_Key`` entry in
``_KEYS`` with its parser, and a row in docs/configuration.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any, Final, Literal

import phonenumbers

from cdk_sms_otp.api_contract import language_tags
from cdk_sms_otp.lambda_source import OTP_PACKAGE, load_module

ENGINE_RULES_FILE: Final = OTP_PACKAGE / "engine_rules.py"


@cache
def engine_rules() -> ModuleType:
    """``lambda/otp/engine_rules.py``, the functions' own rules per engine (dependency-free, loaded by path
    because ``lambda`` is a Python keyword): synthesis accepts exactly what the functions accept."""
    return load_module(ENGINE_RULES_FILE, "_otp_engine_rules")


_RULES: Final = engine_rules()
PINPOINT: Final[str] = _RULES.PINPOINT
END_USER_MESSAGING: Final[str] = _RULES.END_USER_MESSAGING
ENGINES: Final[tuple[str, ...]] = _RULES.ENGINES
CHANNELS: Final[tuple[str, ...]] = _RULES.CHANNELS
ENGINE_CHANNELS: Final[dict[str, tuple[str, ...]]] = _RULES.ENGINE_CHANNELS
NOTIFY_TIERS: Final[tuple[str, ...]] = _RULES.NOTIFY_TIERS

CONTEXT_KEY: Final = "otp"

ApiAuth = Literal["iam", "apiKey"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# How traces are produced (docs/observability.md): Lambda's and API Gateway's own segments only
# ("active", the default), plus the X-Ray SDK's subsegments for every AWS call ("sdk"), or none ("off").
Tracing = Literal["active", "sdk", "off"]
TRACING_MODES: Final[tuple[Tracing, ...]] = ("active", "sdk", "off")

#: Retention periods CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

#: The example values cdk.json ships with, so that a clean clone synthesizes. They cannot send an SMS.
EXAMPLE_BRAND_NAME: Final = "ExampleCo"
EXAMPLE_ORIGINATION_IDENTITY: Final = "+18885550100"

E164_PATTERN: Final = r"^\+[1-9][0-9]{6,14}$"
# A sender ID: 1-11 letters, digits or hyphens with at least one letter (an all-digit one is a short code).
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}$")
_SHORT_CODE = re.compile(r"^[0-9]{3,8}$")
# End User Messaging ids: phone-<32 hex>, pool-<32 hex>, senderid-... ; or the ARN of one of them.
_EUM_ID = re.compile(r"^(phone|pool|senderid)-[0-9A-Za-z]{8,64}$")
_ARN = re.compile(r"^arn:aws[a-z-]*:(sms-voice|mobiletargeting):[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9/_.:+-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DLT_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_LOG_LEVELS: Final[tuple[LogLevel, ...]] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_PREFIX = re.compile(r"^\+[0-9]{1,14}$")


class ConfigError(ValueError):
    """One or more configuration values are invalid; ``problems`` lists one message per key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Invalid configuration (cdk.json context '{CONTEXT_KEY}' or -c):\n{lines}")


class _Invalid(ValueError):
    """Raised by a parser: the text says what is allowed."""


@dataclass(frozen=True)
class OtpConfig:
    """Validated configuration. Attribute names are the snake_case of the context keys."""

    brand_name: str
    origination_identity: str
    code_length: int = 6
    validity_minutes: int = 5
    allowed_attempts: int = 3
    # How long every Cognito sign-in round that sends or checks a code lasts at least, real or decoy.
    sign_in_floor_ms: int = 150
    allowed_countries: tuple[str, ...] = ("US", "CA", "GB")
    language: str = "en-US"
    entity_id: str | None = None
    template_id: str | None = None
    api_auth: ApiAuth = "iam"
    throttle_rate_limit: int = 10
    throttle_burst_limit: int = 20
    log_retention_days: int = 30
    log_level: LogLevel = "INFO"
    alarm_email: str | None = None
    # Abuse protection (infra/protection.py; docs/abuse-protection.md says why each exists).
    send_cooldown_seconds: int = 30
    send_limit_per_hour: int = 5
    send_limit_per_day: int = 10
    # The part of the daily cap only a device ticket can draw on; None: reserve_per_day's default.
    send_reserve_per_day: int | None = None
    device_ticket_days: int = 90
    verify_limit_per_reference: int = 5
    allow_toll_free: bool = False
    allow_voip: bool = False
    blocked_prefixes: tuple[str, ...] = ()
    # Adaptive defence (docs/abuse-protection.md#adaptive-defence): ranges that do not convert are blocked.
    adaptive_protection: bool = True
    adaptive_min_sends: int = 20
    adaptive_min_conversion_percent: int = 5
    adaptive_block_hours: tuple[int, ...] = (1, 4, 24, 168)
    adaptive_allowed_prefixes: tuple[str, ...] = ()
    # The budget's share only proven numbers may spend, and the most one country or range of unproven
    # numbers may take of the rest.
    proven_reserve_percent: int = 20
    proven_number_days: int = 30
    unproven_country_share_percent: int = 50
    unproven_range_share_percent: int = 10
    idempotency_ttl_seconds: int = 3600
    waf_enabled: bool = True
    # Per IP and 5 minutes. On the API (IAM or API-key callers) the IP is the integrator's backend, so
    # the default admits a backend sending at the stage throttle's full rate: 10 x 300 + 20 = 3,020.
    waf_rate_limit: int = 3100
    # Per IP and 5 minutes, InitiateAuth and RespondToAuthChallenge on the user pool (end users' devices).
    waf_sign_in_rate_limit: int = 300
    refusal_alarm_threshold: int = 50
    new_country_alarm_min_sends: int = 10
    # The messaging engine (docs/engines.md) and what the new one sends; otp/engine_rules.py has the rules.
    engine: str = PINPOINT
    previous_engine: str | None = None
    channels: tuple[str, ...] = ("SMS",)
    message_template: str = _RULES.DEFAULT_MESSAGE_TEMPLATE
    voice_template: str = _RULES.DEFAULT_VOICE_TEMPLATE
    voice_language: str | None = None
    voice_id: str | None = None
    voice_origination_identity: str | None = None
    whatsapp_template_name: str | None = None
    whatsapp_origination_identity: str | None = None
    # Whether the stack's notify code configuration has deletion protection (end_user_messaging.py).
    notify_code_deletion_protection: bool = False
    # The account's End User Messaging Notify tier: the send rate the functions keep to (otp/engine_rules.py).
    notify_tier: str = _RULES.BASIC
    # Lambda SnapStart on all four functions, each invoked through an alias (infra/functions.py).
    snap_start: bool = False
    # The account-wide send budget (otp/domain/budget.py): codes in any rolling hour / day, in all and
    # per country ((ISO code, per hour, per day), ...).
    send_budget_per_hour: int = 500
    send_budget_per_day: int = 2000
    country_send_budgets: tuple[tuple[str, int, int], ...] = ()
    # Reserved concurrency of each function (0: none), checked against the account's concurrency quota.
    reserved_concurrency: int = 25
    account_concurrent_executions: int = 1000
    tracing: Tracing = "active"

    @property
    def engines_in_use(self) -> tuple[str, ...]:
        """The engine that sends, then the one that still verifies codes sent before a switch."""
        return (self.engine,) if self.previous_engine is None else (self.engine, self.previous_engine)

    @property
    def uses_end_user_messaging(self) -> bool:
        return self.engine == END_USER_MESSAGING

    @property
    def reserve_per_day(self) -> int:
        """sendReservePerDay, else one less than the daily cap beyond the hourly one (the functions'
        otp.settings.default_reserve_per_day; a test keeps the two in step): spending the open part
        then takes a stranger more than an hour."""
        if self.send_reserve_per_day is not None:
            return self.send_reserve_per_day
        return max(0, self.send_limit_per_day - self.send_limit_per_hour - 1)

    @property
    def uses_example_origination(self) -> bool:
        """True while cdk.json's example values are in use: such a stack deploys but sends no SMS."""
        return (
            self.origination_identity == EXAMPLE_ORIGINATION_IDENTITY or self.brand_name == EXAMPLE_BRAND_NAME
        )

    @property
    def sender_id(self) -> str | None:
        """The SMS channel's SenderId when the origination identity is an alphanumeric sender ID."""
        return self.origination_identity if _SENDER_ID.match(self.origination_identity) else None

    @property
    def short_code(self) -> str | None:
        """The SMS channel's ShortCode when the origination identity is a short code."""
        return self.origination_identity if _SHORT_CODE.match(self.origination_identity) else None


# --------------------------------------------------------------------------------------------- parsers


def _int_in(low: int, high: int) -> Callable[[object], int]:
    def parse(value: object) -> int:
        allowed = f"an integer from {low} to {high}"
        if isinstance(value, bool):
            raise _Invalid(allowed)
        if isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*", value):
            value = int(value)
        if not isinstance(value, int) or not low <= value <= high:
            raise _Invalid(allowed)
        return value

    return parse


def _text(pattern: re.Pattern[str], allowed: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise _Invalid(allowed)
        return value

    return parse


def _optional_int(parse: Callable[[object], int]) -> Callable[[object], int | None]:
    def parse_optional(value: object) -> int | None:
        if value is None or value == "":
            return None
        return parse(value)

    return parse_optional


def _optional(parse: Callable[[object], str]) -> Callable[[object], str | None]:
    def parse_optional(value: object) -> str | None:
        if value is None or value == "":
            return None
        return parse(value)

    return parse_optional


def _brand_name(value: object) -> str:
    allowed = "1 to 20 printable characters, no leading or trailing space"
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= 20
        or value != value.strip()
        or not value.isprintable()
    ):
        raise _Invalid(allowed)
    return value


def _origination_identity(value: object) -> str:
    allowed = (
        "an E.164 phone number (+12065550100), a sender ID (1-11 letters/digits, at least one letter), "
        "a short code (3-8 digits), an End User Messaging phone/pool/sender id (phone-…, pool-…) "
        "or the ARN of one of them"
    )
    if isinstance(value, str) and any(
        p.match(value) for p in (re.compile(E164_PATTERN), _SENDER_ID, _SHORT_CODE, _EUM_ID, _ARN)
    ):
        return value
    raise _Invalid(allowed)


def _countries(value: object) -> tuple[str, ...]:
    allowed = 'a non-empty list of ISO 3166-1 alpha-2 region codes with phone numbers, e.g. ["US", "CA"]'
    items: object = value
    if isinstance(value, str):
        text = value.strip()
        items = json.loads(text) if text.startswith("[") else [p.strip() for p in text.split(",")]
    if not isinstance(items, list | tuple) or not items:
        raise _Invalid(allowed)
    codes: list[str] = []
    for item in items:
        if not isinstance(item, str) or item.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise _Invalid(f"{allowed}; {item!r} is not one")
        if item.upper() not in codes:
            codes.append(item.upper())
    return tuple(codes)


def _language(value: object) -> str:
    tags = language_tags()  # what POST /otp accepts: the languages AWS documents for OTP messages
    if not isinstance(value, str) or value not in tags:
        raise _Invalid("one of " + ", ".join(tags))
    return value


def _api_auth(value: object) -> ApiAuth:
    if value == "iam":
        return "iam"
    if value == "apiKey":
        return "apiKey"
    raise _Invalid('"iam" (SigV4, the default) or "apiKey" (API key + usage plan)')


def _log_level(value: object) -> LogLevel:
    if isinstance(value, str):
        for level in _LOG_LEVELS:
            if value.upper() == level:
                return level
    raise _Invalid("one of " + ", ".join(_LOG_LEVELS))


def _retention(value: object) -> int:
    allowed = "a CloudWatch Logs retention in days: " + ", ".join(str(d) for d in LOG_RETENTION_DAYS)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or value not in LOG_RETENTION_DAYS:
        raise _Invalid(allowed)
    assert isinstance(value, int)
    return value


def _tracing(value: object) -> Tracing:
    for mode in TRACING_MODES:
        if value == mode:
            return mode
    raise _Invalid(
        '"active" (Lambda and API Gateway segments, the default), "sdk" (also the X-Ray SDK\'s '
        'subsegments for each AWS call; slower cold starts) or "off"'
    )


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise _Invalid("true or false")


def _prefixes(value: object) -> tuple[str, ...]:
    allowed = 'a list of E.164 prefixes ("+" and 1-14 digits), e.g. ["+1900", "+4470"]'
    items: object = value
    if isinstance(value, str):
        text = value.strip()
        items = (
            json.loads(text) if text.startswith("[") else [p.strip() for p in text.split(",") if p.strip()]
        )
    if not isinstance(items, list | tuple):
        raise _Invalid(allowed)
    for item in items:
        if not isinstance(item, str) or not _PREFIX.match(item):
            raise _Invalid(f"{allowed}; {item!r} is not one")
    return tuple(items)


def _block_hours(value: object) -> tuple[int, ...]:
    allowed = "a list of 1-8 increasing whole hours from 1 to 8760, e.g. [1, 4, 24, 168]"
    items: object = value
    if isinstance(value, str):
        text = value.strip()
        items = (
            json.loads(text) if text.startswith("[") else [p.strip() for p in text.split(",") if p.strip()]
        )
    if not isinstance(items, list | tuple) or not 1 <= len(items) <= 8:
        raise _Invalid(allowed)
    hours = []
    for item in items:
        if isinstance(item, str) and re.fullmatch(r"[0-9]+", item):
            item = int(item)
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 8760:
            raise _Invalid(f"{allowed}; {item!r} is not one")
        hours.append(item)
    if hours != sorted(set(hours)):
        raise _Invalid(allowed)
    return tuple(hours)


def _one_of(values: tuple[str, ...]) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if not isinstance(value, str) or value not in values:
            raise _Invalid("one of " + ", ".join(f'"{v}"' for v in values))
        return value

    return parse


def _channels(value: object) -> tuple[str, ...]:
    allowed = f'a non-empty list of {", ".join(CHANNELS)}, e.g. ["SMS", "VOICE"]'
    items: object = value
    if isinstance(value, str):
        text = value.strip()
        items = (
            json.loads(text) if text.startswith("[") else [p.strip() for p in text.split(",") if p.strip()]
        )
    if not isinstance(items, list | tuple) or not items:
        raise _Invalid(allowed)
    channels: list[str] = []
    for item in items:
        if not isinstance(item, str) or item.upper() not in CHANNELS:
            raise _Invalid(f"{allowed}; {item!r} is not one")
        if item.upper() not in channels:
            channels.append(item.upper())
    return tuple(channels)


def _template(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"a text containing {_RULES.CODE_PLACEHOLDER}")
    return value


def _country_budgets(value: object) -> tuple[tuple[str, int, int], ...]:
    allowed = (
        'an object of ISO country codes to {"perHour": n, "perDay": n}, '
        'e.g. {"GB": {"perHour": 50, "perDay": 200}}'
    )
    items: object = value
    if isinstance(value, str):
        items = json.loads(value) if value.strip() else {}
    if not isinstance(items, dict):
        raise _Invalid(allowed)
    budgets = []
    for country, caps in items.items():
        if (
            not isinstance(country, str)
            or country.upper() not in phonenumbers.SUPPORTED_REGIONS
            or not isinstance(caps, dict)
            or set(caps) != {"perHour", "perDay"}
            or not all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10_000_000 for v in caps.values()
            )
        ):
            raise _Invalid(f"{allowed}; {country!r} is not one")
        budgets.append((country.upper(), caps["perHour"], caps["perDay"]))
    return tuple(sorted(budgets))


@dataclass(frozen=True)
class _Key:
    name: str  # the context key (camelCase)
    attribute: str  # the OtpConfig field
    parse: Callable[[object], Any]
    required: bool = False


_KEYS: Final = (
    _Key("brandName", "brand_name", _brand_name, required=True),
    _Key("originationIdentity", "origination_identity", _origination_identity, required=True),
    _Key("codeLength", "code_length", _int_in(5, 8)),
    _Key("validityMinutes", "validity_minutes", _int_in(5, 60)),
    _Key("allowedAttempts", "allowed_attempts", _int_in(1, 5)),
    _Key("signInFloorMs", "sign_in_floor_ms", _int_in(0, 5000)),
    _Key("allowedCountries", "allowed_countries", _countries),
    _Key("language", "language", _language),
    _Key("entityId", "entity_id", _optional(_text(_DLT_ID, "1-64 letters, digits, '_' or '-'"))),
    _Key("templateId", "template_id", _optional(_text(_DLT_ID, "1-64 letters, digits, '_' or '-'"))),
    _Key("apiAuth", "api_auth", _api_auth),
    _Key("throttleRateLimit", "throttle_rate_limit", _int_in(1, 10_000)),
    _Key("throttleBurstLimit", "throttle_burst_limit", _int_in(1, 5_000)),
    _Key("logRetentionDays", "log_retention_days", _retention),
    _Key("logLevel", "log_level", _log_level),
    _Key("alarmEmail", "alarm_email", _optional(_text(_EMAIL, "an e-mail address"))),
    # Abuse protection. The ranges match what otp.settings accepts for the same variables.
    _Key("sendCooldownSeconds", "send_cooldown_seconds", _int_in(0, 3600)),
    _Key("sendLimitPerHour", "send_limit_per_hour", _int_in(1, 100)),
    _Key("sendLimitPerDay", "send_limit_per_day", _int_in(1, 1000)),
    _Key("sendReservePerDay", "send_reserve_per_day", _optional_int(_int_in(0, 999))),
    _Key("deviceTicketDays", "device_ticket_days", _int_in(1, 365)),
    _Key("verifyLimitPerReference", "verify_limit_per_reference", _int_in(1, 20)),
    _Key("allowTollFree", "allow_toll_free", _bool),
    _Key("allowVoip", "allow_voip", _bool),
    _Key("blockedPrefixes", "blocked_prefixes", _prefixes),
    _Key("adaptiveProtection", "adaptive_protection", _bool),
    _Key("adaptiveMinSends", "adaptive_min_sends", _int_in(1, 100_000)),
    _Key("adaptiveMinConversionPercent", "adaptive_min_conversion_percent", _int_in(0, 100)),
    _Key("adaptiveBlockHours", "adaptive_block_hours", _block_hours),
    _Key("adaptiveAllowedPrefixes", "adaptive_allowed_prefixes", _prefixes),
    _Key("provenReservePercent", "proven_reserve_percent", _int_in(0, 90)),
    _Key("provenNumberDays", "proven_number_days", _int_in(1, 365)),
    _Key("unprovenCountrySharePercent", "unproven_country_share_percent", _int_in(1, 100)),
    _Key("unprovenRangeSharePercent", "unproven_range_share_percent", _int_in(1, 100)),
    _Key("idempotencyTtlSeconds", "idempotency_ttl_seconds", _int_in(60, 86400)),
    _Key("wafEnabled", "waf_enabled", _bool),
    # WAF's own bounds for a rate-based rule over a 5-minute window.
    _Key("wafRateLimit", "waf_rate_limit", _int_in(10, 2_000_000_000)),
    _Key("wafSignInRateLimit", "waf_sign_in_rate_limit", _int_in(10, 2_000_000_000)),
    _Key("refusalAlarmThreshold", "refusal_alarm_threshold", _int_in(1, 1_000_000)),
    _Key("newCountryAlarmMinSends", "new_country_alarm_min_sends", _int_in(1, 1_000_000)),
    # The engine and what End User Messaging sends (docs/engines.md). codeLength and validityMinutes
    # take the engine's range (_engine_parsers).
    _Key("engine", "engine", _one_of(ENGINES)),
    _Key("previousEngine", "previous_engine", _optional(_one_of(ENGINES))),
    _Key("channels", "channels", _channels),
    _Key("messageTemplate", "message_template", _template),
    _Key("voiceTemplate", "voice_template", _template),
    _Key(
        "voiceLanguage",
        "voice_language",
        _optional(_text(_RULES.LANGUAGE_CODE_PATTERN, "a BCP 47 language tag such as en-US or es-419")),
    ),
    _Key(
        "voiceId",
        "voice_id",
        _optional(_text(_RULES.VOICE_ID_PATTERN, "an Amazon Polly voice id such as Joanna")),
    ),
    _Key(
        "voiceOriginationIdentity",
        "voice_origination_identity",
        _optional(
            _text(
                _RULES.ORIGINATION_IDENTITY_PATTERN, "a voice-capable phone number, its id, a pool or an ARN"
            )
        ),
    ),
    _Key(
        "whatsAppTemplateName",
        "whatsapp_template_name",
        _optional(
            _text(_RULES.WHATSAPP_TEMPLATE_NAME_PATTERN, "1-512 lowercase letters, digits or underscores")
        ),
    ),
    _Key(
        "whatsAppOriginationIdentity",
        "whatsapp_origination_identity",
        _optional(
            _text(
                _RULES.ORIGINATION_IDENTITY_PATTERN,
                "1-256 of A-Z a-z 0-9 _ : / + - (a WhatsApp phone number id)",
            )
        ),
    ),
    _Key("notifyCodeDeletionProtection", "notify_code_deletion_protection", _bool),
    _Key("notifyTier", "notify_tier", _one_of(NOTIFY_TIERS)),
    _Key("snapStart", "snap_start", _bool),
    # The ranges match what otp.settings accepts for OTP_SEND_BUDGET_PER_HOUR / _PER_DAY.
    _Key("sendBudgetPerHour", "send_budget_per_hour", _int_in(1, 1_000_000)),
    _Key("sendBudgetPerDay", "send_budget_per_day", _int_in(1, 10_000_000)),
    _Key("countrySendBudgets", "country_send_budgets", _country_budgets),
    # Lambda's own bounds: a reservation of 0 would stop a function, so 0 here means "reserve none".
    _Key("reservedConcurrency", "reserved_concurrency", _int_in(0, 10_000)),
    _Key("accountConcurrentExecutions", "account_concurrent_executions", _int_in(10, 10_000_000)),
    _Key("tracing", "tracing", _tracing),
)
KNOWN_KEYS: Final = tuple(k.name for k in _KEYS)


def _show(value: object) -> str:
    return json.dumps(value) if isinstance(value, str | int | float | bool | list | dict) else repr(value)


def _merge_sources(context: Mapping[str, Any]) -> tuple[dict[str, object], list[str]]:
    """Merge the ``otp`` object and the flat ``otp.<key>`` context entries."""
    problems: list[str] = []
    merged: dict[str, object] = {}
    base = context.get(CONTEXT_KEY)
    if isinstance(base, str):  # -c otp='{"brandName": ...}'
        try:
            base = json.loads(base)
        except json.JSONDecodeError:
            problems.append(f"{CONTEXT_KEY} = {base!r} is invalid: must be a JSON object")
            base = None
    if isinstance(base, Mapping):
        merged.update(base)
    elif base is not None:
        problems.append(f"{CONTEXT_KEY} = {_show(base)} is invalid: must be a JSON object")
    prefix = CONTEXT_KEY + "."
    for key, value in context.items():
        if key.startswith(prefix):
            merged[key[len(prefix) :]] = value
    return merged, problems


def _engine_parsers(engine: str) -> dict[str, Callable[[object], Any]]:
    """The parsers whose range depends on the engine (the message names it)."""

    def ranged(bounds: tuple[int, int]) -> Callable[[object], int]:
        parse = _int_in(*bounds)

        def parse_for_engine(value: object) -> int:
            try:
                return parse(value)
            except _Invalid as exc:
                raise _Invalid(f"{exc} with {CONTEXT_KEY}.engine={engine}") from None

        return parse_for_engine

    return {
        "codeLength": ranged(_RULES.CODE_LENGTH[engine]),
        "validityMinutes": ranged(_RULES.VALIDITY_MINUTES[engine]),
    }


def load_config(context: Mapping[str, Any]) -> OtpConfig:
    """Build the configuration from CDK context, or raise :class:`ConfigError` listing every problem."""
    raw, problems = _merge_sources(context)
    values: dict[str, Any] = {}
    engine = raw.get("engine", PINPOINT)
    parsers = _engine_parsers(engine if engine in ENGINES else PINPOINT)
    for key in _KEYS:
        if key.name not in raw or raw[key.name] is None:
            if key.required:
                problems.append(f"{CONTEXT_KEY}.{key.name} is required")
            continue
        value = raw[key.name]
        try:
            values[key.attribute] = parsers.get(key.name, key.parse)(value)
        except (_Invalid, json.JSONDecodeError) as exc:
            problems.append(f"{CONTEXT_KEY}.{key.name} = {_show(value)} is invalid: must be {exc}")
    for name in sorted(set(raw) - set(KNOWN_KEYS)):
        problems.append(
            f"{CONTEXT_KEY}.{name} = {_show(raw[name])} is not a known key (known: {', '.join(KNOWN_KEYS)})"
        )
    problems.extend(_cross_checks(values))
    if not problems:
        problems = _engine_checks(OtpConfig(**values), raw)
    if problems:
        raise ConfigError(problems)
    return OtpConfig(**values)


#: Functions the stack deploys, each given ``reservedConcurrency`` (infra/functions.py checks the count).
FUNCTION_COUNT: Final = 4
#: Lambda keeps this much of an account's concurrency unreserved, whatever the functions ask for.
UNRESERVED_MINIMUM: Final = 100
#: WAF rate-based rules count over this window (seconds); the API's rule is sized against it.
WAF_WINDOW_SECONDS: Final = 300


def stage_admits_per_waf_window(throttle_rate_limit: int, throttle_burst_limit: int) -> int:
    """The most requests API Gateway's stage throttle lets one caller through in one WAF window."""
    return throttle_rate_limit * WAF_WINDOW_SECONDS + throttle_burst_limit


def _cross_checks(values: Mapping[str, Any]) -> list[str]:
    """Rules between keys; each message names both keys and values."""
    defaults = OtpConfig(brand_name="-", origination_identity="-")

    def value(name: str) -> Any:
        return values.get(name, getattr(defaults, name))

    problems = []
    per_hour, per_day = value("send_limit_per_hour"), value("send_limit_per_day")
    if per_day < per_hour:
        problems.append(
            f"{CONTEXT_KEY}.sendLimitPerDay = {per_day} is invalid: must be at least "
            f"{CONTEXT_KEY}.sendLimitPerHour ({per_hour})"
        )
    reserve = value("send_reserve_per_day")
    if reserve is not None and reserve > per_day - 1:
        problems.append(
            f"{CONTEXT_KEY}.sendReservePerDay = {reserve} is invalid: must be at most "
            f"{CONTEXT_KEY}.sendLimitPerDay - 1 ({per_day - 1}), so that a first sign-in on a new device "
            "can get a code"
        )
    budget_hour, budget_day = value("send_budget_per_hour"), value("send_budget_per_day")
    if budget_day < budget_hour:
        problems.append(
            f"{CONTEXT_KEY}.sendBudgetPerDay = {budget_day} is invalid: must be at least "
            f"{CONTEXT_KEY}.sendBudgetPerHour ({budget_hour})"
        )
    countries = value("allowed_countries")
    for country, hourly, daily in value("country_send_budgets"):
        if country not in countries:
            problems.append(
                f"{CONTEXT_KEY}.countrySendBudgets names {country}, "
                f"which is not in {CONTEXT_KEY}.allowedCountries"
            )
        if daily < hourly or hourly > budget_hour or daily > budget_day:
            problems.append(
                f"{CONTEXT_KEY}.countrySendBudgets.{country} = {hourly}/hour, {daily}/day is invalid: "
                f"the daily budget must be at least the hourly one, and both within "
                f"{CONTEXT_KEY}.sendBudgetPerHour ({budget_hour}) and "
                f"{CONTEXT_KEY}.sendBudgetPerDay ({budget_day})"
            )
    if value("waf_enabled"):
        rate, burst, waf = (
            value("throttle_rate_limit"),
            value("throttle_burst_limit"),
            value("waf_rate_limit"),
        )
        admitted = stage_admits_per_waf_window(rate, burst)
        if waf < admitted:
            problems.append(
                f"{CONTEXT_KEY}.wafRateLimit = {waf} is invalid: the API's callers are your backends (one IP "
                f"for many users), and the stage throttle admits up to {rate} x {WAF_WINDOW_SECONDS} s + "
                f"{burst} = {admitted} requests from one of them in 5 minutes; set it to at least {admitted}"
            )
    reserved, account = value("reserved_concurrency"), value("account_concurrent_executions")
    most = (account - UNRESERVED_MINIMUM) // FUNCTION_COUNT
    if reserved > most:
        problems.append(
            f"{CONTEXT_KEY}.reservedConcurrency = {reserved} is invalid: {FUNCTION_COUNT} functions "
            f"would reserve {FUNCTION_COUNT * reserved} of the account's {account} concurrent executions "
            f"({CONTEXT_KEY}.accountConcurrentExecutions), and Lambda keeps {UNRESERVED_MINIMUM} unreserved: "
            f"at most {max(most, 0)}, or 0 to reserve none"
        )
    return problems


#: Keys that only End User Messaging reads; setting one to anything but its default with Pinpoint is a
#: mistake worth stopping for (Pinpoint's text, voice and channels are fixed).
_END_USER_MESSAGING_KEYS: Final = (
    "previousEngine", "messageTemplate", "voiceTemplate", "voiceLanguage", "voiceId",
    "voiceOriginationIdentity", "whatsAppTemplateName", "whatsAppOriginationIdentity",
    "notifyCodeDeletionProtection", "notifyTier",
)  # fmt: skip
# What can place a voice call: a phone number or its id, a pool, or an End User Messaging ARN.
_VOICE_CAPABLE = re.compile(
    r"^(\+[1-9][0-9]{6,14}|(phone|pool)-[0-9A-Za-z]{8,64}|arn:aws[a-z-]*:sms-voice:.+)$"
)


def _engine_checks(config: OtpConfig, raw: Mapping[str, object]) -> list[str]:
    """What the engine offers and what its enabled channels need; each message names the keys."""
    key = CONTEXT_KEY
    engine = config.engine
    problems: list[str] = []
    offered = ENGINE_CHANNELS[engine]
    extra = [c for c in config.channels if c not in offered]
    if extra:
        problems.append(
            f"{key}.channels = {_show(list(config.channels))} is invalid: {key}.engine={engine} offers "
            f"{', '.join(offered)} only"
        )
    if engine == PINPOINT:
        defaults = OtpConfig(brand_name="-", origination_identity="-")
        for name in _END_USER_MESSAGING_KEYS:
            attribute = next(k.attribute for k in _KEYS if k.name == name)
            if (
                name in raw
                and raw[name] is not None
                and getattr(config, attribute) != getattr(defaults, attribute)
            ):
                problems.append(
                    f"{key}.{name} = {_show(raw[name])} is invalid: only "
                    f"{key}.engine={END_USER_MESSAGING} uses it (Pinpoint's SMS text is fixed)"
                )
        return problems
    if config.previous_engine == engine:
        problems.append(f"{key}.previousEngine = {_show(engine)} is invalid: must differ from {key}.engine")
    if config.previous_engine is not None:
        low, high = _RULES.CODE_LENGTH[config.previous_engine]
        if not low <= config.code_length <= high:
            problems.append(
                f"{key}.codeLength = {config.code_length} is invalid: {key}.previousEngine="
                f"{config.previous_engine} still verifies codes of {low}-{high} digits; keep the length "
                "the codes in flight have until the switch is over"
            )
    most = _RULES.DESTINATION_DAILY_LIMIT[engine]
    if most is not None and config.send_limit_per_day > most:
        problems.append(
            f"{key}.sendLimitPerDay = {config.send_limit_per_day} is invalid: {key}.engine={engine} delivers "
            f"at most {most} messages to one number per day (AWS's limit for the whole account, which cannot "
            f"be raised); set it to {most} or less"
        )
    if not _RULES.ORIGINATION_IDENTITY_PATTERN.match(config.origination_identity):
        problems.append(
            f"{key}.originationIdentity = {_show(config.origination_identity)} is invalid: "
            f"{key}.engine={engine} accepts 1-256 of A-Z a-z 0-9 _ : / + -"
        )
    if "SMS" in config.channels:
        problem = _RULES.sms_template_problem(
            config.message_template, brand=config.brand_name, code_length=config.code_length
        )
        if problem:
            problems.append(f"{key}.messageTemplate = {_show(config.message_template)} is invalid: {problem}")
    if "VOICE" in config.channels:
        problem = _RULES.voice_template_problem(config.voice_template, brand=config.brand_name)
        if problem:
            problems.append(f"{key}.voiceTemplate = {_show(config.voice_template)} is invalid: {problem}")
        if config.voice_origination_identity is None and not _VOICE_CAPABLE.match(
            config.origination_identity
        ):
            problems.append(
                f"{key}.originationIdentity = {_show(config.origination_identity)} cannot place VOICE calls "
                f"(a sender ID or short code): set {key}.voiceOriginationIdentity to a voice-capable phone "
                "number or pool"
            )
    if "WHATSAPP" in config.channels:
        for name, value in (
            ("whatsAppTemplateName", config.whatsapp_template_name),
            ("whatsAppOriginationIdentity", config.whatsapp_origination_identity),
        ):
            if value is None:
                problems.append(f"{key}.{name} is required when {key}.channels includes WHATSAPP")
    return problems
