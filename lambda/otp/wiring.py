"""Builds the use cases from settings and adapters, once per container."""

from __future__ import annotations

import hashlib
import hmac
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from otp import engine_rules, invocation
from otp.adapters import rate_slots  # noqa: F401  (registers how a RateSlot is written)
from otp.adapters.adaptive_store import DynamoDbBlockBook
from otp.adapters.pinpoint import PinpointOtpGateway, pinpoint_client
from otp.adapters.secret import read_secret, secretsmanager_client
from otp.adapters.store import DynamoDbLimitLedger, dynamodb_client, idempotency_store
from otp.adapters.ticket_store import DynamoDbTicketBook
from otp.adapters.verification_store import DynamoDbVerificationBook
from otp.domain.adaptive import AdaptiveDefence, AdaptivePolicy
from otp.domain.budget import BudgetCaps, SendBudget
from otp.domain.engine_rate import EngineRate
from otp.domain.fallback import ChannelFallback, FallbackScheduler
from otp.domain.gateway_fallback import FallbackVerifyGateway
from otp.domain.limiter import SendRateGuard, SlidingWindowLimiter, VerifyAttemptGuard
from otp.domain.models import OtpPolicy
from otp.domain.pacing import LatencyFloor
from otp.domain.ports import OtpGateway, SendGuard, TicketBook, VerificationBook, VerifyGuard, VerifyRecords
from otp.domain.screening import NumberScreen, ScreeningPolicy
from otp.domain.service import OtpService, verification_key
from otp.domain.shares import BudgetShares, ProvenNumbers
from otp.observability import PowertoolsObserver, logger
from otp.options.rules import send_budget_caps
from otp.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

# What the per-number limits take as "now" (epoch seconds). The sandbox may point it at its own clock.
limits_clock: Callable[[], float] = time.time
# How a send waiting for the engine's next free second sleeps (tests may move a fake clock instead).
limits_sleep: Callable[[float], None] = time.sleep


def policy_from(settings: Settings) -> OtpPolicy:
    return OtpPolicy(
        brand_name=settings.brand_name,
        origination_identity=settings.origination_identity,
        code_length=settings.code_length,
        validity_minutes=settings.validity_minutes,
        allowed_attempts=settings.allowed_attempts,
        language=settings.language,
        entity_id=settings.entity_id,
        template_id=settings.template_id,
        channels=frozenset(settings.channels),
    )


def _pinpoint_gateway(settings: Settings) -> OtpGateway:
    return PinpointOtpGateway(
        pinpoint_client(settings.connect_timeout, settings.read_timeout),
        settings.application_id,
        max_attempts=settings.max_attempts,
    )


def _end_user_messaging_gateway(settings: Settings) -> OtpGateway:
    # Imported on that engine only: a Pinpoint deployment's cold start does not load its adapter.
    from otp.adapters.end_user_messaging import (
        EndUserMessagingGateway,
        EndUserMessagingOptions,
        end_user_messaging_client,
    )

    options = EndUserMessagingOptions(
        message_template=settings.message_template,
        voice_template=settings.voice_template,
        voice_language=settings.voice_language or settings.language,
        voice_id=settings.voice_id,
        voice_origination_identity=settings.voice_origination_identity,
        whatsapp_template_name=settings.whatsapp_template_name,
        whatsapp_origination_identity=settings.whatsapp_origination_identity,
        configuration_set=settings.configuration_set,
        notify_code_configuration=settings.notify_code_configuration,
    )
    return EndUserMessagingGateway(
        end_user_messaging_client(settings.connect_timeout, settings.read_timeout),
        options,
        max_attempts=settings.max_attempts,
        time_left=invocation.seconds_left,
        attempt_seconds=engine_attempt_seconds(settings),
    )


def engine_attempt_seconds(settings: Settings) -> float:
    """The longest one engine call may take (connect, then read), with a margin for the answer."""
    return settings.connect_timeout + settings.read_timeout + 0.5


def engine_rate(settings: Settings) -> EngineRate | None:
    """The engine's send rate the sends keep to (End User Messaging's tier), kept with the protection
    table's slots: none without the table or on an engine without such a rate."""
    if settings.engine_send_rate is None or settings.table_name is None:
        return None
    return EngineRate(
        settings.engine_send_rate,
        time_left=invocation.seconds_left,
        reserve_seconds=engine_attempt_seconds(settings),
        clock=lambda: limits_clock(),
        sleep=lambda seconds: limits_sleep(seconds),
    )


# The one place that knows which adapter serves which engine (settings validate the name).
ENGINE_GATEWAYS: dict[str, Callable[[Settings], OtpGateway]] = {
    engine_rules.PINPOINT: _pinpoint_gateway,
    engine_rules.END_USER_MESSAGING: _end_user_messaging_gateway,
}


