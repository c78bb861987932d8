"""The deployment configuration, from CDK context or from the construct's keyword arguments.

Every option is declared once, in the Lambda code's schema (``otp/options/schema.py``, shipped inside
this package as ``_lambda``): its context key, keyword argument, kind, default and bounds. This module
reads them from where the CDK app has them, applies the schema's rules, and reports every problem at
once, each naming the key (or argument), the value and what is allowed.

Context sources, later ones win:

1. the ``otp`` object in cdk.json (only the required keys ship there: the defaults are the schema's);
2. ``-c otp='{"brandName": "Acme"}'`` (a JSON object as a string);
3. ``-c otp.brandName=Acme`` (one flat key per value: the CLI passes these as strings).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from types import ModuleType
from typing import Any, Final, TypeVar

import phonenumbers

from cdk_sms_otp._lambda.otp.options.declaration import USER, Field, fields, schema_class
from cdk_sms_otp._lambda.otp.options.kinds import Integer, Invalid, Kind
from cdk_sms_otp._lambda.otp.options.rules import (
    FUNCTION_COUNT,
    UNRESERVED_MINIMUM,
    WAF_WINDOW_SECONDS,
    construct_problems,
    engine_range,
    option_problems,
    show,
    stage_admits_per_waf_window,
)
from cdk_sms_otp._lambda.otp.options.schema import OtpOptions
from cdk_sms_otp.lambda_source import OTP_PACKAGE, load_module

__all__ = [
    "CONTEXT_KEY",
    "END_USER_MESSAGING",
    "FUNCTION_COUNT",
    "KNOWN_KEYS",
    "PINPOINT",
    "UNRESERVED_MINIMUM",
    "WAF_WINDOW_SECONDS",
    "ConfigError",
    "OtpConfig",
    "engine_rules",
    "load_config",
    "options_from_arguments",
    "stage_admits_per_waf_window",
]

ENGINE_RULES_FILE: Final = OTP_PACKAGE / "engine_rules.py"


@cache
def engine_rules() -> ModuleType:
    """``otp/engine_rules.py``, the functions' own rules per engine: synthesis accepts exactly what the
    functions accept."""
    return load_module(ENGINE_RULES_FILE, "_otp_engine_rules")


_RULES: Final = engine_rules()
PINPOINT: Final[str] = _RULES.PINPOINT
END_USER_MESSAGING: Final[str] = _RULES.END_USER_MESSAGING

CONTEXT_KEY: Final = "otp"
#: The example values cdk.json ships with, so that a clean clone synthesizes. They cannot send an SMS.
EXAMPLE_BRAND_NAME: Final = "ExampleCo"
EXAMPLE_ORIGINATION_IDENTITY: Final = "+18885550100"
# A sender ID: 1-11 letters, digits or hyphens with at least one letter (an all-digit one is a short code).
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}$")
_SHORT_CODE = re.compile(r"^[0-9]{3,8}$")

KNOWN_KEYS: Final = tuple(f.option.context for f in fields(OtpOptions) if f.option.context)


@schema_class
class OtpConfig(OtpOptions):
    """The validated options, with what only the construct derives from them."""

    @property
    def uses_example_origination(self) -> bool:
        """True while cdk.json's example values are in use: such a stack deploys but sends no SMS."""
        return (
            self.origination_identity == EXAMPLE_ORIGINATION_IDENTITY or self.brand_name == EXAMPLE_BRAND_NAME
        )

    @property
    def offers_fallback(self) -> bool:
        """Channel fallback (POST /otp's ``fallback``): End User Messaging with more than one channel."""
        offered: bool = _RULES.offers_fallback(self.engine, tuple(str(c) for c in self.channels))
        return offered

    @property
    def function_count(self) -> int:
        """The functions the stack deploys: the four, and the channel fallback's when it is offered."""
        return FUNCTION_COUNT + (1 if self.offers_fallback else 0)

    @property
    def sender_id(self) -> str | None:
        """The SMS channel's SenderId when the origination identity is an alphanumeric sender ID."""
        return self.origination_identity if _SENDER_ID.match(self.origination_identity) else None

    @property
    def short_code(self) -> str | None:
        """The SMS channel's ShortCode when the origination identity is a short code."""
        return self.origination_identity if _SHORT_CODE.match(self.origination_identity) else None


_C = TypeVar("_C", bound=OtpConfig)
_CONTEXT_SOURCE: Final = f"cdk.json context '{CONTEXT_KEY}' or -c"


class ConfigError(ValueError):
    """One or more configuration values are invalid; ``problems`` lists one message per key."""

    def __init__(self, problems: list[str], *, source: str = _CONTEXT_SOURCE) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Invalid configuration ({source}):\n{lines}")


