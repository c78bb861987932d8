"""The Pinpoint application (project) and its SMS channel, which SendOTPMessage / VerifyOTPMessage need."""

from __future__ import annotations

from typing import Final

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_pinpoint as pinpoint
from constructs import Construct

from cdk_sms_otp.config import OtpConfig

PINPOINT_END_OF_SUPPORT_REASON: Final = (
    "Amazon Pinpoint's engagement features (segments, campaigns, journeys, analytics) reach end of support; "
    "its SMS sending and the SendOTPMessage/VerifyOTPMessage APIs this stack uses continue under AWS End "
    "User Messaging, which still requires a Pinpoint application with an SMS channel."
)


class Messaging(Construct):
    """``AWS::Pinpoint::App`` + an enabled ``AWS::Pinpoint::SMSChannel``."""

    def __init__(self, scope: Construct, construct_id: str, *, config: OtpConfig, app_name: str) -> None:
        super().__init__(scope, construct_id)
        self.app = pinpoint.CfnApp(self, "App", name=app_name)
        # SenderId / ShortCode are channel defaults; SendOTPMessage always passes OriginationIdentity too.
        self.sms_channel = pinpoint.CfnSMSChannel(
            self,
            "SmsChannel",
            application_id=self.app.ref,
            enabled=True,
            sender_id=config.sender_id,
            short_code=config.short_code,
        )
        # CDK's built-in CloudFormation validation and cfn-lint warn (W3696) on both resource types.
        Validations.of(self).acknowledge(
            Acknowledgment(id="CloudFormation-Validate::W3696", reason=PINPOINT_END_OF_SUPPORT_REASON)
        )
        for resource in (self.app, self.sms_channel):
            resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3696"]}})

    @property
    def application_id(self) -> str:
        return self.app.ref

    @property
    def application_arn(self) -> str:
        return self.app.attr_arn
