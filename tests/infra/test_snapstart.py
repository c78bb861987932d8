"""``otp.snapStart``: off, the functions are invoked as they are; on, each publishes a version with
SnapStart and every caller (API Gateway, the three Cognito triggers) invokes its alias, with permissions
on the alias only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cdk_sms_otp.config import ConfigError, load_config
from cdk_sms_otp.functions import ALIAS_NAME
from tests.infra.support import REAL_IDENTITY, Synth, arn_of, ref, synth

SNAP_START: dict[str, Any] = {**REAL_IDENTITY, "otp.snapStart": True}
FUNCTIONS = ("api", "define_auth_challenge", "create_auth_challenge", "verify_auth_challenge")
TRIGGERS = {
    "DefineAuthChallenge": "define_auth_challenge",
    "CreateAuthChallenge": "create_auth_challenge",
    "VerifyAuthChallengeResponse": "verify_auth_challenge",
}


def _function_ids(s: Synth) -> dict[str, str]:
    return {name: s.logical_id(getattr(s.service.functions, name)) for name in FUNCTIONS}


def _alias_of(s: Synth, function_id: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (lid, alias)
        for lid, alias in s.resources("AWS::Lambda::Alias").items()
        if alias["Properties"]["FunctionName"] == ref(function_id)
    ]
    return found


def _integration_targets(s: Synth) -> list[Any]:
    """What each API method's Lambda proxy integration URI invokes: the ARN between ``functions/`` and
    ``/invocations`` (a function's ``Fn::GetAtt Arn``, or an alias's ``Ref``, which is its ARN)."""
    targets = []
    for method in s.resources("AWS::ApiGateway::Method").values():
        parts = method["Properties"]["Integration"]["Uri"]["Fn::Join"][1]
        start = next(i for i, part in enumerate(parts) if str(part).endswith("functions/"))
        assert parts[start + 2] == "/invocations", parts
        targets.append(parts[start + 1])
    return targets


def _invoke_permissions(s: Synth) -> dict[str, set[str]]:
    """Principal -> the logical ids of what it may invoke (FunctionName: a function's ARN or an alias)."""
    found: dict[str, set[str]] = {}
    for permission in s.resources("AWS::Lambda::Permission").values():
        props = permission["Properties"]
        assert props["Action"] == "lambda:InvokeFunction"
        name = props["FunctionName"]
        target = name["Ref"] if "Ref" in name else name["Fn::GetAtt"][0]
        found.setdefault(props["Principal"], set()).add(target)
    return found


def test_off_by_default_the_callers_invoke_the_functions_and_nothing_is_published():
    # Given the default deployment
    s = synth(REAL_IDENTITY)
    ids = _function_ids(s)

    # Then no function has SnapStart, no version or alias exists ...
    assert all("SnapStart" not in f["Properties"] for f in s.resources("AWS::Lambda::Function").values())
    assert s.resources("AWS::Lambda::Version") == {}
    assert s.resources("AWS::Lambda::Alias") == {}
    # ... and API Gateway and Cognito invoke (and may invoke) the functions themselves
    assert _integration_targets(s) == [arn_of(ids["api"])] * 4  # every method of the API
    (pool,) = s.resources("AWS::Cognito::UserPool").values()
    assert pool["Properties"]["LambdaConfig"] == {
        trigger: arn_of(ids[name]) for trigger, name in TRIGGERS.items()
    }
    assert _invoke_permissions(s) == {
        "apigateway.amazonaws.com": {ids["api"]},
        "cognito-idp.amazonaws.com": {ids[name] for name in TRIGGERS.values()},
    }


def test_on_every_function_publishes_a_snapstart_version_behind_an_alias():
    # Given otp.snapStart=true
    s = synth(SNAP_START)
    ids = _function_ids(s)
    versions = s.resources("AWS::Lambda::Version")

    # Then each of the four functions snapshots its published versions ...
    for function_id in ids.values():
        function = s.json["Resources"][function_id]
        assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        # ... publishes exactly one version, deleted when a newer one replaces it (a kept version would
        # keep a billed snapshot) ...
        (version_id,) = [
            v for v, r in versions.items() if r["Properties"]["FunctionName"] == ref(function_id)
        ]
        assert versions[version_id]["DeletionPolicy"] == "Delete"
        # ... and has one alias on that version
        _, alias = _alias_of(s, function_id)
        assert alias["Properties"]["Name"] == ALIAS_NAME
        assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
    assert len(versions) == len(s.resources("AWS::Lambda::Alias")) == 4


def test_on_api_gateway_and_the_cognito_triggers_invoke_the_aliases_only():
    # Given otp.snapStart=true
    s = synth(SNAP_START)
    ids = _function_ids(s)
    aliases = {name: _alias_of(s, function_id)[0] for name, function_id in ids.items()}

    # Then every API method integrates with the API function's alias ...
    assert _integration_targets(s) == [ref(aliases["api"])] * 4
    # ... the user pool's triggers are the trigger functions' aliases ...
    (pool,) = s.resources("AWS::Cognito::UserPool").values()
    assert pool["Properties"]["LambdaConfig"] == {
        trigger: ref(aliases[name]) for trigger, name in TRIGGERS.items()
    }
    # ... and the invoke permissions name those aliases, not the unpublished functions ($LATEST, which
    # would start without the snapshot): API Gateway only the API alias, Cognito only the trigger aliases
    assert _invoke_permissions(s) == {
        "apigateway.amazonaws.com": {aliases["api"]},
        "cognito-idp.amazonaws.com": {aliases[name] for name in TRIGGERS.values()},
    }
    # ... and every Cognito permission is for this user pool only
    for permission in s.resources("AWS::Lambda::Permission").values():
        if permission["Properties"]["Principal"] == "cognito-idp.amazonaws.com":
            assert permission["Properties"]["SourceArn"] == {
                "Fn::GetAtt": [s.logical_id(s.service.auth.user_pool), "Arn"]
            }


def test_on_a_configuration_change_publishes_a_new_version():
    # Given two SnapStart deployments that differ only in a variable set late (the protection table's
    # limits are added to the functions after they are built) and in one set early
    base = synth(SNAP_START)
    later = synth({**SNAP_START, "otp.sendLimitPerHour": 4})
    early = synth({**SNAP_START, "otp.brandName": "Other"})

    # Then each change gives every function a new version (a new logical id: CloudFormation publishes
    # it and moves the alias), so SnapStart never serves a snapshot of the old configuration
    def version_ids(s: Synth) -> set[str]:
        return set(s.resources("AWS::Lambda::Version"))

    assert version_ids(base).isdisjoint(version_ids(later))
    assert version_ids(base).isdisjoint(version_ids(early))
    # and the same configuration gives the same versions (no needless republishing)
    assert version_ids(base) == version_ids(synth(dict(SNAP_START)))


def test_on_the_stack_stays_clean_under_cdk_nag_and_cdk_validation():
    # Given otp.snapStart=true, synthesized with cdk-nag (a finding would raise)
    report = synth(SNAP_START).report

    # Then no plugin reports a violation, and the only acknowledgements are the default stack's
    default = synth(REAL_IDENTITY).report
    for plugin in report["pluginReports"]:
        assert plugin["violations"] == [], plugin["pluginName"]

    def acknowledged(r: dict[str, Any]) -> list[str]:
        return sorted(
            v["acknowledgedId"] for p in r["pluginReports"] for v in p.get("suppressedViolations", [])
        )

    assert acknowledged(report) == acknowledged(default)


def test_on_cfn_lint_reports_nothing(tmp_path):
    # Given the SnapStart template
    path = tmp_path / "snapstart.json"
    path.write_text(json.dumps(synth(SNAP_START).json), encoding="utf-8")

    # When cfn-lint checks it, Then it finds nothing
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", "--", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("true", True), ("false", False)])
def test_snap_start_is_a_boolean_key(value, expected):
    config = load_config({"otp": {**_required(), "snapStart": value}})
    assert config.snap_start is expected


def test_snap_start_rejects_anything_but_a_boolean():
    with pytest.raises(ConfigError, match=r'otp\.snapStart = "yes" is invalid: must be true or false'):
        load_config({"otp": {**_required(), "snapStart": "yes"}})


def _required() -> dict[str, str]:
    return {"brandName": "Acme", "originationIdentity": "+12065550123"}
