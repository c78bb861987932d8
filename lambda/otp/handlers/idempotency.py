"""The Idempotency-Key header of POST /otp, on Powertools Idempotency.

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
- Only hashes of the key and the body are stored; the stored answer holds no phone number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from otp.domain.errors import InvalidRequest
from otp.domain.reasons import RejectReason

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
# Records are stored as "idempotency#<hash>": a fixed prefix (not the function's name, Powertools'
# default) so that IAM can scope the API function's access to these items (infra/protection.py).
IDEMPOTENCY_KEY_PREFIX = "idempotency"
IDEMPOTENCY_KEY_MAX_LENGTH = 255
# Visible ASCII, like Stripe's keys; a UUID is the usual choice. A surrounding pair of double quotes
# (the draft's structured-field string form) is accepted and removed.
IDEMPOTENCY_KEY_PATTERN = rf"^[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}$"
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
IDEMPOTENCY_KEY_DESCRIPTION = (
    "Makes a retry safe: a repeat of a successful request with the same key and the same body returns "
    "the first response and sends no SMS; the same key with a different body is refused with 422. "
    f"1-{IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters, e.g. a UUID; kept for "
    "OTP_IDEMPOTENCY_TTL_SECONDS (default 1 hour). Only successful (202) responses are replayed."
)

SendFunction = Callable[[dict[str, Any]], dict[str, Any]]


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


class IdempotentSend:
    """Runs ``send(body)`` at most once per (caller, key) while its record lives."""

    def __init__(self, persistence: BasePersistenceLayer, *, ttl_seconds: int, send: SendFunction) -> None:
        self._send = send
        self._config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="body",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=ttl_seconds,
            hash_function="sha256",
        )
        self._run_once: Callable[..., dict[str, Any]] = idempotent_function(
            self._run,
            data_keyword_argument="request",
            persistence_store=persistence,
            config=self._config,
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )

    def __call__(
        self, *, key: str, caller: str, body: dict[str, Any], context: LambdaContext | None
    ) -> dict[str, Any]:
        if context is not None:
            # Lets Powertools expire an in-progress record when this invocation times out, so that a
            # crashed attempt does not block retries for the whole TTL.
            self._config.register_lambda_context(context)
        return self._run_once(request={"key": {"caller": caller, "idempotencyKey": key}, "body": body})

    def _run(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._send(request["body"])
