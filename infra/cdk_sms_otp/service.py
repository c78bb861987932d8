"""``OtpService``: the whole product as one construct to put in your own stack.

    from cdk_sms_otp import OtpService
    otp = OtpService(self, "Otp", brand_name="Acme", origination_identity="+12065550100")

Its keyword arguments are the configuration schema's options (docs/configuration.md), validated when
the construct is created; the messaging engine, the functions, the HTTP API, the Cognito sign-in, abuse
protection and monitoring are built inside it. Environment-agnostic: no account or region lookups, so
synthesis needs no AWS credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Concatenate, ParamSpec

from aws_cdk import Annotations, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_sms_otp._lambda.otp.options.declaration import CONSTRUCT_ONLY, option, schema_class
from cdk_sms_otp._lambda.otp.options.kinds import Kind
from cdk_sms_otp._lambda.otp.options.rules import engine_daily_messages
from cdk_sms_otp.api import OtpApi
from cdk_sms_otp.auth import OtpAuth
from cdk_sms_otp.config import PINPOINT, OtpConfig, options_from_arguments
from cdk_sms_otp.end_user_messaging import EndUserMessaging
from cdk_sms_otp.fallback import OtpFallback
from cdk_sms_otp.functions import OtpFunctions, lambda_code
from cdk_sms_otp.messaging import Messaging
from cdk_sms_otp.monitoring import OtpMonitoring
from cdk_sms_otp.protection import OtpProtection
from cdk_sms_otp.secret import DeploymentSecret

#: An argument of the construct that is not a configuration option (no context key, no variable).
ARGUMENT = "argument"


@schema_class
class OtpServiceArguments(OtpConfig):
    """The construct's keyword arguments: every option, and what only a CDK app can pass."""

    user_pool: cognito.IUserPool | None = option(
        default=None,
        kind=Kind(),
        functions=CONSTRUCT_ONLY,
        source=ARGUMENT,
        doc="your own user pool, a cognito.UserPool of this app in the same stack (docs/library.md); "
        "default: the construct makes one",
    )
    name_prefix: str | None = option(
        default=None,
        kind=Kind(),
        functions=CONSTRUCT_ONLY,
        source=ARGUMENT,
        doc="prefix of the physical names the construct chooses (the Pinpoint application's name); "
        "default: the stack's name",
    )


_P = ParamSpec("_P")


def _keyword_arguments_of(
    arguments: Callable[_P, object],
) -> Callable[[Callable[..., None]], Callable[Concatenate[Any, Construct, str, _P], None]]:
    """Give ``__init__`` the signature of ``arguments``' constructor for type checkers and IDEs, so that
    each option is a typed keyword argument without restating it here."""

    def typed(init: Callable[..., None]) -> Callable[Concatenate[Any, Construct, str, _P], None]:
        return init

    return typed


