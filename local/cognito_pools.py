"""The Cognito pools moto holds, as the sandbox's sign-in reads them, and the sandbox's own pool.

Lookups across moto's in-memory backends (pools, app clients, users' attributes and status), the app
client's secret checks, the tokens' issuer, and ``create_sign_in_pool``: a pool and client configured
as the CDK stack configures them (infra/auth.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.cognitoidp.models import cognitoidp_backends
from moto.cognitoidp.utils import check_secret_hash
from werkzeug.wrappers import Request

from local.cognito_triggers import CREATE, DEFINE, VERIFY
from local.cognito_wire import client_not_found, not_authorized

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient


def all_pools() -> Iterator[tuple[str, str, Any]]:
    """(account, region, pool) for every user pool moto holds."""
    for account, regional in list(cognitoidp_backends.items()):
        for region, backend in list(regional.items()):
            if region == "global":
                continue
            for pool in list(backend.user_pools.values()):
                yield account, region, pool


def find_pool(pool_id: str) -> Any | None:
    return next((pool for _, _, pool in all_pools() if pool.id == pool_id), None)


def find_client(client_id: str) -> tuple[str, str, Any, Any]:
    for account, region, pool in all_pools():
        client = pool.clients.get(client_id)
        if client is not None:
            return account, region, pool, client
    raise client_not_found(client_id)


def user_attributes(user: Any) -> dict[str, str]:
    attributes = {str(a["Name"]): str(a["Value"]) for a in user.attributes}
    attributes["cognito:user_status"] = user_status(user)
    return attributes


def user_status(user: Any) -> str:
    return str(getattr(user.status, "value", user.status))


def issuer_for(request: Request, pool_id: str) -> str:
    """The ``iss`` of tokens and the JWKS' home: the endpoint the client called, then the pool id."""
    return f"{request.host_url.rstrip('/')}/{pool_id}"


def prevents_enumeration(client: Any) -> bool:
    return bool(client.extended_config.get("PreventUserExistenceErrors") == "ENABLED")


def check_client_secret_hash(client: Any, username: str, secret_hash: object) -> None:
    if not client.generate_secret:
        return
    if not secret_hash:
        raise not_authorized(f"Client {client.id} is configured for secret but secret was not received")
    if not check_secret_hash(client.secret, client.id, username, str(secret_hash)):
        raise not_authorized(f"Unable to verify secret hash for client {client.id}")


def check_client_secret(client: Any, secret: object) -> None:
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
    """A user pool and app client configured as the CDK stack configures them (infra/auth.py).

    Usernames are the users' phone numbers themselves, not a phone-number sign-in attribute: with
    ``UsernameAttributes=["phone_number"]`` Cognito generates a UUID username and returns it as the
    challenge's ``USERNAME`` for a registered number, while an unknown one gets back what was typed
    (docs/cognito.md, "USERNAME").
    """
    pool = client.create_user_pool(
        PoolName="otp-sandbox",
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
