"""Builds the use cases from settings and adapters, once per container."""

from __future__ import annotations

from functools import lru_cache

from otp.adapters.pinpoint import PinpointOtpGateway, pinpoint_client
from otp.domain.models import OtpPolicy
from otp.domain.service import OtpService
from otp.observability import PowertoolsObserver
from otp.settings import Settings, get_settings


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
    )


@lru_cache(maxsize=1)
def otp_observer() -> PowertoolsObserver:
    return PowertoolsObserver()


@lru_cache(maxsize=1)
def otp_service() -> OtpService:
    settings = get_settings()
    gateway = PinpointOtpGateway(
        pinpoint_client(settings.connect_timeout, settings.read_timeout),
        settings.application_id,
        max_attempts=settings.max_attempts,
    )
    return OtpService(
        gateway=gateway,
        policy=policy_from(settings),
        allowed_countries=settings.allowed_countries,
        observer=otp_observer(),
    )


def reset() -> None:
    """Forget cached settings, clients and services (tests and the sandbox change the environment)."""
    otp_service.cache_clear()
    pinpoint_client.cache_clear()
    get_settings.cache_clear()
