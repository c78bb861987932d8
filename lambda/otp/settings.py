"""Environment variables parsed once per container into a typed, validated value.

A bad deployment must fail at start-up with a message naming the variable, not on the first request.
Plain code rather than a validation library: this runs in every cold start, where importing pydantic
alone costs about 50 ms and 5 MiB.

To add a variable: a field on :class:`Settings`, a :class:`_Variable` row in ``_VARIABLES`` with its
parser (the row's default is the field's default), a row in docs/configuration.md, and, when the stack
sets it, the value in infra/.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from otp import engine_rules as engines
from otp.domain.models import Channel
from otp.domain.rules import SUPPORTED_LANGUAGES

# Pinpoint's documented limits for SendOTPMessage (End User Messaging's are in otp/engine_rules.py).
BRAND_NAME_MAX = 20
CODE_LENGTH_RANGE = engines.CODE_LENGTH[engines.PINPOINT]
VALIDITY_MINUTES_RANGE = engines.VALIDITY_MINUTES[engines.PINPOINT]
ALLOWED_ATTEMPTS_RANGE = engines.ALLOWED_ATTEMPTS[engines.PINPOINT]
# What a variable accepts before the engine's own range is checked (_cross_checks).
_ANY_ENGINE_CODE_LENGTH = (min(r[0] for r in engines.CODE_LENGTH.values()), 8)
_ANY_ENGINE_VALIDITY = (min(r[0] for r in engines.VALIDITY_MINUTES.values()), 60)
# Abuse-protection limits (documented in docs/abuse-protection.md, mirrored by infra/config.py).
SEND_COOLDOWN_RANGE = (0, 3600)
SEND_LIMIT_PER_HOUR_RANGE = (1, 100)
SEND_LIMIT_PER_DAY_RANGE = (1, 1000)
VERIFY_LIMIT_PER_REFERENCE_RANGE = (1, 20)
SEND_RESERVE_PER_DAY_RANGE = (0, 999)  # and at most OTP_SEND_LIMIT_PER_DAY - 1 (_cross_checks)
DEVICE_TICKET_DAYS_RANGE = (1, 365)
SIGN_IN_FLOOR_MS_RANGE = (0, 5000)
IDEMPOTENCY_TTL_RANGE = (60, 86400)
SEND_BUDGET_PER_HOUR_RANGE = (1, 1_000_000)
SEND_BUDGET_PER_DAY_RANGE = (1, 10_000_000)
# An E.164 prefix: '+', then 1 to 14 digits (a whole number has up to 15).
_BLOCKED_PREFIX = re.compile(r"^\+[0-9]{1,14}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_INTEGER = re.compile(r"^\s*[+-]?[0-9]{1,9}\s*$")
_DECIMAL = re.compile(r"^\s*[0-9]{1,6}(\.[0-9]{1,6})?\s*$")
# The model's NotifyCodeConfigurationIdOrArn.
NOTIFY_CODE_CONFIGURATION_PATTERN = re.compile(r"^[A-Za-z0-9_:/-]{1,256}$")


class SettingsError(RuntimeError):
    """Raised at start-up when an environment variable is missing or invalid."""


class _Invalid(ValueError):
    """A parser's refusal: the text says what is allowed (never repeating more than the value)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the functions need to know about their deployment; see docs/configuration.md."""

    brand_name: str
    origination_identity: str
    # The Pinpoint application. With End User Messaging alone there is none, and the deployment id
    # (OTP_DEPLOYMENT_ID) stands in for it where a private, stable id of the deployment is needed
    # (handlers/cognito.py keys its decoy numbers with it).
    application_id: str = ""
    code_length: int = 6
    validity_minutes: int = 5
    allowed_attempts: int = 3
    # How long every Cognito sign-in round that sends or checks a code lasts at least (otp/domain/pacing.py).
    sign_in_floor_ms: int = 150
    allowed_countries: frozenset[str] = field(default_factory=lambda: frozenset({"US", "CA", "GB"}))
    language: str = "en-US"
    entity_id: str | None = None
    template_id: str | None = None
    connect_timeout: float = 2.0
    read_timeout: float = 10.0
    max_attempts: int = 3

    # Abuse protection. Without a table the limits and Idempotency-Key cannot work: that is refused in
    # a deployed function (see _cross_checks) and only allowed for local unit tests.
    table_name: str | None = None
    send_cooldown_seconds: int = 30
    send_limit_per_hour: int = 5
    send_limit_per_day: int = 10
    # The part of the daily cap only a device ticket can draw on (otp/domain/tickets.py); None: the
    # default, reserve_per_day.
    send_reserve_per_day: int | None = None
    device_ticket_days: int = 90
    verify_limit_per_reference: int = 5
    allow_toll_free: bool = False
    allow_voip: bool = False
    blocked_prefixes: tuple[str, ...] = ()
    # Adaptive defence (otp/domain/adaptive.py): a range (E.164 prefix) whose last hour holds at least
    # adaptive_min_sends codes, fewer than adaptive_min_conversion_percent of them verified, is blocked
    # for the next length of adaptive_block_hours (longer each time it re-offends); never an allowed one.
    # The switch turns off the shares below too.
    adaptive_protection: bool = True
    adaptive_min_sends: int = 20
    adaptive_min_conversion_percent: int = 5
    adaptive_block_hours: tuple[int, ...] = (1, 4, 24, 168)
    adaptive_allowed_prefixes: tuple[str, ...] = ()
    # The send budget's share only proven numbers (verified within proven_number_days, or with a device
    # ticket) may spend, and the most of the budget one country / one range of unproven numbers may take.
    proven_reserve_percent: int = 20
    proven_number_days: int = 30
    unproven_country_share_percent: int = 50
    unproven_range_share_percent: int = 10
    idempotency_ttl_seconds: int = 3600
    # The account-wide send budget (otp/domain/budget.py): codes in any rolling hour / day, in all and
    # per country (ISO code, per hour, per day).
    send_budget_per_hour: int = 500
    send_budget_per_day: int = 2000
    country_send_budgets: tuple[tuple[str, int, int], ...] = ()
    # The deployment secret (Secrets Manager) the functions derive keys from; set only where granted.
    secret_arn: str | None = None
    # Set by the Lambda runtime: its presence means "this is a deployed function".
    lambda_function_name: str | None = None

    # The messaging engine (otp/engine_rules.py; wiring.py builds its adapter) and what it sends.
    engine: str = engines.PINPOINT
    # While set, codes the previous engine sent before a switch still verify (otp/domain/gateway_fallback.py).
    previous_engine: str | None = None
    channels: frozenset[Channel] = field(default_factory=lambda: frozenset({Channel.SMS}))
    message_template: str = engines.DEFAULT_MESSAGE_TEMPLATE
    voice_template: str = engines.DEFAULT_VOICE_TEMPLATE
    voice_language: str | None = None  # None: ``language``
    voice_id: str | None = None  # None: the engine's default voice for the language
    voice_origination_identity: str | None = None  # None: ``origination_identity``
    whatsapp_template_name: str | None = None
    whatsapp_origination_identity: str | None = None
    configuration_set: str | None = None  # End User Messaging configuration set (delivery events)
    deployment_id: str | None = None
    # The End User Messaging notify code configuration every send names (id or ARN): it holds the code
    # policy and the templates. None: each request carries them itself.
    notify_code_configuration: str | None = None
    # The account's Notify tier (End User Messaging): how many sends per second the deployment keeps to.
    notify_tier: str = engines.BASIC

    @property
    def engine_send_rate(self) -> int | None:
        """Sends per second the engine accepts and the functions keep to (None: no such limit)."""
        if self.engine != engines.END_USER_MESSAGING:
            return None
        return engines.NOTIFY_TIER_SEND_RATE[self.notify_tier]

    @property
    def engines_in_use(self) -> frozenset[str]:
        """The engine that sends, and the one that still verifies codes sent before a switch."""
        return frozenset({self.engine} | ({self.previous_engine} if self.previous_engine else set()))

    @property
    def protection_enabled(self) -> bool:
        return self.table_name is not None

    @property
    def reserve_per_day(self) -> int:
        """The reserve: as configured, else one less than the daily cap beyond the hourly one, so that a
        stranger spending the open part (hourly cap + 1 codes) must still wait out an hour to do it."""
        if self.send_reserve_per_day is not None:
            return self.send_reserve_per_day
        return default_reserve_per_day(self.send_limit_per_hour, self.send_limit_per_day)


