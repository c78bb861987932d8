"""Environment variables parsed once per container into a typed, validated model.

A bad deployment must fail at start-up with a message naming the variable, not on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Pinpoint's documented limits for SendOTPMessage.
BRAND_NAME_MAX = 20
CODE_LENGTH_RANGE = (5, 8)
VALIDITY_MINUTES_RANGE = (5, 60)
ALLOWED_ATTEMPTS_RANGE = (1, 5)


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
    code_length: Annotated[
        int, Field(alias="OTP_CODE_LENGTH", ge=CODE_LENGTH_RANGE[0], le=CODE_LENGTH_RANGE[1])
    ] = 6
    validity_minutes: Annotated[
        int, Field(alias="OTP_VALIDITY_MINUTES", ge=VALIDITY_MINUTES_RANGE[0], le=VALIDITY_MINUTES_RANGE[1])
    ] = 5
    allowed_attempts: Annotated[
        int, Field(alias="OTP_ALLOWED_ATTEMPTS", ge=ALLOWED_ATTEMPTS_RANGE[0], le=ALLOWED_ATTEMPTS_RANGE[1])
    ] = 3
    allowed_countries: Annotated[frozenset[str], Field(alias="OTP_ALLOWED_COUNTRIES", min_length=1)] = (
        frozenset({"US", "CA", "GB"})
    )
    language: Annotated[str, Field(alias="OTP_LANGUAGE", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en-US"
    entity_id: Annotated[str | None, Field(alias="OTP_ENTITY_ID")] = None
    template_id: Annotated[str | None, Field(alias="OTP_TEMPLATE_ID")] = None
    connect_timeout: Annotated[float, Field(alias="PINPOINT_CONNECT_TIMEOUT", gt=0, le=10)] = 2.0
    read_timeout: Annotated[float, Field(alias="PINPOINT_READ_TIMEOUT", gt=0, le=25)] = 10.0
    max_attempts: Annotated[int, Field(alias="PINPOINT_MAX_ATTEMPTS", ge=1, le=5)] = 3

    @field_validator("allowed_countries", mode="before")
    @classmethod
    def _parse_countries(cls, value: object) -> object:
        value = _split_csv(value)
        if isinstance(value, list):
            bad = [code for code in value if not (len(code) == 2 and code.isalpha() and code.isupper())]
            if bad:
                raise ValueError(f"expected ISO 3166 alpha-2 codes such as US,GB; got {', '.join(bad)}")
        return value

    @field_validator("entity_id", "template_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse settings from the environment, turning pydantic's report into one readable message."""
    env = os.environ if environ is None else environ
    try:
        return Settings.model_validate(dict(env))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"]) or "environment"
            shown = "" if error["type"] == "missing" else f" (got {error.get('input')!r})"
            problems.append(f"{variable}: {error['msg']}{shown}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The container's settings, parsed on first use and then reused."""
    return load_settings()
