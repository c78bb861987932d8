"""The REST API: stage ``v1``, ``POST /otp``, ``POST /otp/verify`` and ``GET`` / ``DELETE
/otp/{referenceId}`` in front of the API function.

API Gateway rejects malformed bodies before they reach (and bill) the function, answers every error of
its own as ``application/problem+json`` like the handler does, throttles the stage, logs each request as
one JSON line and traces with X-Ray (unless ``tracing`` is ``off``).
"""

from __future__ import annotations

import json
from typing import Final

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_sms_otp.api_contract import (
    request_body_schema,
    request_parameters,
    status_path,
    to_api_gateway,
    to_draft4,
)
from cdk_sms_otp.config import OtpConfig
from cdk_sms_otp.functions import log_retention

STAGE_NAME: Final = "v1"
SEND_PATH: Final = "/otp"
VERIFY_PATH: Final = "/otp/verify"

# API Gateway's own errors, in the handler's RFC 9457 shape (otp/handlers/problems.py: the same type URN
# prefix and members). `$context.error.messageString` is already a quoted JSON string;
# `validationErrorString` is not escaped, so it is left out of the body.
PROBLEM_TYPE_PREFIX: Final = "urn:otp:problem:"
_R = apigw.ResponseType
GATEWAY_RESPONSES: Final[tuple[tuple[apigw.ResponseType, int | None, str, str], ...]] = (
    (_R.BAD_REQUEST_BODY, 400, "invalid-request", "Invalid request"),
    (_R.BAD_REQUEST_PARAMETERS, 400, "invalid-request", "Invalid request"),
    (_R.UNAUTHORIZED, 401, "unauthorized", "Unauthorized"),
    (_R.ACCESS_DENIED, 403, "forbidden", "Forbidden"),
    (_R.EXPIRED_TOKEN, 403, "forbidden", "Forbidden"),
    (_R.INVALID_API_KEY, 403, "forbidden", "Forbidden"),
    (_R.INVALID_SIGNATURE, 403, "forbidden", "Forbidden"),
    # Also what API Gateway answers for a path or method that does not exist.
    (_R.MISSING_AUTHENTICATION_TOKEN, 403, "forbidden", "Missing authentication or unknown resource"),
    (_R.WAF_FILTERED, 403, "forbidden", "Forbidden"),
    (_R.RESOURCE_NOT_FOUND, 404, "not-found", "Not found"),
    (_R.REQUEST_TOO_LARGE, 413, "payload-too-large", "Payload too large"),
    (_R.UNSUPPORTED_MEDIA_TYPE, 415, "unsupported-media-type", "Unsupported media type"),
    (_R.QUOTA_EXCEEDED, 429, "quota-exceeded", "API key quota exceeded"),
    (_R.THROTTLED, 429, "too-many-requests", "Too many requests"),
    (_R.API_CONFIGURATION_ERROR, 500, "internal-error", "Internal error"),
    (_R.AUTHORIZER_CONFIGURATION_ERROR, 500, "internal-error", "Internal error"),
    (_R.AUTHORIZER_FAILURE, 500, "internal-error", "Internal error"),
    (_R.INTEGRATION_FAILURE, 504, "integration-failure", "The function failed"),
    (_R.INTEGRATION_TIMEOUT, 504, "integration-timeout", "The function timed out"),
    # Anything else keeps API Gateway's status code, which the template cannot know.
    (_R.DEFAULT_4_XX, None, "client-error", "Client error"),
    (_R.DEFAULT_5_XX, None, "server-error", "Server error"),
)

_F = apigw.AccessLogField
ACCESS_LOG_FIELDS: Final = {
    "requestId": _F.context_request_id(),
    "extendedRequestId": _F.context_extended_request_id(),
    "requestTime": _F.context_request_time(),
    "httpMethod": _F.context_http_method(),
    "resourcePath": _F.context_resource_path(),
    "status": _F.context_status(),
    "protocol": _F.context_protocol(),
    "responseLength": _F.context_response_length(),
    "responseLatency": _F.context_response_latency(),
    "integrationLatency": _F.context_integration_latency(),
    "integrationStatus": _F.context_integration_status(),
    "errorType": _F.context_error_response_type(),
    "errorMessage": _F.context_error_message(),
    "sourceIp": _F.context_identity_source_ip(),
    "userAgent": _F.context_identity_user_agent(),
    "caller": _F.context_identity_user_arn(),
    "apiKeyId": _F.context_identity_api_key_id(),  # the key's id, never the key
    "xrayTraceId": _F.context_xray_trace_id(),
}


def _problem_template(status: int | None, slug: str, title: str) -> str:
    status_member = f'"status":{status},' if status is not None else ""
    return (
        f'{{"type":"{PROBLEM_TYPE_PREFIX}{slug}","title":"{title}",{status_member}'
        '"detail":$context.error.messageString,"requestId":"$context.requestId"}'
    )


