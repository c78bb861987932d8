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
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberDesc

# parse()'s own steps after its text handling, and the table region_code_for_number() reads: a strict
# E.164 number is read without the text handling, and one pass finds both its region and its type (for +1
# each lookup tries the number against the regions sharing the code, and the match that finds the region
# is the type). Private to phonenumbers, which is pinned; tests/unit/test_phone.py holds the results to
# parse(), region_code_for_number() and number_type() on every example number and ~27,000 other texts.
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    PhoneNumberType,
    ValidationResult,
    _extract_country_code,
    _maybe_strip_national_prefix_carrier_code,
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


# A number type's description as _number_type_helper reads it: the national significant number lengths
# it allows (empty: any) and its pattern, compiled once (None: matches nothing).
_Desc = tuple[frozenset[int], "re.Pattern[str] | None"]
# The types _number_type_helper tries after the general description, in its order.
_TYPES_IN_ORDER = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)


def _desc(desc: PhoneNumberDesc | None) -> _Desc | None:
    if desc is None:
        return None
    pattern = desc.national_number_pattern
    return frozenset(desc.possible_length), re.compile(pattern) if pattern else None


def _matches(national: str, desc: _Desc | None) -> bool:
    """phonenumbers' _is_number_matching_desc: the length first, then the whole number against the
    pattern (its ``pattern.match`` then ``pattern.fullmatch`` is ``fullmatch`` alone)."""
    if desc is None:
        return False
    lengths, pattern = desc
    if lengths and len(national) not in lengths:
        return False
    return pattern is not None and pattern.fullmatch(national) is not None


class _Types:
    """One region's number types as phonenumbers' _number_type_helper tests them, patterns compiled once:
    it looks each pattern up in ``re``'s cache, and matches it twice, for every type of every number."""

    __slots__ = ("fixed_line", "general", "leading_digits", "mobile", "ordered", "same_fixed_and_mobile")

    def __init__(self, metadata: PhoneMetadata) -> None:
        self.general = _desc(metadata.general_desc)
        self.ordered = tuple((_desc(getattr(metadata, name)), kind) for name, kind in _TYPES_IN_ORDER)
        self.fixed_line = _desc(metadata.fixed_line)
        self.mobile = _desc(metadata.mobile)
        self.same_fixed_and_mobile = bool(metadata.same_mobile_and_fixed_line_pattern)
        leading = metadata.leading_digits
        self.leading_digits = re.compile(leading) if leading is not None else None

    def of(self, national: str) -> int:
        """``_number_type_helper(national, metadata)``."""
        if not _matches(national, self.general):
            return _UNKNOWN
        for desc, kind in self.ordered:
            if _matches(national, desc):
                return kind
        if _matches(national, self.fixed_line):
            if self.same_fixed_and_mobile or _matches(national, self.mobile):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not self.same_fixed_and_mobile and _matches(national, self.mobile):
            return PhoneNumberType.MOBILE
        return _UNKNOWN


@cache  # one per region or non-geographic code that numbers were sent to (~250 at most)
def _types(country_code: int, region: str) -> _Types | None:
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    return None if metadata is None else _Types(metadata)


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
        types = _types(country_code, region)
        return region, _UNKNOWN if types is None else types.of(national)
    for region in regions:
        types = _types(country_code, region)
        if types is None:
            continue
        if types.leading_digits is not None:
            if types.leading_digits.match(national):
                return region, types.of(national)
            continue
        number_type = types.of(national)
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
