"""Cognito user pools on the sandbox: sign-in flows, sessions and tokens as Cognito serves them.

moto holds the pools, app clients and users, but never invokes Lambda triggers, signs tokens with a
key nobody can fetch, accepts any password over SRP, and ignores the app client's settings. This
endpoint override answers Cognito's sign-in and token operations itself, reading moto's in-memory
backend, and passes the rest on to moto:

- ``InitiateAuth`` / ``AdminInitiateAuth``: the flow is checked against the app client's
  ``ExplicitAuthFlows`` first (``local.cognito_flows``), then:
  ``CUSTOM_AUTH`` runs the pool's real triggers (below); ``REFRESH_TOKEN_AUTH`` / ``REFRESH_TOKEN``
  refresh; ``USER_PASSWORD_AUTH`` / ``ADMIN_USER_PASSWORD_AUTH`` check the password (a user in
  ``FORCE_CHANGE_PASSWORD`` or with MFA gets moto's challenge); ``USER_SRP_AUTH`` and ``USER_AUTH`` are
  not emulated (501) rather than accepting any password as moto would.
- ``RespondToAuthChallenge`` (and ``Admin``): ``CUSTOM_CHALLENGE`` here; other challenges by moto.
- ``GetTokensFromRefreshToken`` and ``RevokeToken``: here (``local.cognito_tokens``).
- An unknown user is ``NotAuthorizedException`` "Incorrect username or password." on a client with
  ``PreventUserExistenceErrors=ENABLED`` (custom auth runs the triggers with ``userNotFound: true``),
  ``UserNotFoundException`` "User does not exist." otherwise.
- Every operation taking an ``AccessToken`` refuses a revoked or expired sandbox token first
  ("Access Token has been revoked" / "has expired"), then goes to moto.
- ``GET /<userPoolId>/.well-known/jwks.json`` and ``.../openid-configuration``: the signing keys.
- An operation nobody serves answers in Cognito's JSON error shape (``local.cognito_wire``).

Custom auth, as Cognito implements it:
- InitiateAuth: Define Auth Challenge with an empty session; if it asks for ``CUSTOM_CHALLENGE``,
  Create Auth Challenge; answer ``ChallengeName``, an opaque ``Session`` and the public challenge
  parameters plus ``USERNAME``.
- RespondToAuthChallenge with ``{USERNAME, ANSWER}``: Verify Auth Challenge Response with the private
  parameters Create returned; append the round to the session; Define again; then tokens
  (``AuthenticationResult``), ``NotAuthorizedException`` ("Incorrect username or password."), or the
  next challenge under a new Session. A Session answers once and expires after the client's
  ``AuthSessionValidity`` minutes (3 by default), measured on the sandbox clock.
- A trigger that raises becomes ``UserLambdaValidationException`` ("<Trigger> failed with error ...").

Not emulated: SRP (password verification before or instead of the custom challenge), choice-based
``USER_AUTH``, refresh-token rotation and refresh-token expiry, device tracking, threat protection and
Lambda timeouts.
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore import xform_name
from moto.cognitoidp.models import cognitoidp_backends
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.cognitoidp.utils import check_secret_hash
from werkzeug.wrappers import Request, Response

from local.cognito_flows import (
    CUSTOM_AUTH,
    PASSWORD_FLOWS,
    REFRESH_FLOWS,
    USER_AUTH,
    USER_SRP_AUTH,
    check_client_settings,
    check_flow,
    validate_flow_name,
)
from local.cognito_tokens import TokenIssuer
from local.cognito_triggers import (
    CREATE,
    DEFINE,
    SANDBOX_ACCOUNT,
    TRIGGERS,
    VERIFY,
    TriggerCall,
    TriggerHandler,
    TriggerRunner,
    project_trigger_functions,
    trigger_arns,
)
from local.cognito_wire import (
    CognitoError,
    client_not_found,
    cognito_response,
    error_response,
    is_json_answer,
    known_operations,
    missing_parameter,
    not_authorized,
    not_emulated,
    operation_of,
    user_not_found,
)
from local.http_json import BodyError, json_object_body, json_response
from local.moto_backends import moto_wsgi_app

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

__all__ = [
    "CREATE",
    "CUSTOM_AUTH",
    "CUSTOM_CHALLENGE",
    "DEFINE",
    "SANDBOX_ACCOUNT",
    "TRIGGERS",
    "VERIFY",
    "CognitoCustomAuth",
    "SignInPool",
    "TriggerHandler",
    "create_sign_in_pool",
    "issuer_for",
    "project_trigger_functions",
    "session_minutes_for",
    "trigger_arns",
]

CUSTOM_CHALLENGE: Final = "CUSTOM_CHALLENGE"
_WELL_KNOWN: Final = re.compile(
    r"^/(?P<pool>[\w-]+_[0-9A-Za-z]+)/\.well-known/(?P<doc>jwks\.json|openid-configuration)$"
)

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


def _pools() -> Iterator[tuple[str, str, Any]]:
    """(account, region, pool) for every user pool moto holds."""
    for account, regional in list(cognitoidp_backends.items()):
        for region, backend in list(regional.items()):
            if region == "global":
                continue
            for pool in list(backend.user_pools.values()):
                yield account, region, pool


def find_pool(pool_id: str) -> Any | None:
    return next((pool for _, _, pool in _pools() if pool.id == pool_id), None)


def _find_client(client_id: str) -> tuple[str, str, Any, Any]:
    for account, region, pool in _pools():
        client = pool.clients.get(client_id)
        if client is not None:
            return account, region, pool, client
    raise client_not_found(client_id)


def _user_attributes(user: Any) -> dict[str, str]:
    attributes = {str(a["Name"]): str(a["Value"]) for a in user.attributes}
    attributes["cognito:user_status"] = _status(user)
    return attributes


def _status(user: Any) -> str:
    return str(getattr(user.status, "value", user.status))


def issuer_for(request: Request, pool_id: str) -> str:
    """The ``iss`` of tokens and the JWKS' home: the endpoint the client called, then the pool id."""
    return f"{request.host_url.rstrip('/')}/{pool_id}"


