"""``UpdateUserPool`` on the sandbox as Cognito does it (moto 5.2 gets it wrong).

Cognito's API reference: a setting the request does not give is set to its default, "with the exception
of ``UserPoolTier``", and a setting ``UpdateUserPool`` does not take at all cannot change (the sign-in
attributes, username case sensitivity and the schema are fixed when the pool is created). moto replaces
the pool's whole stored configuration with its defaults plus the request, so an update also

- dropped what UpdateUserPool cannot set (``AliasAttributes``, ``UsernameAttributes``,
  ``UsernameConfiguration``: DescribeUserPool then showed a pool nobody can sign in to by phone), and
  ``UserPoolTier`` when the request left it out;
- stored ``UserPoolId`` and ``PoolName`` as if they were settings (DescribeUserPool returned both, which
  ``UserPoolType`` does not declare) and never renamed the pool;
- kept the old ``MfaConfiguration`` when the request left it out (Cognito: back to ``OFF``), and never
  moved ``LastModifiedDate``.

This override lets moto apply the request, then puts those right on moto's in-memory pool. Which
settings UpdateUserPool takes is read from botocore's model, as the custom resource reads it
(``otp.adapters.user_pool_triggers``), so the two cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any, Final

from werkzeug.wrappers import Request, Response

from local.moto_backends import request_account, request_region

TARGET: Final = "AWSCognitoIdentityProviderService.UpdateUserPool"
#: Cognito keeps the feature plan when the request leaves it out (UpdateUserPool's API reference).
KEPT_WHEN_LEFT_OUT: Final = ("UserPoolTier",)


@cache
def update_members() -> frozenset[str]:
    """The members of UpdateUserPoolRequest in botocore's cognito-idp model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("cognito-idp")
    shape = model.operation_model("UpdateUserPool").input_shape
    assert shape is not None
    return frozenset(shape.members)


class UserPoolUpdates:
    """Endpoint override: moto's UpdateUserPool, corrected to Cognito's behaviour."""

    def __init__(self, forward_to_moto: Callable[[Request], Response]) -> None:
        self._forward = forward_to_moto

    def __call__(self, request: Request) -> Response | None:
        if request.headers.get("X-Amz-Target") != TARGET:
            return None
        try:
            body: dict[str, Any] = json.loads(request.get_data() or b"{}")
        except ValueError:
            return None  # moto answers a body it cannot read
        # Imported here: the endpoint starts without moto's Cognito until a pool is updated.
        from moto.cognitoidp.models import cognitoidp_backends
        from moto.core.utils import utcnow

        backend = cognitoidp_backends[request_account(request.environ)][request_region(request.environ)]
        pool = backend.user_pools.get(str(body.get("UserPoolId")))
        if pool is None:
            return None  # moto answers ResourceNotFoundException
        settable = update_members()
        fixed = {name: value for name, value in pool.extended_config.items() if name not in settable}
        kept = {
            name: pool.extended_config[name] for name in KEPT_WHEN_LEFT_OUT if name in pool.extended_config
        }
        answer = self._forward(request)
        if answer.status_code != 200:
            return answer
        config = pool.extended_config
        config.pop("UserPoolId", None)
        name = config.pop("PoolName", None)
        if name:
            pool.name = name
        config.update(fixed)
        for setting, value in kept.items():
            config.setdefault(setting, value)
        pool.mfa_config = body.get("MfaConfiguration") or "OFF"
        pool.last_modified_date = utcnow()
        return answer
