"""Cognito's custom authentication flow (``CUSTOM_AUTH``) for the sandbox, running the real triggers.

moto serves user pools, clients and users, and accepts ``AuthFlow=CUSTOM_AUTH``, but never invokes
Lambda triggers and returns no challenge. This endpoint override answers ``InitiateAuth`` /
``RespondToAuthChallenge`` (and their ``Admin`` forms) for ``CUSTOM_AUTH`` the way Cognito does,
reading pools, clients and users from moto's in-memory backend and calling the project's trigger
handlers in-process with the events Cognito sends. Everything else, including every other auth flow,
goes on to moto.

The protocol, as Cognito implements it:
- InitiateAuth: Define Auth Challenge with an empty session; if it asks for ``CUSTOM_CHALLENGE``,
  Create Auth Challenge; answer ``ChallengeName``, an opaque ``Session`` and the public challenge
  parameters plus ``USERNAME``.
- RespondToAuthChallenge with ``{USERNAME, ANSWER}``: Verify Auth Challenge Response with the private
  parameters Create returned; append the round to the session; Define again; then tokens
  (``AuthenticationResult``), ``NotAuthorizedException`` ("Incorrect username or password."), or the
  next challenge under a new Session. A Session answers once and expires after the client's
  ``AuthSessionValidity`` minutes (3 by default), measured on the sandbox clock.
- An unknown user on a client with ``PreventUserExistenceErrors=ENABLED`` goes through the same
  triggers with ``userNotFound: true``; without it, ``UserNotFoundException``.
- A trigger that raises becomes ``UserLambdaValidationException`` ("<Trigger> failed with error ...").

Not emulated: SRP before the custom challenge beyond reporting it to Define, device tracking,
advanced security, the ``NEW_PASSWORD_REQUIRED`` step, and Lambda timeouts.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from moto.cognitoidp.models import cognitoidp_backends
from moto.cognitoidp.utils import check_secret_hash
from werkzeug.wrappers import Request, Response

from local.http_json import BodyError, json_object_body

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

TriggerHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

_TARGET_PREFIX: Final = "AWSCognitoIdentityProviderService."
_CONTENT_TYPE: Final = "application/x-amz-json-1.1"
CUSTOM_AUTH: Final = "CUSTOM_AUTH"
CUSTOM_CHALLENGE: Final = "CUSTOM_CHALLENGE"
# The LambdaConfig keys of the three triggers, which are also the names Cognito uses in its errors.
DEFINE: Final = "DefineAuthChallenge"
CREATE: Final = "CreateAuthChallenge"
VERIFY: Final = "VerifyAuthChallengeResponse"
TRIGGERS: Final = (DEFINE, CREATE, VERIFY)
_TRIGGER_SOURCES: Final = {trigger: f"{trigger}_Authentication" for trigger in TRIGGERS}
# What Cognito reports for callers it cannot identify (any SDK other than its own JS/Android/iOS).
_SDK_VERSION: Final = "aws-sdk-unknown-unknown"
_INCORRECT: Final = "Incorrect username or password."
SANDBOX_ACCOUNT: Final = "123456789012"  # moto's default account; the ARNs only name functions here

_log = logging.getLogger("local.cognito")


class CognitoError(Exception):
    """An error Cognito answers with HTTP 400 and ``{"__type", "message"}``: botocore's json protocol."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def _not_authorized(message: str = _INCORRECT) -> CognitoError:
    return CognitoError("NotAuthorizedException", message)


def _invalid_parameter(message: str) -> CognitoError:
    return CognitoError("InvalidParameterException", message)


@dataclass
class _SignIn:
    """Server-side state of one sign-in; the client only ever holds the opaque session token."""

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


