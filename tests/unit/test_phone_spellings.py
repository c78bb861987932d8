"""One key per number, for every region libphonenumber knows: a property test of parse and screening.

A number can be written in several ways that libphonenumber parses to the same number: after the
country code, a national trunk prefix (``+1 1 425...``, ``+44 0 7400...``, ``+36 06 ...``), a carrier
selection code (Brazil, Colombia, South Korea), the national dialling form with its transformations
(Argentina's ``0 11 15 ...``). If more than one of those spellings were accepted, each would key its
own per-number quota and could slip past a blocked prefix written for another. The invariant: a
spelling is accepted only when it *is* libphonenumber's E.164 format of its number, so every number
has exactly one accepted spelling, and the blocked prefixes see exactly that spelling.

Numbers come from libphonenumber's own example number of every type in every region, with their
last digits varied; spellings from each region's metadata (its national prefix, the strings its
``national_prefix_for_parsing`` pattern matches) and from its national dialling format.
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType

from otp.domain.errors import PhoneNumberRejected
from otp.domain.models import PhoneNumber
from otp.domain.phone import E164_PATTERN, parse_phone_number
from otp.domain.reasons import RejectReason
from otp.domain.screening import NumberScreen, ScreeningPolicy

REGIONS = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))
EVERY_REGION = frozenset(REGIONS)
TYPES = tuple(
    value
    for name, value in sorted(vars(PhoneNumberType).items())
    if name.isupper() and isinstance(value, int)
)
_E164 = re.compile(E164_PATTERN)


def canonical(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@cache
def examples(region: str) -> tuple[phonenumbers.PhoneNumber, ...]:
    """libphonenumber's example number of each type it has for the region."""
    found = (phonenumbers.example_number_for_type(region, number_type) for number_type in TYPES)
    return tuple(number for number in found if number is not None)


def prefixes_for(region: str) -> tuple[str, ...]:
    """Fixed prefixes the region's metadata names: its national prefix and the carrier codes."""
    metadata = PhoneMetadata.metadata_for_region(region)
    candidates = {"0", "1", "00"}
    if metadata is not None and metadata.national_prefix:
        candidates.add(metadata.national_prefix)
    return tuple(sorted(candidates))


def national_dialling_digits(number: phonenumbers.PhoneNumber) -> str:
    """The digits a caller inside the country dials (with trunk prefix, carrier codes, ``15``...)."""
    return re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))


def spellings_of(number: phonenumbers.PhoneNumber, region: str, extra: tuple[str, ...] = ()) -> set[str]:
    """Text shaped like E.164 that may denote ``number``: the canonical one and prefixed variants."""
    country = f"+{number.country_code}"
    nsn = phonenumbers.national_significant_number(number)
    texts = {canonical(number), country + national_dialling_digits(number)}
    texts.update(country + prefix + nsn for prefix in (*prefixes_for(region), *extra))
    return {text for text in texts if _E164.fullmatch(text)}


def outcome(text: str) -> PhoneNumber | RejectReason:
    try:
        return parse_phone_number(text, EVERY_REGION)
    except PhoneNumberRejected as refused:
        return RejectReason(refused.reason)


def assert_one_key(text: str) -> PhoneNumber | None:
    """The invariant for one text: accepted exactly when it is the E.164 format of a valid number."""
    result = outcome(text)
    try:
        parsed: phonenumbers.PhoneNumber | None = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        parsed = None
    valid = parsed is not None and phonenumbers.is_valid_number(parsed)
    if not valid:
        assert result is RejectReason.INVALID_PHONE_NUMBER, text
        return None
    assert parsed is not None
    if canonical(parsed) != text:
        assert result is RejectReason.NON_CANONICAL_PHONE_NUMBER, text
        return None
    if phonenumbers.region_code_for_number(parsed) not in EVERY_REGION:
        # +800, +808, +870...: numbers of no country (libphonenumber's "001"), which no deployment allows
        assert result is RejectReason.COUNTRY_NOT_ALLOWED, text
        return None
    assert isinstance(result, PhoneNumber), text
    assert result.e164 == text
    # The type parse_phone_number records is libphonenumber's own (screening relies on it).
    assert result.number_type == next(
        name for name, value in vars(PhoneNumberType).items() if value == phonenumbers.number_type(parsed)
    )
    return result


