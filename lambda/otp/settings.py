"""Environment variables parsed once per container into a typed, validated value.

A bad deployment must fail at start-up with a message naming the variable, not on the first request.
Plain code rather than a validation library: this runs in every cold start, where importing pydantic
alone costs about 50 ms and 5 MiB.

To add a variable: a field on :class:`Settings`, a :class:`_Variable` row in ``_VARIABLES`` with its
parser (the row's default is the field's default), a line in docs/architecture.md, and, when the stack
sets it, the value in infra/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from otp.domain.rules import SUPPORTED_LANGUAGES

# Pinpoint's documented limits for SendOTPMessage.
BRAND_NAME_MAX = 20
CODE_LENGTH_RANGE = (5, 8)
VALIDITY_MINUTES_RANGE = (5, 60)
ALLOWED_ATTEMPTS_RANGE = (1, 5)
# Abuse-protection limits (documented in the README's protection section, mirrored by infra/config.py).
SEND_COOLDOWN_RANGE = (0, 3600)
SEND_LIMIT_PER_HOUR_RANGE = (1, 100)
SEND_LIMIT_PER_DAY_RANGE = (1, 1000)
VERIFY_LIMIT_PER_REFERENCE_RANGE = (1, 20)
VERIFY_LIMIT_PER_NUMBER_RANGE = (1, 200)
IDEMPOTENCY_TTL_RANGE = (60, 86400)
# An E.164 prefix: '+', then 1 to 14 digits (a whole number has up to 15).
_BLOCKED_PREFIX = re.compile(r"^\+[0-9]{1,14}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_INTEGER = re.compile(r"^\s*[+-]?[0-9]{1,9}\s*$")
_DECIMAL = re.compile(r"^\s*[0-9]{1,6}(\.[0-9]{1,6})?\s*$")


class SettingsError(RuntimeError):
    """Raised at start-up when an environment variable is missing or invalid."""


class _Invalid(ValueError):
    """A parser's refusal: the text says what is allowed (never repeating more than the value)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the functions need to know about their deployment; see docs/architecture.md."""

    application_id: str
    brand_name: str
    origination_identity: str
    code_length: int = 6
    validity_minutes: int = 5
    allowed_attempts: int = 3
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
    verify_limit_per_reference: int = 5
    verify_limit_per_number_per_hour: int = 15
    allow_toll_free: bool = False
    allow_voip: bool = False
    blocked_prefixes: tuple[str, ...] = ()
    idempotency_ttl_seconds: int = 3600
    # Set by the Lambda runtime: its presence means "this is a deployed function".
    lambda_function_name: str | None = None

    @property
    def protection_enabled(self) -> bool:
        return self.table_name is not None


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


def _prefixes(raw: str) -> tuple[str, ...]:
    prefixes = _csv(raw)
    bad = [prefix for prefix in prefixes if not _BLOCKED_PREFIX.fullmatch(prefix)]
    if bad:
        raise _Invalid(f"must be E.164 prefixes such as +1900,+4470; got {', '.join(bad)}")
    return tuple(prefixes)


@dataclass(frozen=True, slots=True)
class _Variable:
    name: str  # the environment variable
    attribute: str  # the Settings field
    parse: Parser
    required: bool = False


_VARIABLES: tuple[_Variable, ...] = (
    _Variable("PINPOINT_APPLICATION_ID", "application_id", _text(1), required=True),
    _Variable("OTP_BRAND_NAME", "brand_name", _text(1, BRAND_NAME_MAX), required=True),
    _Variable("OTP_ORIGINATION_IDENTITY", "origination_identity", _text(1), required=True),
    _Variable("OTP_CODE_LENGTH", "code_length", _int_in(*CODE_LENGTH_RANGE)),
    _Variable("OTP_VALIDITY_MINUTES", "validity_minutes", _int_in(*VALIDITY_MINUTES_RANGE)),
    _Variable("OTP_ALLOWED_ATTEMPTS", "allowed_attempts", _int_in(*ALLOWED_ATTEMPTS_RANGE)),
    _Variable("OTP_ALLOWED_COUNTRIES", "allowed_countries", _countries),
    _Variable("OTP_LANGUAGE", "language", _language),
    _Variable("OTP_ENTITY_ID", "entity_id", _optional(_text(1))),
    _Variable("OTP_TEMPLATE_ID", "template_id", _optional(_text(1))),
    _Variable("PINPOINT_CONNECT_TIMEOUT", "connect_timeout", _seconds_up_to(10)),
    _Variable("PINPOINT_READ_TIMEOUT", "read_timeout", _seconds_up_to(25)),
    _Variable("PINPOINT_MAX_ATTEMPTS", "max_attempts", _int_in(1, 5)),
    _Variable("OTP_TABLE_NAME", "table_name", _optional(_text(3, 255))),
    _Variable("OTP_SEND_COOLDOWN_SECONDS", "send_cooldown_seconds", _int_in(*SEND_COOLDOWN_RANGE)),
    _Variable("OTP_SEND_LIMIT_PER_HOUR", "send_limit_per_hour", _int_in(*SEND_LIMIT_PER_HOUR_RANGE)),
    _Variable("OTP_SEND_LIMIT_PER_DAY", "send_limit_per_day", _int_in(*SEND_LIMIT_PER_DAY_RANGE)),
    _Variable(
        "OTP_VERIFY_LIMIT_PER_REFERENCE",
        "verify_limit_per_reference",
        _int_in(*VERIFY_LIMIT_PER_REFERENCE_RANGE),
    ),
    _Variable(
        "OTP_VERIFY_LIMIT_PER_NUMBER_PER_HOUR",
        "verify_limit_per_number_per_hour",
        _int_in(*VERIFY_LIMIT_PER_NUMBER_RANGE),
    ),
    _Variable("OTP_ALLOW_TOLL_FREE", "allow_toll_free", _bool),
    _Variable("OTP_ALLOW_VOIP", "allow_voip", _bool),
    _Variable("OTP_BLOCKED_PREFIXES", "blocked_prefixes", _prefixes),
    _Variable("OTP_IDEMPOTENCY_TTL_SECONDS", "idempotency_ttl_seconds", _int_in(*IDEMPOTENCY_TTL_RANGE)),
    _Variable("AWS_LAMBDA_FUNCTION_NAME", "lambda_function_name", _optional(_text(1))),
)
assert {v.attribute for v in _VARIABLES} == {f.name for f in fields(Settings)}, "a field without a variable"


def _cross_checks(settings: Settings) -> list[str]:
    """Rules between variables; each message names every variable involved (never the environment)."""
    problems = []
    if settings.send_limit_per_day < settings.send_limit_per_hour:
        problems.append(
            f"OTP_SEND_LIMIT_PER_DAY ({settings.send_limit_per_day}) must be at least "
            f"OTP_SEND_LIMIT_PER_HOUR ({settings.send_limit_per_hour})"
        )
    # Per-number limits are what stands between an open endpoint and an SMS-pumping bill: a deployed
    # function must never run without them because a variable went missing.
    if settings.table_name is None and settings.lambda_function_name:
        problems.append(
            "OTP_TABLE_NAME is required in a deployed function: it holds the per-number send limits, "
            "the verification caps and the Idempotency-Key records"
        )
    return problems


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse settings from the environment, reporting every problem at once."""
    env = os.environ if environ is None else environ
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
        problems = _cross_checks(Settings(**values))
    if problems:
        raise SettingsError("invalid configuration: " + "; ".join(problems))
    return Settings(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, parsed on first use and then reused."""
    return load_settings()
