"""Environment variables parsed once per container into a typed, validated value.

Every variable is an option of the configuration schema (otp/options/schema.py), which gives its name,
kind, default and bounds; this module only reads them. A bad deployment fails at start-up with a message
naming every variable at fault, not on the first request. No validation library: this runs in every cold
start, where importing pydantic alone costs about 50 ms and 5 MiB.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final, TypeVar

from otp import engine_rules as engines
from otp.options.declaration import Field, fields, schema_class
from otp.options.deployment import DeploymentValues
from otp.options.kinds import Invalid
from otp.options.rules import option_problems
from otp.options.schema import OtpOptions, default_reserve_per_day

__all__ = ["RENAMED_VARIABLES", "Settings", "SettingsError", "default_reserve_per_day", "get_settings"]


class SettingsError(RuntimeError):
    """Raised at start-up when an environment variable is missing or invalid."""


@schema_class
class Settings(OtpOptions, DeploymentValues):
    """What the functions know about their deployment; see docs/configuration.md."""

    @property
    def protection_enabled(self) -> bool:
        return self.table_name is not None

    @property
    def engine_send_rate(self) -> int | None:
        """Sends per second the engine accepts and the functions keep to (None: no such limit)."""
        if self.engine != engines.END_USER_MESSAGING:
            return None
        return engines.NOTIFY_TIER_SEND_RATE[self.notify_tier]


_S = TypeVar("_S", bound=Settings)


def _read(settings_type: type[Settings]) -> tuple[Field, ...]:
    """The options the functions read: those with an environment variable."""
    return tuple(f for f in fields(settings_type) if f.option.env)


_READ: Final = _read(Settings)
#: Variables renamed in 0.2.0 (engine-neutral names): the old name still works, with a warning, for one
#: release.
RENAMED_VARIABLES: dict[str, str] = {
    old: f.option.env for f in _READ if f.option.env for old in f.option.renamed_from
}


def _env_name(attribute: str) -> str:
    return next((f.option.env for f in fields(Settings) if f.name == attribute and f.option.env), attribute)


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
    return load_extended_settings(environ, Settings)


def load_extended_settings(environ: Mapping[str, str] | None, settings_type: type[_S]) -> _S:
    """As :func:`load_settings`, for a ``Settings`` subclass that declares options of its own."""
    env = _with_renamed(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for declared in _READ if settings_type is Settings else _read(settings_type):
        variable = declared.option.env
        assert variable is not None
        raw = env.get(variable)
        if raw is None:
            if declared.required:
                problems.append(f"{variable}: is required")
            continue
        try:
            values[declared.name] = declared.option.kind.from_env(raw)
        except Invalid as exc:
            # Values are deployment configuration, not secrets; the text is bounded all the same.
            problems.append(f"{variable}: must be {exc} (got {raw[:80]!r})")
    if not problems:
        problems = _identity_checks(values)
    if not problems:
        settings = settings_type(**values)
        problems = option_problems(settings, _env_name) + _deployment_checks(settings)
    if problems:
        raise SettingsError("invalid configuration: " + "; ".join(problems))
    return settings


def _deployment_checks(settings: Settings) -> list[str]:
    # Per-number limits are what stands between an open endpoint and an SMS-pumping bill: a deployed
    # function must never run without them because a variable went missing.
    if settings.table_name is None and settings.lambda_function_name:
        return [
            "OTP_TABLE_NAME is required in a deployed function: it holds the per-number send limits, "
            "the verification caps and the Idempotency-Key records"
        ]
    return []


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
