"""Rules between options, written once for the construct and the functions.

Each rule returns messages that name every key involved through ``name``, so that synthesis speaks of
context keys (``otp.sendLimitPerDay``) and a function of its variables (``OTP_SEND_LIMIT_PER_DAY``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final

from .. import engine_rules as engines
from ..channels import Channel
from .declaration import fields
from .schema import OtpOptions

#: How a message names an option, from its attribute name.
Namer = Callable[[str], str]

#: Functions the stack deploys, each given ``reservedConcurrency``.
FUNCTION_COUNT: Final = 4
#: Lambda keeps this much of an account's concurrency unreserved, whatever the functions ask for.
UNRESERVED_MINIMUM: Final = 100
#: WAF rate-based rules count over this window (seconds); the API's rule is sized against it.
WAF_WINDOW_SECONDS: Final = 300
#: Options only End User Messaging reads: with Pinpoint anything but the default is a mistake.
END_USER_MESSAGING_ONLY: Final = (
    "previous_engine", "message_template", "voice_template", "voice_language", "voice_id",
    "voice_origination_identity", "whatsapp_template_name", "whatsapp_origination_identity",
    "notify_code_deletion_protection", "notify_tier",
)  # fmt: skip
# What can place a voice call: a phone number or its id, a pool, or an End User Messaging ARN.
_VOICE_CAPABLE: Final = r"(\+[1-9][0-9]{6,14}|(phone|pool)-[0-9A-Za-z]{8,64}|arn:aws[a-z-]*:sms-voice:.+)"


def show(value: object) -> str:
    """A value as a message quotes it (JSON where it is JSON)."""
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value) if isinstance(value, str | int | float | bool | list | dict) else repr(value)


def engine_range(attribute: str, engine: str) -> tuple[int, int] | None:
    """The engine's own bounds of an option whose range depends on the engine."""
    ranges = {"code_length": engines.CODE_LENGTH, "validity_minutes": engines.VALIDITY_MINUTES}.get(attribute)
    return ranges[engine] if ranges else None


def engine_daily_messages(o: OtpOptions) -> int | None:
    """The most messages the engine sends in a day for this deployment (None: no such cap). Notify's
    Basic tier sends 200 a day per configuration."""
    if o.engine != engines.END_USER_MESSAGING:
        return None
    return engines.NOTIFY_TIER_DAILY_MESSAGES[o.notify_tier]


def send_budget_caps(o: OtpOptions) -> tuple[int, int]:
    """The account-wide send budget the functions keep to, (per hour, per day): sendBudgetPerHour and
    sendBudgetPerDay within the engine's daily cap, so that the service refuses the send beyond it (503
    send-budget-exhausted, proven numbers' reserve kept) instead of AWS."""
    cap = engine_daily_messages(o)
    per_day = o.send_budget_per_day if cap is None else min(o.send_budget_per_day, cap)
    return min(o.send_budget_per_hour, per_day), per_day


def stage_admits_per_waf_window(throttle_rate_limit: int, throttle_burst_limit: int) -> int:
    """The most requests API Gateway's stage throttle lets one caller through in one WAF window."""
    return throttle_rate_limit * WAF_WINDOW_SECONDS + throttle_burst_limit


def option_problems(options: OtpOptions, name: Namer) -> list[str]:
    """The rules both the construct and the functions apply."""
    problems = _engine_problems(options, name)
    o, n = options, name
    if o.send_limit_per_day < o.send_limit_per_hour:
        problems.append(
            f"{n('send_limit_per_day')} = {o.send_limit_per_day} is invalid: must be at least "
            f"{n('send_limit_per_hour')} ({o.send_limit_per_hour})"
        )
    if o.reserve_per_day > o.send_limit_per_day - 1:
        problems.append(
            f"{n('send_reserve_per_day')} = {o.reserve_per_day} is invalid: must be at most "
            f"{n('send_limit_per_day')} - 1 ({o.send_limit_per_day - 1}), so that a first sign-in on a new "
            "device can get a code"
        )
    most = engines.DESTINATION_DAILY_LIMIT[o.engine]
    if most is not None and o.send_limit_per_day > most:
        problems.append(
            f"{n('send_limit_per_day')} = {o.send_limit_per_day} is invalid: {n('engine')}={o.engine} "
            f"delivers at most {most} messages to one number per day (AWS's limit for the whole account, "
            f"which cannot be raised); set it to {most} or less"
        )
    if o.send_budget_per_day < o.send_budget_per_hour:
        problems.append(
            f"{n('send_budget_per_day')} = {o.send_budget_per_day} is invalid: must be at least "
            f"{n('send_budget_per_hour')} ({o.send_budget_per_hour})"
        )
    for country, hourly, daily in o.country_send_budgets:
        if country not in o.allowed_countries:
            problems.append(
                f"{n('country_send_budgets')} names {country}, which is not in {n('allowed_countries')}"
            )
        if daily < hourly or hourly > o.send_budget_per_hour or daily > o.send_budget_per_day:
            problems.append(
                f"{n('country_send_budgets')}.{country} = {hourly}/hour, {daily}/day is invalid: the daily "
                f"budget must be at least the hourly one, and both within {n('send_budget_per_hour')} "
                f"({o.send_budget_per_hour}) and {n('send_budget_per_day')} ({o.send_budget_per_day})"
            )
    return problems