def default_reserve_per_day(per_hour: int, per_day: int) -> int:
    """infra/config.py computes the same default for the stack (a test keeps the two in step)."""
    return max(0, per_day - per_hour - 1)


# ------------------------------------------------------------------------------------------ parsers

Parser = Callable[[str], Any]


def _int_in(low: int, high: int) -> Parser:
    def parse(raw: str) -> int:
        if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
            raise _Invalid(f"must be an integer from {low} to {high}")
        return int(raw)

    return parse


def _seconds_up_to(high: float) -> Parser:
    def parse(raw: str) -> float:
        if not _DECIMAL.fullmatch(raw) or not 0 < float(raw) <= high:
            raise _Invalid(f"must be a number of seconds above 0 and at most {high:g}")
        return float(raw)

    return parse


def _text(min_length: int, max_length: int | None = None) -> Parser:
    def parse(raw: str) -> str:
        if len(raw) < min_length or (max_length is not None and len(raw) > max_length):
            bound = f"{min_length} to {max_length}" if max_length is not None else f"at least {min_length}"
            raise _Invalid(f"must be {bound} characters")
        return raw

    return parse


def _optional(parse: Parser) -> Parser:
    """An empty value means unset (CloudFormation cannot omit a variable conditionally)."""

    def parse_optional(raw: str) -> Any:
        return None if raw == "" else parse(raw)

    return parse_optional


