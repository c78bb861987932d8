"""A user pool of the integrator's own CDK app (``user_pool=`` a ``cognito.UserPool``): the service adds its
triggers and app client to that pool, creates none of its own, and refuses a pool it cannot work with."""

from __future__ import annotations

import pytest
from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_sms_otp.auth import UserPoolConflict
from cdk_sms_otp.user_pool_checks import WARN_AUTO_VERIFY_PHONE, WARN_SELF_SIGN_UP, WARN_WEB_ACL
from tests.infra.user_pool_support import PoolSynth, integrators_pool, synth_with_pool

TRIGGER_KEYS = {
    "DefineAuthChallenge": "define_auth_challenge",
    "CreateAuthChallenge": "create_auth_challenge",
    "VerifyAuthChallengeResponse": "verify_auth_challenge",
}


@pytest.fixture(scope="module")
def owned() -> PoolSynth:
    return synth_with_pool(integrators_pool)


def _logical_id(s: PoolSynth, construct: Construct) -> str:
    child = construct.node.default_child
    assert child is not None
    return str(s.stack.get_logical_id(child))  # type: ignore[arg-type]


def test_the_template_has_exactly_the_integrators_pool_with_the_three_triggers(owned):
    # Given the stack synthesized with the integrator's pool
    pools = owned.resources("AWS::Cognito::UserPool")

    # Then that pool is the only one, keeps its own settings, and carries the three triggers
    pool_id = _logical_id(owned, owned.service.auth.user_pool)
    assert list(pools) == [pool_id]
    props = pools[pool_id]["Properties"]
    assert props["UserPoolName"] == "integrators-users"
    assert props["AliasAttributes"] == ["email", "phone_number"]
    assert props["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    functions = owned.service.functions
    assert props["LambdaConfig"] == {
        key: {"Fn::GetAtt": [_logical_id(owned, getattr(functions, attr)), "Arn"]}
        for key, attr in TRIGGER_KEYS.items()
    }
    # and Cognito may invoke each trigger, from this pool only
    cognito_permissions = [
        p["Properties"]
        for p in owned.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "cognito-idp.amazonaws.com"
    ]
    assert sorted(p["FunctionName"]["Fn::GetAtt"][0] for p in cognito_permissions) == sorted(
        _logical_id(owned, getattr(functions, attr)) for attr in TRIGGER_KEYS.values()
    )
    assert all(p["SourceArn"] == {"Fn::GetAtt": [pool_id, "Arn"]} for p in cognito_permissions)


def test_the_app_client_is_custom_auth_only_on_that_pool(owned):
    # Given the app clients
    (client,) = owned.resources("AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]

    # Then the one client is the service's public CUSTOM_AUTH client, on the integrator's pool
    assert props["UserPoolId"] == {"Ref": _logical_id(owned, owned.service.auth.user_pool)}
    assert sorted(props["ExplicitAuthFlows"]) == ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["GenerateSecret"] is False
    assert props["AuthSessionValidity"] == 5
    # and the outputs name that pool and client
    outputs = owned.json["Outputs"]
    assert outputs["UserPoolId"]["Value"] == {"Ref": _logical_id(owned, owned.service.auth.user_pool)}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": _logical_id(owned, owned.service.auth.client)}


def test_cdk_nag_finds_nothing_the_service_adds(owned):
    # Given the report of the synthesis (which raised on any unacknowledged finding)
    report = owned.report

    # Then nothing is open, and the only acknowledgements on the pool are its owner's
    open_findings = [v for p in report["pluginReports"] if p["pluginName"] != "Construct Annotations"
                     for v in p["violations"]]  # fmt: skip
    assert open_findings == []
    on_pool = {
        v["acknowledgedId"]
        for p in report["pluginReports"]
        for v in p.get("suppressedViolations", [])
        for c in v["violatingConstructs"]
        if c["constructPath"].startswith("SmsOtp/IntegratorsPool")
    }
    assert on_pool == {f"AwsSolutions::AwsSolutions-{rule}" for rule in ("COG2", "COG8")}


def test_the_web_acl_warning_names_the_pool_and_the_soft_settings_warn_only_when_set(owned):
    # Given the integrator's pool: admin-only sign-up, phone not auto-verified, WAF on (the default)
    # Then the only warning is the shared web ACL, on the pool
    ((path, message),) = owned.warnings
    assert path == "/SmsOtp/IntegratorsPool"
    assert "at most one web ACL" in message
    assert message.endswith(f"[ack: {WARN_WEB_ACL}]")

    # When the pool lets anyone sign up and has Cognito verify phone numbers, and WAF is off
    relaxed = synth_with_pool(
        lambda scope: integrators_pool(
            scope, self_sign_up_enabled=True, auto_verify=cognito.AutoVerifiedAttrs(phone=True)
        ),
        {"otp.wafEnabled": False},
    )

    # Then it still synthesizes, with one warning for each, and none about the web ACL
    messages = [message for _, message in relaxed.warnings]
    assert len(messages) == 2
    assert any("Self-sign-up is on" in m for m in messages)
    assert any("Cognito verifies phone numbers itself" in m for m in messages)
    assert not any("web ACL" in m for m in messages)
    assert sorted(m.rsplit("[ack: ", 1)[1].rstrip("]") for m in messages) == sorted(
        [WARN_SELF_SIGN_UP, WARN_AUTO_VERIFY_PHONE]
    )


# ----------------------------------------------------------------------------------- conflicts


@pytest.mark.parametrize(
    "aliases",
    [
        cognito.SignInAliases(email=True),
        cognito.SignInAliases(username=True, email=True, preferred_username=True),
    ],
    ids=["email", "username-email-preferred"],
)
def test_a_pool_without_phone_sign_in_is_refused_with_what_to_change(aliases):
    # Given a pool whose users cannot sign in with their phone number
    # When it is passed to the service, Then synthesis stops before anything is added, saying what to set
    with pytest.raises(UserPoolConflict) as refused:
        synth_with_pool(lambda scope: integrators_pool(scope, sign_in_aliases=aliases))
    message = str(refused.value)
    assert "does not let users sign in with their phone number" in message
    assert "SignInAliases(phone=True)" in message
    assert "Cognito cannot change this on a deployed pool" in message


def test_phone_number_as_the_username_is_accepted():
    # Given a pool whose username is the phone number (the service's own pool's choice)
    s = synth_with_pool(
        lambda scope: integrators_pool(scope, sign_in_aliases=cognito.SignInAliases(phone=True))
    )

    # Then it gets the triggers
    (pool,) = s.resources("AWS::Cognito::UserPool").values()
    assert pool["Properties"]["UsernameAttributes"] == ["phone_number"]
    assert set(pool["Properties"]["LambdaConfig"]) == set(TRIGGER_KEYS)


def _trigger(scope: Construct) -> lambda_.Function:
    """A trigger of the integrator's, whose own cdk-nag findings its owner has acknowledged."""
    function = lambda_.Function(
        scope,
        "TheirTrigger",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
    )
    Validations.of(function).acknowledge(
        *(
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-{rule}", reason="The integrator's own function: " * 4
            )
            for rule in (
                "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "L1",
            )
        )
    )
    return function


@pytest.mark.parametrize(
    ("keyword", "named"),
    [
        ("define_auth_challenge", "Define Auth Challenge (define_auth_challenge)"),
        ("create_auth_challenge", "Create Auth Challenge (create_auth_challenge)"),
        ("verify_auth_challenge_response", "Verify Auth Challenge Response (verify_auth_challenge_response)"),
    ],
)
def test_a_pool_with_an_auth_challenge_trigger_of_its_own_is_refused(keyword, named):
    # Given a pool that already has one of the three custom-auth triggers
    def pool_with_trigger(scope: Construct) -> cognito.IUserPool:
        return integrators_pool(scope, lambda_triggers=cognito.UserPoolTriggers(**{keyword: _trigger(scope)}))

    # When it is passed to the service, Then synthesis stops and names the trigger and the way out
    with pytest.raises(UserPoolConflict) as refused:
        synth_with_pool(pool_with_trigger)
    assert f"already has a {named} trigger" in str(refused.value)
    assert "omit user_pool" in str(refused.value)


def test_other_triggers_of_the_pool_are_kept():
    # Given a pool with a pre sign-up and a pre token generation trigger
    def pool_with_others(scope: Construct) -> cognito.IUserPool:
        return integrators_pool(scope, lambda_triggers=cognito.UserPoolTriggers(pre_sign_up=_trigger(scope)))

    # Then it gets the three triggers next to its own
    s = synth_with_pool(pool_with_others)
    (pool,) = s.resources("AWS::Cognito::UserPool").values()
    assert set(pool["Properties"]["LambdaConfig"]) == {"PreSignUp", *TRIGGER_KEYS}


def test_a_pool_in_another_stack_is_refused_with_the_way_out():
    # Given the integrator's pool in another stack of the same app
    def pool_elsewhere(scope: Construct) -> cognito.IUserPool:
        root = scope.node.root
        assert isinstance(root, Construct)
        return integrators_pool(Stack(root, "Users"))

    # When it is passed to the service's stack, Then synthesis stops, naming both stacks and the import
    with pytest.raises(UserPoolConflict) as refused:
        synth_with_pool(pool_elsewhere)
    message = str(refused.value)
    assert "is in stack Users" in message
    assert "from_user_pool_id" in message


def test_a_pool_signing_in_with_the_username_alone_is_accepted_with_a_warning():
    # Given a pool that signs in with the username alone (the service's own pool's non-leaking design)
    s = synth_with_pool(
        lambda scope: integrators_pool(scope, sign_in_aliases=cognito.SignInAliases(username=True))
    )

    # Then the triggers are added, and a warning says each username must be the canonical number
    pool = s.resources("AWS::Cognito::UserPool")
    assert len(pool) == 1
    assert set(next(iter(pool.values()))["Properties"]["LambdaConfig"]) >= {
        "DefineAuthChallenge",
        "CreateAuthChallenge",
        "VerifyAuthChallengeResponse",
    }
    assert any("canonical E.164 phone number" in message for _, message in s.warnings)
