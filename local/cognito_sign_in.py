"""Cognito's custom-auth sign-in on the sandbox: the triggers, in Cognito's order, and its sessions.

- InitiateAuth: Define Auth Challenge with an empty session; if it asks for ``CUSTOM_CHALLENGE``,
  Create Auth Challenge; answer ``ChallengeName``, an opaque ``Session`` and the public challenge
  parameters plus ``USERNAME``.
- RespondToAuthChallenge with ``{USERNAME, ANSWER}``: Verify Auth Challenge Response with the private
  parameters Create returned; append the round to the session; Define again; then tokens
  (``AuthenticationResult``), ``NotAuthorizedException`` ("Incorrect username or password."), or the
  next challenge under a new Session. A Session answers once and expires after the client's
  ``AuthSessionValidity`` minutes (3 by default), measured on the sandbox clock.
- An unknown user on a client with ``PreventUserExistenceErrors=ENABLED`` runs the triggers with
  ``userNotFound: true``; on any other client it is ``UserNotFoundException``.

``local.cognito_custom_auth`` routes the operations here once it has found the app client.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from werkzeug.wrappers import Request

from local.cognito_pools import (
    check_client_secret_hash,
    issuer_for,
    prevents_enumeration,
    user_attributes,
    user_status,
)
from local.cognito_tokens import TokenIssuer
from local.cognito_triggers import CREATE, DEFINE, VERIFY, TriggerCall, TriggerRunner
from local.cognito_wire import CognitoError, missing_parameter, not_authorized, user_not_found

CUSTOM_CHALLENGE: Final = "CUSTOM_CHALLENGE"

_log = logging.getLogger("local.cognito")


@dataclass
class _SignIn:
    """Server-side state of one custom-auth sign-in; the client only ever holds the opaque session."""

    account: str
    region: str
    user_pool_id: str
    client_id: str
    username: str  # the user's own username, or what the caller typed for an unknown user
    typed_username: str
    user_not_found: bool | None  # None: the client does not prevent user-existence errors
    rounds: list[dict[str, Any]] = field(default_factory=list)
    private_parameters: dict[str, str] = field(default_factory=dict)
    metadata: str | None = None
    expires_at: float = 0.0

    @property
    def call(self) -> TriggerCall:
        return TriggerCall(self.region, self.user_pool_id, self.client_id, self.username)


class CustomAuthSignIn:
    """The custom-auth flow's two calls, with the sessions between them held server-side."""

    def __init__(self, triggers: TriggerRunner, tokens: TokenIssuer, clock: Callable[[], float]) -> None:
        self._triggers = triggers
        self.tokens = tokens
        self._clock = clock
        self._sessions: dict[str, _SignIn] = {}
        self._lock = threading.Lock()

    def initiate(
        self,
        account: str,
        region: str,
        pool: Any,
        client: Any,
        body: Mapping[str, Any],
        request: Request,
        *,
        admin: bool,
    ) -> dict[str, Any]:
        self._triggers.arns_of(pool)
        parameters = body.get("AuthParameters") or {}
        typed = str(parameters.get("USERNAME") or "")
        if not typed:
            raise missing_parameter("USERNAME")
        check_client_secret_hash(client, typed, parameters.get("SECRET_HASH"))

        prevent_enumeration = prevents_enumeration(client)
        user = pool._get_user(typed)
        if user is None and not prevent_enumeration:
            raise user_not_found()
        if user is not None:
            if not user.enabled:
                raise not_authorized("User is disabled.")
            if user_status(user) == "UNCONFIRMED":
                raise CognitoError("UserNotConfirmedException", "User is not confirmed.")
        sign_in = _SignIn(
            account=account,
            region=region,
            user_pool_id=pool.id,
            client_id=client.id,
            username=user.username if user is not None else typed,
            typed_username=typed,
            user_not_found=(user is None) if prevent_enumeration else None,
        )
        if parameters.get("SRP_A"):
            # Custom auth may start with SRP; Define must see that round (this project's Define refuses it).
            sign_in.rounds.append(
                {"challengeName": "SRP_A", "challengeResult": True, "challengeMetadata": None}
            )
        # Cognito passes ClientMetadata to Define/Create only from AdminInitiateAuth, not InitiateAuth.
        metadata = dict(body.get("ClientMetadata") or {}) if admin else None
        return self._next_step(pool, client, sign_in, metadata, request)

    def respond(self, pool: Any, client: Any, body: Mapping[str, Any], request: Request) -> dict[str, Any]:
        """RespondToAuthChallenge for ``CUSTOM_CHALLENGE`` once the app client is found."""
        client_id = client.id
        responses = body.get("ChallengeResponses") or {}
        typed = str(responses.get("USERNAME") or "")
        if not typed:
            raise missing_parameter("USERNAME")
        if "ANSWER" not in responses:
            raise missing_parameter("ANSWER")
        sign_in = self._take_session(str(body.get("Session") or ""))
        if sign_in.client_id != client_id or typed not in {sign_in.username, sign_in.typed_username}:
            raise not_authorized("Invalid session for the user.")
        check_client_secret_hash(client, typed, responses.get("SECRET_HASH"))

        user = None if sign_in.user_not_found else pool._get_user(sign_in.username)
        if user is None and not sign_in.user_not_found:
            raise not_authorized()  # deleted mid-sign-in
        attributes = user_attributes(user) if user is not None else {}
        metadata = dict(body.get("ClientMetadata") or {})
        verify_request: dict[str, Any] = {
            "userAttributes": attributes,
            "privateChallengeParameters": dict(sign_in.private_parameters),
            "challengeAnswer": str(responses["ANSWER"]),
        }
        if metadata:
            verify_request["clientMetadata"] = metadata
        if sign_in.user_not_found is not None:
            verify_request["userNotFound"] = sign_in.user_not_found
        verified = self._triggers.invoke(pool, sign_in.call, VERIFY, verify_request)
        correct = (verified.get("response") or {}).get("answerCorrect") is True
        sign_in.rounds.append(
            {
                "challengeName": CUSTOM_CHALLENGE,
                "challengeResult": correct,
                "challengeMetadata": sign_in.metadata,
            }
        )
        return self._next_step(pool, client, sign_in, metadata, request)

    def _next_step(
        self,
        pool: Any,
        client: Any,
        sign_in: _SignIn,
        metadata: dict[str, str] | None,
        request: Request,
    ) -> dict[str, Any]:
        """Define, then tokens, failure, or Create and a new session."""
        user = None if sign_in.user_not_found else pool._get_user(sign_in.username)
        attributes = user_attributes(user) if user is not None else {}
        trigger_request: dict[str, Any] = {
            "userAttributes": attributes,
            "session": [dict(r) for r in sign_in.rounds],
        }
        if metadata:
            trigger_request["clientMetadata"] = metadata
        if sign_in.user_not_found is not None:
            trigger_request["userNotFound"] = sign_in.user_not_found
        defined = self._triggers.invoke(pool, sign_in.call, DEFINE, trigger_request).get("response") or {}

        if defined.get("failAuthentication") is True:
            raise not_authorized()
        if defined.get("issueTokens") is True:
            if user is None:
                raise not_authorized()  # Cognito cannot issue tokens for a user that does not exist
            # The user's sub, not its username: usernames are phone numbers (docs/cognito.md, USERNAME).
            _log.info("CUSTOM_AUTH sign-in succeeded for user %s in %s", user.id, pool.id)
            tokens = self.tokens.sign_in(pool, client, user, issuer_for(request, pool.id))
            return {"ChallengeParameters": {}, "AuthenticationResult": tokens}
        if defined.get("challengeName") != CUSTOM_CHALLENGE:
            raise CognitoError(
                "InvalidLambdaResponseException",
                "the sandbox emulates only CUSTOM_CHALLENGE; Define Auth Challenge answered "
                f"{defined.get('challengeName')!r}",
            )

        create_request = {**trigger_request, "challengeName": CUSTOM_CHALLENGE}
        created = self._triggers.invoke(pool, sign_in.call, CREATE, create_request).get("response") or {}
        public = created.get("publicChallengeParameters") or {}
        private = created.get("privateChallengeParameters") or {}
        if not isinstance(public, dict) or not isinstance(private, dict):
            raise CognitoError("InvalidLambdaResponseException", "Unrecognizable lambda output")
        sign_in.private_parameters = {str(k): str(v) for k, v in private.items()}
        sign_in.metadata = created.get("challengeMetadata")
        validity_minutes = int(client.extended_config.get("AuthSessionValidity") or 3)
        sign_in.expires_at = self._clock() + validity_minutes * 60
        token = self._store_session(sign_in)
        return {
            "ChallengeName": CUSTOM_CHALLENGE,
            "Session": token,
            "ChallengeParameters": {
                **{str(k): str(v) for k, v in public.items()},
                "USERNAME": sign_in.username,
            },
        }

    def _store_session(self, sign_in: _SignIn) -> str:
        token = secrets.token_urlsafe(96)
        now = self._clock()
        with self._lock:
            for stale in [t for t, s in self._sessions.items() if s.expires_at <= now]:
                del self._sessions[stale]
            self._sessions[token] = sign_in
        return token

    def _take_session(self, token: str) -> _SignIn:
        """A session answers once: the next round gets a new token, so a replayed one is refused."""
        with self._lock:
            sign_in = self._sessions.pop(token, None)
        if sign_in is None:
            raise not_authorized("Invalid session for the user.")
        if sign_in.expires_at <= self._clock():
            raise not_authorized("Invalid session for the user, session is expired.")
        return sign_in