class OtpService(Construct):
    """SMS one-time passwords: POST /otp and /otp/verify, Cognito custom-auth sign-in, abuse protection,
    dashboard and alarms. Each concern is one construct; a new one takes the constructs it builds on."""

    #: The options' type; a subclass may extend the schema with its own (tests/infra/test_library.py).
    options_type: ClassVar[type[OtpConfig]] = OtpConfig

    @_keyword_arguments_of(OtpServiceArguments)
    def __init__(self, scope: Construct, construct_id: str, **arguments: Any) -> None:
        super().__init__(scope, construct_id)
        name_prefix = arguments.pop("name_prefix", None)
        user_pool = arguments.pop("user_pool", None)
        config = options_from_arguments(arguments, self.options_type)
        self.options = config
        stack = Stack.of(self)
        prefix = name_prefix or stack.stack_name
        # The Pinpoint application exists while Pinpoint sends, or still verifies the codes it sent
        # before a switch; End User Messaging's resources while it is the engine.
        self.messaging = (
            Messaging(self, "Messaging", config=config, app_name=f"{prefix}-otp")
            if PINPOINT in config.engines_in_use
            else None
        )
        code = lambda_code()  # one asset for every function, the custom resource's included
        self.end_user_messaging = (
            EndUserMessaging(self, "EndUserMessaging", config=config, code=code)
            if config.uses_end_user_messaging
            else None
        )
        self.functions = OtpFunctions(
            self,
            "Functions",
            config=config,
            application_id=self.messaging.application_id if self.messaging else None,
            application_arn=self.messaging.application_arn if self.messaging else None,
            configuration_set=(
                self.end_user_messaging.configuration_set.ref if self.end_user_messaging else None
            ),
            code=code,
            notify_code_configuration=(
                self.end_user_messaging.notify_code_configuration.ref if self.end_user_messaging else None
            ),
        )
        # Random bytes generated at deploy time; a function derives its keys from it once granted.
        self.secret = DeploymentSecret(self, "Secret")
        self.secret.grant_read(self.functions.create_auth_challenge)  # the decoy numbers' key
        self.secret.grant_read(self.functions.api)  # the Idempotency-Key body fingerprints' key
        self.http_api = OtpApi(self, "Api", config=config, handler=self.functions.invoked(self.functions.api))
        self.auth = OtpAuth(self, "Auth", config=config, functions=self.functions, user_pool=user_pool)
        self.monitoring = OtpMonitoring(
            self, "Monitoring", config=config, functions=self.functions, api=self.http_api
        )
        if self.end_user_messaging is not None:
            self.end_user_messaging.add_monitoring(self.monitoring)
        self.protection = OtpProtection(
            self,
            "Protection",
            config=config,
            functions=self.functions,
            api=self.http_api,
            auth=self.auth,
            monitoring=self.monitoring,
        )
        # Channel fallback (End User Messaging with 2+ channels): EventBridge Scheduler one-time schedules.
        self.fallback = (
            OtpFallback(self, "Fallback", functions=self.functions) if config.offers_fallback else None
        )
        daily_cap = engine_daily_messages(config)
        if daily_cap is not None and config.send_budget_per_day > daily_cap:
            Annotations.of(self).add_warning_v2(
                "otp:BudgetAboveEngineCap",
                f"otp.sendBudgetPerDay is {config.send_budget_per_day} but End User Messaging's "
                f"{config.notify_tier} Notify tier sends at most {daily_cap} messages a day: the functions "
                f"keep to {daily_cap}. Set otp.sendBudgetPerDay (and otp.sendBudgetPerHour) to {daily_cap} "
                "or less to silence this, or otp.notifyTier=ADVANCED once your account is on that tier.",
            )
        if config.uses_example_origination:
            Annotations.of(self).add_warning_v2(
                "otp:ExampleConfiguration",
                "otp.brandName / otp.originationIdentity are cdk.json's example values: the stack deploys, "
                "but no SMS can be sent. Deploy with -c otp.brandName=<brand> -c "
                "otp.originationIdentity=<your End User Messaging number, sender ID or pool>.",
            )

    @property
    def api(self) -> apigw.RestApi:
        """The REST API: POST /otp, POST /otp/verify, GET and DELETE /otp/{referenceId}."""
        return self.http_api.rest_api

    @property
    def api_url(self) -> str:
        """The stage's base URL (ends with /)."""
        return self.http_api.url

    @property
    def api_key(self) -> apigw.IApiKey | None:
        """The API key, when ``api_auth="apiKey"``."""
        return self.http_api.api_key

    @property
    def user_pool(self) -> cognito.IUserPool:
        return self.auth.user_pool

    @property
    def user_pool_client(self) -> cognito.IUserPoolClient:
        """The CUSTOM_AUTH app client."""
        return self.auth.client

    @property
    def table(self) -> dynamodb.ITableV2:
        """The protection table (limits, budget, device tickets, Idempotency-Key records)."""
        return self.protection.table

    @property
    def dashboard(self) -> cw.Dashboard:
        return self.monitoring.dashboard

    @property
    def dashboard_url(self) -> str:
        return self.monitoring.dashboard_url

    @property
    def alarm_topic(self) -> sns.ITopic | None:
        """The SNS topic every alarm notifies, when ``alarm_email`` is set."""
        return self.monitoring.topic
