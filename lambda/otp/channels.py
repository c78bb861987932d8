"""The channels a code can go out on. Dependency-free, imported with relative imports by the configuration
schema (otp/options), which the construct library loads as ``cdk_sms_otp._lambda.otp.options``; the domain
re-exports it as ``otp.domain.models.Channel``."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a code reaches the user. Which ones a deployment offers depends on its engine and config."""

    SMS = "SMS"
    VOICE = "VOICE"  # a phone call that speaks the code
    WHATSAPP = "WHATSAPP"
