"""A user pool CDK does not own (``user_pool=UserPool.from_user_pool_id(...)``): no pool in the template, a
custom resource that adds the triggers at deploy time, IAM scoped to that pool, cdk-nag clean."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from cdk_sms_otp.imported_user_pool import HANDLER, RESOURCE_TYPE
from cdk_sms_otp.user_pool_checks import WARN_WEB_ACL
from tests.infra.user_pool_support import PoolSynth, synth_with_pool

POOL_ID = "eu-west-1_AbCdEf123"
POOL_ARN_JOIN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":cognito-idp:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            f":userpool/{POOL_ID}",
        ],
    ]
}
TRIGGERS = {
    "DefineAuthChallenge": "define_auth_challenge",
    "CreateAuthChallenge": "create_auth_challenge",
    "VerifyAuthChallengeResponse": "verify_auth_challenge",
}


def _imported(scope: Construct) -> cognito.IUserPool:
    return cognito.UserPool.from_user_pool_id(scope, "TheirPool", POOL_ID)


@pytest.fixture(scope="module")
def imported() -> PoolSynth:
    return synth_with_pool(_imported)


def _logical_id(s: PoolSynth, construct: Any) -> str:
    child = construct.node.default_child
    assert child is not None
    return str(s.stack.get_logical_id(child))


def _statements(s: PoolSynth, role: Any) -> list[dict[str, Any]]:
    role_id = _logical_id(s, role)
    policies = [
        p["Properties"]
        for p in s.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


def test_no_user_pool_is_created_and_the_custom_resource_names_the_pool_and_the_triggers(imported):
    # Given the stack synthesized with an imported pool
    stack = imported.service
    triggers = stack.auth.imported_pool_triggers
    assert triggers is not None

    # Then the template makes no pool, and one custom resource names the pool and the three functions
    assert imported.resources("AWS::Cognito::UserPool") == {}
    (resource,) = imported.resources(RESOURCE_TYPE).values()
    functions = stack.functions
    assert resource["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": [_logical_id(imported, triggers.function), "Arn"]},
        "ServiceTimeout": "300",
        "UserPoolId": POOL_ID,
        **{
            key: {"Fn::GetAtt": [_logical_id(imported, getattr(functions, attr)), "Arn"]}
            for key, attr in TRIGGERS.items()
        },
    }
    # and it is created after Cognito may invoke the triggers, and deleted before that ends
    cognito_permissions = {
        logical_id: p["Properties"]
        for logical_id, p in imported.resources("AWS::Lambda::Permission").items()
        if p["Properties"]["Principal"] == "cognito-idp.amazonaws.com"
    }
    assert sorted(p["FunctionName"]["Fn::GetAtt"][0] for p in cognito_permissions.values()) == sorted(
        _logical_id(imported, getattr(functions, attr)) for attr in TRIGGERS.values()
    )
    assert all(p["SourceArn"] == POOL_ARN_JOIN for p in cognito_permissions.values())
    assert set(cognito_permissions) <= set(resource["DependsOn"])


def test_the_custom_resource_function_runs_the_bundled_handler_and_may_touch_only_that_pool(imported):
    triggers = imported.service.auth.imported_pool_triggers
    assert triggers is not None
    function = imported.json["Resources"][_logical_id(imported, triggers.function)]["Properties"]
    assert function["Handler"] == HANDLER
    assert function["Timeout"] == 60

    # Its role may read and update that one pool, and write its own log group; nothing else
    cognito_statements = [
        s
        for s in _statements(imported, triggers.role)
        if any(a.startswith("cognito-idp:") for a in _actions(s))
    ]
    assert cognito_statements == [
        {
            "Action": ["cognito-idp:DescribeUserPool", "cognito-idp:UpdateUserPool"],
            "Effect": "Allow",
            "Resource": POOL_ARN_JOIN,
        }
    ]
    others = [
        a
        for s in _statements(imported, triggers.role)
        for a in _actions(s)
        if not a.startswith("cognito-idp:")
    ]
    assert others
    assert all(a.startswith("logs:") for a in others)


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_the_app_client_and_the_outputs_are_on_the_imported_pool(imported):
    (client,) = imported.resources("AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["UserPoolId"] == POOL_ID
    assert sorted(client["Properties"]["ExplicitAuthFlows"]) == [
        "ALLOW_CUSTOM_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ]
    assert imported.json["Outputs"]["UserPoolId"]["Value"] == POOL_ID


def test_cdk_nag_finds_nothing_and_the_only_warning_is_the_shared_web_acl(imported):
    assert [
        v
        for p in imported.report["pluginReports"]
        if p["pluginName"] != "Construct Annotations"
        for v in p["violations"]
    ] == []
    ((path, message),) = imported.warnings
    assert path == "/SmsOtp/Otp/Auth"
    assert message.endswith(f"[ack: {WARN_WEB_ACL}]")


def test_an_arn_import_scopes_iam_to_that_arn():
    arn = "arn:aws:cognito-idp:eu-west-1:210987654321:userpool/eu-west-1_Other999"
    s = synth_with_pool(lambda scope: cognito.UserPool.from_user_pool_arn(scope, "TheirPool", arn))
    triggers = s.service.auth.imported_pool_triggers
    assert triggers is not None
    cognito_statements = [
        st for st in _statements(s, triggers.role) if any(a.startswith("cognito-idp:") for a in _actions(st))
    ]
    assert [st["Resource"] for st in cognito_statements] == [arn]
    (resource,) = s.resources(RESOURCE_TYPE).values()
    assert resource["Properties"]["UserPoolId"] == "eu-west-1_Other999"


def test_with_snapstart_the_pool_invokes_the_aliases():
    # Given SnapStart (every caller invokes the functions' alias)
    s = synth_with_pool(_imported, {"otp.snapStart": True})

    # Then the custom resource names the aliases, and Cognito may invoke them from that pool
    (resource,) = s.resources(RESOURCE_TYPE).values()
    aliases = {
        logical_id for logical_id, r in s.json["Resources"].items() if r["Type"] == "AWS::Lambda::Alias"
    }
    for key in TRIGGERS:
        assert resource["Properties"][key]["Ref"] in aliases, key
    permitted = [
        p["Properties"]
        for p in s.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "cognito-idp.amazonaws.com"
    ]
    assert sorted(p["FunctionName"]["Ref"] for p in permitted) == sorted(
        resource["Properties"][key]["Ref"] for key in TRIGGERS
    )


def test_cfn_lint_finds_nothing_in_either_template(imported, tmp_path):
    # Given the templates with an imported pool and with a pool of the app's own
    from tests.infra.test_cfn_lint import _lint
    from tests.infra.user_pool_support import integrators_pool

    owned = synth_with_pool(integrators_pool)

    # Then cfn-lint (as `make cfn-lint` runs it) reports nothing in either
    assert _lint(imported.json, tmp_path / "imported.json") == []
    assert _lint(owned.json, tmp_path / "owned.json") == []