def _engine_problems(o: OtpOptions, n: Namer) -> list[str]:
    """The engine's own ranges and channels, and what its enabled channels need."""
    engine = o.engine
    problems: list[str] = []
    for attribute in ("code_length", "validity_minutes"):
        low, high = engine_range(attribute, engine) or (0, 0)
        value = getattr(o, attribute)
        if not low <= value <= high:
            problems.append(
                f"{n(attribute)} = {value} is invalid: must be an integer from {low} to {high} with "
                f"{n('engine')}={engine}"
            )
    offered = engines.ENGINE_CHANNELS[engine]
    if any(channel not in offered for channel in o.channels):
        problems.append(
            f"{n('channels')} = {show([str(c) for c in o.channels])} is invalid: {n('engine')}={engine} "
            f"offers {', '.join(offered)} only"
        )
    if o.previous_engine == engine:
        problems.append(f"{n('previous_engine')} = {show(engine)} is invalid: must differ from {n('engine')}")
    if engine != engines.END_USER_MESSAGING or problems:
        return problems
    if Channel.SMS in o.channels:
        problem = engines.sms_template_problem(
            o.message_template, brand=o.brand_name, code_length=o.code_length
        )
        if problem:
            problems.append(f"{n('message_template')} = {show(o.message_template)} is invalid: {problem}")
    if Channel.VOICE in o.channels:
        problem = engines.voice_template_problem(o.voice_template, brand=o.brand_name)
        if problem:
            problems.append(f"{n('voice_template')} = {show(o.voice_template)} is invalid: {problem}")
    if Channel.WHATSAPP in o.channels:
        for attribute in ("whatsapp_template_name", "whatsapp_origination_identity"):
            if getattr(o, attribute) is None:
                problems.append(f"{n(attribute)} is required when {n('channels')} includes WHATSAPP")
    return problems


def construct_problems(o: OtpOptions, n: Namer) -> list[str]:
    """The rules only the construct can apply (it knows the options the functions never see)."""
    problems: list[str] = []
    defaults: dict[str, Any] = {f.name: f.default for f in fields(OtpOptions)}
    if o.engine == engines.PINPOINT:
        for attribute in END_USER_MESSAGING_ONLY:
            if getattr(o, attribute) != defaults[attribute]:
                problems.append(
                    f"{n(attribute)} = {show(getattr(o, attribute))} is invalid: only "
                    f"{n('engine')}={engines.END_USER_MESSAGING} uses it (Pinpoint's SMS text is fixed)"
                )
    else:
        if o.previous_engine is not None:
            low, high = engines.CODE_LENGTH[o.previous_engine]
            if not low <= o.code_length <= high:
                problems.append(
                    f"{n('code_length')} = {o.code_length} is invalid: {n('previous_engine')}="
                    f"{o.previous_engine} still verifies codes of {low}-{high} digits; keep the length the "
                    "codes in flight have until the switch is over"
                )
        if not engines.ORIGINATION_IDENTITY_PATTERN.match(o.origination_identity):
            problems.append(
                f"{n('origination_identity')} = {show(o.origination_identity)} is invalid: "
                f"{n('engine')}={o.engine} accepts 1-256 of A-Z a-z 0-9 _ : / + -"
            )
        if (
            Channel.VOICE in o.channels
            and o.voice_origination_identity is None
            and not re.fullmatch(_VOICE_CAPABLE, o.origination_identity)
        ):
            problems.append(
                f"{n('origination_identity')} = {show(o.origination_identity)} cannot place VOICE calls "
                f"(a sender ID or short code): set {n('voice_origination_identity')} to a voice-capable "
                "phone number or pool"
            )
    if o.waf_enabled:
        admitted = stage_admits_per_waf_window(o.throttle_rate_limit, o.throttle_burst_limit)
        if o.waf_rate_limit < admitted:
            problems.append(
                f"{n('waf_rate_limit')} = {o.waf_rate_limit} is invalid: the API's callers are your "
                "backends (one IP for many users), and the stage throttle admits up to "
                f"{o.throttle_rate_limit} x {WAF_WINDOW_SECONDS} s + {o.throttle_burst_limit} = {admitted} "
                f"requests from one of them in 5 minutes; set it to at least {admitted}"
            )
    count = FUNCTION_COUNT + (
        1 if engines.offers_fallback(o.engine, tuple(str(c) for c in o.channels)) else 0
    )
    most = (o.account_concurrent_executions - UNRESERVED_MINIMUM) // count
    if o.reserved_concurrency > most:
        problems.append(
            f"{n('reserved_concurrency')} = {o.reserved_concurrency} is invalid: {count} "
            f"functions would reserve {count * o.reserved_concurrency} of the account's "
            f"{o.account_concurrent_executions} concurrent executions "
            f"({n('account_concurrent_executions')}), "
            f"and Lambda keeps {UNRESERVED_MINIMUM} unreserved: at most {max(most, 0)}, or 0 to reserve none"
        )
    return problems
