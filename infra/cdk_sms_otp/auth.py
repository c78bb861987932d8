"""Cognito: a user pool whose users sign in with their phone number and an SMS code (CUSTOM_AUTH).

Three ways to get the pool (docs/user-pool.md):

- none given: the service creates its own, configured for this sign-in only;
- a ``cognito.UserPool`` of the same app: the service checks it (:mod:`cdk_sms_otp.user_pool_checks`)
  and adds its three triggers with ``add_trigger``, as CDK adds any trigger;
- a pool CDK does not own (``UserPool.from_user_pool_id`` / ``from_user_pool_arn``): CloudFormation
  cannot set a trigger on it, so a custom resource adds the three and keeps every other setting
  (:mod:`cdk_sms_otp.imported_user_pool`).

Each way gets the same public CUSTOM_AUTH app client and the same invoke permissions (Cognito, from
that pool only).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from cdk_sms_otp.config import OtpConfig
from cdk_sms_otp.functions import OtpFunctions
from cdk_sms_otp.imported_user_pool import ImportedPoolTriggers
from cdk_sms_otp.user_pool_checks import UserPoolConflict, check_owned_pool, warn_shared_web_acl

__all__ = ["OtpAuth", "UserPoolConflict"]


class OtpAuth(Construct):
    """User pool with the Define / Create / Verify Auth Challenge triggers and an app client.

    ``user_pool``: None for a pool of the service's own; a ``cognito.UserPool`` of this app (checked:
    :class:`UserPoolConflict` says what to change); or an imported pool (a custom resource adds the
    triggers at deploy time, :attr:`imported_pool_triggers`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OtpConfig,
        functions: OtpFunctions,
        user_pool: cognito.IUserPool | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        #: The custom resource that adds the triggers to an imported pool (None otherwise).
        self.imported_pool_triggers: ImportedPoolTriggers | None = None
        self.user_pool: cognito.IUserPool
        if user_pool is None:
            self.user_pool = self._own_pool(config, functions)
            self.client = self.user_pool.add_client("AppClient", **_client_options(config))
            return
        self.user_pool = user_pool
        define = functions.invoked(functions.define_auth_challenge)
        create = functions.invoked(functions.create_auth_challenge)
        verify = functions.invoked(functions.verify_auth_challenge)
        if isinstance(user_pool, cognito.UserPool):
            check_owned_pool(user_pool, self, waf_enabled=config.waf_enabled)
            user_pool.add_trigger(cognito.UserPoolOperation.DEFINE_AUTH_CHALLENGE, define)
            user_pool.add_trigger(cognito.UserPoolOperation.CREATE_AUTH_CHALLENGE, create)
            user_pool.add_trigger(cognito.UserPoolOperation.VERIFY_AUTH_CHALLENGE_RESPONSE, verify)
        else:
            if config.waf_enabled:
                warn_shared_web_acl(self)
            self.imported_pool_triggers = ImportedPoolTriggers(
                self,
                "PoolTriggers",
                config=config,
                user_pool=user_pool,
                code=functions.code,
                define_auth_challenge=define,
                create_auth_challenge=create,
                verify_auth_challenge=verify,
            )
        # Under this construct, not the pool: the pool may be the app's, and may already have an AppClient.
        self.client = cognito.UserPoolClient(
            self, "AppClient", user_pool=user_pool, **_client_options(config)
        )

    def _own_pool(self, config: OtpConfig, functions: OtpFunctions) -> cognito.UserPool:
        pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{Stack.of(self).stack_name}-otp",
            # The username is the canonical phone number itself, not a phone sign-in attribute: with one,
            # Cognito answers a registered number's challenge with a generated USERNAME and an unknown
            # one's with the number typed, which tells them apart (docs/cognito.md, "USERNAME").
            sign_in_aliases=cognito.SignInAliases(username=True),
            standard_attributes=cognito.StandardAttributes(
                phone_number=cognito.StandardAttribute(required=True, mutable=True)
            ),
            # Users are created by the integrator's backend (AdminCreateUser) with a verified phone number:
            # open self-sign-up would let anyone register arbitrary numbers and make this pool text them.
            self_sign_up_enabled=False,
            # Cognito's own SMS (verification, MFA, recovery) would go through SNS with a second role and
            # a second SMS bill; every SMS here goes through Pinpoint from the Create Auth Challenge trigger.
            auto_verify=cognito.AutoVerifiedAttrs(email=False, phone=False),
            enable_sms_role=False,
            mfa=cognito.Mfa.OFF,
            account_recovery=cognito.AccountRecovery.NONE,
            # Passwords are not used to sign in, but Cognito still stores one per user: make it strong.
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=Duration.days(1),
            ),
            feature_plan=cognito.FeaturePlan.LITE,
            lambda_triggers=cognito.UserPoolTriggers(
                define_auth_challenge=functions.invoked(functions.define_auth_challenge),
                create_auth_challenge=functions.invoked(functions.create_auth_challenge),
                verify_auth_challenge_response=functions.invoked(functions.verify_auth_challenge),
            ),
            removal_policy=RemovalPolicy.RETAIN,  # the users are data: `cdk destroy` keeps the pool
        )
        Validations.of(pool).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-COG2",
                reason="Sign-in is passwordless: the possession factor is the SMS one-time password sent "
                "by the custom-auth challenge. Cognito MFA applies to password sign-in and would send a "
                "second SMS through SNS.",
            ),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-COG8",
                reason="The Plus plan (threat protection) adds about USD 0.02 per monthly active user; "
                "the Lite plan supports the custom-auth triggers this pool needs, and SMS abuse is limited "
                "by the OTP service's own throttling and per-number limits. Set feature_plan to PLUS here "
                "to add threat protection.",
            ),
        )
        return pool

    @property
    def user_pool_id(self) -> str:
        return self.user_pool.user_pool_id

    @property
    def client_id(self) -> str:
        return self.client.user_pool_client_id


def _client_options(config: OtpConfig) -> dict[str, Any]:
    """The public CUSTOM_AUTH app client, the same on every kind of pool."""
    return {
        "user_pool_client_name": "otp-custom-auth",
        "auth_flows": cognito.AuthFlow(custom=True),  # CDK adds ALLOW_REFRESH_TOKEN_AUTH
        "generate_secret": False,  # a public client (mobile / single-page apps)
        "prevent_user_existence_errors": True,
        "disable_o_auth": True,
        # The challenge session must outlive the code, or the user cannot answer it (Cognito: 3-15 min).
        "auth_session_validity": Duration.minutes(min(max(config.validity_minutes, 3), 15)),
        "enable_token_revocation": True,
    }
