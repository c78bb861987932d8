"""Build the CDK app: configuration from context, one stack holding ``OtpService``, outputs, cdk-nag.
Used by app.py and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aws_cdk import App, CfnOutput, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from cdk_sms_otp._lambda.otp.options.declaration import fields
from cdk_sms_otp.config import OtpConfig, load_config
from cdk_sms_otp.logical_ids import OtpServiceStack
from cdk_sms_otp.service import OtpService

#: The stack's name. Until 0.2.0 it was "PinpointSmsOtp": a deployment made then keeps its stack with
#: ``-c stackName=PinpointSmsOtp`` (CloudFormation knows a stack by its name).
STACK_NAME: Final = "SmsOtp"
STACK_NAME_CONTEXT: Final = "stackName"
SERVICE_ID: Final = "Otp"


def arguments_of(config: OtpConfig) -> dict[str, Any]:
    """The construct's keyword arguments that give ``config``."""
    return {declared.name: getattr(config, declared.name) for declared in fields(config)}


def build_app(
    context: Mapping[str, Any] | None = None, *, outdir: str | None = None
) -> tuple[App, OtpService]:
    """Create the app. ``context`` adds to cdk.json's context (the CLI passes that through the env)."""
    app = App(context=dict(context) if context else None, outdir=outdir)
    config = load_config(app.node.get_all_context())
    stack = OtpServiceStack(
        app,
        str(app.node.try_get_context(STACK_NAME_CONTEXT) or STACK_NAME),
        service_id=SERVICE_ID,
        description="SMS one-time passwords with AWS End User Messaging / Amazon Pinpoint (cdk-sms-otp)",
    )
    otp = OtpService(stack, SERVICE_ID, **arguments_of(config))
    add_outputs(otp)
    Tags.of(app).add("project", "cdk-sms-otp")
    # cdk-nag 3 is a CDK validation plugin: any unacknowledged finding fails synthesis.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, otp


def add_outputs(otp: OtpService) -> None:
    """The stack outputs a deployment's users need (their ids are the stack's, not the service's)."""
    stack = Stack.of(otp)
    CfnOutput(
        stack, "ApiUrl", value=otp.api_url, description="Base URL: POST {ApiUrl}otp, {ApiUrl}otp/verify"
    )
    CfnOutput(stack, "UserPoolId", value=otp.user_pool.user_pool_id, description="Cognito user pool id")
    CfnOutput(
        stack,
        "UserPoolClientId",
        value=otp.user_pool_client.user_pool_client_id,
        description="CUSTOM_AUTH app client id",
    )
    if otp.messaging is not None:
        CfnOutput(
            stack,
            "PinpointApplicationId",
            value=otp.messaging.application_id,
            description="Pinpoint (End User Messaging) application id",
        )
    eum = otp.end_user_messaging
    if eum is not None:
        CfnOutput(
            stack,
            "ConfigurationSetName",
            value=eum.configuration_set.ref,
            description="End User Messaging configuration set every code is sent with (delivery events)",
        )
        CfnOutput(
            stack,
            "NotifyCodeConfigurationId",
            value=eum.notify_code_configuration.ref.configuration_id,
            description="End User Messaging notify code configuration every code is sent with",
        )
        CfnOutput(
            stack,
            "ProtectConfigurationId",
            value=eum.protect_configuration.attr_protect_configuration_id,
            description="End User Messaging protect configuration (country rules) of that set",
        )
    CfnOutput(
        stack,
        "ProtectionTableName",
        value=otp.table.table_name,
        description="DynamoDB table of the per-number limits and Idempotency-Key records",
    )
    CfnOutput(stack, "DashboardUrl", value=otp.dashboard_url, description="CloudWatch dashboard")
    if otp.api_key is not None:
        CfnOutput(
            stack,
            "ApiKeyId",
            value=otp.api_key.key_id,
            description="aws apigateway get-api-key --include-value --api-key <this id>",
        )
    if otp.alarm_topic is not None:
        CfnOutput(stack, "AlarmTopicArn", value=otp.alarm_topic.topic_arn)
