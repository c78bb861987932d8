"""What a sign-in session's rounds record, and where: the storage of the sign-in rules.

Cognito gives each trigger the session's earlier rounds (name, result, ``challengeMetadata``) and passes
a round's private challenge parameters to Verify only; nothing else of earlier calls survives. So the
code in force is written into each round's metadata, and what Verify needs into the private parameters.
This module owns those encodings; ``otp.domain.challenge_rules`` decides with what they hold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from otp.domain.models import Channel
from otp.domain.records import record
from otp.domain.rules import REFERENCE_ID_PATTERN

CUSTOM_CHALLENGE = "CUSTOM_CHALLENGE"

# Marks the rounds this module created. The metadata (seen by Cognito and the triggers, never by the
# client) is "OTP-<reference>/<channel>/<origin>/<sent at>": the code in force, how this round got it,
# and when this session's send of it began (epoch ms on the limits' clock; "-" if it did not go out).
# Sessions begun before channels existed recorded "OTP-<reference>" only: an SMS, first round.
METADATA_PREFIX = "OTP-"
_METADATA = re.compile(
    rf"^OTP-(?P<reference>{REFERENCE_ID_PATTERN.removeprefix('^').removesuffix('$')})"
    r"(?:/(?P<channel>[A-Z]{1,16})/(?P<origin>[A-Z])/(?P<sent>[0-9]{1,16}|-))?$"
)

# Public parameter names: the ones Cognito itself uses for its SMS_MFA challenge, so client code and
# UI libraries that already show "code sent to +1********00" for MFA can show this challenge as well;
# CODE_DELIVERY_ALTERNATIVES (contracts.md) lists the channels the client may still switch to.
PUBLIC_DELIVERY_MEDIUM = "CODE_DELIVERY_DELIVERY_MEDIUM"
PUBLIC_DESTINATION = "CODE_DELIVERY_DESTINATION"
PUBLIC_CODE_LENGTH = "CODE_LENGTH"
PUBLIC_ALTERNATIVES = "CODE_DELIVERY_ALTERNATIVES"
# The session's device ticket (otp/domain/tickets.py): the client keeps it once the sign-in succeeds.
PUBLIC_DEVICE_TICKET = "OTP_DEVICE_TICKET"
# The answers this session may still get wrong before Define ends it, counted as Define counts them
# (a switch or a resend is no guess): the one number a client should show, not its own count.
PUBLIC_ATTEMPTS_REMAINING = "OTP_ATTEMPTS_REMAINING"

# Private parameter names: only Cognito and the Verify trigger ever see these.
PRIVATE_REFERENCE_ID = "referenceId"
PRIVATE_DESTINATION = "destination"
# The session's first reference: the correlation id of every log line of the sign-in, which keeps
# naming it after a switch has put a code under another reference in force.
PRIVATE_SESSION_REFERENCE = "sessionReference"
# The table key of the session's ticket for the number ("" for a decoy): Verify confirms it.
PRIVATE_TICKET_RECORD = "ticketRecord"


class Origin(StrEnum):
    """How a round came to ask for its code (recorded in the round's metadata)."""

    FIRST = "F"  # the session's first code
    AGAIN = "A"  # asked again after a wrong answer: the same code
    SWITCH = "S"  # a new code on another channel: the answer before it was not a guess
    RESEND = "R"  # a new code on the same channel, asked with a device ticket: not a guess either

    @property
    def brought_new_code(self) -> bool:
        """True when the answer to the previous round asked for this round's new code."""
        return self in (Origin.SWITCH, Origin.RESEND)


@record
class SessionCode:
    """The code in force in a session, as a round of ours recorded it."""

    reference: str
    channel: Channel
    origin: Origin
    sent_at_ms: int | None = None  # when this session's send of it began, if it went out

    @property
    def metadata(self) -> str:
        sent = "-" if self.sent_at_ms is None else str(self.sent_at_ms)
        return f"{METADATA_PREFIX}{self.reference}/{self.channel.value}/{self.origin.value}/{sent}"


def parse_metadata(metadata: str | None) -> SessionCode | None:
    """The code a round of ours recorded; None for another round's metadata (or none)."""
    match = _METADATA.fullmatch(metadata or "")
    if match is None:
        return None
    if match["channel"] is None:
        return SessionCode(match["reference"], Channel.SMS, Origin.FIRST)
    try:
        channel, origin = Channel(match["channel"]), Origin(match["origin"])
    except ValueError:
        return None
    sent = None if match["sent"] == "-" else int(match["sent"])
    return SessionCode(match["reference"], channel, origin, sent)


@record
class ChallengeRound:
    """One earlier round of the sign-in session, as Cognito reports it to Define and Create."""

    name: str
    succeeded: bool
    metadata: str | None = None


@record
class SessionState:
    """What the session's rounds of ours recorded: its first reference, the code in force, and whether
    it used its switch and its resend."""

    first_reference: str | None
    current: SessionCode | None
    switched: bool
    resent: bool = False


def session_state(rounds: Sequence[ChallengeRound]) -> SessionState:
    codes = [
        code
        for r in rounds
        if r.name == CUSTOM_CHALLENGE and (code := parse_metadata(r.metadata)) is not None
    ]
    return SessionState(
        first_reference=codes[0].reference if codes else None,
        current=codes[-1] if codes else None,
        switched=any(code.origin is Origin.SWITCH for code in codes),
        resent=any(code.origin is Origin.RESEND for code in codes),
    )


def session_reference(rounds: Sequence[ChallengeRound]) -> str | None:
    """The reference id the session's first round used, if a round of ours recorded one."""
    return session_state(rounds).first_reference
