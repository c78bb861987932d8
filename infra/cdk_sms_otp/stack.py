"""The one stack: messaging, functions, API, Cognito, monitoring and abuse protection, wired together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from cdk_sms_otp.api import OtpApi
from cdk_sms_otp.auth import OtpAuth
from cdk_sms_otp.config import PINPOINT, OtpConfig
from cdk_sms_otp.end_user_messaging import EndUserMessaging
from cdk_sms_otp.functions import OtpFunctions, lambda_code
from cdk_sms_otp.messaging import Messaging
from cdk_sms_otp.monitoring import OtpMonitoring
from cdk_sms_otp.protection import OtpProtection
from cdk_sms_otp.secret import DeploymentSecret


class OtpStack(Stack):
    """Environment-agnostic: no account or region lookups, so synthesis needs no AWS credentials.

    Each concern is one construct; a new one takes the constructs it builds on (as OtpProtection takes
    the functions, the API and the monitoring) and adds its variables, grants, alarms and widgets.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OtpConfig,
        user_pool: cognito.IUserPool | Callable[[Construct], cognito.IUserPool] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # A callable makes the pool inside this stack (an owned pool must be in the service's stack).
        pool = user_pool(self) if callable(user_pool) else user_pool
        self.config = config
        # The Pinpoint application exists while Pinpoint sends, or still verifies the codes it sent
        # before a switch; End User Messaging's resources while it is the engine.
        self.messaging = (
            Messaging(self, "Messaging", config=config, app_name=f"{self.stack_name}-otp")
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
        self.api = OtpApi(self, "Api", config=config, handler=self.functions.invoked(self.functions.api))
        self.auth = OtpAuth(self, "Auth", config=config, functions=self.functions, user_pool=pool)
        self.monitoring = OtpMonitoring(
            self, "Monitoring", config=config, functions=self.functions, api=self.api
        )
        if self.end_user_messaging is not None:
            self.end_user_messaging.add_monitoring(self.monitoring)
        self.protection = OtpProtection(
            self,
            "Protection",
            config=config,
            functions=self.functions,
            api=self.api,
            auth=self.auth,
            monitoring=self.monitoring,
        )

        CfnOutput(
            self, "ApiUrl", value=self.api.url, description="Base URL: POST {ApiUrl}otp, {ApiUrl}otp/verify"
        )
        CfnOutput(self, "UserPoolId", value=self.auth.user_pool_id, description="Cognito user pool id")
        CfnOutput(
            self, "UserPoolClientId", value=self.auth.client_id, description="CUSTOM_AUTH app client id"
        )
        if self.messaging is not None:
            CfnOutput(
                self,
                "PinpointApplicationId",
                value=self.messaging.application_id,
                description="Pinpoint (End User Messaging) application id",
            )
        if self.end_user_messaging is not None:
            CfnOutput(
                self,
                "ConfigurationSetName",
                value=self.end_user_messaging.configuration_set.ref,
                description="End User Messaging configuration set every code is sent with (delivery events)",
            )
            CfnOutput(
                self,
                "NotifyCodeConfigurationId",
                value=self.end_user_messaging.notify_code_configuration.ref.configuration_id,
                description="End User Messaging notify code configuration every code is sent with",
            )
            CfnOutput(
                self,
                "ProtectConfigurationId",
                value=self.end_user_messaging.protect_configuration.attr_protect_configuration_id,
                description="End User Messaging protect configuration (country rules) of that set",
            )
        CfnOutput(
            self,
            "ProtectionTableName",
            value=self.protection.table.table_name,
            description="DynamoDB table of the per-number limits and Idempotency-Key records",
        )
        CfnOutput(
            self, "DashboardUrl", value=self.monitoring.dashboard_url, description="CloudWatch dashboard"
        )
        if self.api.api_key is not None:
            CfnOutput(
                self,
                "ApiKeyId",
                value=self.api.api_key.key_id,
                description="aws apigateway get-api-key --include-value --api-key <this id>",
            )
        if self.monitoring.topic is not None:
            CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)

        if config.uses_example_origination:
            Annotations.of(self).add_warning_v2(
                "otp:ExampleConfiguration",
                "otp.brandName / otp.originationIdentity are cdk.json's example values: the stack deploys, "
                "but no SMS can be sent. Deploy with -c otp.brandName=<brand> -c "
                "otp.originationIdentity=<your End User Messaging number, sender ID or pool>.",
            )
