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
from phonenumbers import PhoneMetadata

# number_type()'s own inner step and the table region_code_for_number() reads, used here so that one
# pass finds both the region and the type (for +1 each lookup tries the number against the regions sharing
# the code, and the match that finds the region is the type). Private to phonenumbers, which is pinned;
# tests/unit/test_phone.py checks the result equals region_code_for_number() and number_type() for every
# region's example of every type.
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    ValidationResult,
    _extract_country_code,
    _maybe_strip_national_prefix_carrier_code,
    _number_type_helper,
    _test_number_length,
    region_code_for_country_code,
)

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


_UNKNOWN = phonenumbers.PhoneNumberType.UNKNOWN
# parse() keeps the national prefix it could strip when what is left would have one of these lengths.
_PREFIX_KEPT = frozenset(
    {ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY, ValidationResult.INVALID_LENGTH}
)
# parse()'s shortest national significant number.
_MIN_NATIONAL_DIGITS = 2


def _canonical_parts(raw: str) -> tuple[int, str] | None:
    """The country code and national significant number ``phonenumbers.parse(raw, None)`` finds, for strict
    E.164 text that is its number's canonical spelling; None for any other text (no known country code, too
    short, a national prefix parse() would strip), which the caller then gives to ``phonenumbers.parse``.

    On ``+`` and ASCII digits alone, parse()'s text steps (finding the number in text, RFC 3966, extensions,
    normalising digits) change nothing, and they are most of its cost; what is left is parse()'s tail, done
    here with phonenumbers' own steps in its order, without building its PhoneNumber: the national digits
    after the country code are the national significant number, leading zeros included.
    tests/unit/test_phone.py holds this to parse() on every example number and tens of thousands of others.
    """
    country_code, national = _extract_country_code(raw[1:])
    if country_code == 0 or len(national) < _MIN_NATIONAL_DIGITS:
        return None
    region = region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return None
    _, stripped, _ = _maybe_strip_national_prefix_carrier_code(national, metadata)
    if stripped != national and _test_number_length(stripped, metadata) not in _PREFIX_KEPT:
        return None  # parse() reads the number without the prefix: this text is not its E.164 spelling
    return country_code, national


def _region_and_type(country_code: int, national: str) -> tuple[str | None, int]:
    """``region_code_for_number`` and ``number_type`` of the number ``country_code`` + ``national`` (its
    national significant number), computed as phonenumbers does, in one pass.

    Where several regions share the country code, phonenumbers' region is the first whose leading digits
    match or, without leading digits, whose patterns give the number a type; number_type() then matches
    the same patterns again. Here the match that finds the region is kept as the type.
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return None, _UNKNOWN
    if len(regions) == 1:
        region: str = regions[0]
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        return region, _UNKNOWN if metadata is None else _number_type_helper(national, metadata)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re.compile(metadata.leading_digits).match(national):
                return region, _number_type_helper(national, metadata)
            continue
        number_type: int = _number_type_helper(national, metadata)
        if number_type != _UNKNOWN:
            return region, number_type
    return None, _UNKNOWN


def parse_phone_number(raw: str, allowed_countries: Collection[str]) -> PhoneNumber:
    """Return the validated number, or raise PhoneNumberRejected saying why (never echoing the input).

    The only parse of a request: the result carries the region and the number type that screening needs.
    """
    if not _E164.fullmatch(raw):
        raise PhoneNumberRejected(
            "phoneNumber must be in E.164 format: '+', country code and number, digits only",
            reason=RejectReason.INVALID_PHONE_NUMBER,
        )
    parts = _canonical_parts(raw)
    parsed = None
    if parts is None:  # not its canonical spelling, or no number at all: phonenumbers says which
        try:
            parsed = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            pass
        else:
            parts = parsed.country_code or 0, phonenumbers.national_significant_number(parsed)
    # The number's type is UNKNOWN exactly when is_valid_number() is false (both match the national number
    # against the patterns of the region the number belongs to), so one lookup answers both questions.
    region, number_type = _region_and_type(*parts) if parts is not None else (None, _UNKNOWN)
    if parts is None or number_type == _UNKNOWN:
        raise PhoneNumberRejected(
            "phoneNumber is not a valid phone number", reason=RejectReason.INVALID_PHONE_NUMBER
        )
    if parsed is not None and phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != raw:
        raise PhoneNumberRejected(
            "phoneNumber is not in canonical E.164 form: after the country code, write the national "
            "number without its trunk prefix (such as a leading 0 or 1)",
            reason=RejectReason.NON_CANONICAL_PHONE_NUMBER,
        )
    region = region or ""
    if region not in allowed_countries:
        raise PhoneNumberRejected(
            f"phone numbers of country {region or 'unknown'} are not accepted",
            reason=RejectReason.COUNTRY_NOT_ALLOWED,
        )
    return PhoneNumber(
        e164=raw,
        region=region,
        country_code=parts[0],
        number_type=_TYPE_NAMES.get(number_type, "UNKNOWN"),
    )


def mask_unvalidated(raw: str) -> str:
    """Mask text that may be a phone number but was not validated: keep '+', 1 digit and the last 2."""
    digits = [ch for ch in raw if ch.isdigit()]
    if len(digits) < 5:
        return "*" * len(digits)
    return f"+{digits[0]}{'*' * (len(digits) - 3)}{''.join(digits[-2:])}"
