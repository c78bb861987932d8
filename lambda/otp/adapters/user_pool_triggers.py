"""The OTP service's three auth-challenge triggers on a user pool CloudFormation does not manage
(``otp.handlers.user_pool_triggers``, the custom resource behind ``UserPool.from_user_pool_id``).

Cognito has no call that sets one trigger: ``UpdateUserPool`` sets the whole configuration, and "if you
don't provide a value for an attribute, Amazon Cognito sets it to its default value" (its API
reference). So every change here reads the pool (``DescribeUserPool``) and writes back every setting
it read that ``UpdateUserPool`` takes, with only ``LambdaConfig`` changed:

- Which settings those are comes from the SDK's service model, not from a list typed here: each member of
  ``UpdateUserPoolRequest`` that ``DescribeUserPool``'s ``UserPoolType`` returns with the same shape, and
  ``Name`` as ``PoolName``. With botocore 1.44 that is every member but ``UserPoolId``; the settings
  ``DescribeUserPool`` returns and ``UpdateUserPool`` does not take (the sign-in attributes, username case
  sensitivity, the schema, the domains, and what Cognito computes: ids, dates, status, user count,
  configuration failures) are not in the request, so it cannot change them.
- ``AdminCreateUserConfig.UnusedAccountValidityDays`` is left out: the model says it is "no longer in
  use" (``PasswordPolicy.TemporaryPasswordValidityDays`` replaced it), and Cognito refuses a request that
  sends both ("Please use TemporaryPasswordValidityDays in PasswordPolicy instead of
  UnusedAccountValidityDays", as SDK users report).
- If the pool holds a setting this SDK's model does not know (AWS added it after this botocore was
  built), botocore would drop it from the answer and the update would reset it: :func:`unknown_settings`
  finds any in the raw answer, and nothing is written (:class:`UnknownSettings`).

Between the read and the write, another writer's change to the same pool would be lost; the window is
one round trip, and CloudFormation runs this only when the stack deploys.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from otp.adapters.retries import call_with_retries, control_plane_classifier
from otp.domain.errors import UpstreamError

if TYPE_CHECKING:
    from botocore.model import Shape, StructureShape
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

T = TypeVar("T")

DESCRIBE: Final = "DescribeUserPool"
UPDATE: Final = "UpdateUserPool"
#: LambdaConfig's members for the three custom-auth triggers.
TRIGGERS: Final = ("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse")
PHONE_NUMBER: Final = "phone_number"
#: Members of the request that are not settings read back from the pool.
_NOT_COPIED: Final = frozenset({"UserPoolId", "PoolName", "LambdaConfig"})
#: Retried: a throttled call, or Cognito's own failure (the same request again changes nothing more). Not
#: ConcurrentModificationException: someone else changed the pool, so what was read is stale.
_RETRYABLE: Final = frozenset({"TooManyRequestsException", "InternalErrorException"})
MAX_ATTEMPTS: Final = 5


class PoolRefused(ValueError):
    """The pool cannot take the triggers as it is; the message says what to change."""


class UnknownSettings(RuntimeError):
    """The pool holds settings this SDK does not know, so they could not be written back."""


@dataclass(frozen=True, slots=True)
class ServiceTriggers:
    """The ARNs Cognito is to invoke (the functions', or their aliases')."""

    define: str
    create: str
    verify: str

    def as_lambda_config(self) -> dict[str, str]:
        return dict(zip(TRIGGERS, (self.define, self.create, self.verify), strict=True))


# ------------------------------------------------------------------------------ the model's view


def copied_settings(client: CognitoIdentityProviderClient) -> tuple[str, ...]:
    """UpdateUserPool's members that DescribeUserPool returns with the same shape (LambdaConfig apart)."""
    model = client.meta.service_model
    request = model.operation_model(UPDATE).input_shape
    pool = _pool_shape(client)
    assert request is not None
    return tuple(
        name
        for name, shape in request.members.items()
        if name not in _NOT_COPIED and name in pool.members and pool.members[name].name == shape.name
    )


def _pool_shape(client: CognitoIdentityProviderClient) -> StructureShape:
    answer = client.meta.service_model.operation_model(DESCRIBE).output_shape
    assert answer is not None
    return cast("StructureShape", answer.members["UserPool"])


def unknown_settings(raw: object, shape: Shape, path: str = "UserPool") -> list[str]:
    """Paths of the members in a raw JSON answer that the model's shape does not declare."""
    found: list[str] = []
    if shape.type_name == "structure" and isinstance(raw, Mapping):
        members = shape.members  # type: ignore[attr-defined]
        for name, value in raw.items():
            if name not in members:
                found.append(f"{path}.{name}")
            else:
                found.extend(unknown_settings(value, members[name], f"{path}.{name}"))
    elif shape.type_name == "list" and isinstance(raw, list):
        for index, item in enumerate(raw):
            found.extend(unknown_settings(item, shape.member, f"{path}[{index}]"))  # type: ignore[attr-defined]
    elif shape.type_name == "map" and isinstance(raw, Mapping):
        for key, item in raw.items():
            found.extend(unknown_settings(item, shape.value, f"{path}.{key}"))  # type: ignore[attr-defined]
    return found