def gateway_for(settings: Settings) -> OtpGateway:
    """The configured engine's gateway; while a previous engine is set, it still verifies its own codes."""
    gateway = ENGINE_GATEWAYS[settings.engine](settings)
    if settings.previous_engine is None:
        return gateway
    return FallbackVerifyGateway(gateway, ENGINE_GATEWAYS[settings.previous_engine](settings))


@lru_cache(maxsize=1)
def otp_observer() -> PowertoolsObserver:
    return PowertoolsObserver()


def _service_clock() -> datetime:
    return datetime.fromtimestamp(limits_clock(), UTC)


@lru_cache(maxsize=1)
def otp_service() -> OtpService:
    settings = get_settings()
    ledger = ledger_for(settings)
    limiter = None if ledger is None else SlidingWindowLimiter(ledger, clock=lambda: limits_clock())
    book = verification_book(settings)
    defence = adaptive_defence(settings)
    return OtpService(
        gateway=gateway_for(settings),
        policy=policy_from(settings),
        allowed_countries=settings.allowed_countries,
        observer=otp_observer(),
        send_guards=send_guards(settings, limiter, defence),
        verify_guards=verify_guards(settings, book),
        # The adaptive defence's counters ride in each send's commit and each verification's request.
        send_records=() if defence is None else (defence,),
        verify_records=verify_records(settings, defence),
        # What a verification writes once the engine answered (verify_records) goes here, in one call.
        record_store=ledger,
        # One clock for the limits, the records and the answers' expiresAt (the sandbox moves it).
        clock=_service_clock,
        verifications=book,
        verify_cap=settings.verify_limit_per_reference,
        engine_rate=engine_rate(settings),
        fallback_scheduler=fallback_scheduler(settings, book),
        # A fallback's call earlier than the cooldown would only be refused by it.
        fallback_min_seconds=settings.send_cooldown_seconds,
    )


def fallback_scheduler(
    settings: Settings, book: VerificationBook | None, target_arn: str | None = None
) -> FallbackScheduler | None:
    """EventBridge Scheduler, where the stack deployed the fallback (and the records it reads exist);
    ``target_arn`` (the Fallback function's own) stands in for OTP_FALLBACK_TARGET_ARN."""
    target = target_arn or settings.fallback_target_arn
    group, role = settings.fallback_schedule_group, settings.fallback_role_arn
    if group is None or role is None or target is None or book is None:
        return None
    from otp.adapters.fallback_scheduler import EventBridgeFallbackScheduler, scheduler_client

    return EventBridgeFallbackScheduler(scheduler_client(), group=group, target_arn=target, role_arn=role)


@lru_cache(maxsize=2)
def channel_fallback(own_arn: str) -> ChannelFallback:
    """The scheduled fallback's use case (otp/handlers/fallback.py): its next steps target ``own_arn``."""
    settings = get_settings()
    book = verification_book(settings)
    scheduler = fallback_scheduler(settings, book, own_arn)
    if book is None or scheduler is None:
        raise SettingsError("channel fallback needs OTP_TABLE_NAME and the OTP_FALLBACK_* variables")
    return ChannelFallback(otp_service(), book, scheduler, otp_observer(), verification_key)


def verification_book(settings: Settings) -> VerificationBook | None:
    """The lifecycle records live in the protection table, with the verify caps; none without it."""
    if settings.table_name is None:
        return None
    return DynamoDbVerificationBook(dynamodb_client(), settings.table_name)


def ledger_for(settings: Settings) -> DynamoDbLimitLedger | None:
    if settings.table_name is None:
        # Settings refuse this inside Lambda; here it can only be a local run without the sandbox.
        logger.warning("abuse protection is off: OTP_TABLE_NAME is not set (per-number limits not enforced)")
        return None
    return DynamoDbLimitLedger(dynamodb_client(), settings.table_name)


def budget_shares(settings: Settings) -> BudgetShares | None:
    """The budget's shares for unproven numbers (otp/domain/shares.py): part of the adaptive defence."""
    if not settings.adaptive_protection:
        return None
    return BudgetShares(
        reserve_percent=settings.proven_reserve_percent,
        country_percent=settings.unproven_country_share_percent,
        range_percent=settings.unproven_range_share_percent,
        proven_days=settings.proven_number_days,
    )


def verify_records(settings: Settings, defence: AdaptiveDefence | None) -> tuple[VerifyRecords, ...]:
    """What a right code writes besides its verification's mark: the conversion counters, and that its
    number is proven (when the budget keeps a share for proven numbers)."""
    records: list[VerifyRecords] = [] if defence is None else [defence]
    shares = budget_shares(settings)
    if settings.table_name is not None and shares is not None and shares.enabled:
        records.append(ProvenNumbers(shares.proven_days, lambda: int(limits_clock() * 1000)))
    return tuple(records)


