"""Every configuration key, declared once: name, type, default, bounds, meaning, who reads it.

``OtpOptions`` holds what a user configures: each attribute is a CDK context key (``otp.<camelCase>``),
a keyword argument of the ``OtpService`` construct, and, unless the construct alone reads it, an
environment variable of the functions (``OTP_<UPPER_SNAKE>``). What the construct tells the functions
about the resources it made is in :mod:`otp.options.deployment`. Rules between keys are in
:mod:`otp.options.rules`; the docs' tables are generated from here (``make docs-tables``).

Bounds that are AWS's own (Pinpoint's and End User Messaging's) come from :mod:`otp.engine_rules`.
"""

from __future__ import annotations

from typing import Final, Literal

from .. import engine_rules as engines
from ..channels import Channel
from ..languages import SUPPORTED_LANGUAGES
from .declaration import CONSTRUCT_ONLY, option, schema_class
from .kinds import (
    Choice,
    CountryBudget,
    CountryBudgets,
    Flag,
    IncreasingHours,
    Integer,
    NumberChoice,
    Optional,
    Text,
)
from .kinds import channels as channel_list
from .kinds import countries as country_list
from .kinds import prefixes as prefix_list

ApiAuth = Literal["iam", "apiKey"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# docs/observability.md: Lambda's and API Gateway's own segments ("active"), plus the X-Ray SDK's
# subsegments for every AWS call ("sdk"), or none ("off").
Tracing = Literal["active", "sdk", "off"]

#: Retention periods CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

_E164 = r"\+[1-9][0-9]{6,14}"
_SENDER_ID = r"(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}"
_SHORT_CODE = r"[0-9]{3,8}"
_EUM_ID = r"(phone|pool|senderid)-[0-9A-Za-z]{8,64}"
_ARN = r"arn:aws[a-z-]*:(sms-voice|mobiletargeting):[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9/_.:+-]+"
_DLT_ID = Text(r"[0-9A-Za-z_-]{1,64}", "1-64 letters, digits, '_' or '-'")
_IDENTITY = Text(engines.ORIGINATION_IDENTITY_PATTERN, "1-256 of A-Z a-z 0-9 _ : / + -")
# What placeholders a template takes and how long it may be; the engine's rules check the rest.
_TEMPLATE = Text(
    r"(?s).*\S.*",
    f"a text (with {engines.CODE_PLACEHOLDER}) of at most {engines.INLINE_TEMPLATE_MAX_CHARS} characters",
    check=lambda t: len(t) <= engines.INLINE_TEMPLATE_MAX_CHARS,
)
_ANY_ENGINE_CODE_LENGTH: Final = (min(r[0] for r in engines.CODE_LENGTH.values()), 8)
_ANY_ENGINE_VALIDITY: Final = (min(r[0] for r in engines.VALIDITY_MINUTES.values()), 60)


@schema_class
class OtpOptions:
    """What a deployment is configured with (docs/configuration.md is generated from this)."""

    brand_name: str = option(
        kind=Text(
            r".{1,20}",
            "1 to 20 printable characters, no leading or trailing space",
            check=lambda v: v == v.strip() and v.isprintable(),
        ),
        doc='the brand in the SMS text ("... from Acme")',
    )
    origination_identity: str = option(
        kind=Text(
            f"{_E164}|{_SENDER_ID}|{_SHORT_CODE}|{_EUM_ID}|{_ARN}",
            "an E.164 phone number (+12065550100), a sender ID (1-11 letters/digits, at least one letter), "
            "a short code (3-8 digits), an End User Messaging phone/pool/sender id (phone-…, pool-…) "
            "or the ARN of one of them",
        ),
        doc="who the SMS comes from; a sender ID or short code also becomes the SMS channel's default",
    )
    code_length: int = option(
        default=6,
        kind=Integer(*_ANY_ENGINE_CODE_LENGTH),
        doc="digits per code",
    )
    validity_minutes: int = option(
        default=5,
        kind=Integer(*_ANY_ENGINE_VALIDITY),
        doc="how long a code is valid; also the Cognito challenge session (capped at 15)",
    )
    allowed_attempts: int = option(
        default=3,
        kind=Integer(*engines.ALLOWED_ATTEMPTS[engines.PINPOINT]),
        doc="wrong answers before a code (and a Cognito sign-in) is dead",
    )
    allowed_countries: tuple[str, ...] = option(
        default=("US", "CA", "GB"), kind=country_list(), doc="countries the service texts"
    )
    language: str = option(
        default="en-US",
        kind=Choice(sorted(SUPPORTED_LANGUAGES), quoted=False),
        doc="default message language (a request may choose another)",
    )
    entity_id: str | None = option(default=None, kind=Optional(_DLT_ID), doc="India DLT entity id")
    template_id: str | None = option(default=None, kind=Optional(_DLT_ID), doc="India DLT template id")
    api_auth: ApiAuth = option(
        default="iam",
        kind=Choice(
            ("iam", "apiKey"), allowed='"iam" (SigV4, the default) or "apiKey" (API key + usage plan)'
        ),
        functions=CONSTRUCT_ONLY,
        doc="SigV4 (`iam`) or an API key with a usage plan (`apiKey`) on the HTTP API",
    )
    throttle_rate_limit: int = option(
        default=10,
        kind=Integer(1, 10_000),
        functions=CONSTRUCT_ONLY,
        doc="stage throttling, steady requests per second (also the usage plan's)",
    )
    throttle_burst_limit: int = option(
        default=20, kind=Integer(1, 5_000), functions=CONSTRUCT_ONLY, doc="stage throttling, burst"
    )
    log_retention_days: int = option(
        default=30,
        kind=NumberChoice(LOG_RETENTION_DAYS, "a CloudWatch Logs retention in days"),
        functions=CONSTRUCT_ONLY,
        doc="function logs and API access logs",
    )
    log_level: LogLevel = option(
        default="INFO",
        kind=Choice(("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), fold_case=True, quoted=False),
        functions=CONSTRUCT_ONLY,
        doc="Powertools log level (the functions' POWERTOOLS_LOG_LEVEL)",
    )
    alarm_email: str | None = option(
        default=None,
        kind=Optional(Text(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address")),
        functions=CONSTRUCT_ONLY,
        doc="creates an encrypted SNS topic that every alarm notifies; confirm the subscription e-mail",
    )
    # Abuse protection (docs/abuse-protection.md says why each exists).
    send_cooldown_seconds: int = option(
        default=30, kind=Integer(0, 3600), doc="minimum seconds between codes to one number (0: none)"
    )
    send_limit_per_hour: int = option(
        default=5, kind=Integer(1, 100), doc="codes to one number in any 60 minutes"
    )
    send_limit_per_day: int = option(
        default=10,
        kind=Integer(1, 1000),
        doc="codes to one number in any 24 hours (at least sendLimitPerHour)",
    )
    send_reserve_per_day: int | None = option(
        default=None,
        kind=Optional(Integer(0, 999)),
        doc="the part of the daily cap only a device ticket can draw on (at most sendLimitPerDay - 1); "
        "unset: sendLimitPerDay - sendLimitPerHour - 1, at least 0",
    )
    device_ticket_days: int = option(
        default=90, kind=Integer(1, 365), doc="how long a device ticket stays valid after its sign-in"
    )
    verify_limit_per_reference: int = option(
        default=5, kind=Integer(1, 20), doc="verify calls for one number + reference"
    )
    allow_toll_free: bool = option(default=False, kind=Flag(), doc="accept toll-free numbers")
    allow_voip: bool = option(default=False, kind=Flag(), doc="accept VoIP numbers")
    blocked_prefixes: tuple[str, ...] = option(default=(), kind=prefix_list(), doc="numbers never texted")
    # The adaptive defence (docs/abuse-protection.md#adaptive-defence): a range (E.164 prefix) whose last
    # hour holds at least adaptive_min_sends codes, fewer than adaptive_min_conversion_percent of them
    # verified, is blocked for the next length of adaptive_block_hours (longer each time it re-offends).
    adaptive_protection: bool = option(
        default=True,
        kind=Flag(),
        doc="block number ranges whose codes are not entered (also turns the budget shares below off)",
    )
    adaptive_min_sends: int = option(
        default=5, kind=Integer(1, 100_000), doc="codes to a range in the last hour before it can be judged"
    )
    adaptive_reoffend_min_sends: int = option(
        default=2,
        kind=Integer(1, 100_000),
        doc="the same, after the block of a range that offended within 30 days (never above the one above)",
    )
    adaptive_min_conversion_percent: int = option(
        default=5, kind=Integer(0, 100), doc="a range verifying fewer of its codes than this is blocked"
    )
    adaptive_block_hours: tuple[int, ...] = option(
        default=(1, 4, 24, 168),
        kind=IncreasingHours(8, 8760),
        doc="how long a block lasts, the first time and each time the range re-offends",
    )
    adaptive_allowed_prefixes: tuple[str, ...] = option(
        default=(), kind=prefix_list(), doc="ranges never blocked automatically"
    )
    # The send budget's share only proven numbers (verified within proven_number_days, or with a device
    # ticket) may spend, and the most of the budget one country / one range of unproven numbers may take.
    proven_reserve_percent: int = option(
        default=20, kind=Integer(0, 90), doc="the share of the send budget only proven numbers may spend"
    )
    proven_number_days: int = option(
        default=30, kind=Integer(1, 365), doc="how long a verified number counts as proven"
    )
    unproven_country_share_percent: int = option(
        default=50,
        kind=Integer(1, 100),
        doc="the most of the budget unproven numbers of one country may take",
    )
    unproven_range_share_percent: int = option(
        default=10,
        kind=Integer(1, 100),
        doc="the most of the budget unproven numbers of one range (country code + 3 digits) may take",
    )
    idempotency_ttl_seconds: int = option(
        default=3600, kind=Integer(60, 86400), doc="how long an Idempotency-Key answer is replayed"
    )
    waf_enabled: bool = option(
        default=True, kind=Flag(), functions=CONSTRUCT_ONLY, doc="the two AWS WAF web ACLs"
    )
    # Per IP and 5 minutes. On the API (IAM or API-key callers) the IP is the integrator's backend, so
    # the default admits a backend sending at the stage throttle's full rate: 10 x 300 + 20 = 3,020.
    waf_rate_limit: int = option(
        default=3100,
        kind=Integer(10, 2_000_000_000),
        functions=CONSTRUCT_ONLY,
        doc="the API's per-IP rate rule, requests per 5 minutes (at least throttleRateLimit x 300 + "
        "throttleBurstLimit)",
    )
    waf_sign_in_rate_limit: int = option(
        default=300,
        kind=Integer(10, 2_000_000_000),
        functions=CONSTRUCT_ONLY,
        doc="the user pool's per-IP rate rule, sign-in calls per 5 minutes",
    )
    refusal_alarm_threshold: int = option(
        default=50,
        kind=Integer(1, 1_000_000),
        functions=CONSTRUCT_ONLY,
        doc="refusals in 5 minutes that raise the refusal spike alarm",
    )
    new_country_alarm_min_sends: int = option(
        default=10,
        kind=Integer(1, 1_000_000),
        functions=CONSTRUCT_ONLY,
        doc="sends in 15 minutes to a country that raise the new-country alarm",
    )
    # The messaging engine (docs/engines.md) and what it sends.
    engine: str = option(
        default=engines.PINPOINT,
        kind=Choice(engines.ENGINES),
        doc="which API sends and checks codes",
    )
    previous_engine: str | None = option(
        default=None,
        kind=Optional(Choice(engines.ENGINES)),
        doc="while set, codes the previous engine sent still verify; set it for one deploy when you switch",
    )
    channels: tuple[Channel, ...] = option(
        default=(Channel.SMS,),
        kind=channel_list(engines.CHANNELS),
        doc="the channels a code may go out on (those the engine offers; Pinpoint: SMS only)",
    )
    message_template: str = option(
        default=engines.DEFAULT_MESSAGE_TEMPLATE,
        kind=_TEMPLATE,
        doc="the SMS (End User Messaging only): fits one GSM-7 part with the brand and the code in place",
    )
    voice_template: str = option(
        default=engines.DEFAULT_VOICE_TEMPLATE,
        kind=_TEMPLATE,
        doc=f"what a call says (VOICE): at most {engines.VOICE_TEMPLATE_MAX_CHARS} characters with the "
        "brand in place",
    )
    voice_language: str | None = option(
        default=None,
        kind=Optional(Text(engines.LANGUAGE_CODE_PATTERN, "a BCP 47 language tag such as en-US or es-419")),
        doc="the call's language (unset: language)",
    )
    voice_id: str | None = option(
        default=None,
        kind=Optional(Text(engines.VOICE_ID_PATTERN, "an Amazon Polly voice id such as Joanna")),
        doc="the call's Amazon Polly voice (unset: the service's default)",
    )
    voice_origination_identity: str | None = option(
        default=None,
        kind=Optional(_IDENTITY),
        doc="who calls: a voice-capable phone number, its id, a pool or an ARN (unset: originationIdentity)",
    )
    whatsapp_template_name: str | None = option(
        default=None,
        kind=Optional(
            Text(engines.WHATSAPP_TEMPLATE_NAME_PATTERN, "1-512 lowercase letters, digits or underscores")
        ),
        context="whatsAppTemplateName",
        doc="the Meta-approved WhatsApp authentication template (required with WHATSAPP)",
    )
    whatsapp_origination_identity: str | None = option(
        default=None,
        kind=Optional(_IDENTITY),
        context="whatsAppOriginationIdentity",
        doc="your WhatsApp phone number id or its ARN (required with WHATSAPP)",
    )
    notify_code_deletion_protection: bool = option(
        default=False,
        kind=Flag(),
        functions=CONSTRUCT_ONLY,
        doc="deletion protection of the notify code configuration (End User Messaging only)",
    )
    notify_tier: str = option(
        default=engines.BASIC,
        kind=Choice(engines.NOTIFY_TIERS),
        doc="your account's End User Messaging Notify tier (every account starts on BASIC): the functions "
        "keep to its send rate (BASIC 1 a second, ADVANCED 25) and BASIC's 200 messages a day (the send "
        "budget is held within it) (End User Messaging only)",
    )
    sign_in_floor_ms: int = option(
        default=150,
        kind=Integer(0, 5000),
        doc="the least time, in milliseconds, a Cognito sign-in round that sends or checks a code takes, "
        "real or decoy (plus up to 4 ms drawn at random): set it above what a send or a check takes in your "
        "region, or timing tells registered numbers apart (docs/cognito.md, Decoys)",
    )
    snap_start: bool = option(
        default=False,
        kind=Flag(),
        functions=CONSTRUCT_ONLY,
        doc="Lambda SnapStart on the four functions, each invoked through its alias `live`",
    )
    # The account-wide send budget (otp/domain/budget.py).
    send_budget_per_hour: int = option(
        default=500, kind=Integer(1, 1_000_000), doc="codes in any 60 minutes, all numbers"
    )
    send_budget_per_day: int = option(
        default=2000,
        kind=Integer(1, 10_000_000),
        doc="codes in any 24 hours, all numbers (at least per hour)",
    )
    country_send_budgets: tuple[CountryBudget, ...] = option(
        default=(),
        kind=CountryBudgets(),
        doc="per-country budgets of allowed countries, within the two above",
    )
    # Lambda's own bounds: a reservation of 0 would stop a function, so 0 here means "reserve none".
    reserved_concurrency: int = option(
        default=25,
        kind=Integer(0, 10_000),
        functions=CONSTRUCT_ONLY,
        doc="reserved concurrency of each function (0: none); 4 x it at most "
        "accountConcurrentExecutions - 100",
    )
    account_concurrent_executions: int = option(
        default=1000,
        kind=Integer(10, 10_000_000),
        functions=CONSTRUCT_ONLY,
        doc="your account's Lambda concurrency quota in the region, which reservedConcurrency is "
        "checked against",
    )
    tracing: Tracing = option(
        default="active",
        kind=Choice(
            ("active", "sdk", "off"),
            allowed='"active" (Lambda and API Gateway segments, the default), "sdk" (also the X-Ray SDK\'s '
            'subsegments for each AWS call; slower cold starts) or "off"',
        ),
        functions=CONSTRUCT_ONLY,
        doc="X-Ray: `active` (Lambda and API Gateway segments), `sdk` (also a subsegment per AWS call; "
        "slower cold starts) or `off`",
    )

    @property
    def engines_in_use(self) -> tuple[str, ...]:
        """The engine that sends, then the one that still verifies codes sent before a switch."""
        return (self.engine,) if self.previous_engine is None else (self.engine, self.previous_engine)

    @property
    def uses_end_user_messaging(self) -> bool:
        return self.engine == engines.END_USER_MESSAGING

    @property
    def reserve_per_day(self) -> int:
        """sendReservePerDay, else one less than the daily cap beyond the hourly one: spending the open
        part then takes a stranger more than an hour."""
        if self.send_reserve_per_day is not None:
            return self.send_reserve_per_day
        return default_reserve_per_day(self.send_limit_per_hour, self.send_limit_per_day)


def default_reserve_per_day(per_hour: int, per_day: int) -> int:
    return max(0, per_day - per_hour - 1)