# ------------------------------------------------------------------------------ the request


def update_request(
    pool: Mapping[str, Any], lambda_config: Mapping[str, str], *, settings: Iterable[str]
) -> dict[str, Any]:
    """UpdateUserPool's request: every setting of ``pool`` in ``settings`` as read, ``PoolName`` as its name,
    and ``lambda_config``."""
    request: dict[str, Any] = {"UserPoolId": pool["Id"]}
    if "Name" in pool:
        request["PoolName"] = pool["Name"]
    for name in settings:
        if name in pool:
            request[name] = copy.deepcopy(pool[name])
    admin = request.get("AdminCreateUserConfig")
    if isinstance(admin, dict):
        admin.pop("UnusedAccountValidityDays", None)
    request["LambdaConfig"] = dict(lambda_config)
    return request


def check_sign_in(pool: Mapping[str, Any]) -> None:
    """Users must be able to sign in with their phone number: as a username attribute, an alias, or the
    username alone (then each username must be the user's canonical number, as in the service's own pool)."""
    attributes = list(pool.get("UsernameAttributes") or []) + list(pool.get("AliasAttributes") or [])
    if attributes and PHONE_NUMBER not in attributes:
        now = ", ".join(attributes)
        raise PoolRefused(
            f"user pool {pool.get('Id')} does not let users sign in with their phone number (it signs in "
            f"with {now}); Cognito cannot change that on an existing pool: use a pool whose "
            "UsernameAttributes or AliasAttributes hold phone_number"
        )


def with_triggers(
    current: Mapping[str, Any], wanted: ServiceTriggers, ours: Iterable[str] = ()
) -> dict[str, Any]:
    """The pool's LambdaConfig with the three triggers set; refused if one is another function's.

    ``ours``: ARNs this resource set before (the previous deployment's), which it may replace."""
    mine = set(ours) | set(wanted.as_lambda_config().values())
    taken = [name for name in TRIGGERS if current.get(name) and current[name] not in mine]
    if taken:
        raise PoolRefused(
            f"the user pool already has a {', '.join(taken)} trigger that is not this stack's "
            f"({', '.join(str(current[name]) for name in taken)}): a pool has one of each, and the OTP "
            "service's three work only together. Remove it from the pool, or let the service create "
            "a pool of its own (omit user_pool)"
        )
    return {**current, **wanted.as_lambda_config()}


def without_triggers(current: Mapping[str, Any], ours: Iterable[str]) -> dict[str, Any]:
    """The pool's LambdaConfig without the three triggers that are still this resource's."""
    mine = set(ours)
    return {name: value for name, value in current.items() if not (name in TRIGGERS and value in mine)}


# ------------------------------------------------------------------------------ the calls


class UserPoolTriggers:
    """Read a pool, and write back everything it read with other triggers."""

    def __init__(
        self,
        client: CognitoIdentityProviderClient,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._settings = copied_settings(client)
        self._raw: list[bytes] = []
        client.meta.events.register(f"after-call.cognito-idp.{DESCRIBE}", self._keep_raw_answer)

    @property
    def settings(self) -> tuple[str, ...]:
        """The settings written back as read (:func:`copied_settings`)."""
        return self._settings

    @property
    def region(self) -> str | None:
        return self._client.meta.region_name

    def _keep_raw_answer(self, http_response: Any = None, **_: Any) -> None:
        if http_response is not None:
            self._raw.append(bytes(http_response.content))

    def describe(self, user_pool_id: str) -> dict[str, Any] | None:
        """The pool as DescribeUserPool returns it; None when it does not exist. Raises UnknownSettings
        when the answer holds members this SDK's model does not declare."""
        self._raw.clear()
        try:
            answer = self._call(DESCRIBE, lambda: self._client.describe_user_pool(UserPoolId=user_pool_id))
        except UpstreamError as exc:
            if exc.code == "ResourceNotFoundException":
                return None
            raise
        if self._raw:
            raw = json.loads(self._raw[-1] or b"{}").get("UserPool", {})
            unknown = unknown_settings(raw, _pool_shape(self._client))
            if unknown:
                raise UnknownSettings(
                    f"user pool {user_pool_id} holds settings this function's AWS SDK does not know "
                    f"({', '.join(sorted(unknown))}); UpdateUserPool would reset them, so nothing was "
                    "changed. Deploy with a newer cdk-sms-otp (its Lambda bundle carries a newer model)."
                )
        return dict(answer["UserPool"])

    def write(self, pool: Mapping[str, Any], lambda_config: Mapping[str, str]) -> None:
        request = update_request(pool, lambda_config, settings=self._settings)
        self._call(UPDATE, lambda: self._client.update_user_pool(**request))

    def _call(self, operation: str, call: Callable[[], T]) -> T:
        classify = control_plane_classifier(operation, _RETRYABLE)
        return call_with_retries(call, classify, max_attempts=self._max_attempts, sleep=self._sleep)
