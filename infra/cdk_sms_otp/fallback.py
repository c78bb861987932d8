"""Channel fallback on AWS: EventBridge Scheduler one-time schedules that invoke the Fallback function.

When ``POST /otp`` plans a fallback, the API function creates one schedule (``at(...)``, no flexible
window, deleted after it ran) in this stack's schedule group, whose target is the Fallback function with
the job as its input; the job, if the verification is still open, sends the next channel's code through
every limit and schedules the plan's next step itself (otp/domain/fallback.py).

Why EventBridge Scheduler rather than a DynamoDB stream with TTL: DynamoDB deletes an expired item
"typically within a few days" of its expiry, not at it, so TTL cannot time a call 60 s after a text; a
stream with a polling delay would need a function running all the time. A one-time schedule runs at its
time (to the second of its expression), costs one request, needs no function waiting, and cleans itself
up. Nothing cancels a schedule: a verified or cancelled verification is found when the job runs, and the
job does nothing (its one invocation is the cost of not adding a DeleteSchedule to every verify).

IAM: the API and Fallback functions may create schedules in this group only and pass this scheduler role
only, to EventBridge Scheduler only; the role may invoke the Fallback function only, and only
EventBridge Scheduler of this account may assume it.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Acknowledgment, Aws, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from cdk_sms_otp.functions import OtpFunctions

CREATE_SCHEDULE: Final = "scheduler:CreateSchedule"
SCHEDULER_PRINCIPAL: Final = "scheduler.amazonaws.com"


class OtpFallback(Construct):
    """The schedule group, the role the schedules invoke with, and the grants and variables that use them."""

    def __init__(self, scope: Construct, construct_id: str, *, functions: OtpFunctions) -> None:
        super().__init__(scope, construct_id)
        fallback = functions.fallback
        if fallback is None:
            raise ValueError("channel fallback needs the Fallback function (End User Messaging, 2+ channels)")
        stack_name = Stack.of(self).stack_name
        group_name = f"{stack_name[:50]}-otp-fallback"
        self.group = scheduler.CfnScheduleGroup(self, "Schedules", name=group_name)
        target = functions.invoked(fallback)
        self.role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                SCHEDULER_PRINCIPAL, conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description=f"{stack_name}: EventBridge Scheduler invokes the channel fallback function",
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[target.function_arn])
        )
        schedules = Stack.of(self).format_arn(
            service="scheduler", resource="schedule", resource_name=f"{group_name}/*"
        )
        for function in (functions.api, fallback):
            function.add_to_role_policy(iam.PolicyStatement(actions=[CREATE_SCHEDULE], resources=[schedules]))
            assert function.role is not None
            Validations.of(function.role).acknowledge(
                Acknowledgment(
                    id=(
                        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:"
                        f"<AWS::AccountId>:schedule/{group_name}/*]"
                    ),
                    reason=(
                        "Each fallback job is a schedule of its own whose name is known only when it is "
                        "created; the statement allows CreateSchedule in this stack's schedule group only."
                    ),
                )
            )
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[self.role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": SCHEDULER_PRINCIPAL}},
                )
            )
            function.add_environment("OTP_FALLBACK_SCHEDULE_GROUP", group_name)
            function.add_environment("OTP_FALLBACK_ROLE_ARN", self.role.role_arn)
        # The Fallback function schedules its next step with its own ARN (from its invocation's context):
        # its own ARN in its environment would make the function depend on itself.
        functions.api.add_environment("OTP_FALLBACK_TARGET_ARN", target.function_arn)
        self.target: lambda_.IFunction = target
        for function in (functions.api, fallback):
            function.node.add_dependency(self.group)
