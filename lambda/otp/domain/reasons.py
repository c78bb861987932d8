"""Why a request was refused before anything was sent: the ``Reason`` dimension of ``OtpRejected``."""

from enum import StrEnum


class RejectReason(StrEnum):
    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_PHONE_NUMBER = "INVALID_PHONE_NUMBER"
    NON_CANONICAL_PHONE_NUMBER = "NON_CANONICAL_PHONE_NUMBER"
    COUNTRY_NOT_ALLOWED = "COUNTRY_NOT_ALLOWED"
    NUMBER_TYPE_NOT_ALLOWED = "NUMBER_TYPE_NOT_ALLOWED"
    PREFIX_BLOCKED = "PREFIX_BLOCKED"
    # The adaptive defence (otp/domain/adaptive.py): the number's range converts too little, or an
    # operator pinned a block on it. HTTP 429 with Retry-After; a sign-in looks like any held-back code.
    PREFIX_SUSPENDED = "PREFIX_SUSPENDED"
    INVALID_REFERENCE_ID = "INVALID_REFERENCE_ID"
    INVALID_CODE_FORMAT = "INVALID_CODE_FORMAT"
    INVALID_LANGUAGE = "INVALID_LANGUAGE"
    CHANNEL_NOT_OFFERED = "CHANNEL_NOT_OFFERED"  # a channel the engine or the deployment does not offer
    FALLBACK_NOT_OFFERED = "FALLBACK_NOT_OFFERED"  # a channel fallback where the deployment has none
    # Abuse protection (otp/domain/screening.py, otp/domain/limits.py, the Idempotency-Key header).
    SEND_COOLDOWN = "SEND_COOLDOWN"
    SEND_LIMIT_HOURLY = "SEND_LIMIT_HOURLY"
    SEND_LIMIT_DAILY = "SEND_LIMIT_DAILY"
    # The open part of the daily cap is spent; the rest is for devices with a ticket (otp/domain/tickets.py).
    SEND_LIMIT_DAILY_OPEN = "SEND_LIMIT_DAILY_OPEN"
    VERIFY_LIMIT_REFERENCE = "VERIFY_LIMIT_REFERENCE"
    LIMIT_CONTENTION = "LIMIT_CONTENTION"
    # The account-wide send budget (otp/domain/budget.py): refusals are HTTP 503, not 429.
    SEND_BUDGET_HOURLY = "SEND_BUDGET_HOURLY"
    SEND_BUDGET_DAILY = "SEND_BUDGET_DAILY"
    COUNTRY_SEND_BUDGET_HOURLY = "COUNTRY_SEND_BUDGET_HOURLY"
    COUNTRY_SEND_BUDGET_DAILY = "COUNTRY_SEND_BUDGET_DAILY"
    # The engine's send rate (End User Messaging's Notify tier, otp/domain/engine_rate.py): HTTP 503.
    ENGINE_RATE_LIMITED = "ENGINE_RATE_LIMITED"
    # The budget's shares (otp/domain/shares.py): unproven numbers (no recent verified code, no device
    # ticket) in all, of one country, of one range; refusals are HTTP 503 like the budget's.
    UNPROVEN_BUDGET_HOURLY = "UNPROVEN_BUDGET_HOURLY"
    UNPROVEN_BUDGET_DAILY = "UNPROVEN_BUDGET_DAILY"
    UNPROVEN_COUNTRY_SHARE = "UNPROVEN_COUNTRY_SHARE"
    UNPROVEN_RANGE_SHARE = "UNPROVEN_RANGE_SHARE"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"
