"""Format rules checked before any AWS call: reference ids, language tags, codes."""

from __future__ import annotations

import pytest

from otp.domain.errors import InvalidRequest
from otp.domain.reasons import RejectReason
from otp.domain.rules import check_code, check_language, check_reference_id


@pytest.mark.parametrize("reference", ["a", "signup-7f3a9c", "user:42.session_1", "x" * 48])
def test_reference_ids_within_the_rules_are_kept(reference: str) -> None:
    assert check_reference_id(reference) == reference


@pytest.mark.parametrize("reference", ["", "x" * 49, "has space", "slash/", "ünïcode", "new\nline"])
def test_reference_ids_outside_the_rules_are_refused(reference: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_reference_id(reference)
    assert (caught.value.field, caught.value.reason) == ("referenceId", RejectReason.INVALID_REFERENCE_ID)


@pytest.mark.parametrize("language", ["en-US", "es-419", "ko-KR", "zh-TW"])
def test_language_tags_are_accepted(language: str) -> None:
    assert check_language(language) == language


@pytest.mark.parametrize("language", ["EN", "en", "en_US", "english", "en-us", "kr-KR", "nl-NL", ""])
def test_malformed_language_tags_are_refused(language: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_language(language)
    assert caught.value.reason == RejectReason.INVALID_LANGUAGE


@pytest.mark.parametrize(("code", "length"), [("1234", 4), ("12345", 5), ("000000", 6), ("12345678", 8)])
def test_codes_of_the_configured_length_pass(code: str, length: int) -> None:
    assert check_code(code, length) == code


@pytest.mark.parametrize(
    ("code", "length"),
    [
        ("12345", 6),
        ("1234567", 6),
        ("12345", 4),
        ("1234", 5),
        ("12a456", 6),
        ("".join(chr(0x0660 + d) for d in range(1, 7)), 6),
        ("", 6),
        (" 12345", 6),
    ],
)
def test_codes_of_the_wrong_shape_are_refused_without_echoing_them(code: str, length: int) -> None:
    # Given a code that cannot be right for this deployment (wrong length, non-ASCII digits...)
    # When it is checked
    with pytest.raises(InvalidRequest) as caught:
        check_code(code, length)
    # Then it is refused before any AWS call, and the message does not contain it
    assert caught.value.reason == RejectReason.INVALID_CODE_FORMAT
    assert f"exactly {length} digits" in caught.value.detail
    if code.strip():
        assert code not in str(caught.value)
