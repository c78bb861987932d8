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

Custom auth itself (the triggers in Cognito's order, the sessions) is ``local.cognito_sign_in``.

Not emulated: SRP (password verification before or instead of the custom challenge), choice-based
``USER_AUTH``, refresh-token rotation and refresh-token expiry, device tracking, threat protection and
Lambda timeouts.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from botocore import xform_name
from moto.cognitoidp.responses import CognitoIdpResponse
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
from local.cognito_pools import (
    all_pools,
    check_client_secret,
    check_client_secret_hash,
    find_client,
    find_pool,
    issuer_for,
    prevents_enumeration,
    user_status,
)
from local.cognito_sign_in import CUSTOM_CHALLENGE, CustomAuthSignIn
from local.cognito_tokens import TokenIssuer
from local.cognito_triggers import TriggerHandler, TriggerRunner, project_trigger_functions, trigger_arns
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

__all__ = ["CognitoCustomAuth"]

_WELL_KNOWN: Final = re.compile(
    r"^/(?P<pool>[\w-]+_[0-9A-Za-z]+)/\.well-known/(?P<doc>jwks\.json|openid-configuration)$"
)

_log = logging.getLogger("local.cognito")


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
        self.tokens = TokenIssuer(wall_clock)
        self._custom = CustomAuthSignIn(self._triggers, self.tokens, clock)
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
        account, region, pool, client = find_client(client_id)
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
        return self._custom.initiate(account, region, pool, client, body, request, admin=admin)

    def _refresh(
        self, pool: Any, client: Any, parameters: Mapping[str, Any], request: Request
    ) -> dict[str, Any]:
        token = str(parameters.get("REFRESH_TOKEN") or "")
        if not token:
            raise missing_parameter("REFRESH_TOKEN")
        if client.generate_secret:
            owner = str(parameters.get("USERNAME") or self.tokens.refresh_username(token) or "")
            check_client_secret_hash(client, owner, parameters.get("SECRET_HASH"))
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
        check_client_secret_hash(client, typed, parameters.get("SECRET_HASH"))
        user = pool._get_user(typed)
        if user is None:
            raise not_authorized() if prevents_enumeration(client) else user_not_found()
        if user.password != password:
            raise not_authorized()
        if not user.enabled:
            raise not_authorized("User is disabled.")
        if user_status(user) == "UNCONFIRMED":
            raise CognitoError("UserNotConfirmedException", "User is not confirmed.")
        if user_status(user) != "CONFIRMED" or user.sms_mfa_enabled or user.software_token_mfa_enabled:
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
        for _, _, pool in all_pools():
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

    # --- RespondToAuthChallenge -------------------------------------------------------------------

    def _respond(
        self, body: Mapping[str, Any], request: Request, *, admin: bool
    ) -> dict[str, Any] | Response:
        client_id = str(body.get("ClientId") or "")
        _, _, pool, client = find_client(client_id)
        if admin and body.get("UserPoolId") != pool.id:
            raise client_not_found(client_id)
        if body.get("ChallengeName") != CUSTOM_CHALLENGE:
            operation = "AdminRespondToAuthChallenge" if admin else "RespondToAuthChallenge"
            return self._with_sandbox_tokens(self._moto_answer(operation, request), request)
        return self._custom.respond(pool, client, body, request)

    # --- refresh and revocation -------------------------------------------------------------------

    def _get_tokens_from_refresh_token(self, body: Mapping[str, Any], request: Request) -> dict[str, Any]:
        client_id = str(body.get("ClientId") or "")
        _, _, pool, client = find_client(client_id)
        check_client_secret(client, body.get("ClientSecret"))
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
            _, _, pool, client = find_client(client_id)
        except CognitoError:
            raise CognitoError("UnauthorizedException", f"no app client {client_id}") from None
        check_client_secret(client, body.get("ClientSecret"))
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
