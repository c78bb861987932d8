"""Format rules for the other request fields, checked before any AWS call."""

from __future__ import annotations

import re
from collections.abc import Collection

from otp.domain.errors import InvalidRequest
from otp.domain.models import Channel
from otp.domain.reasons import RejectReason
from otp.languages import SUPPORTED_LANGUAGES

# Pinpoint accepts ReferenceId values of at most 48 characters.
REFERENCE_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,48}$"
# The request schema's code pattern: every length an engine can issue (End User Messaging 4-8, Pinpoint
# 5-8, otp.engine_rules.CODE_LENGTH); check_code then requires exactly the deployment's own length.
CODE_PATTERN = r"^[0-9]{4,8}$"

_REFERENCE_ID = re.compile(REFERENCE_ID_PATTERN)


def check_reference_id(reference_id: str) -> str:
    if not _REFERENCE_ID.fullmatch(reference_id):
        raise InvalidRequest(
            "referenceId must be 1-48 characters of letters, digits, '.', '_', ':' or '-'",
            field="referenceId",
            reason=RejectReason.INVALID_REFERENCE_ID,
        )
    return reference_id


def check_language(language: str) -> str:
    if language not in SUPPORTED_LANGUAGES:
        raise InvalidRequest(
            f"language must be one of {', '.join(sorted(SUPPORTED_LANGUAGES))}",
            field="language",
            reason=RejectReason.INVALID_LANGUAGE,
        )
    return language


def check_channel(channel: str, offered: Collection[Channel]) -> Channel:
    """A channel this deployment offers; anything else is refused before any send or limit is counted."""
    names = ", ".join(sorted(c.value for c in offered))
    try:
        chosen = Channel(channel)
    except ValueError:
        chosen = None
    if chosen is None or chosen not in offered:
        raise InvalidRequest(
            f"channel must be one this deployment offers: {names}",
            field="channel",
            reason=RejectReason.CHANNEL_NOT_OFFERED,
        )
    return chosen


def check_code(code: str, length: int) -> str:
    """A code of the wrong shape cannot be right: refuse it without spending a Pinpoint attempt."""
    if len(code) != length or not code.isascii() or not code.isdigit():
        raise InvalidRequest(
            f"code must be exactly {length} digits",
            field="code",
            reason=RejectReason.INVALID_CODE_FORMAT,
        )
    return code
