"""Parse, validate and classify destination phone numbers with Google's libphonenumber rules.

One number has exactly one spelling here: libphonenumber's E.164 format of the parsed number. Text that
parses to a valid number but is spelled otherwise (``+114255557777`` and ``+4407400123456`` carry the
national trunk prefix ``1`` or ``0`` after the country code, which libphonenumber strips) is refused
rather than rewritten, so the caller's string is the one key for the limits, the blocked prefixes, the
idempotency body and Pinpoint's destination; see docs/architecture.md, "One spelling per number".
"""

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

# PhoneNumberType values by name ("MOBILE", "VOIP", ...): what PhoneNumber.number_type holds.
_TYPE_NAMES: dict[int, str] = {
    value: name
    for name, value in vars(phonenumbers.PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}


def parse_phone_number(raw: str, allowed_countries: Collection[str]) -> PhoneNumber:
    """Return the validated number, or raise PhoneNumberRejected saying why (never echoing the input).

    The only parse of a request: the result carries the region and the number type that screening needs.
    """
    if not _E164.fullmatch(raw):
        raise PhoneNumberRejected(
            "phoneNumber must be in E.164 format: '+', country code and number, digits only",
            reason=RejectReason.INVALID_PHONE_NUMBER,
        )
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        parsed = None
    # number_type() is UNKNOWN exactly when is_valid_number() is false (both match the national number
    # against the patterns of the region the number belongs to), so one call answers both questions.
    number_type = phonenumbers.PhoneNumberType.UNKNOWN if parsed is None else phonenumbers.number_type(parsed)
    if parsed is None or number_type == phonenumbers.PhoneNumberType.UNKNOWN:
        raise PhoneNumberRejected(
            "phoneNumber is not a valid phone number", reason=RejectReason.INVALID_PHONE_NUMBER
        )
    if phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != raw:
        raise PhoneNumberRejected(
            "phoneNumber is not in canonical E.164 form: after the country code, write the national "
            "number without its trunk prefix (such as a leading 0 or 1)",
            reason=RejectReason.NON_CANONICAL_PHONE_NUMBER,
        )
    region = phonenumbers.region_code_for_number(parsed) or ""
    if region not in allowed_countries:
        raise PhoneNumberRejected(
            f"phone numbers of country {region or 'unknown'} are not accepted",
            reason=RejectReason.COUNTRY_NOT_ALLOWED,
        )
    return PhoneNumber(
        e164=raw,
        region=region,
        country_code=int(parsed.country_code or 0),
        number_type=_TYPE_NAMES.get(number_type, "UNKNOWN"),
    )


def mask_unvalidated(raw: str) -> str:
    """Mask text that may be a phone number but was not validated: keep '+', 1 digit and the last 2."""
    digits = [ch for ch in raw if ch.isdigit()]
    if len(digits) < 5:
        return "*" * len(digits)
    return f"+{digits[0]}{'*' * (len(digits) - 3)}{''.join(digits[-2:])}"
