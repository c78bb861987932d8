"""Phone-number validation and masking, with numbers of several countries."""

from __future__ import annotations

import re

import pytest

from otp.domain.errors import PhoneNumberRejected
from otp.domain.phone import E164_PATTERN, mask_unvalidated, parse_phone_number
from otp.domain.reasons import RejectReason

ALLOWED = frozenset({"US", "CA", "GB", "DE", "IN", "BR", "JP"})


@pytest.mark.parametrize(
    ("raw", "region", "country_code"),
    [
        ("+12065550100", "US", 1),
        ("+14165550123", "CA", 1),
        ("+447400123456", "GB", 44),
        ("+4915123456789", "DE", 49),
        ("+919876543210", "IN", 91),
        ("+5511987654321", "BR", 55),
        ("+819012345678", "JP", 81),
    ],
)
def test_valid_numbers_of_allowed_countries_are_accepted(raw: str, region: str, country_code: int) -> None:
    # Given a valid E.164 number of an allowed country
    # When it is parsed
    number = parse_phone_number(raw, ALLOWED)
    # Then its region and country code are known and the text is kept as given
    assert (number.e164, number.region, number.country_code) == (raw, region, country_code)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12065550100",  # no plus
        "+1 206 555 0100",  # spaces
        "+1-206-555-0100",  # punctuation
        "+0123456789",  # country code cannot start with 0
        "+1206555010012345",  # longer than 15 digits
        "+12065550100\n",  # trailing newline
        "+1" + "".join(chr(0xFF10 + int(d)) for d in "2065550100"),  # full-width digits
        "tel:+12065550100",
    ],
)
def test_malformed_numbers_are_rejected_as_invalid(raw: str) -> None:
    # Given text that is not strict E.164
    # When it is parsed
    with pytest.raises(PhoneNumberRejected) as caught:
        parse_phone_number(raw, ALLOWED)
    # Then the reason says invalid number and the message does not echo the input
    assert caught.value.reason == RejectReason.INVALID_PHONE_NUMBER
    assert caught.value.field == "phoneNumber"
    if raw:
        assert raw not in str(caught.value)


@pytest.mark.parametrize("raw", ["+12005550100", "+447700900123", "+9991234567"])
def test_well_formed_but_invalid_numbers_are_rejected(raw: str) -> None:
    # Given E.164 text that libphonenumber does not consider a valid number
    # When / Then
    with pytest.raises(PhoneNumberRejected) as caught:
        parse_phone_number(raw, ALLOWED)
    assert caught.value.reason == RejectReason.INVALID_PHONE_NUMBER


def test_numbers_of_other_countries_are_refused_with_their_country() -> None:
    # Given a valid French mobile number and a deployment that does not send to France
    # When / Then
    with pytest.raises(PhoneNumberRejected) as caught:
        parse_phone_number("+33612345678", ALLOWED)
    assert caught.value.reason == RejectReason.COUNTRY_NOT_ALLOWED
    assert "FR" in caught.value.detail


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+12065550100", "+1********00"),
        ("+447400123456", "+44********56"),
        ("+919876543210", "+91********10"),
    ],
)
def test_masking_keeps_only_country_code_and_last_two_digits(raw: str, masked: str) -> None:
    # Given a validated number
    number = parse_phone_number(raw, ALLOWED)
    # When it is masked / Then only the country code and the last two digits remain
    assert number.masked == masked
    assert len(number.masked) == len(raw)


def test_unvalidated_text_is_masked_without_revealing_the_middle() -> None:
    # Given text that failed validation but may still be someone's number
    # When / Then it is masked to its first and last two digits
    assert mask_unvalidated("+1 (206) 555-0100") == "+1********00"
    assert mask_unvalidated("12") == "**"


def _examples() -> list[str]:
    """Every example number phonenumbers has (each region's and each non-geographic code's, every
    type), and each with one digit more and one fewer: valid and invalid numbers of every shape."""
    import phonenumbers

    found: set[str] = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for number_type in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                found.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            found.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    shapes = found | {text + "5" for text in found} | {text[:-1] for text in found}
    return sorted(text for text in shapes if re.fullmatch(E164_PATTERN, text))


def test_the_region_and_type_are_phonenumbers_own_for_every_example_number() -> None:
    # Given every example number of phonenumbers, valid and not, and every region allowed
    import phonenumbers

    everywhere = frozenset(phonenumbers.SUPPORTED_REGIONS) | {"001"}
    names = {value: name for name, value in vars(phonenumbers.PhoneNumberType).items() if name.isupper()}
    examples = _examples()
    assert len(examples) > 3000
    for text in examples:
        parsed = phonenumbers.parse(text, None)
        expected_type = phonenumbers.number_type(parsed)
        # When the number is parsed here
        try:
            accepted = parse_phone_number(text, everywhere)
        except PhoneNumberRejected as refused:
            reason = refused.reason
        else:
            # Then its region and type are exactly phonenumbers' own
            assert (accepted.region, accepted.number_type) == (
                phonenumbers.region_code_for_number(parsed),
                names[expected_type],
            ), text
            continue
        # or it is refused only when phonenumbers finds no type, or it is not the canonical spelling
        assert (
            expected_type == phonenumbers.PhoneNumberType.UNKNOWN or reason == "NON_CANONICAL_PHONE_NUMBER"
        ), text


