"""Format rules for the other request fields, checked before any AWS call."""

from __future__ import annotations

import re

from otp.domain.errors import InvalidRequest
from otp.domain.reasons import RejectReason

# Pinpoint accepts ReferenceId values of at most 48 characters.
REFERENCE_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,48}$"
LANGUAGE_PATTERN = r"^[a-z]{2}(-[A-Z]{2})?$"
CODE_PATTERN = r"^[0-9]{5,8}$"

_REFERENCE_ID = re.compile(REFERENCE_ID_PATTERN)
_LANGUAGE = re.compile(LANGUAGE_PATTERN)


def check_reference_id(reference_id: str) -> str:
    if not _REFERENCE_ID.fullmatch(reference_id):
        raise InvalidRequest(
            "referenceId must be 1-48 characters of letters, digits, '.', '_', ':' or '-'",
            field="referenceId",
            reason=RejectReason.INVALID_REFERENCE_ID,
        )
    return reference_id


def check_language(language: str) -> str:
    if not _LANGUAGE.fullmatch(language):
        raise InvalidRequest(
            "language must be a language tag such as en-US",
            field="language",
            reason=RejectReason.INVALID_LANGUAGE,
        )
    return language


def check_code(code: str, length: int) -> str:
    """A code of the wrong shape cannot be right: refuse it without spending a Pinpoint attempt."""
    if len(code) != length or not code.isascii() or not code.isdigit():
        raise InvalidRequest(
            f"code must be exactly {length} digits",
            field="code",
            reason=RejectReason.INVALID_CODE_FORMAT,
        )
    return code
