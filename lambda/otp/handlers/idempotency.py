"""The Idempotency-Key header of POST /otp: its rules and outcomes, without the machinery behind it.

A client that lost the answer to a send (timeout, dropped connection) can repeat the request with the
same key: it gets the first answer back and no second SMS goes out. Decisions:
- Only a 202 is stored. Any refusal or failure raises inside the idempotent function, which makes
  Powertools delete the record, so a retry with the same key is a new attempt (still subject to the
  per-number limits). Replaying a 429 or a 503 would only make a client wait for nothing.
- Keys are scoped to the caller (IAM principal or API key): two clients cannot see each other's
  answers by choosing the same key.
- The same key with a different body is refused with 422; while the first request with a key is
  still running, a second one gets 409 with Retry-After (IETF draft "The Idempotency-Key HTTP Header
  Field" uses those two statuses).
- Only hashes of the key and the body are stored, and the body's is keyed with a deployment secret;
  the stored answer holds no phone number.

Powertools' Idempotency utility (``otp.handlers.idempotent_send``) is imported only when a request
carries the header: most requests do not, and importing it costs a cold start several milliseconds.
Its exceptions are translated into the ones below, so the handler can map them without importing it.
"""

from __future__ import annotations

import re

from otp.api_schema import IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_MAX_LENGTH
from otp.domain.errors import InvalidRequest
from otp.domain.reasons import RejectReason

# Records are stored as "idempotency#<hash>": a fixed prefix (not the function's name, Powertools'
# default) so that IAM can scope the API function's access to these items (infra/protection.py).
IDEMPOTENCY_KEY_PREFIX = "idempotency"
# Visible ASCII, like Stripe's keys; a UUID is the usual choice. A surrounding pair of double quotes
# (the draft's structured-field string form) is accepted and removed.
IDEMPOTENCY_KEY_PATTERN = rf"^[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}$"
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def parse_idempotency_key(raw: str) -> str:
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not _KEY.fullmatch(key):
        raise InvalidRequest(
            f"{IDEMPOTENCY_KEY_HEADER} must be 1-{IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters",
            field=IDEMPOTENCY_KEY_HEADER,
            reason=RejectReason.INVALID_IDEMPOTENCY_KEY,
        )
    return key


class IdempotencyKeyReused(Exception):
    """The key was already used with a different body (422)."""


class IdempotencyKeyInProgress(Exception):
    """A request with this key is still running (409)."""


class IdempotencyStoreFailed(Exception):
    """The store of Idempotency-Key records failed; ``send_attempted`` says whether Pinpoint was called.

    Before the send (the in-progress record could not be written or read) nothing went out; after it,
    the SMS may have been sent even though its answer could not be stored.
    """

    def __init__(self, *, send_attempted: bool, cause: str) -> None:
        super().__init__(cause)
        self.send_attempted = send_attempted
        self.cause = cause
