"""Build the CDK app: configuration from context, the stack, cdk-nag. Used by app.py and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aws_cdk import App, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from cdk_sms_otp.config import load_config
from cdk_sms_otp.stack import OtpStack

#: The stack's name. Until 0.2.0 it was "PinpointSmsOtp": a deployment made then keeps its stack with
#: ``-c stackName=PinpointSmsOtp`` (CloudFormation knows a stack by its name).
STACK_NAME: Final = "SmsOtp"
STACK_NAME_CONTEXT: Final = "stackName"


def build_app(context: Mapping[str, Any] | None = None, *, outdir: str | None = None) -> tuple[App, OtpStack]:
    """Create the app. ``context`` adds to cdk.json's context (the CLI passes that through the env)."""
    app = App(context=dict(context) if context else None, outdir=outdir)
    config = load_config(app.node.get_all_context())
    stack = OtpStack(
        app,
        str(app.node.try_get_context(STACK_NAME_CONTEXT) or STACK_NAME),
        config=config,
        description="SMS one-time passwords with AWS End User Messaging / Amazon Pinpoint (cdk-sms-otp)",
    )
    Tags.of(app).add("project", "cdk-sms-otp")
    # cdk-nag 3 is a CDK validation plugin: any unacknowledged finding fails synthesis.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack
