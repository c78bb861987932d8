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

from cdk_sms_otp.application import SERVICE_ID, STACK_NAME, add_outputs, arguments_of
from cdk_sms_otp.config import load_config
from cdk_sms_otp.logical_ids import OtpServiceStack
from cdk_sms_otp.service import OtpService
from tests.infra.support import REAL_IDENTITY, cdk_context

PoolFactory = Callable[[Construct], cognito.IUserPool]


@dataclass(frozen=True)
class PoolSynth:
    app: App
    stack: OtpServiceStack
    service: OtpService
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
    stack = OtpServiceStack(app, STACK_NAME, service_id=SERVICE_ID)
    # A callable makes the pool inside the stack (an owned pool must be in the service's stack).
    pool = user_pool(stack) if callable(user_pool) else user_pool
    service = OtpService(stack, SERVICE_ID, **arguments_of(config), user_pool=pool)
    add_outputs(service)
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
    return PoolSynth(
        app=app, stack=stack, service=service, json=artifact.template, report=report, warnings=warnings
    )