def _csv(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _countries(raw: str) -> frozenset[str]:
    codes = _csv(raw)
    bad = [code for code in codes if not _COUNTRY.fullmatch(code)]
    if bad or not codes:
        got = f"; got {', '.join(bad)}" if bad else ""
        raise _Invalid(f"must be ISO 3166 alpha-2 codes such as US,GB{got}")
    return frozenset(codes)


def _language(raw: str) -> str:
    if raw not in SUPPORTED_LANGUAGES:
        raise _Invalid(f"must be one of {', '.join(sorted(SUPPORTED_LANGUAGES))}")
    return raw


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in {"true", "false"}:
        raise _Invalid("must be true or false")
    return value == "true"


def _one_of(values: tuple[str, ...]) -> Parser:
    def parse(raw: str) -> str:
        if raw not in values:
            raise _Invalid(f"must be one of {', '.join(values)}")
        return raw

    return parse


def _channels(raw: str) -> frozenset[Channel]:
    names = _csv(raw)
    bad = [name for name in names if name not in engines.CHANNELS]
    if bad or not names:
        got = f"; got {', '.join(bad)}" if bad else ""
        raise _Invalid(f"must be a comma-separated subset of {','.join(engines.CHANNELS)}{got}")
    return frozenset(Channel(name) for name in names)


def _pattern(pattern: re.Pattern[str], allowed: str) -> Parser:
    def parse(raw: str) -> str:
        if not pattern.fullmatch(raw):
            raise _Invalid(f"must be {allowed}")
        return raw

    return parse


def _template(raw: str) -> str:
    if engines.CODE_PLACEHOLDER not in raw or len(raw) > engines.INLINE_TEMPLATE_MAX_CHARS:
        raise _Invalid(
            f"must contain {engines.CODE_PLACEHOLDER} and be at most {engines.INLINE_TEMPLATE_MAX_CHARS} "
            "characters"
        )
    return raw


def _prefixes(raw: str) -> tuple[str, ...]:
    prefixes = _csv(raw)
    bad = [prefix for prefix in prefixes if not _BLOCKED_PREFIX.fullmatch(prefix)]
    if bad:
        raise _Invalid(f"must be E.164 prefixes such as +1900,+4470; got {', '.join(bad)}")
    return tuple(prefixes)


def _block_hours(raw: str) -> tuple[int, ...]:
    """``1,4,24,168``: the block lengths in hours, increasing, 1-8 of them from 1 to 8760."""
    items = _csv(raw)
    if (
        not 1 <= len(items) <= 8
        or not all(_INTEGER.fullmatch(item) and 1 <= int(item) <= 8760 for item in items)
        or [int(item) for item in items] != sorted({int(item) for item in items})
    ):
        raise _Invalid("must be 1-8 increasing whole hours from 1 to 8760, such as 1,4,24,168")
    return tuple(int(item) for item in items)


def _country_budgets(raw: str) -> tuple[tuple[str, int, int], ...]:
    """``GB:50:200,IN:10:40``: a country, its hourly and its daily budget."""
    budgets = []
    for item in _csv(raw):
        parts = item.split(":")
        if (
            len(parts) != 3
            or not _COUNTRY.fullmatch(parts[0])
            or not all(_INTEGER.fullmatch(part) and int(part) >= 1 for part in parts[1:])
        ):
            raise _Invalid("must be COUNTRY:PER_HOUR:PER_DAY items such as GB:50:200,IN:10:40")
        budgets.append((parts[0], int(parts[1]), int(parts[2])))
    if len({country for country, _, _ in budgets}) != len(budgets):
        raise _Invalid("must name each country once")
    return tuple(budgets)


@dataclass(frozen=True, slots=True)
class _Variable:
    name: str  # the environment variable
    attribute: str  # the Settings field
    parse: Parser
    required: bool = False


_VARIABLES: tuple[_Variable, ...] = (
    # Required with the pinpoint engine (_cross_checks).
    _Variable("PINPOINT_APPLICATION_ID", "application_id", _text(1)),
    _Variable("OTP_BRAND_NAME", "brand_name", _text(1, BRAND_NAME_MAX), required=True),
    _Variable("OTP_ORIGINATION_IDENTITY", "origination_identity", _text(1), required=True),
    # Each engine has its own range within these (_cross_checks).
    _Variable("OTP_CODE_LENGTH", "code_length", _int_in(*_ANY_ENGINE_CODE_LENGTH)),
    _Variable("OTP_VALIDITY_MINUTES", "validity_minutes", _int_in(*_ANY_ENGINE_VALIDITY)),
    _Variable("OTP_ALLOWED_ATTEMPTS", "allowed_attempts", _int_in(*ALLOWED_ATTEMPTS_RANGE)),
    _Variable("OTP_SIGN_IN_FLOOR_MS", "sign_in_floor_ms", _int_in(*SIGN_IN_FLOOR_MS_RANGE)),
    _Variable("OTP_ALLOWED_COUNTRIES", "allowed_countries", _countries),
    _Variable("OTP_LANGUAGE", "language", _language),
    _Variable("OTP_ENTITY_ID", "entity_id", _optional(_text(1))),
    _Variable("OTP_TEMPLATE_ID", "template_id", _optional(_text(1))),
    _Variable("OTP_ENGINE_CONNECT_TIMEOUT", "connect_timeout", _seconds_up_to(10)),
    _Variable("OTP_ENGINE_READ_TIMEOUT", "read_timeout", _seconds_up_to(25)),
    _Variable("OTP_ENGINE_MAX_ATTEMPTS", "max_attempts", _int_in(1, 5)),
    _Variable("OTP_TABLE_NAME", "table_name", _optional(_text(3, 255))),
    _Variable("OTP_SEND_COOLDOWN_SECONDS", "send_cooldown_seconds", _int_in(*SEND_COOLDOWN_RANGE)),
    _Variable("OTP_SEND_LIMIT_PER_HOUR", "send_limit_per_hour", _int_in(*SEND_LIMIT_PER_HOUR_RANGE)),
    _Variable("OTP_SEND_LIMIT_PER_DAY", "send_limit_per_day", _int_in(*SEND_LIMIT_PER_DAY_RANGE)),
    _Variable(
        "OTP_SEND_RESERVE_PER_DAY", "send_reserve_per_day", _optional(_int_in(*SEND_RESERVE_PER_DAY_RANGE))
    ),
    _Variable("OTP_DEVICE_TICKET_DAYS", "device_ticket_days", _int_in(*DEVICE_TICKET_DAYS_RANGE)),
    _Variable(
        "OTP_VERIFY_LIMIT_PER_REFERENCE",
        "verify_limit_per_reference",
        _int_in(*VERIFY_LIMIT_PER_REFERENCE_RANGE),
    ),
    _Variable("OTP_ALLOW_TOLL_FREE", "allow_toll_free", _bool),
    _Variable("OTP_ALLOW_VOIP", "allow_voip", _bool),
    _Variable("OTP_BLOCKED_PREFIXES", "blocked_prefixes", _prefixes),
    _Variable("OTP_ADAPTIVE_PROTECTION", "adaptive_protection", _bool),
    _Variable("OTP_ADAPTIVE_MIN_SENDS", "adaptive_min_sends", _int_in(1, 100_000)),
    _Variable("OTP_ADAPTIVE_MIN_CONVERSION_PERCENT", "adaptive_min_conversion_percent", _int_in(0, 100)),
    _Variable("OTP_ADAPTIVE_BLOCK_HOURS", "adaptive_block_hours", _block_hours),
    _Variable("OTP_ADAPTIVE_ALLOWED_PREFIXES", "adaptive_allowed_prefixes", _prefixes),
    _Variable("OTP_PROVEN_RESERVE_PERCENT", "proven_reserve_percent", _int_in(0, 90)),
    _Variable("OTP_PROVEN_NUMBER_DAYS", "proven_number_days", _int_in(1, 365)),
    _Variable("OTP_UNPROVEN_COUNTRY_SHARE_PERCENT", "unproven_country_share_percent", _int_in(1, 100)),
    _Variable("OTP_UNPROVEN_RANGE_SHARE_PERCENT", "unproven_range_share_percent", _int_in(1, 100)),
    _Variable("OTP_IDEMPOTENCY_TTL_SECONDS", "idempotency_ttl_seconds", _int_in(*IDEMPOTENCY_TTL_RANGE)),
    _Variable("OTP_SEND_BUDGET_PER_HOUR", "send_budget_per_hour", _int_in(*SEND_BUDGET_PER_HOUR_RANGE)),
    _Variable("OTP_SEND_BUDGET_PER_DAY", "send_budget_per_day", _int_in(*SEND_BUDGET_PER_DAY_RANGE)),
    _Variable("OTP_COUNTRY_SEND_BUDGETS", "country_send_budgets", _country_budgets),
    _Variable("OTP_SECRET_ARN", "secret_arn", _optional(_text(20, 2048))),
    _Variable("AWS_LAMBDA_FUNCTION_NAME", "lambda_function_name", _optional(_text(1))),
    _Variable("OTP_ENGINE", "engine", _one_of(engines.ENGINES)),
    _Variable("OTP_PREVIOUS_ENGINE", "previous_engine", _optional(_one_of(engines.ENGINES))),
    _Variable("OTP_CHANNELS", "channels", _channels),
    _Variable("OTP_MESSAGE_TEMPLATE", "message_template", _template),
    _Variable("OTP_VOICE_TEMPLATE", "voice_template", _template),
    _Variable(
        "OTP_VOICE_LANGUAGE",
        "voice_language",
        _optional(_pattern(engines.LANGUAGE_CODE_PATTERN, "a BCP 47 language tag such as en-US")),
    ),
    _Variable(
        "OTP_VOICE_ID",
        "voice_id",
        _optional(_pattern(engines.VOICE_ID_PATTERN, "an Amazon Polly voice id such as Joanna")),
    ),
    _Variable(
        "OTP_VOICE_ORIGINATION_IDENTITY",
        "voice_origination_identity",
        _optional(_pattern(engines.ORIGINATION_IDENTITY_PATTERN, "1-256 of A-Z a-z 0-9 _ : / + -")),
    ),
    _Variable(
        "OTP_WHATSAPP_TEMPLATE_NAME",
        "whatsapp_template_name",
        _optional(
            _pattern(engines.WHATSAPP_TEMPLATE_NAME_PATTERN, "1-512 lowercase letters, digits or underscores")
        ),
    ),
    _Variable(
        "OTP_WHATSAPP_ORIGINATION_IDENTITY",
        "whatsapp_origination_identity",
        _optional(_pattern(engines.ORIGINATION_IDENTITY_PATTERN, "1-256 of A-Z a-z 0-9 _ : / + -")),
    ),
    _Variable(
        "OTP_CONFIGURATION_SET",
        "configuration_set",
        _optional(_pattern(engines.CONFIGURATION_SET_NAME_PATTERN, "1-64 of A-Z a-z 0-9 _ -")),
    ),
    _Variable("OTP_DEPLOYMENT_ID", "deployment_id", _optional(_text(1, 2048))),
    _Variable(
        "OTP_NOTIFY_CODE_CONFIGURATION",
        "notify_code_configuration",
        _optional(_pattern(NOTIFY_CODE_CONFIGURATION_PATTERN, "an id or ARN: 1-256 of A-Z a-z 0-9 _ : / -")),
    ),
    _Variable("OTP_NOTIFY_TIER", "notify_tier", _one_of(engines.NOTIFY_TIERS)),
)
assert {v.attribute for v in _VARIABLES} == {f.name for f in fields(Settings)}, "a field without a variable"


def _engine_checks(settings: Settings) -> list[str]:
    """The engine's own ranges and channels, and what its enabled channels need."""
    engine = settings.engine
    problems = []
    named = f"with OTP_ENGINE={engine}"
    for variable, value, ranges in (
        ("OTP_CODE_LENGTH", settings.code_length, engines.CODE_LENGTH),
        ("OTP_VALIDITY_MINUTES", settings.validity_minutes, engines.VALIDITY_MINUTES),
    ):
        low, high = ranges[engine]
        if not low <= value <= high:
            problems.append(f"{variable}: must be an integer from {low} to {high} {named} (got {value})")
    offered = engines.ENGINE_CHANNELS[engine]
    extra = sorted(c.value for c in settings.channels if c.value not in offered)
    if extra:
        problems.append(
            f"OTP_CHANNELS: {', '.join(extra)} not offered {named} (it offers {', '.join(offered)})"
        )
    if settings.previous_engine == engine:
        problems.append(f"OTP_PREVIOUS_ENGINE: must differ from OTP_ENGINE ({engine})")
    if engine != engines.END_USER_MESSAGING or problems:
        return problems
    most = engines.DESTINATION_DAILY_LIMIT[engine]
    if most is not None and settings.send_limit_per_day > most:
        problems.append(
            f"OTP_SEND_LIMIT_PER_DAY: must be at most {most} {named}: AWS delivers at most {most} "
            f"messages to one number per day, account-wide (got {settings.send_limit_per_day})"
        )
    if Channel.SMS in settings.channels:
        problem = engines.sms_template_problem(
            settings.message_template, brand=settings.brand_name, code_length=settings.code_length
        )
        if problem:
            problems.append(f"OTP_MESSAGE_TEMPLATE: {problem} (with OTP_BRAND_NAME and OTP_CODE_LENGTH)")
    if Channel.VOICE in settings.channels:
        problem = engines.voice_template_problem(settings.voice_template, brand=settings.brand_name)
        if problem:
            problems.append(f"OTP_VOICE_TEMPLATE: {problem}")
    if Channel.WHATSAPP in settings.channels:
        for variable, required in (
            ("OTP_WHATSAPP_TEMPLATE_NAME", settings.whatsapp_template_name),
            ("OTP_WHATSAPP_ORIGINATION_IDENTITY", settings.whatsapp_origination_identity),
        ):
            if required is None:
                problems.append(f"{variable}: is required when OTP_CHANNELS includes WHATSAPP")
    return problems


def _cross_checks(settings: Settings) -> list[str]:
    """Rules between variables; each message names every variable involved (never the environment)."""
    problems = _engine_checks(settings)
    if settings.send_limit_per_day < settings.send_limit_per_hour:
        problems.append(
            f"OTP_SEND_LIMIT_PER_DAY ({settings.send_limit_per_day}) must be at least "
            f"OTP_SEND_LIMIT_PER_HOUR ({settings.send_limit_per_hour})"
        )
    if settings.reserve_per_day > settings.send_limit_per_day - 1:
        problems.append(
            f"OTP_SEND_RESERVE_PER_DAY ({settings.reserve_per_day}) must be at most "
            f"OTP_SEND_LIMIT_PER_DAY - 1 ({settings.send_limit_per_day - 1}): a first sign-in on a new "
            "device needs at least one code"
        )
    if settings.send_budget_per_day < settings.send_budget_per_hour:
        problems.append(
            f"OTP_SEND_BUDGET_PER_DAY ({settings.send_budget_per_day}) must be at least "
            f"OTP_SEND_BUDGET_PER_HOUR ({settings.send_budget_per_hour})"
        )
    for country, per_hour, per_day in settings.country_send_budgets:
        if (
            per_day < per_hour
            or per_hour > settings.send_budget_per_hour
            or per_day > settings.send_budget_per_day
        ):
            problems.append(
                f"OTP_COUNTRY_SEND_BUDGETS: {country}'s budget ({per_hour}/hour, {per_day}/day) must have a "
                "daily budget at least its hourly one, both within OTP_SEND_BUDGET_PER_HOUR / _PER_DAY"
            )
    # Per-number limits are what stands between an open endpoint and an SMS-pumping bill: a deployed
    # function must never run without them because a variable went missing.
    if settings.table_name is None and settings.lambda_function_name:
        problems.append(
            "OTP_TABLE_NAME is required in a deployed function: it holds the per-number send limits, "
            "the verification caps and the Idempotency-Key records"
        )
    return problems


#: Variables renamed in 0.2.0 (engine-neutral names): the old name still works, with a warning, for one
#: release.
RENAMED_VARIABLES: dict[str, str] = {
    "PINPOINT_CONNECT_TIMEOUT": "OTP_ENGINE_CONNECT_TIMEOUT",
    "PINPOINT_READ_TIMEOUT": "OTP_ENGINE_READ_TIMEOUT",
    "PINPOINT_MAX_ATTEMPTS": "OTP_ENGINE_MAX_ATTEMPTS",
}


def _with_renamed(env: Mapping[str, str]) -> Mapping[str, str]:
    """``env`` with each old variable name's value under its new name (the new name wins if both are set)."""
    old = [name for name in RENAMED_VARIABLES if name in env]
    if not old:
        return env
    renamed = dict(env)
    for name in old:
        new = RENAMED_VARIABLES[name]
        logging.getLogger(__name__).warning(
            "%s is deprecated and will stop working in the next release: use %s", name, new
        )
        renamed.setdefault(new, env[name])
    return renamed


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse settings from the environment, reporting every problem at once."""
    env = _with_renamed(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for variable in _VARIABLES:
        raw = env.get(variable.name)
        if raw is None:
            if variable.required:
                problems.append(f"{variable.name}: is required")
            continue
        try:
            values[variable.attribute] = variable.parse(raw)
        except _Invalid as exc:
            # Values are deployment configuration, not secrets; the text is bounded all the same.
            problems.append(f"{variable.name}: {exc} (got {raw[:80]!r})")
    if not problems:
        problems = _identity_checks(values)
    if not problems:
        problems = _cross_checks(Settings(**values))
    if problems:
        raise SettingsError("invalid configuration: " + "; ".join(problems))
    return Settings(**values)


def _identity_checks(values: dict[str, Any]) -> list[str]:
    """The Pinpoint application where Pinpoint is used; otherwise the deployment id stands in for it."""
    used = {values.get("engine", engines.PINPOINT), values.get("previous_engine")}
    if engines.PINPOINT in used:
        if not values.get("application_id"):
            return [
                "PINPOINT_APPLICATION_ID: is required while OTP_ENGINE or OTP_PREVIOUS_ENGINE is pinpoint"
            ]
    elif not values.get("application_id"):
        if not values.get("deployment_id"):
            return [
                "OTP_DEPLOYMENT_ID: is required without PINPOINT_APPLICATION_ID (a private, stable id of the "
                "deployment keys the Cognito decoy numbers)"
            ]
        values["application_id"] = values["deployment_id"]
    return []


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, parsed on first use and then reused."""
    return load_settings()