def assert_screened_as_one(number: phonenumbers.PhoneNumber, texts: set[str]) -> None:
    """Whatever prefix of the canonical text is blocked, no spelling of the number gets through."""
    key = canonical(number)
    accepted = {result.e164 for text in texts if (result := assert_one_key(text)) is not None}
    same_number = {
        text for text in texts if (parsed := _parse_or_none(text)) is not None and canonical(parsed) == key
    }
    accepted_same_number = accepted & same_number
    assert accepted_same_number <= {key}, f"{key}: accepted {sorted(accepted_same_number)}"
    for length in range(2, len(key)):
        screen = NumberScreen(
            ScreeningPolicy(allow_toll_free=True, allow_voip=True, blocked_prefixes=(key[:length],))
        )
        for text in same_number:
            screened = outcome(text)
            if isinstance(screened, PhoneNumber):
                with pytest.raises(PhoneNumberRejected):
                    screen.before_send(screened)


def _parse_or_none(text: str) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


# ------------------------------------------------------------------------------------------ the sweep


def test_every_example_number_of_every_region_has_exactly_one_accepted_spelling() -> None:
    # Given every example number of every type of every region, in all the spellings built above
    equivalent_spellings = 0
    for region in REGIONS:
        for number in examples(region):
            texts = spellings_of(number, region)
            # When each spelling is parsed and screened / Then one key per number (see assert_one_key)
            assert_screened_as_one(number, texts)
            equivalent_spellings += sum(
                1
                for text in texts
                if text != canonical(number)
                and (parsed := _parse_or_none(text)) is not None
                and canonical(parsed) == canonical(number)
            )
    # The sweep is only a proof if it met spellings libphonenumber really accepts as the same number
    assert equivalent_spellings > 500


@pytest.mark.parametrize(
    ("spelling", "number"),
    [
        ("+114255557777", "+14255557777"),  # US trunk prefix 1
        ("+4407400123456", "+447400123456"),  # UK trunk prefix 0
        ("+4915123456789", "+4915123456789"),  # canonical: accepted as is
        ("+49015123456789", "+4915123456789"),  # German trunk prefix 0
        ("+3606201234567", "+36201234567"),  # Hungarian trunk prefix 06
        ("+79123456789", "+79123456789"),  # canonical
        ("+789123456789", "+79123456789"),  # Russian trunk prefix 8
    ],
)
def test_known_trunk_prefix_spellings_are_refused_and_canonical_ones_kept(spelling: str, number: str) -> None:
    # Given a spelling libphonenumber reads as the number
    assert canonical(phonenumbers.parse(spelling)) == number
    # When it is parsed / Then it is accepted only if it is the canonical spelling
    result = outcome(spelling)
    if spelling == number:
        assert isinstance(result, PhoneNumber)
        assert result.e164 == number
    else:
        assert result is RejectReason.NON_CANONICAL_PHONE_NUMBER


# ---------------------------------------------------------------------------------------- the property


@st.composite
def numbers_and_spellings(draw: st.DrawFn) -> tuple[phonenumbers.PhoneNumber, set[str]]:
    """A valid number of any region (an example with varied last digits) and ways to write it."""
    region = draw(st.sampled_from([region for region in REGIONS if examples(region)]))
    example = draw(st.sampled_from(examples(region)))
    nsn = phonenumbers.national_significant_number(example)
    keep = draw(st.integers(min_value=max(1, len(nsn) - 4), max_value=len(nsn)))
    tail = draw(st.text(alphabet="0123456789", min_size=len(nsn) - keep, max_size=len(nsn) - keep))
    varied = _parse_or_none(f"+{example.country_code}{nsn[:keep]}{tail}") or example
    metadata = PhoneMetadata.metadata_for_region(region)
    extra: list[str] = [draw(st.text(alphabet="0123456789", max_size=3))]
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    if pattern:
        extra.append(draw(st.from_regex(f"(?:{pattern})", fullmatch=True, alphabet="0123456789")))
    return varied, spellings_of(varied, region, tuple(extra))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numbers_and_spellings())
def test_any_number_of_any_region_has_one_accepted_spelling(
    case: tuple[phonenumbers.PhoneNumber, set[str]],
) -> None:
    number, texts = case
    assert_screened_as_one(number, texts)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(E164_PATTERN, fullmatch=True, alphabet="+0123456789"))
def test_any_e164_shaped_text_is_accepted_only_as_the_canonical_spelling_of_its_number(text: str) -> None:
    assert_one_key(text)
