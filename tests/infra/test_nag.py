"""cdk-nag (AwsSolutions) and CDK's CloudFormation validation: no unacknowledged finding, and every
acknowledgement is a known one with a reason on record."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_s3 as s3

from cdk_sms_otp.application import build_app
from tests.infra.support import REAL_IDENTITY, VARIANT, cdk_context, synth

# (acknowledged id, construct path below the service, <stack>/Otp/...) -> why it is on this list:
# see the reasons in code.
# Every method of the API (send, verify, a verification's status and its cancellation).
API_METHODS = ("otp/POST", "otp/verify/POST", "otp/{referenceId}/GET", "otp/{referenceId}/DELETE")
EXPECTED_DEFAULT = (
    {
        ("AwsSolutions::AwsSolutions-IAM5[Resource::*]", f"Functions/{name}/Role/DefaultPolicy/Resource")
        for name in ("Api", "DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallenge")
    }
    | {
        (
            "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "Api/RestApi/CloudWatchRole/Resource",
        ),
    }
    | {
        ("AwsSolutions::AwsSolutions-COG4", f"Api/RestApi/Default/{method}/Resource")
        for method in API_METHODS
    }
    | {
        ("AwsSolutions::AwsSolutions-COG2", "Auth/UserPool/Resource"),
        ("AwsSolutions::AwsSolutions-COG8", "Auth/UserPool/Resource"),
        # The deployment secret is not rotated on purpose (infra/secret.py says why).
        ("AwsSolutions::AwsSolutions-SMG4", "Secret/Secret/Resource"),
        ("CloudFormation-Validate::W3696", "Messaging/App"),
        ("CloudFormation-Validate::W3696", "Messaging/SmsChannel"),
    }
)
EXPECTED_VARIANT_EXTRA = {("AwsSolutions::AwsSolutions-APIG3", "Api/RestApi/DeploymentStage.v1/Resource")} | {
    ("AwsSolutions::AwsSolutions-APIG4", f"Api/RestApi/Default/{method}/Resource") for method in API_METHODS
}


def _acknowledged(report: dict[str, Any]) -> set[tuple[str, str]]:
    found = set()
    for plugin in report["pluginReports"]:
        for violation in plugin.get("suppressedViolations", []):
            # Then (for every caller) each acknowledgement carries a real sentence of reason
            assert len(violation["reason"]) > 80, violation
            for construct in violation["violatingConstructs"]:
                found.add((violation["acknowledgedId"], construct["constructPath"].split("/", 2)[2]))
    return found


def _unacknowledged(report: dict[str, Any]) -> list[str]:
    return [
        v["ruleName"]
        for plugin in report["pluginReports"]
        if plugin["pluginName"] in ("AwsSolutions", "CloudFormation Validate")
        for v in plugin["violations"]
    ]


def test_default_stack_has_no_open_finding_and_only_the_known_acknowledgements():
    # Given the default deployment, synthesized with the cdk-nag plugin (a finding would raise here)
    report = synth(REAL_IDENTITY).report

    # Then nothing is left open, and the acknowledgements are exactly the reviewed list
    assert _unacknowledged(report) == []
    assert {p["pluginName"]: p["conclusion"] for p in report["pluginReports"]}["AwsSolutions"] == "success"
    assert _acknowledged(report) == EXPECTED_DEFAULT


def test_variant_adds_only_the_api_key_and_no_waf_acknowledgements():
    # Given apiAuth=apiKey, wafEnabled=false, an alarm e-mail (SNS topic + KMS key), a sender ID, DLT ids
    report = synth(VARIANT).report

    # Then the only new acknowledgements are the methods' APIG4 and the stage's APIG3 (no web ACL),
    # and the topic and its key raise nothing
    assert _unacknowledged(report) == []
    assert _acknowledged(report) == EXPECTED_DEFAULT | EXPECTED_VARIANT_EXTRA


def test_an_unacknowledged_finding_fails_synthesis(tmp_path):
    # Given the app with one non-compliant resource added (an S3 bucket without TLS or access logs)
    app, stack = build_app(cdk_context(REAL_IDENTITY), outdir=str(tmp_path))
    s3.Bucket(stack, "Careless")

    # When it is synthesized, Then cdk-nag stops it, naming the rule
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    assert "AwsSolutions-S10" in (tmp_path / "validation-report.json").read_text(encoding="utf-8")
