"""Synthesize the stack the way `npx cdk synth` does, minus the CLI, bundling and network.

cdk.json's context (feature flags and the ``otp`` defaults) is passed explicitly: an in-process ``App``
does not read cdk.json, and a template synthesized without the flags would not be the deployed one.
Results are cached per configuration, so each worker synthesizes each configuration once.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import CfnElement, Stack
from aws_cdk.assertions import Template

from cdk_sms_otp.application import STACK_NAME, build_app
from cdk_sms_otp.service import OtpService
from otp.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
CDK_JSON: dict[str, Any] = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))

#: A configuration that is not cdk.json's example one.
REAL_IDENTITY: dict[str, Any] = {"otp.brandName": "Acme", "otp.originationIdentity": "+12065550123"}
#: Every optional shape at once (one synthesis): API keys, alarm e-mail, sender ID, DLT ids, limits, no WAF.
VARIANT: dict[str, Any] = {
    "otp.brandName": "Acme",
    "otp.originationIdentity": "AcmeCo",
    "otp.apiAuth": "apiKey",
    "otp.alarmEmail": "ops@example.com",
    "otp.throttleRateLimit": 25,
    "otp.throttleBurstLimit": 50,
    "otp.logRetentionDays": 90,
    "otp.entityId": "1101234567890123456",
    "otp.templateId": "1107890123456789012",
    "otp.allowedCountries": ["IN"],
    "otp.wafEnabled": False,
}


def cdk_context(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    context = dict(CDK_JSON["context"])
    context["aws:cdk:version-reporting"] = CDK_JSON.get("versionReporting", True)
    context["aws:cdk:bundling-stacks"] = []  # skip bundling: fast, and the asset is not deployed
    context.update(overrides or {})
    return context


@dataclass(frozen=True)
class Synth:
    service: OtpService
    template: Template
    json: dict[str, Any]
    report: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == resource_type}

    def logical_id(self, construct: Any) -> str:
        element = construct if isinstance(construct, CfnElement) else construct.node.default_child
        return str(self.stack.get_logical_id(element))

    @property
    def stack(self) -> Stack:
        return Stack.of(self.service)


@cache
def _synth(frozen: tuple[tuple[str, str], ...]) -> Synth:
    overrides = {key: json.loads(value) for key, value in frozen}
    outdir = tempfile.mkdtemp(prefix="otp-cdk-")
    app, service = build_app(cdk_context(overrides), outdir=outdir)
    assembly = app.synth()  # runs cdk-nag: an unacknowledged finding raises here
    template_json = assembly.get_stack_by_name(STACK_NAME).template
    report = json.loads((Path(outdir) / "validation-report.json").read_text(encoding="utf-8"))
    return Synth(
        service=service, template=Template.from_json(template_json), json=template_json, report=report
    )


def synth(overrides: dict[str, Any] | None = None) -> Synth:
    """The synthesized stack for cdk.json's context plus ``overrides`` (flat ``otp.<key>`` entries)."""
    frozen = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in (overrides or {}).items()))
    return _synth(frozen)


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn_of(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def deployed_settings(variables: dict[str, Any]) -> Settings:
    """What a function reads from the variables the template gives it (a CloudFormation reference stands
    in as a placeholder). The template holds only non-default values: the settings hold them all."""
    environ = {
        k: v if isinstance(v, str) else "resolved-cloudformation-reference" for k, v in variables.items()
    }
    return load_settings(environ)
