"""Synthesize the stack with a user pool of the app's own, as ``tests.infra.support`` synthesizes the
default one (cdk.json's context, no bundling, cdk-nag as a validation plugin)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import Acknowledgment, App, Tags, Validations
from aws_cdk import aws_cognito as cognito
from aws_cdk.cx_api import SynthesisMessageLevel
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from cdk_sms_otp.application import STACK_NAME
from cdk_sms_otp.config import load_config
from cdk_sms_otp.stack import OtpStack
from tests.infra.support import REAL_IDENTITY, cdk_context

PoolFactory = Callable[[Construct], cognito.IUserPool]


@dataclass(frozen=True)
class PoolSynth:
    app: App
    stack: OtpStack
    json: dict[str, Any]
    report: dict[str, Any]
    warnings: list[tuple[str, str]]  # (construct path, message)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == resource_type}


def integrators_pool(scope: Construct, **overrides: Any) -> cognito.UserPool:
    """A pool as an integrator might have it: phone sign-in next to a username, e-mail, own settings; and
    the cdk-nag findings of such a pool acknowledged by its owner (they are not the service's)."""
    options: dict[str, Any] = {
        "user_pool_name": "integrators-users",
        "sign_in_aliases": cognito.SignInAliases(username=True, phone=True, email=True),
        "self_sign_up_enabled": False,
        "auto_verify": cognito.AutoVerifiedAttrs(email=True, phone=False),
        "enable_sms_role": False,
        "password_policy": cognito.PasswordPolicy(
            min_length=12,
            require_digits=True,
            require_lowercase=True,
            require_uppercase=True,
            require_symbols=True,
        ),
        **overrides,
    }
    pool = cognito.UserPool(scope, "IntegratorsPool", **options)
    Validations.of(pool).acknowledge(
        *(
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-{rule}", reason=f"The integrator's own pool: {why}"
            )
            for rule, why in (
                ("COG2", "its MFA policy is the integrator's decision and unrelated to the OTP service's."),
                ("COG8", "the feature plan is the integrator's decision for its own users and its own bill."),
            )
        )
    )
    return pool


def synth_with_pool(
    user_pool: PoolFactory | cognito.IUserPool | None, overrides: dict[str, Any] | None = None
) -> PoolSynth:
    outdir = tempfile.mkdtemp(prefix="otp-cdk-pool-")
    app = App(context=cdk_context({**REAL_IDENTITY, **(overrides or {})}), outdir=outdir)
    config = load_config(app.node.get_all_context())
    stack = OtpStack(app, STACK_NAME, config=config, user_pool=user_pool)
    Tags.of(app).add("project", "cdk-sms-otp")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly = app.synth()  # cdk-nag: an unacknowledged finding raises here
    artifact = assembly.get_stack_by_name(STACK_NAME)
    warnings = [
        (str(message.id), str(message.entry.data))
        for message in artifact.messages
        if message.level == SynthesisMessageLevel.WARNING
    ]
    report = json.loads((Path(outdir) / "validation-report.json").read_text(encoding="utf-8"))
    return PoolSynth(app=app, stack=stack, json=artifact.template, report=report, warnings=warnings)
