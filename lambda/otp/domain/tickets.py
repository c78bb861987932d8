"""Device tickets: a secret a client receives in a sign-in, valid once that sign-in's code is verified.

Why (docs/architecture.md, "Lockout by strangers"): every per-number rule sees the same thing for a
stranger and for the user, a number and a time, so a stranger who knows the number can spend its whole
daily quota. A ticket is what tells them apart: only a device that signed in with a code sent to the
number holds one, and part of the number's daily cap (the reserve) can only be drawn on with one.

Life of a ticket:
- **Issued** in every round of a sign-in, in the challenge's public parameters: the same value for the
  whole session, derived from the session's first reference with a key from the deployment secret
  (Cognito passes nothing else from one round's Create to the next). Decoys show one too.
- **Held** (pending) when a real user's session begins: the protection table records the ticket's
  keyed hash, bound to the number, for ``PENDING_SECONDS`` (how long a sign-in can last).
- **Valid** once Verify accepts that session's code: for ``valid_days``, then useless.
- **Presented** by the client in a later sign-in's ClientMetadata; valid only for the same number.

Never stored or logged: the ticket itself. The table holds ``ticket#<HMAC(key, number, ticket)>``, so
neither the number nor the ticket can be read back from it, and a ticket for another number finds
nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable

from otp.domain.ports import TicketBook, TicketState

# How long a held ticket waits for its sign-in's code to be verified: a sign-in has at most
# allowedAttempts + 3 rounds (5 guesses, a switch, a resend, the first), each within Cognito's
# session validity of at most 15 minutes.
PENDING_SECONDS = 2 * 3600
KEY_PREFIX = "ticket"
# 32 bytes, base64url without padding: what ``ticket_for`` makes; anything else is not a ticket.
_TICKET = re.compile(r"^[A-Za-z0-9_-]{43}$")


class DeviceTickets:
    """Issues, holds, confirms and checks tickets. ``key`` is needed to issue and to check, not to confirm."""

    def __init__(
        self,
        book: TicketBook | None,
        *,
        key: bytes,
        valid_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._book = book
        self._key = key
        self._valid_seconds = valid_days * 86400
        self._clock = clock

    @property
    def enabled(self) -> bool:
        """False without a protection table: tickets are shown but can never become valid."""
        return self._book is not None

    def ticket_for(self, session_reference: str) -> str:
        """The session's ticket: the same in every round, unguessable without the deployment secret."""
        digest = hmac.new(self._key, b"ticket\x00" + session_reference.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def record_key(self, destination: str, ticket: str) -> str:
        """The table key of a ticket for a number: keyed, so the table reveals neither."""
        digest = hmac.new(self._key, f"record\x00{destination}\x00{ticket}".encode(), hashlib.sha256)
        return f"{KEY_PREFIX}#{digest.hexdigest()[:40]}"

    def hold(self, destination: str, ticket: str) -> str | None:
        """Record the session's ticket as pending for the number; its record key, or None without a book."""
        if self._book is None:
            return None
        key = self.record_key(destination, ticket)
        self._book.hold(key, until=int(self._clock()) + PENDING_SECONDS)
        return key

    def confirm(self, record_key: str) -> bool:
        """The session's code was verified: its ticket becomes valid for ``valid_days``."""
        if self._book is None or not record_key.startswith(f"{KEY_PREFIX}#"):
            return False
        now = int(self._clock())
        return self._book.confirm(record_key, now=now, until=now + self._valid_seconds)

    def is_valid(self, destination: str, ticket: str) -> bool:
        """True only for a confirmed, unexpired ticket of this very number."""
        if self._book is None or not _TICKET.fullmatch(ticket):
            return False
        record = self._book.read(self.record_key(destination, ticket))
        return record is not None and record.state is TicketState.VALID and record.until > self._clock()
