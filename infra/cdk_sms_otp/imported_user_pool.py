"""The three auth-challenge triggers on a user pool CDK does not own (``UserPool.from_user_pool_id`` /
``from_user_pool_arn``), through a custom resource.

CloudFormation can set a trigger only on a pool it manages (``AWS::Cognito::UserPool``'s
``LambdaConfig``), and Cognito's ``UpdateUserPool`` resets every setting a request leaves out. So a
function of the stack's own Lambda code (``otp.handlers.user_pool_triggers``, bundled with the other
functions, no Docker) reads the pool and writes back every setting it read with the three triggers
added, when the stack is deployed; on delete it takes off those that still name this stack's functions.
A custom resource rather than a one-command procedure: the triggers then follow the stack (a new
function version, a SnapStart alias, a deleted stack) without anyone running anything, and the checks
(phone sign-in, no other function's auth-challenge trigger) run against the real pool at deploy time.
Not ``custom_resources.AwsCustomResource``: an SDK call cannot read the pool, merge and write it back.

IAM: the function may call ``cognito-idp:DescribeUserPool`` and ``cognito-idp:UpdateUserPool`` on that
pool's ARN only (both take the ``userpool`` resource type); Cognito may invoke each trigger from that pool
only (``aws:SourceArn`` of the invoke permission).
"""

from __future__ import annotations

from typing import Final

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_sms_otp.config import OtpConfig
from cdk_sms_otp.functions import ARCHITECTURE, MEMORY_MB, RUNTIME, log_retention
from cdk_sms_otp.metric_contract import load_metric_contract

RESOURCE_TYPE: Final = "Custom::UserPoolTriggers"
HANDLER: Final = "otp.handlers.user_pool_triggers.handler"
DESCRIBE_USER_POOL: Final = "cognito-idp:DescribeUserPool"
UPDATE_USER_POOL: Final = "cognito-idp:UpdateUserPool"
COGNITO: Final = "cognito-idp.amazonaws.com"


class ImportedPoolTriggers(Construct):
    """Custom::UserPoolTriggers: the three triggers on an imported pool, every other setting kept."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OtpConfig,
        user_pool: cognito.IUserPool,
        code: lambda_.Code,
        define_auth_challenge: lambda_.IFunction,
        create_auth_challenge: lambda_.IFunction,
        verify_auth_challenge: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        triggers = {
            "DefineAuthChallenge": define_auth_challenge,
            "CreateAuthChallenge": create_auth_challenge,
            "VerifyAuthChallengeResponse": verify_auth_challenge,
        }
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{stack.stack_name}: adds the OTP sign-in triggers to its imported user pool",
        )
        log_group.grant_write(self.role)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[DESCRIBE_USER_POOL, UPDATE_USER_POOL], resources=[user_pool.user_pool_arn]
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"{RESOURCE_TYPE}: the OTP sign-in triggers on an imported user pool",
            code=code,
            handler=HANDLER,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=MEMORY_MB,
            timeout=Duration.minutes(1),
            log_group=log_group,
            role=self.role,
            environment={
                "POWERTOOLS_SERVICE_NAME": load_metric_contract().service,
                "POWERTOOLS_LOG_LEVEL": config.log_level,
            },
        )
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        # What an owned pool gets from add_trigger: Cognito may invoke each trigger, from this pool only.
        self.permissions: list[Construct] = []
        for name, function in triggers.items():
            permission_id = f"{name}ImportedPool"
            function.add_permission(
                permission_id,
                principal=iam.ServicePrincipal(COGNITO),
                action="lambda:InvokeFunction",
                source_arn=user_pool.user_pool_arn,
            )
            permission = function.node.find_child(permission_id)
            assert isinstance(permission, Construct)
            self.permissions.append(permission)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={
                "UserPoolId": user_pool.user_pool_id,
                **{name: function.function_arn for name, function in triggers.items()},
            },
            # A function that never answers would otherwise hold the stack for an hour.
            service_timeout=Duration.minutes(5),
        )
        # Cognito may invoke the triggers from the moment they are set, and until they are taken off.
        for permission in self.permissions:
            self.resource.node.add_dependency(permission)
