"""The custom resource that puts the OTP service's three triggers on a user pool CloudFormation does not
manage (``Custom::UserPoolTriggers``; the construct passes ``UserPool.from_user_pool_id``'s pool).

``ResourceProperties``: ``UserPoolId`` and the ARNs Cognito is to invoke, ``DefineAuthChallenge``,
``CreateAuthChallenge`` and ``VerifyAuthChallengeResponse``. The physical id is the pool's id.

- Create / Update: the pool must let users sign in with their phone number, and hold no Define, Create or
  Verify trigger but this resource's own (its previous ARNs, on an update); then the three are set and
  every other setting is written back as it was read (``otp.adapters.user_pool_triggers``). A pool that
  already has exactly these triggers is not written at all. An update naming another pool sets them
  there and answers with its id; CloudFormation then deletes the old one, which takes them off the old pool.
- Delete: the triggers that still name this resource's ARNs are taken off, with every other setting
  written back; a trigger someone has since pointed elsewhere stays, and a pool that is gone is success.

Every outcome is answered (``ResponseURL``), failures with a reason that says what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, cast

from botocore.config import Config

from otp.adapters import aws_sdk
from otp.adapters.user_pool_triggers import (
    PoolRefused,
    ServiceTriggers,
    UnknownSettings,
    UserPoolTriggers,
    check_sign_in,
    with_triggers,
    without_triggers,
)
from otp.domain.errors import UpstreamError
from otp.handlers import startup
from otp.handlers.custom_resource import NOT_CREATED_PREFIX, answer
from otp.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

CONNECT_TIMEOUT: Final = 2.0
READ_TIMEOUT: Final = 10.0
KNOWN_PROPERTIES: Final = frozenset(
    {"ServiceToken", "ServiceTimeout", "UserPoolId", "DefineAuthChallenge", "CreateAuthChallenge",
     "VerifyAuthChallengeResponse"}
)  # fmt: skip


class InvalidProperties(ValueError):
    """The resource's properties are not a pool id and three ARNs."""


@lru_cache(maxsize=1)
def pools() -> UserPoolTriggers:
    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    client = cast("CognitoIdentityProviderClient", aws_sdk.client("cognito-idp", config))
    return UserPoolTriggers(client)


def _text(properties: Mapping[str, Any], name: str) -> str:
    value = properties.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidProperties(f"{name} must be a non-empty string")
    return value


def parse_properties(properties: Mapping[str, Any]) -> tuple[str, ServiceTriggers]:
    unknown = sorted(set(properties) - KNOWN_PROPERTIES)
    if unknown:
        raise InvalidProperties(f"unknown properties {', '.join(unknown)}")
    triggers = ServiceTriggers(
        define=_text(properties, "DefineAuthChallenge"),
        create=_text(properties, "CreateAuthChallenge"),
        verify=_text(properties, "VerifyAuthChallengeResponse"),
    )
    return _text(properties, "UserPoolId"), triggers


def _same_region(pool_id: str, region: str | None) -> None:
    # A pool id is "<region>_<random>": a pool of another region is refused before any call.
    pool_region = pool_id.split("_", 1)[0] if "_" in pool_id else None
    if region and pool_region and pool_region != region:
        raise PoolRefused(
            f"user pool {pool_id} is in {pool_region}, this stack in {region}: deploy the OTP service in "
            "the pool's region"
        )


def apply(
    event: Mapping[str, Any], store: UserPoolTriggers, region: str | None
) -> tuple[str, dict[str, str]]:
    """Carry out the event; returns the physical id and the data to answer with. Raises on failure."""
    kind = event["RequestType"]
    physical_id = str(event.get("PhysicalResourceId") or "")
    if kind == "Delete":
        if not physical_id or physical_id.startswith(NOT_CREATED_PREFIX):
            return physical_id, {}
        pool_id, triggers = parse_properties(event.get("ResourceProperties") or {})
        pool = store.describe(pool_id)
        if pool is None:
            logger.info("user pool gone; nothing to take off", extra={"userPoolId": pool_id})
            return physical_id, {}
        current = pool.get("LambdaConfig") or {}
        remaining = without_triggers(current, triggers.as_lambda_config().values())
        if remaining != current:
            store.write(pool, remaining)
        logger.info(
            "triggers taken off the user pool",
            extra={"userPoolId": pool_id, "removed": sorted(set(current) - set(remaining))},
        )
        return physical_id, {}
    if kind not in ("Create", "Update"):
        raise InvalidProperties(f"unknown RequestType {kind!r}")
    pool_id, triggers = parse_properties(event.get("ResourceProperties") or {})
    _same_region(pool_id, region)
    previous: list[str] = []
    if kind == "Update":
        try:
            old_pool_id, old = parse_properties(event.get("OldResourceProperties") or {})
        except InvalidProperties:
            old_pool_id, old = "", None
        if old is not None and old_pool_id == pool_id:
            previous = list(old.as_lambda_config().values())
    pool = store.describe(pool_id)
    if pool is None:
        raise PoolRefused(f"user pool {pool_id} does not exist in this account and region")
    check_sign_in(pool)
    current = pool.get("LambdaConfig") or {}
    wanted = with_triggers(current, triggers, previous)
    if wanted != current:
        store.write(pool, wanted)
    logger.info(
        "triggers on the user pool",
        extra={"userPoolId": pool_id, "requestType": kind, "written": wanted != current},
    )
    return pool_id, {"UserPoolId": pool_id}


def _reason(exc: Exception) -> str:
    if isinstance(exc, (PoolRefused, UnknownSettings)):
        return str(exc)
    if isinstance(exc, InvalidProperties):
        return f"invalid properties: {exc}"
    if isinstance(exc, UpstreamError):
        reason = f"Cognito answered {exc.code}: {exc.message}"
        if exc.code == "ConcurrentModificationException":
            reason += " (the pool was being changed by someone else; deploy again)"
        if exc.code == "AccessDeniedException" and "PassRole" in exc.message:
            reason += (
                " (writing the pool back passes its SMS role again: grant this function's role "
                "iam:PassRole on that role, see docs/user-pool.md)"
            )
        return reason
    return f"unexpected error ({type(exc).__name__}); see the function's log"


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> None:
    def work() -> tuple[str, dict[str, str]]:
        store = pools()
        return apply(event, store, store.region)

    expected = (PoolRefused, UnknownSettings, UpstreamError, InvalidProperties)
    answer(event, work, reason=_reason, expected=expected)


# Init is over: what it built is frozen out of later collections (otp/handlers/startup.py).
startup.done()