def kind_for(declared: Field, engine: str) -> Kind:
    """The option's kind, with the engine's own bounds where they depend on the engine."""
    bounds = engine_range(declared.name, engine)
    return Integer(*bounds) if bounds else declared.option.kind


def _namer(options_type: type[OtpConfig]) -> Callable[[str], str]:
    """How messages name an option of ``options_type``: ``send_limit_per_day`` -> ``otp.sendLimitPerDay``."""
    keys = {f.name: f"{CONTEXT_KEY}.{f.option.context}" for f in fields(options_type) if f.option.context}
    return lambda attribute: keys.get(attribute, attribute)


def argument_name(attribute: str) -> str:
    return attribute


def load_config(context: Mapping[str, Any]) -> OtpConfig:
    """Build the configuration from CDK context, or raise :class:`ConfigError` listing every problem."""
    return load_options(context, OtpConfig)


def load_options(context: Mapping[str, Any], options_type: type[_C]) -> _C:
    """Build the configuration from CDK context, or raise :class:`ConfigError` listing every problem.
    ``options_type`` may extend the schema with options of its own."""
    raw, problems = _merge_sources(context)
    by_key = {
        f.option.context: f for f in fields(options_type) if f.option.source == USER and f.option.context
    }
    given = {by_key[key].name: value for key, value in raw.items() if key in by_key}
    unknown = [
        f"{CONTEXT_KEY}.{name} = {show(raw[name])} is not a known key (known: {', '.join(by_key)})"
        for name in sorted(set(raw) - set(by_key))
    ]
    return _validated(given, problems, _namer(options_type), _CONTEXT_SOURCE, options_type, unknown=unknown)


def options_from_arguments(arguments: Mapping[str, Any], options_type: type[_C]) -> _C:
    """Validate the construct's keyword arguments (Python values: tuples or lists, country budgets as a
    dict or as (country, per hour, per day) tuples), or raise :class:`ConfigError` naming each argument at
    fault. ``options_type`` may extend the schema with options of its own."""
    known = {declared.name for declared in fields(options_type)}
    problems = [
        f"{name} is not an argument of OtpService (known: {', '.join(sorted(known))})"
        for name in sorted(set(arguments) - known)
    ]
    return _validated(dict(arguments), problems, argument_name, "OtpService keyword arguments", options_type)


def _validated(
    given: Mapping[str, Any],
    problems: list[str],
    name: Callable[[str], str],
    source: str,
    options_type: type[_C],
    *,
    unknown: list[str] | None = None,
) -> _C:
    values: dict[str, Any] = {}
    failed: set[str] = set()
    chosen = given.get("engine")
    engine: str = chosen if isinstance(chosen, str) and chosen in _RULES.ENGINES else PINPOINT
    for declared in (f for f in fields(options_type) if f.option.source == USER):
        if given.get(declared.name) is None:
            if declared.required:
                problems.append(f"{name(declared.name)} is required")
                failed.add(declared.name)
            continue
        value = given[declared.name]
        try:
            values[declared.name] = kind_for(declared, engine).from_context(value)
        except Invalid as exc:
            bounded = " with " + f"{name('engine')}={engine}" if engine_range(declared.name, engine) else ""
            problems.append(f"{name(declared.name)} = {show(value)} is invalid: must be {exc}{bounded}")
            failed.add(declared.name)
    fields_by_name = {f.name: f for f in fields(options_type)}
    for country in values.get("allowed_countries", ()):
        if country not in phonenumbers.SUPPORTED_REGIONS:
            allowed = fields_by_name["allowed_countries"].option.kind.allowed
            problems.append(
                f"{name('allowed_countries')} = {show(given['allowed_countries'])} is invalid: must be "
                f"{allowed}; {country!r} is not one"
            )
            failed.add("allowed_countries")
    # The rules between options run on what parsed, with stand-ins for the rest, and report only what
    # involves no option already at fault.
    stand_ins = {"brand_name": EXAMPLE_BRAND_NAME, "origination_identity": EXAMPLE_ORIGINATION_IDENTITY}
    checked = options_type(**{**stand_ins, **{k: v for k, v in values.items() if k not in failed}})
    for problem in option_problems(checked, name) + construct_problems(checked, name):
        if not any(re.search(rf"\b{re.escape(name(f))}\b", problem) for f in failed):
            problems.append(problem)
    problems.extend(unknown or [])
    if problems:
        raise ConfigError(problems, source=source)
    return options_type(**values)


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
        problems.append(f"{CONTEXT_KEY} = {show(base)} is invalid: must be a JSON object")
    prefix = CONTEXT_KEY + "."
    for key, value in context.items():
        if key.startswith(prefix):
            merged[key[len(prefix) :]] = value
    return merged, problems
