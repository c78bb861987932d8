"""The Idempotency-Key machinery, on Powertools Idempotency: imported only for requests with the header.

See otp/handlers/idempotency.py for the rules. What is stored per key: a hash of (caller, key), the
status, the 202 answer (no phone number in it) and a fingerprint of the body that detects a reused key.
The fingerprint is an HMAC keyed with a key derived from the deployment secret: a plain hash of a body
holding a phone number could be reversed by hashing every number of a country, so whoever reads the
table (a backup, an export, a mis-scoped role) would learn who asked for codes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from otp.handlers.idempotency import (
    IDEMPOTENCY_KEY_PREFIX,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    IdempotencyStoreFailed,
)
from otp.settings import Settings
from otp.wiring import deployment_key

# The purpose of the fingerprints' key among the keys derived from the deployment secret.
FINGERPRINT_KEY_PURPOSE = "idempotency-body"

SendFunction = Callable[[dict[str, Any]], dict[str, Any]]


def body_fingerprint(hash_key: bytes, body: dict[str, Any]) -> str:
    """A keyed digest of the body: equal for equal bodies, meaningless without the key."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(hash_key, canonical.encode(), hashlib.sha256).hexdigest()


@dataclass
class _Attempt:
    """Whether this request reached the send (and so Pinpoint may have texted the user)."""

    send_started: bool = False


class IdempotentSend:
    """Runs ``send(body)`` at most once per (caller, key) while its record lives."""

    def __init__(
        self, persistence: BasePersistenceLayer, *, ttl_seconds: int, hash_key: bytes, send: SendFunction
    ) -> None:
        self._send = send
        self._hash_key = hash_key
        self._config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="fingerprint",
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
        # Only `request` is hashed and stored; the body itself travels beside it, to the send.
        request = {
            "key": {"caller": caller, "idempotencyKey": key},
            "fingerprint": body_fingerprint(self._hash_key, body),
        }
        attempt = _Attempt()
        try:
            return self._run_once(request=request, body=body, attempt=attempt)
        except IdempotencyValidationError:
            raise IdempotencyKeyReused from None
        except IdempotencyAlreadyInProgressError:
            raise IdempotencyKeyInProgress from None
        except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as exc:
            cause = type(exc.__cause__ or exc).__name__
            raise IdempotencyStoreFailed(send_attempted=attempt.send_started, cause=cause) from exc

    def _run(self, request: dict[str, Any], body: dict[str, Any], attempt: _Attempt) -> dict[str, Any]:
        attempt.send_started = True
        return self._send(body)


def deployment_hash_key(settings: Settings) -> bytes:
    """The key of the body fingerprints: one of the keys derived from the deployment secret.

    The stack grants the API function the secret generated at deploy time (infra/secret.py), read here on
    the first request with an Idempotency-Key, not at start-up. Without it (a local run outside the
    sandbox), a key derived from the deployment's own names stands in: not secret, it still makes digests
    computed for another deployment useless here.
    """
    if settings.secret_arn is not None:
        return deployment_key(FINGERPRINT_KEY_PURPOSE)
    names = f"otp-idempotency\x00{settings.application_id}\x00{settings.table_name or ''}"
    return hashlib.sha256(names.encode()).digest()