@dataclass
class _LambdaContext:
    """The parts of a Lambda context Powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "sandbox"

    def get_remaining_time_in_millis(self) -> int:
        return 5_000  # Cognito gives each trigger 5 seconds


def _pools() -> Iterator[tuple[str, str, Any]]:
    """(account, region, pool) for every user pool moto holds."""
    for account, regional in list(cognitoidp_backends.items()):
        for region, backend in list(regional.items()):
            if region == "global":
                continue
            for pool in list(backend.user_pools.values()):
                yield account, region, pool


def _find_client(client_id: str) -> tuple[str, str, Any, Any]:
    for account, region, pool in _pools():
        client = pool.clients.get(client_id)
        if client is not None:
            return account, region, pool, client
    raise CognitoError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")


def _user_attributes(user: Any) -> dict[str, str]:
    attributes = {str(a["Name"]): str(a["Value"]) for a in user.attributes}
    attributes["cognito:user_status"] = str(getattr(user.status, "value", user.status))
    return attributes


class CognitoCustomAuth:
    """An endpoint override: ``CUSTOM_AUTH`` sign-ins, with triggers looked up by their Lambda ARN."""

    def __init__(
        self,
        functions: Mapping[str, TriggerHandler] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        region: str = "us-east-1",
    ) -> None:
        self._functions = dict(functions or {})
        self._clock = clock
        self._sessions: dict[str, _SignIn] = {}
        self._lock = threading.Lock()
        # The ARNs the sandbox's own pool is wired to; use_project_triggers() puts the handlers behind them.
        self.trigger_arns = trigger_arns(region)

    def register(self, arn: str, handler: TriggerHandler) -> None:
        self._functions[arn] = handler

    def use_project_triggers(self) -> None:
        """Serve ``trigger_arns`` with the project's handlers. Call once the handlers' environment is set:
        they read their settings at import, so a bad OTP_* value fails here with the handler's message."""
        for arn, handler in project_trigger_functions(self.trigger_arns).items():
            self.register(arn, handler)

    def __call__(self, request: Request) -> Response | None:
        target = request.headers.get("X-Amz-Target", "")
        if request.method != "POST" or not target.startswith(_TARGET_PREFIX):
            return None
        operation = target.removeprefix(_TARGET_PREFIX)
        if operation not in {
            "InitiateAuth",
            "AdminInitiateAuth",
            "RespondToAuthChallenge",
            "AdminRespondToAuthChallenge",
        }:
            return None
        try:
            body = json_object_body(request)
        except BodyError:
            return None  # moto answers malformed requests as it answers any other
        admin = operation.startswith("Admin")
        if operation.endswith("InitiateAuth") and body.get("AuthFlow") != CUSTOM_AUTH:
            return None
        if operation.endswith("RespondToAuthChallenge") and body.get("ChallengeName") != CUSTOM_CHALLENGE:
            return None
        request_id = str(uuid.uuid4())
        try:
            if operation.endswith("InitiateAuth"):
                answer = self._initiate(body, admin=admin)
            else:
                answer = self._respond(body, admin=admin)
        except CognitoError as error:
            _log.info("%s refused: %s %s", operation, error.error_type, error.message)
            return _response(400, {"__type": error.error_type, "message": error.message}, request_id, error)
        return _response(200, answer, request_id)

    # --- the two operations ---------------------------------------------------------------------

    def _initiate(self, body: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        client_id = str(body.get("ClientId") or "")
        account, region, pool, client = _find_client(client_id)
        if admin and body.get("UserPoolId") != pool.id:
            raise CognitoError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")
        flows = client.extended_config.get("ExplicitAuthFlows")
        if flows and not {"ALLOW_CUSTOM_AUTH", "CUSTOM_AUTH_FLOW_ONLY"} & set(flows):
            raise _invalid_parameter("Auth flow not enabled for this client")
        self._trigger_arns(pool)
        parameters = body.get("AuthParameters") or {}
        typed = str(parameters.get("USERNAME") or "")
        if not typed:
            raise _invalid_parameter("Missing required parameter USERNAME")
        _check_secret_hash(client, typed, parameters.get("SECRET_HASH"))

        prevent_enumeration = client.extended_config.get("PreventUserExistenceErrors") == "ENABLED"
        user = pool._get_user(typed)
        if user is None and not prevent_enumeration:
            raise CognitoError("UserNotFoundException", "User does not exist.")
        if user is not None:
            if not user.enabled:
                raise _not_authorized("User is disabled.")
            if getattr(user.status, "value", user.status) == "UNCONFIRMED":
                raise CognitoError("UserNotConfirmedException", "User is not confirmed.")
        sign_in = _SignIn(
            account=account,
            region=region,
            user_pool_id=pool.id,
            client_id=client_id,
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
        return self._next_step(pool, client, sign_in, metadata)

    def _respond(self, body: Mapping[str, Any], *, admin: bool) -> dict[str, Any]:
        client_id = str(body.get("ClientId") or "")
        _, _, pool, client = _find_client(client_id)
        if admin and body.get("UserPoolId") != pool.id:
            raise CognitoError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")
        responses = body.get("ChallengeResponses") or {}
        typed = str(responses.get("USERNAME") or "")
        if not typed:
            raise _invalid_parameter("Missing required parameter USERNAME")
        if "ANSWER" not in responses:
            raise _invalid_parameter("Missing required parameter ANSWER")
        sign_in = self._take_session(str(body.get("Session") or ""))
        if sign_in.client_id != client_id or typed not in {sign_in.username, sign_in.typed_username}:
            raise _not_authorized("Invalid session for the user.")
        _check_secret_hash(client, typed, responses.get("SECRET_HASH"))

        user = None if sign_in.user_not_found else pool._get_user(sign_in.username)
        if user is None and not sign_in.user_not_found:
            raise _not_authorized()  # deleted mid-sign-in
        attributes = _user_attributes(user) if user is not None else {}
        metadata = dict(body.get("ClientMetadata") or {})
        request: dict[str, Any] = {
            "userAttributes": attributes,
            "privateChallengeParameters": dict(sign_in.private_parameters),
            "challengeAnswer": str(responses["ANSWER"]),
        }
        if metadata:
            request["clientMetadata"] = metadata
        if sign_in.user_not_found is not None:
            request["userNotFound"] = sign_in.user_not_found
        verified = self._invoke(pool, client_id, sign_in, VERIFY, request)
        correct = (verified.get("response") or {}).get("answerCorrect") is True
        sign_in.rounds.append(
            {
                "challengeName": CUSTOM_CHALLENGE,
                "challengeResult": correct,
                "challengeMetadata": sign_in.metadata,
            }
        )
        return self._next_step(pool, client, sign_in, metadata)

    def _next_step(
        self, pool: Any, client: Any, sign_in: _SignIn, metadata: dict[str, str] | None
    ) -> dict[str, Any]:
        """Define, then tokens, failure, or Create and a new session."""
        user = None if sign_in.user_not_found else pool._get_user(sign_in.username)
        attributes = _user_attributes(user) if user is not None else {}
        request: dict[str, Any] = {"userAttributes": attributes, "session": [dict(r) for r in sign_in.rounds]}
        if metadata:
            request["clientMetadata"] = metadata
        if sign_in.user_not_found is not None:
            request["userNotFound"] = sign_in.user_not_found
        defined = self._invoke(pool, client.id, sign_in, DEFINE, request).get("response") or {}

        if defined.get("failAuthentication") is True:
            raise _not_authorized()
        if defined.get("issueTokens") is True:
            if user is None:
                raise _not_authorized()  # Cognito cannot issue tokens for a user that does not exist
            _log.info("CUSTOM_AUTH sign-in succeeded for %s in %s", sign_in.username, pool.id)
            return {
                "ChallengeParameters": {},
                "AuthenticationResult": _tokens(pool, client.id, user.username),
            }
        if defined.get("challengeName") != CUSTOM_CHALLENGE:
            raise CognitoError(
                "InvalidLambdaResponseException",
                "the sandbox emulates only CUSTOM_CHALLENGE; Define Auth Challenge answered "
                f"{defined.get('challengeName')!r}",
            )

        create_request = {**request, "challengeName": CUSTOM_CHALLENGE}
        created = self._invoke(pool, client.id, sign_in, CREATE, create_request).get("response") or {}
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

    # --- triggers ------------------------------------------------------------------------------

    def _trigger_arns(self, pool: Any) -> dict[str, str]:
        config = pool.extended_config.get("LambdaConfig") or {}
        arns = {trigger: config.get(trigger) for trigger in TRIGGERS}
        if not all(arns.values()):
            raise _invalid_parameter("Custom auth lambda trigger is not configured for the user pool.")
        return {trigger: str(arn) for trigger, arn in arns.items()}

    def _invoke(
        self, pool: Any, client_id: str, sign_in: _SignIn, trigger: str, request: dict[str, Any]
    ) -> dict[str, Any]:
        arn = self._trigger_arns(pool)[trigger]
        handler = self._functions.get(arn)
        if handler is None:
            raise CognitoError(
                "UnexpectedLambdaException",
                f"the sandbox has no function {arn}; use the user pool the sandbox created (see "
                "/_sandbox/health) or create one with local.cognito_custom_auth.create_sign_in_pool",
            )
        event: dict[str, Any] = {
            "version": "1",
            "region": sign_in.region,
            "userPoolId": sign_in.user_pool_id,
            "userName": sign_in.username,
            "callerContext": {"awsSdkVersion": _SDK_VERSION, "clientId": client_id},
            "triggerSource": _TRIGGER_SOURCES[trigger],
            "request": request,
            "response": {},
        }
        context = _LambdaContext(function_name=arn.rsplit(":", 1)[-1], invoked_function_arn=arn)
        try:
            # The handler gets its own copy, as a Lambda would get its own deserialised event.
            result = handler(json.loads(json.dumps(event)), context)
        except Exception as exc:
            _log.exception("%s trigger raised", trigger)
            raise CognitoError(
                "UserLambdaValidationException", f"{trigger} failed with error {exc}."
            ) from None
        if not isinstance(result, dict):
            raise CognitoError("InvalidLambdaResponseException", "Unrecognizable lambda output")
        return result

    # --- sessions ------------------------------------------------------------------------------

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
            raise _not_authorized("Invalid session for the user.")
        if sign_in.expires_at <= self._clock():
            raise _not_authorized("Invalid session for the user, session is expired.")
        return sign_in


def _check_secret_hash(client: Any, username: str, secret_hash: object) -> None:
    if not client.generate_secret:
        return
    if not secret_hash:
        raise _not_authorized(f"Client {client.id} is configured for secret but secret was not received")
    if not check_secret_hash(client.secret, client.id, username, str(secret_hash)):
        raise _not_authorized(f"Unable to verify secret hash for client {client.id}")


def _tokens(pool: Any, client_id: str, username: str) -> dict[str, Any]:
    """moto's own tokens for the pool, so GetUser, refresh and sign-out work on them through moto."""
    refresh_token, _ = pool.create_refresh_token(client_id, username)
    access_token, id_token, expires_in = pool.create_tokens_from_refresh_token(refresh_token)
    return {
        "AccessToken": access_token,
        "ExpiresIn": expires_in,
        "TokenType": "Bearer",
        "RefreshToken": refresh_token,
        "IdToken": id_token,
    }


def _response(
    status: int, body: Mapping[str, Any], request_id: str, error: CognitoError | None = None
) -> Response:
    headers = {"x-amzn-RequestId": request_id}
    if error is not None:
        headers["x-amzn-ErrorType"] = f"{error.error_type}:"
    return Response(json.dumps(body), status=status, headers=headers, content_type=_CONTENT_TYPE)


# --- the sandbox's own pool --------------------------------------------------------------------


@dataclass(frozen=True)
class SignInPool:
    user_pool_id: str
    client_id: str


def trigger_arns(region: str, account: str = SANDBOX_ACCOUNT, prefix: str = "otp-sandbox") -> dict[str, str]:
    """Lambda ARNs for the three triggers; the sandbox answers for these, and only these, functions."""
    names = {
        DEFINE: "define-auth-challenge",
        CREATE: "create-auth-challenge",
        VERIFY: "verify-auth-challenge",
    }
    return {
        trigger: f"arn:aws:lambda:{region}:{account}:function:{prefix}-{name}"
        for trigger, name in names.items()
    }


def project_trigger_functions(arns: Mapping[str, str]) -> dict[str, TriggerHandler]:
    """ARN -> the project's real handler. Imported here, late: the handlers read settings at import."""
    from otp.handlers import cognito

    handlers: dict[str, TriggerHandler] = {
        DEFINE: cognito.define_auth_challenge,
        CREATE: cognito.create_auth_challenge,
        VERIFY: cognito.verify_auth_challenge,
    }
    return {arns[trigger]: handler for trigger, handler in handlers.items()}


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