def _prevents_enumeration(client: Any) -> bool:
    return bool(client.extended_config.get("PreventUserExistenceErrors") == "ENABLED")


class CognitoCustomAuth:
    """An endpoint override: Cognito's sign-in and token operations, with triggers found by Lambda ARN."""

    def __init__(
        self,
        functions: Mapping[str, TriggerHandler] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        region: str = "us-east-1",
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._triggers = TriggerRunner(functions)
        self._clock = clock
        self.tokens = TokenIssuer(wall_clock)
        self._sessions: dict[str, _SignIn] = {}
        self._lock = threading.Lock()
        self._moto = moto_wsgi_app()
        # The ARNs the sandbox's own pool is wired to; use_project_triggers() puts the handlers behind them.
        self.trigger_arns = trigger_arns(region)

    def register(self, arn: str, handler: TriggerHandler) -> None:
        self._triggers.register(arn, handler)

    def use_project_triggers(self) -> None:
        """Serve ``trigger_arns`` with the project's handlers. Call once the handlers' environment is set:
        they read their settings at import, so a bad OTP_* value fails here with the handler's message."""
        for arn, handler in project_trigger_functions(self.trigger_arns).items():
            self.register(arn, handler)

    def __call__(self, request: Request) -> Response | None:
        if request.method == "GET":
            match = _WELL_KNOWN.match(request.path)
            return self._well_known(request, match["pool"], match["doc"]) if match else None
        operation = operation_of(request)
        if operation is None:
            return None
        try:
            return self._dispatch(operation, request)
        except CognitoError as error:
            _log.info("%s refused: %s %s", operation, error.error_type, error.message)
            return error_response(error)

    def _dispatch(self, operation: str, request: Request) -> Response:
        if operation not in known_operations():
            raise CognitoError("UnknownOperationException", f"cognito-idp has no operation {operation}")
        try:
            body = json_object_body(request)
        except BodyError:
            return self._moto_answer(operation, request)  # moto words malformed requests as it always has
        own: dict[str, Callable[[], dict[str, Any] | Response]] = {
            "InitiateAuth": lambda: self._initiate(operation, body, request, admin=False),
            "AdminInitiateAuth": lambda: self._initiate(operation, body, request, admin=True),
            "RespondToAuthChallenge": lambda: self._respond(body, request, admin=False),
            "AdminRespondToAuthChallenge": lambda: self._respond(body, request, admin=True),
            "GetTokensFromRefreshToken": lambda: self._get_tokens_from_refresh_token(body, request),
            "RevokeToken": lambda: self._revoke_token(body),
        }
        handler = own.get(operation)
        if handler is not None:
            answer = handler()
            return answer if isinstance(answer, Response) else cognito_response(answer)
        if operation in ("CreateUserPoolClient", "UpdateUserPoolClient"):
            check_client_settings(body)
        access_token = body.get("AccessToken")
        if isinstance(access_token, str):
            problem = self.tokens.access_token_problem(access_token)
            if problem is not None:
                raise problem
        return self._moto_answer(operation, request)

    def _moto_answer(self, operation: str, request: Request) -> Response:
        """moto's answer, or Cognito's error shape where moto has no answer or fails with HTML."""
        if not hasattr(CognitoIdpResponse, xform_name(operation)):
            raise not_emulated(operation)
        environ = request.environ
        environ["wsgi.input"] = io.BytesIO(request.get_data(cache=True))
        response = Response.from_app(self._moto, environ)
        if response.status_code >= 500 and not is_json_answer(response):
            _log.error("moto failed on cognito-idp %s: %s", operation, response.get_data(as_text=True)[:2000])
            raise CognitoError(
                "InternalErrorException",
                f"the sandbox failed to answer cognito-idp {operation}; see its console",
                status=500,
            )
        return response

    def _well_known(self, request: Request, pool_id: str, document: str) -> Response:
        if find_pool(pool_id) is None:
            return json_response(404, {"message": f"User pool {pool_id} does not exist."})
        if document == "jwks.json":
            return json_response(200, self.tokens.jwks())
        issuer = issuer_for(request, pool_id)
        return json_response(
            200,
            {
                "issuer": issuer,
                "jwks_uri": f"{issuer}/.well-known/jwks.json",
                "id_token_signing_alg_values_supported": ["RS256"],
                "subject_types_supported": ["public"],
            },
        )

    # --- InitiateAuth -----------------------------------------------------------------------------

    def _initiate(
        self, operation: str, body: Mapping[str, Any], request: Request, *, admin: bool
    ) -> dict[str, Any] | Response:
        flow = str(body.get("AuthFlow") or "")
        validate_flow_name(flow)
        client_id = str(body.get("ClientId") or "")
        account, region, pool, client = _find_client(client_id)
        if admin and body.get("UserPoolId") != pool.id:
            raise client_not_found(client_id)
        if flow == USER_AUTH:
            raise not_emulated(operation, "the USER_AUTH flow (choice-based sign-in)")
        check_flow(client, flow, admin=admin)
        parameters = body.get("AuthParameters") or {}
        if flow in REFRESH_FLOWS:
            return self._refresh(pool, client, parameters, request)
        if flow == USER_SRP_AUTH:
            raise not_emulated(
                operation, "the USER_SRP_AUTH flow (moto would accept any password); use CUSTOM_AUTH"
            )
        if flow in PASSWORD_FLOWS:
            return self._password(pool, client, parameters, request)
        assert flow == CUSTOM_AUTH
        return self._custom_initiate(account, region, pool, client, body, request, admin=admin)

    def _refresh(
        self, pool: Any, client: Any, parameters: Mapping[str, Any], request: Request
    ) -> dict[str, Any]:
        token = str(parameters.get("REFRESH_TOKEN") or "")
        if not token:
            raise missing_parameter("REFRESH_TOKEN")
        if client.generate_secret:
            owner = str(parameters.get("USERNAME") or self.tokens.refresh_username(token) or "")
            _check_secret_hash(client, owner, parameters.get("SECRET_HASH"))
        tokens = self.tokens.refresh(pool, client, token, issuer_for(request, pool.id))
        return {"ChallengeParameters": {}, "AuthenticationResult": tokens}

    def _password(
        self, pool: Any, client: Any, parameters: Mapping[str, Any], request: Request
    ) -> dict[str, Any] | Response:
        typed = str(parameters.get("USERNAME") or "")
        if not typed:
            raise missing_parameter("USERNAME")
        password = parameters.get("PASSWORD")
        if not password:
            raise missing_parameter("PASSWORD")
        _check_secret_hash(client, typed, parameters.get("SECRET_HASH"))
        user = pool._get_user(typed)
        if user is None:
            raise not_authorized() if _prevents_enumeration(client) else user_not_found()
        if user.password != password:
            raise not_authorized()
        if not user.enabled:
            raise not_authorized("User is disabled.")
        if _status(user) == "UNCONFIRMED":
            raise CognitoError("UserNotConfirmedException", "User is not confirmed.")
        if _status(user) != "CONFIRMED" or user.sms_mfa_enabled or user.software_token_mfa_enabled:
            # NEW_PASSWORD_REQUIRED and the MFA challenges are moto's; its tokens are replaced later.
            return self._with_sandbox_tokens(self._moto_answer("InitiateAuth", request), request)
        tokens = self.tokens.sign_in(pool, client, user, issuer_for(request, pool.id))
        return {"ChallengeParameters": {}, "AuthenticationResult": tokens}

    def _with_sandbox_tokens(self, response: Response, request: Request) -> Response:
        """moto's successful sign-in answer with its tokens replaced by the sandbox's signed ones."""
        if response.status_code != 200:
            return response
        answer = json.loads(response.get_data(as_text=True) or "{}")
        result = answer.get("AuthenticationResult")
        if not result:
            return response
        for _, _, pool in _pools():
            owner = pool.access_tokens.pop(result.get("AccessToken"), None)
            if owner is not None:
                pool.id_tokens.pop(result.get("IdToken"), None)
                pool.refresh_tokens.pop(result.get("RefreshToken"), None)
                client_id, username = owner
                answer["AuthenticationResult"] = self.tokens.sign_in(
                    pool, pool.clients[client_id], pool._get_user(username), issuer_for(request, pool.id)
                )
                return cognito_response(answer)
        return response

    def _custom_initiate(
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
        _check_secret_hash(client, typed, parameters.get("SECRET_HASH"))

        prevent_enumeration = _prevents_enumeration(client)
        user = pool._get_user(typed)
        if user is None and not prevent_enumeration:
            raise user_not_found()
        if user is not None:
            if not user.enabled:
                raise not_authorized("User is disabled.")
            if _status(user) == "UNCONFIRMED":
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

    # --- RespondToAuthChallenge -------------------------------------------------------------------

    def _respond(
        self, body: Mapping[str, Any], request: Request, *, admin: bool
    ) -> dict[str, Any] | Response:
        client_id = str(body.get("ClientId") or "")
        _, _, pool, client = _find_client(client_id)
        if admin and body.get("UserPoolId") != pool.id:
            raise client_not_found(client_id)
        if body.get("ChallengeName") != CUSTOM_CHALLENGE:
            operation = "AdminRespondToAuthChallenge" if admin else "RespondToAuthChallenge"
            return self._with_sandbox_tokens(self._moto_answer(operation, request), request)
        responses = body.get("ChallengeResponses") or {}
        typed = str(responses.get("USERNAME") or "")
        if not typed:
            raise missing_parameter("USERNAME")
        if "ANSWER" not in responses:
            raise missing_parameter("ANSWER")
        sign_in = self._take_session(str(body.get("Session") or ""))
        if sign_in.client_id != client_id or typed not in {sign_in.username, sign_in.typed_username}:
            raise not_authorized("Invalid session for the user.")
        _check_secret_hash(client, typed, responses.get("SECRET_HASH"))

        user = None if sign_in.user_not_found else pool._get_user(sign_in.username)
        if user is None and not sign_in.user_not_found:
            raise not_authorized()  # deleted mid-sign-in
        attributes = _user_attributes(user) if user is not None else {}
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
        attributes = _user_attributes(user) if user is not None else {}
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
            _log.info("CUSTOM_AUTH sign-in succeeded for %s in %s", sign_in.username, pool.id)
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

    # --- refresh and revocation -------------------------------------------------------------------

    def _get_tokens_from_refresh_token(self, body: Mapping[str, Any], request: Request) -> dict[str, Any]:
        client_id = str(body.get("ClientId") or "")
        _, _, pool, client = _find_client(client_id)
        _check_client_secret(client, body.get("ClientSecret"))
        rotation = client.extended_config.get("RefreshTokenRotation") or {}
        if rotation.get("Feature") == "ENABLED":
            raise not_emulated("GetTokensFromRefreshToken", "refresh-token rotation")
        token = str(body.get("RefreshToken") or "")
        if not token:
            raise missing_parameter("RefreshToken")
        return {
            "AuthenticationResult": self.tokens.refresh(pool, client, token, issuer_for(request, pool.id))
        }

    def _revoke_token(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """RevokeToken. AWS documents the error names for its refusals but not their wording: the
        messages below are the sandbox's own."""
        client_id = str(body.get("ClientId") or "")
        try:
            _, _, pool, client = _find_client(client_id)
        except CognitoError:
            raise CognitoError("UnauthorizedException", f"no app client {client_id}") from None
        _check_client_secret(client, body.get("ClientSecret"))
        if client.extended_config.get("EnableTokenRevocation") is False:
            raise CognitoError(
                "UnsupportedOperationException", "token revocation is not enabled for this app client"
            )
        token = str(body.get("Token") or "")
        if self.tokens.token_use(token) is not None:
            raise CognitoError("UnsupportedTokenTypeException", "only a refresh token can be revoked")
        login = self.tokens.find(token)
        if login is None or login.pool is not pool or login.client_id != client.id:
            raise CognitoError("UnauthorizedException", "the token is not a refresh token of this app client")
        self.tokens.revoke(login)
        return {}

    # --- sessions ---------------------------------------------------------------------------------

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


def _check_secret_hash(client: Any, username: str, secret_hash: object) -> None:
    if not client.generate_secret:
        return
    if not secret_hash:
        raise not_authorized(f"Client {client.id} is configured for secret but secret was not received")
    if not check_secret_hash(client.secret, client.id, username, str(secret_hash)):
        raise not_authorized(f"Unable to verify secret hash for client {client.id}")


def _check_client_secret(client: Any, secret: object) -> None:
    if not client.generate_secret:
        return
    if not secret:
        raise not_authorized(f"Client {client.id} is configured for secret but secret was not received")
    if not secrets.compare_digest(str(secret), str(client.secret)):
        raise not_authorized(f"Unable to verify secret hash for client {client.id}")


# --- the sandbox's own pool --------------------------------------------------------------------


@dataclass(frozen=True)
class SignInPool:
    user_pool_id: str
    client_id: str


def session_minutes_for(environ: Mapping[str, str]) -> int:
    """The app client's AuthSessionValidity, as infra/auth.py sets it: the code's validity, within 3-15.

    A bad OTP_VALIDITY_MINUTES is left for the handlers' settings to report, with their own message.
    """
    try:
        validity = int(environ.get("OTP_VALIDITY_MINUTES", "5"))
    except ValueError:
        validity = 5
    return min(max(validity, 3), 15)


def create_sign_in_pool(
    client: CognitoIdentityProviderClient, arns: Mapping[str, str], *, session_minutes: int = 3
) -> SignInPool:
    """A user pool and app client configured as the CDK stack configures them (infra/auth.py)."""
    pool = client.create_user_pool(
        PoolName="otp-sandbox",
        UsernameAttributes=["phone_number"],
        MfaConfiguration="OFF",
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        LambdaConfig={
            "DefineAuthChallenge": arns[DEFINE],
            "CreateAuthChallenge": arns[CREATE],
            "VerifyAuthChallengeResponse": arns[VERIFY],
        },
    )["UserPool"]
    app_client = client.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="otp-custom-auth",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
        AuthSessionValidity=session_minutes,
        EnableTokenRevocation=True,
    )["UserPoolClient"]
    return SignInPool(user_pool_id=pool["Id"], client_id=app_client["ClientId"])