def _corpus() -> list[str]:
    """The example shapes above; each example spelled with its region's national prefix after the
    country code (``+4407400123456``: text phonenumbers re-spells); and, for every country code, random
    digits of every length E.164 allows."""
    import random

    import phonenumbers

    texts = set(_examples())
    for region in phonenumbers.SUPPORTED_REGIONS:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefix = metadata.national_prefix if metadata is not None else None
        for number_type in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None and prefix:
                national = phonenumbers.national_significant_number(example)
                texts.add(f"+{example.country_code}{prefix}{national}")
    draw = random.Random(22)
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        for length in range(7, 16):
            national_length = length - len(str(code))
            for _ in range(12):
                digits = "".join(draw.choice("0123456789") for _ in range(national_length))
                texts.add(f"+{code}{digits}")
    return sorted(text for text in texts if re.fullmatch(E164_PATTERN, text))


def test_the_short_parse_is_phonenumbers_parse_or_declines_what_phonenumbers_refuses_or_respells() -> None:
    # Given valid, invalid, re-spelt and random E.164 text of every country code
    import phonenumbers

    from otp.domain.phone import _canonical_parts

    corpus = _corpus()
    assert len(corpus) > 25_000
    taken = declined = 0
    for text in corpus:
        try:
            expected: phonenumbers.PhoneNumber | None = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            expected = None
        # When the short parse reads it
        found = _canonical_parts(text)
        if found is not None:
            # Then it is phonenumbers' own country code and national significant number, and the text is
            # that number's E.164 spelling
            taken += 1
            assert expected is not None, text
            assert found == (expected.country_code, phonenumbers.national_significant_number(expected)), text
            assert phonenumbers.format_number(expected, phonenumbers.PhoneNumberFormat.E164) == text
        else:
            # or it declines only text that phonenumbers refuses or spells otherwise
            declined += 1
            assert (
                expected is None
                or phonenumbers.format_number(expected, phonenumbers.PhoneNumberFormat.E164) != text
            ), text
    # Both ways are exercised: most text is taken, the re-spelt and the refused declined
    assert taken > 20_000
    assert declined > 500


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("+4407400123456", RejectReason.NON_CANONICAL_PHONE_NUMBER),
        ("+114255557777", RejectReason.NON_CANONICAL_PHONE_NUMBER),
        ("+2901234567", RejectReason.INVALID_PHONE_NUMBER),
        ("+8001234", RejectReason.INVALID_PHONE_NUMBER),
    ],
)
def test_text_the_short_parse_declines_is_refused_as_before(raw: str, reason: RejectReason) -> None:
    # Given E.164 text with a trunk prefix, or with no valid number behind its country code
    # When / Then the refusal is phonenumbers' (re-spelt or invalid), not a crash nor an acceptance
    with pytest.raises(PhoneNumberRejected) as caught:
        parse_phone_number(raw, frozenset({"GB", "US", "SH", "001"}))
    assert caught.value.reason == reason


def test_the_region_and_type_are_phonenumbers_own_for_every_text_of_the_corpus() -> None:
    # Given every text of the corpus phonenumbers can parse (valid or not, every country code)
    import phonenumbers

    from otp.domain.phone import _region_and_type

    checked = 0
    for text in _corpus():
        try:
            parsed = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            continue
        national = phonenumbers.national_significant_number(parsed)
        # When its region and type are found here (patterns compiled once, one pass)
        found = _region_and_type(parsed.country_code or 0, national)
        # Then they are phonenumbers' region_code_for_number and number_type
        assert found == (phonenumbers.region_code_for_number(parsed), phonenumbers.number_type(parsed)), text
        checked += 1
    assert checked > 25_000


def test_the_type_rules_are_phonenumbers_own_where_patterns_overlap_and_lengths_exclude() -> None:
    # Given a made-up region whose type patterns overlap and whose lengths exclude some matches (the real
    # metadata has neither, so this is where the order of the types and the length rule are tested)
    import itertools
    from types import SimpleNamespace

    from phonenumbers import PhoneNumberDesc, PhoneNumberType
    from phonenumbers.phonenumberutil import _number_type_helper

    from otp.domain.phone import _Types

    def desc(pattern: str, *lengths: int) -> PhoneNumberDesc:
        return PhoneNumberDesc(national_number_pattern=pattern, possible_length=lengths)

    region = SimpleNamespace(
        general_desc=desc(r"[2-9]\d{5,7}", 6, 7, 8),
        premium_rate=desc(r"9\d{5,7}", 6),  # a 7-digit 9... matches the pattern, not the length
        toll_free=desc(r"9\d{6}", 7),
        shared_cost=None,
        voip=desc(r"9\d{5}", 6),  # overlaps premium_rate, which is tried first
        personal_number=desc(""),  # an empty pattern matches nothing
        pager=None,
        uan=desc(r"8\d{5}"),  # no lengths: any
        voicemail=None,
        fixed_line=desc(r"[23]\d{5,7}", 6, 7, 8),
        mobile=desc(r"[34]\d{5,7}", 6, 7, 8),
        same_mobile_and_fixed_line_pattern=False,
        leading_digits=None,
    )
    types = _Types(region)  # type: ignore[arg-type]
    seen = set()
    for first, length in itertools.product("1234589", (5, 6, 7, 8, 9)):
        for rest in ("0" * (length - 1), "5" * (length - 1), "1234567890"[: length - 1]):
            national = first + rest
            # When it is typed here / Then as phonenumbers types it
            expected = _number_type_helper(national, region)  # type: ignore[arg-type]
            assert types.of(national) == expected, national
            seen.add(expected)
    assert seen == {
        PhoneNumberType.UNKNOWN,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.UAN,
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.MOBILE,
    }