class OtpApi(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: OtpConfig, handler: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        stack_name = Stack.of(self).stack_name
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{stack_name}-otp",
            description="Send and verify SMS one-time passwords",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Access and execution logging need API Gateway's account-level CloudWatch role. It is kept
            # when the stack is deleted, because every other API in the account and region relies on it.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=config.throttle_rate_limit,
                throttling_burst_limit=config.throttle_burst_limit,
                tracing_enabled=config.tracing != "off",
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # full request logging would write phone numbers to the logs
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        # RestApi adds an "Endpoint" output of its own; the stack's ApiUrl output is the documented one.
        self.rest_api.node.try_remove_child("Endpoint")
        for response_type, status, slug, title in GATEWAY_RESPONSES:
            headers = {"Content-Type": "'application/problem+json'"}
            if response_type.response_type == "THROTTLED":
                headers["Retry-After"] = "'1'"
            self.rest_api.add_gateway_response(
                f"{response_type.response_type}Problem",
                type=response_type,
                status_code=str(status) if status is not None else None,
                response_headers=headers,
                templates={"application/json": _problem_template(status, slug, title)},
            )

        # The methods declare no required parameters, so parameter validation only rejects what the
        # models reject; both flags on is what a "validating" validator means to cdk-nag (APIG2).
        validator = self.rest_api.add_request_validator(
            "Validator",
            request_validator_name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        # The models are the handler's own request schemas (lambda/otp/api_schema.py), as draft 4.
        send_model = self.rest_api.add_model(
            "SendOtpRequest",
            content_type="application/json",
            model_name="SendOtpRequest",
            schema=to_api_gateway(to_draft4(request_body_schema(SEND_PATH))),
        )
        verify_model = self.rest_api.add_model(
            "VerifyOtpRequest",
            content_type="application/json",
            model_name="VerifyOtpRequest",
            schema=to_api_gateway(to_draft4(request_body_schema(VERIFY_PATH))),
        )
        integration = apigw.LambdaIntegration(handler, proxy=True)
        # IAM (SigV4) by default; with apiAuth=apiKey the key + usage plan identify the caller instead.
        api_key_required = config.api_auth == "apiKey"
        authorization_type = apigw.AuthorizationType.NONE if api_key_required else apigw.AuthorizationType.IAM

        otp = self.rest_api.root.add_resource("otp")
        self.send_method = otp.add_method(
            "POST",
            integration,
            operation_name="SendOtp",
            request_validator=validator,
            request_models={"application/json": send_model},
            authorization_type=authorization_type,
            api_key_required=api_key_required,
        )
        self.verify_method = otp.add_resource("verify").add_method(
            "POST",
            integration,
            operation_name="VerifyOtp",
            request_validator=validator,
            request_models={"application/json": verify_model},
            authorization_type=authorization_type,
            api_key_required=api_key_required,
        )
        # GET and DELETE /otp/{referenceId}. API Gateway requires GET's phoneNumber; DELETE takes it in the
        # body or the query, so neither is required there, and its body has no model: what API Gateway
        # does with a model and an empty body is not documented, and the handler checks the body with the
        # same schema (CancelOtpBody).
        status_resource = status_path()
        verification = otp.add_resource(status_resource.rsplit("/", 1)[-1])
        self.status_method = verification.add_method(
            "GET",
            integration,
            operation_name="GetVerification",
            request_validator=validator,
            request_parameters=request_parameters(status_resource, "get"),
            authorization_type=authorization_type,
            api_key_required=api_key_required,
        )
        self.cancel_method = verification.add_method(
            "DELETE",
            integration,
            operation_name="CancelVerification",
            request_validator=validator,
            request_parameters=request_parameters(status_resource, "delete"),
            authorization_type=authorization_type,
            api_key_required=api_key_required,
        )

        self.api_key: apigw.IApiKey | None = None
        if config.api_auth == "apiKey":
            plan = self.rest_api.add_usage_plan(
                "UsagePlan",
                name=f"{stack_name}-otp",
                description="Callers of the OTP API",
                throttle=apigw.ThrottleSettings(
                    rate_limit=config.throttle_rate_limit, burst_limit=config.throttle_burst_limit
                ),
                api_stages=[
                    apigw.UsagePlanPerApiStage(api=self.rest_api, stage=self.rest_api.deployment_stage)
                ],
            )
            self.api_key = self.rest_api.add_api_key("ApiKey", description="Caller of the OTP API")
            plan.add_api_key(self.api_key)

        self._acknowledge(config)

    @property
    def url(self) -> str:
        return self.rest_api.url

    def _acknowledge(self, config: OtpConfig) -> None:
        cloud_watch_role = self.rest_api.node.find_child("CloudWatchRole")
        Validations.of(cloud_watch_role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                reason="This is API Gateway's account-wide CloudWatch role (AWS::ApiGateway::Account), "
                "used by every REST API in the account and region, so it cannot be scoped to this API's "
                "log groups; the AWS-managed policy is the one AWS documents for it and keeps current.",
            )
        )
        if not config.waf_enabled:  # by default the protection construct attaches a WAF web ACL
            Validations.of(self.rest_api.deployment_stage).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-APIG3",
                    reason="otp.wafEnabled=false was chosen explicitly, to save the web ACL's monthly and "
                    "per-request fees: stage throttling (and the usage plan in apiKey mode) and the "
                    "service's per-number send and verify limits still apply.",
                )
            )
        for method in (self.send_method, self.verify_method, self.status_method, self.cancel_method):
            Validations.of(method).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-COG4",
                    reason="The OTP API is called by the integrator's backend, before the end user has any "
                    "identity, so a Cognito user pool authorizer cannot apply; callers authenticate with "
                    "SigV4 (IAM, the default) or an API key. End users sign in through the Cognito "
                    "custom-auth triggers instead.",
                )
            )
            if config.api_auth == "apiKey":
                Validations.of(method).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions::AwsSolutions-APIG4",
                        reason="apiAuth=apiKey was chosen explicitly in the configuration: callers are "
                        "identified by an API key tied to a usage plan with throttling; the default, "
                        "apiAuth=iam, uses SigV4 authorization.",
                    )
                )
