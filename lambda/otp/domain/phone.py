"""Parse, validate and screen destination phone numbers with Google's libphonenumber rules."""

from __future__ import annotations

import re
from collections.abc import Collection

import phonenumbers

from otp.domain.errors import PhoneNumberRejected
from otp.domain.models import PhoneNumber
from otp.domain.reasons import RejectReason

# Strict E.164: a plus, a non-zero country code digit, at most 15 digits, no spaces or punctuation.
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
_E164 = re.compile(E164_PATTERN)


def parse_phone_number(raw: str, allowed_countries: Collection[str]) -> PhoneNumber:
    """Return the validated number, or raise PhoneNumberRejected saying why (never echoing the input)."""
    if not _E164.fullmatch(raw):
        raise PhoneNumberRejected(
            "phoneNumber must be in E.164 format: '+', country code and number, digits only",
            reason=RejectReason.INVALID_PHONE_NUMBER,
        )
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise PhoneNumberRejected(
            "phoneNumber is not a valid phone number", reason=RejectReason.INVALID_PHONE_NUMBER
        )
    region = phonenumbers.region_code_for_number(parsed) or ""
    if region not in allowed_countries:
        raise PhoneNumberRejected(
            f"phone numbers of country {region or 'unknown'} are not accepted",
            reason=RejectReason.COUNTRY_NOT_ALLOWED,
        )
    return PhoneNumber(e164=raw, region=region, country_code=int(parsed.country_code or 0))


def mask_unvalidated(raw: str) -> str:
    """Mask text that may be a phone number but was not validated: keep '+', 1 digit and the last 2."""
    digits = [ch for ch in raw if ch.isdigit()]
    if len(digits) < 5:
        return "*" * len(digits)
    return f"+{digits[0]}{'*' * (len(digits) - 3)}{''.join(digits[-2:])}"
