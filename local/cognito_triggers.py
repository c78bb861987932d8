"""The sandbox's Lambda runner for Cognito's custom-auth triggers: events as Cognito sends them.

A user pool names its triggers by Lambda ARN (``LambdaConfig``); the sandbox answers for the ARNs it
has a handler for (``register``), calling the handler in-process with a deep copy of the event, as a
Lambda would receive its own deserialised copy. A trigger that raises becomes
``UserLambdaValidationException`` ("<Trigger> failed with error ..."), as Cognito reports it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from local.cognito_wire import CognitoError, invalid_parameter

TriggerHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

# The LambdaConfig keys of the three triggers, which are also the names Cognito uses in its errors.
DEFINE: Final = "DefineAuthChallenge"
CREATE: Final = "CreateAuthChallenge"
VERIFY: Final = "VerifyAuthChallengeResponse"
TRIGGERS: Final = (DEFINE, CREATE, VERIFY)
_TRIGGER_SOURCES: Final = {trigger: f"{trigger}_Authentication" for trigger in TRIGGERS}
# What Cognito reports for callers it cannot identify (any SDK other than its own JS/Android/iOS).
_SDK_VERSION: Final = "aws-sdk-unknown-unknown"
SANDBOX_ACCOUNT: Final = "123456789012"  # moto's default account; the ARNs only name functions here

_log = logging.getLogger("local.cognito")


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


@dataclass(frozen=True)
class TriggerCall:
    """Who a trigger event is about: the fields Cognito puts around ``request``."""

    region: str
    user_pool_id: str
    client_id: str
    username: str


class TriggerRunner:
    """Lambda ARN -> handler; invokes the pool's configured trigger for a step of a sign-in."""

    def __init__(self, functions: Mapping[str, TriggerHandler] | None = None) -> None:
        self._functions = dict(functions or {})

    def register(self, arn: str, handler: TriggerHandler) -> None:
        self._functions[arn] = handler

    @staticmethod
    def arns_of(pool: Any) -> dict[str, str]:
        config = pool.extended_config.get("LambdaConfig") or {}
        arns = {trigger: config.get(trigger) for trigger in TRIGGERS}
        if not all(arns.values()):
            raise invalid_parameter("Custom auth lambda trigger is not configured for the user pool.")
        return {trigger: str(arn) for trigger, arn in arns.items()}

    def invoke(self, pool: Any, call: TriggerCall, trigger: str, request: dict[str, Any]) -> dict[str, Any]:
        arn = self.arns_of(pool)[trigger]
        handler = self._functions.get(arn)
        if handler is None:
            raise CognitoError(
                "UnexpectedLambdaException",
                f"the sandbox has no function {arn}; use the user pool the sandbox created (see "
                "/_sandbox/health) or create one with local.cognito_pools.create_sign_in_pool",
            )
        event: dict[str, Any] = {
            "version": "1",
            "region": call.region,
            "userPoolId": call.user_pool_id,
            "userName": call.username,
            "callerContext": {"awsSdkVersion": _SDK_VERSION, "clientId": call.client_id},
            "triggerSource": _TRIGGER_SOURCES[trigger],
            "request": request,
            "response": {},
        }
        context = _LambdaContext(function_name=arn.rsplit(":", 1)[-1], invoked_function_arn=arn)
        try:
            result = handler(json.loads(json.dumps(event)), context)
        except Exception as exc:
            _log.exception("%s trigger raised", trigger)
            raise CognitoError(
                "UserLambdaValidationException", f"{trigger} failed with error {exc}."
            ) from None
        if not isinstance(result, dict):
            raise CognitoError("InvalidLambdaResponseException", "Unrecognizable lambda output")
        return result


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
