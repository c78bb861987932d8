"""Environment variables parsed once per container into a typed, validated model.

A bad deployment must fail at start-up with a message naming the variable, not on the first request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from otp.domain.rules import LanguageTag

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


def _ranged(variable: str, bounds: tuple[int, int]) -> Any:
    """The field of an integer variable that must lie within ``bounds`` (inclusive)."""
    return Field(alias=variable, ge=bounds[0], le=bounds[1])


class SettingsError(RuntimeError):
    """Raised at start-up when an environment variable is missing or invalid."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseModel):
    """What the functions need to know about their deployment. Field aliases are the variable names."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    application_id: Annotated[str, Field(alias="PINPOINT_APPLICATION_ID", min_length=1)]
    brand_name: Annotated[str, Field(alias="OTP_BRAND_NAME", min_length=1, max_length=BRAND_NAME_MAX)]
    origination_identity: Annotated[str, Field(alias="OTP_ORIGINATION_IDENTITY", min_length=1)]
    code_length: Annotated[int, _ranged("OTP_CODE_LENGTH", CODE_LENGTH_RANGE)] = 6
    validity_minutes: Annotated[int, _ranged("OTP_VALIDITY_MINUTES", VALIDITY_MINUTES_RANGE)] = 5
    allowed_attempts: Annotated[int, _ranged("OTP_ALLOWED_ATTEMPTS", ALLOWED_ATTEMPTS_RANGE)] = 3
    allowed_countries: Annotated[frozenset[str], Field(alias="OTP_ALLOWED_COUNTRIES", min_length=1)] = (
        frozenset({"US", "CA", "GB"})
    )
    language: Annotated[LanguageTag, Field(alias="OTP_LANGUAGE")] = "en-US"
    entity_id: Annotated[str | None, Field(alias="OTP_ENTITY_ID")] = None
    template_id: Annotated[str | None, Field(alias="OTP_TEMPLATE_ID")] = None
    connect_timeout: Annotated[float, Field(alias="PINPOINT_CONNECT_TIMEOUT", gt=0, le=10)] = 2.0
    read_timeout: Annotated[float, Field(alias="PINPOINT_READ_TIMEOUT", gt=0, le=25)] = 10.0
    max_attempts: Annotated[int, Field(alias="PINPOINT_MAX_ATTEMPTS", ge=1, le=5)] = 3

    # Abuse protection. Without a table the limits and Idempotency-Key cannot work: that is refused in
    # a deployed function (see _protection_required_in_lambda) and only allowed for local unit tests.
    table_name: Annotated[str | None, Field(alias="OTP_TABLE_NAME", min_length=3, max_length=255)] = None
    send_cooldown_seconds: Annotated[int, _ranged("OTP_SEND_COOLDOWN_SECONDS", SEND_COOLDOWN_RANGE)] = 30
    send_limit_per_hour: Annotated[int, _ranged("OTP_SEND_LIMIT_PER_HOUR", SEND_LIMIT_PER_HOUR_RANGE)] = 5
    send_limit_per_day: Annotated[int, _ranged("OTP_SEND_LIMIT_PER_DAY", SEND_LIMIT_PER_DAY_RANGE)] = 10
    verify_limit_per_reference: Annotated[
        int, _ranged("OTP_VERIFY_LIMIT_PER_REFERENCE", VERIFY_LIMIT_PER_REFERENCE_RANGE)
    ] = 5
    verify_limit_per_number_per_hour: Annotated[
        int, _ranged("OTP_VERIFY_LIMIT_PER_NUMBER_PER_HOUR", VERIFY_LIMIT_PER_NUMBER_RANGE)
    ] = 15
    allow_toll_free: Annotated[bool, Field(alias="OTP_ALLOW_TOLL_FREE")] = False
    allow_voip: Annotated[bool, Field(alias="OTP_ALLOW_VOIP")] = False
    blocked_prefixes: Annotated[tuple[str, ...], Field(alias="OTP_BLOCKED_PREFIXES")] = ()
    idempotency_ttl_seconds: Annotated[int, _ranged("OTP_IDEMPOTENCY_TTL_SECONDS", IDEMPOTENCY_TTL_RANGE)] = (
        3600
    )
    # Set by the Lambda runtime: its presence means "this is a deployed function".
    lambda_function_name: Annotated[str | None, Field(alias="AWS_LAMBDA_FUNCTION_NAME")] = None

    @field_validator("allowed_countries", mode="before")
    @classmethod
    def _parse_countries(cls, value: object) -> object:
        value = _split_csv(value)
        if isinstance(value, list):
            bad = [code for code in value if not (len(code) == 2 and code.isalpha() and code.isupper())]
            if bad:
                raise ValueError(f"expected ISO 3166 alpha-2 codes such as US,GB; got {', '.join(bad)}")
        return value

    @field_validator("entity_id", "template_id", "table_name", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("blocked_prefixes", mode="before")
    @classmethod
    def _parse_prefixes(cls, value: object) -> object:
        value = _split_csv(value)
        if isinstance(value, list):
            bad = [prefix for prefix in value if not _BLOCKED_PREFIX.fullmatch(prefix)]
            if bad:
                raise ValueError(f"expected E.164 prefixes such as +1900,+4470; got {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _day_covers_hour(self) -> Settings:
        if self.send_limit_per_day < self.send_limit_per_hour:
            raise ValueError(
                f"OTP_SEND_LIMIT_PER_DAY ({self.send_limit_per_day}) must be at least "
                f"OTP_SEND_LIMIT_PER_HOUR ({self.send_limit_per_hour})"
            )
        return self

    @model_validator(mode="after")
    def _protection_required_in_lambda(self) -> Settings:
        # Per-number limits are what stands between an open endpoint and an SMS-pumping bill: a
        # deployed function must never run without them because a variable went missing.
        if self.table_name is None and self.lambda_function_name:
            raise ValueError(
                "OTP_TABLE_NAME is required in a deployed function: it holds the per-number send limits, "
                "the verification caps and the Idempotency-Key records"
            )
        return self

    @property
    def protection_enabled(self) -> bool:
        return self.table_name is not None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse settings from the environment, turning pydantic's report into one readable message."""
    env = os.environ if environ is None else environ
    try:
        return Settings.model_validate(dict(env))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"]) or "environment"
            # A model-level error's input is the whole environment (credentials included): never show it.
            shown = "" if error["type"] == "missing" or not error["loc"] else f" (got {error.get('input')!r})"
            problems.append(f"{variable}: {error['msg']}{shown}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, parsed on first use and then reused."""
    return load_settings()
