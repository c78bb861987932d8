"""What the OTP sign-in needs from a user pool it is given, checked at synthesis.

The triggers find a user by the phone number typed at sign-in (``USERNAME`` of ``InitiateAuth``), text
the user's ``phone_number`` and answer Cognito's three custom-auth trigger events. So a pool of the
same CDK app must

- let users sign in with their phone number: ``phone_number`` among its username attributes
  (``SignInAliases(phone=True)``) or its alias attributes (``SignInAliases(username=True, phone=True)``),
  or the username alone when each username is the user's canonical number (the service's own pool's
  design, which does not tell registered numbers from unknown ones; a warning says so).
  Cognito cannot change either on an existing pool, so this is an error (:class:`UserPoolConflict`);
- have no Define, Create or Verify Auth Challenge trigger of its own: a pool has one of each, and the
  service's three work only together (error);
- be in the same stack as the service: the pool names the triggers, and the triggers' invoke
  permissions name the pool, so two stacks would each have to deploy first (error; an imported pool,
  ``UserPool.from_user_pool_id``, has no such cycle).

Softer things are warnings (``Annotations``): open self-sign-up (anyone may register a number and
have it texted), Cognito verifying phone numbers itself (a second sender and bill, through SNS) and,
with ``wafEnabled``, the sign-in web ACL the service associates with the pool (a pool has one).

The checks read the pool's L1 properties (``pool.node.default_child``), as they stand when the service
is added: settings made later, or by ``add_property_override``, are not seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aws_cdk import Annotations, Stack, Token
from aws_cdk import aws_cognito as cognito
from constructs import Construct

PHONE_NUMBER: Final = "phone_number"
#: LambdaConfig keys (as CDK resolves them) -> the trigger's name and its UserPoolTriggers keyword.
CHALLENGE_TRIGGERS: Final[Mapping[str, tuple[str, str]]] = {
    "defineAuthChallenge": ("Define Auth Challenge", "define_auth_challenge"),
    "createAuthChallenge": ("Create Auth Challenge", "create_auth_challenge"),
    "verifyAuthChallengeResponse": ("Verify Auth Challenge Response", "verify_auth_challenge_response"),
}
WARN_SELF_SIGN_UP: Final = "otp:UserPoolSelfSignUp"
WARN_AUTO_VERIFY_PHONE: Final = "otp:UserPoolVerifiesPhone"
WARN_WEB_ACL: Final = "otp:UserPoolWebAcl"


class UserPoolConflict(ValueError):
    """The user pool given to the OTP service cannot carry its sign-in as it is; the message says what to
    change."""


def check_owned_pool(pool: cognito.UserPool, service: Construct, *, waf_enabled: bool) -> None:
    """Raise :class:`UserPoolConflict` for what the sign-in cannot work with; warn about the rest."""
    path = pool.node.path
    pool_stack, service_stack = Stack.of(pool), Stack.of(service)
    if pool_stack is not service_stack:
        raise UserPoolConflict(
            f"user_pool {path} is in stack {pool_stack.node.path}, the OTP service in stack "
            f"{service_stack.node.path}: the pool would name the service's triggers and their invoke "
            "permissions the pool, so each stack would have to deploy first. Define the pool in the "
            "service's stack, or pass it imported (cognito.UserPool.from_user_pool_id(...) in the "
            "service's stack): the service then adds its triggers with a custom resource."
        )
    properties = _properties(pool)
    _check_sign_in_attributes(pool, properties)
    _check_triggers(path, properties)
    _warn(pool, properties)
    if waf_enabled:
        warn_shared_web_acl(pool)


def _properties(pool: cognito.UserPool) -> dict[str, Any]:
    cfn = pool.node.default_child
    if not isinstance(cfn, cognito.CfnUserPool):
        raise UserPoolConflict(
            f"user_pool {pool.node.path} has no CfnUserPool to read; pass the cognito.UserPool itself, or "
            "an imported pool (cognito.UserPool.from_user_pool_id)"
        )
    # The L1 properties as CloudFormation will get them (tokens, such as the lazy LambdaConfig, resolved).
    resolved = Stack.of(pool).resolve(cfn._cfn_properties)
    return dict(resolved) if isinstance(resolved, Mapping) else {}


def _names(value: object) -> list[str] | None:
    """A list of attribute names, or None when it is not known at synthesis (a token)."""
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) and not Token.is_unresolved(v) for v in value):
        return list(value)
    return None


#: A pool that signs in with the username alone works when each username is the user's canonical number.
WARN_USERNAME_IS_NUMBER: Final = "otp:UsernameIsPhoneNumber"
USERNAME_IS_NUMBER: Final = (
    "This pool signs in with the username alone: the OTP sign-in finds a user by the number typed, so "
    "create each user with its canonical E.164 phone number (+12065550100) as the username. That is the "
    "service's own pool's design, and the one whose challenges show registered and unknown numbers alike "
    "(docs/cognito.md)."
)


def _check_sign_in_attributes(pool: cognito.UserPool, properties: Mapping[str, Any]) -> None:
    path = pool.node.path
    usernames = _names(properties.get("usernameAttributes"))
    aliases = _names(properties.get("aliasAttributes"))
    if usernames is None or aliases is None:
        return  # decided at deploy time: nothing to check here
    if PHONE_NUMBER in usernames or PHONE_NUMBER in aliases:
        return
    if not usernames and not aliases:
        # The username alone, as the service's own pool signs in: the username must then be the number.
        Annotations.of(pool).add_warning_v2(WARN_USERNAME_IS_NUMBER, USERNAME_IS_NUMBER)
        return
    now = ", ".join(usernames + aliases)
    raise UserPoolConflict(
        f"user_pool {path} does not let users sign in with their phone number (it signs in with {now}). "
        "Create it with sign_in_aliases=cognito.SignInAliases(phone=True) (the phone number is the "
        "username) or cognito.SignInAliases(username=True, phone=True) (the phone number is an alias). "
        "Cognito cannot change this on a deployed pool: one that is already deployed needs a new pool."
    )


def _check_triggers(path: str, properties: Mapping[str, Any]) -> None:
    config = properties.get("lambdaConfig") or {}
    if not isinstance(config, Mapping):
        return
    taken = [(name, keyword) for key, (name, keyword) in CHALLENGE_TRIGGERS.items() if config.get(key)]
    if taken:
        names = ", ".join(f"{name} ({keyword})" for name, keyword in taken)
        raise UserPoolConflict(
            f"user_pool {path} already has a {names} trigger. A pool has one of each, and the OTP "
            "service's Define, Create and Verify triggers work only together: remove the pool's own from "
            "its lambda_triggers (or add_trigger calls), or omit user_pool and let the service create a "
            "pool of its own."
        )


def _warn(pool: cognito.UserPool, properties: Mapping[str, Any]) -> None:
    annotations = Annotations.of(pool)
    admin = properties.get("adminCreateUserConfig") or {}
    if isinstance(admin, Mapping) and admin.get("allowAdminCreateUserOnly") is not True:
        annotations.add_warning_v2(
            WARN_SELF_SIGN_UP,
            "Self-sign-up is on: anyone can register a phone number in this pool and have the OTP service "
            "text it at your cost (the per-number limits and the send budget still apply). The service's "
            "own pool has self_sign_up_enabled=False; your backend creates users (AdminCreateUser).",
        )
    verified = _names(properties.get("autoVerifiedAttributes")) or []
    if PHONE_NUMBER in verified:
        annotations.add_warning_v2(
            WARN_AUTO_VERIFY_PHONE,
            "Cognito verifies phone numbers itself (auto_verify phone): it texts its own code through "
            "Amazon SNS, a second sender with its own bill and limits. The sign-in texts only verified "
            "numbers; to verify them yourself, set auto_verify=cognito.AutoVerifiedAttrs(phone=False) and "
            "create users with phone_number_verified=true.",
        )


def warn_shared_web_acl(pool: Construct) -> None:
    """With wafEnabled, the service associates its sign-in web ACL with a pool that is not its own."""
    Annotations.of(pool).add_warning_v2(
        WARN_WEB_ACL,
        "wafEnabled: the OTP service associates its sign-in web ACL (a per-IP rate rule) with this "
        "pool. A user pool has at most one web ACL: if yours has one, deploy with wafEnabled=false "
        "(which drops the API's web ACL too) and add a rate rule to your own ACL.",
    )