def adaptive_defence(settings: Settings) -> AdaptiveDefence | None:
    """Conversion counters and range blocks (otp/domain/adaptive.py): with the protection table, unless
    turned off (then nothing is counted either)."""
    if settings.table_name is None or not settings.adaptive_protection:
        return None
    policy = AdaptivePolicy(
        enabled=True,
        min_sends=settings.adaptive_min_sends,
        reoffend_min_sends=settings.adaptive_reoffend_min_sends,
        min_conversion_percent=settings.adaptive_min_conversion_percent,
        block_hours=settings.adaptive_block_hours,
        allowed_prefixes=settings.adaptive_allowed_prefixes,
    )
    return AdaptiveDefence(
        policy,
        DynamoDbBlockBook(dynamodb_client(), settings.table_name),
        report=otp_observer().range_blocked,
        clock=lambda: limits_clock(),
    )


def send_guards(
    settings: Settings, limiter: SlidingWindowLimiter | None, defence: AdaptiveDefence | None = None
) -> tuple[SendGuard, ...]:
    """Screening first (a refused number must not use up quota), then the per-number limits."""
    screen = NumberScreen(
        ScreeningPolicy(
            allow_toll_free=settings.allow_toll_free,
            allow_voip=settings.allow_voip,
            blocked_prefixes=settings.blocked_prefixes,
        )
    )
    if limiter is None:
        return (screen,)
    rate = SendRateGuard(
        limiter,
        cooldown_seconds=settings.send_cooldown_seconds,
        per_hour=settings.send_limit_per_hour,
        per_day=settings.send_limit_per_day,
        reserve_per_day=settings.reserve_per_day,
        budget=send_budget(settings),
        report_usage=otp_observer().budget_usage,
        defence=defence,
        shares=budget_shares(settings),
    )
    return (screen, rate)


def send_budget(settings: Settings) -> SendBudget:
    return SendBudget(
        total=BudgetCaps(*send_budget_caps(settings)),
        by_country={
            country: BudgetCaps(per_hour, per_day)
            for country, per_hour, per_day in settings.country_send_budgets
        },
    )


def verify_guards(settings: Settings, book: VerificationBook | None) -> tuple[VerifyGuard, ...]:
    if book is None:
        return ()
    guard = VerifyAttemptGuard(
        book, per_reference=settings.verify_limit_per_reference, clock=lambda: limits_clock()
    )
    return (guard,)


@lru_cache(maxsize=1)
def _deployment_secret(secret_arn: str) -> bytes:
    # Cached per container once read; a failed read is not cached, so the next call tries again.
    return read_secret(secret_arn)


def deployment_key(purpose: str) -> bytes:
    """A 32-byte key for one purpose (e.g. ``cognito-decoy``), derived from the deployment secret.

    Raises SettingsError when the function has no secret (OTP_SECRET_ARN: infra/secret.py grants it
    function by function) and UpstreamError when Secrets Manager cannot be read. One secret, many keys:
    knowing one purpose's key tells nothing about another's.
    """
    secret_arn = get_settings().secret_arn
    if secret_arn is None:
        raise SettingsError("OTP_SECRET_ARN is not set: this function was not granted the deployment secret")
    return hmac.new(
        _deployment_secret(secret_arn), b"otp-key\x00" + purpose.encode(), hashlib.sha256
    ).digest()


# Draws spread each floor over a few milliseconds above OTP_SIGN_IN_FLOOR_MS (otp/domain/pacing.py).
FLOOR_SPREAD = 0.004


@lru_cache(maxsize=1)
def sign_in_floors() -> tuple[LatencyFloor, LatencyFloor, LatencyFloor]:
    """The Cognito triggers' floors: a first round's send, an answer check, a later round's new code (a
    switch or a resend). One setting for all three: the point is that real and decoy rounds of a kind
    end together, and a floor above the slowest kind's work does that for every kind."""
    low = get_settings().sign_in_floor_ms / 1000
    floor = LatencyFloor(low, low + FLOOR_SPREAD)
    return floor, floor, floor


@lru_cache(maxsize=1)
def ticket_book() -> TicketBook | None:
    """Where device tickets are recorded: the protection table (None without one: no ticket is valid)."""
    table_name = get_settings().table_name
    return None if table_name is None else DynamoDbTicketBook(dynamodb_client(), table_name)


@lru_cache(maxsize=1)
def idempotency_persistence() -> BasePersistenceLayer | None:
    """Where Idempotency-Key records live: the protection table, or nowhere when it is not configured."""
    table_name = get_settings().table_name
    return None if table_name is None else idempotency_store(table_name)


def reset() -> None:
    """Forget cached settings, clients and services (tests and the sandbox change the environment)."""
    otp_service.cache_clear()
    sign_in_floors.cache_clear()
    channel_fallback.cache_clear()
    pinpoint_client.cache_clear()
    end_user_messaging = sys.modules.get("otp.adapters.end_user_messaging")
    if end_user_messaging is not None:
        end_user_messaging.end_user_messaging_client.cache_clear()
    idempotency_persistence.cache_clear()
    ticket_book.cache_clear()
    dynamodb_client.cache_clear()
    secretsmanager_client.cache_clear()
    _deployment_secret.cache_clear()
    get_settings.cache_clear()
