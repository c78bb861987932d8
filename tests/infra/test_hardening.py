"""Template tests for issue 11's resources: the send budget's wiring and alarms, reserved concurrency, the
WAF web ACL on the user pool, the API rule's sizing, and the deployment secret."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from cdk_sms_otp.config import ConfigError, load_config, stage_admits_per_waf_window
from cdk_sms_otp.protection_alarms import BUDGET_REASONS
from otp import metric_names
from otp.domain.reasons import RejectReason
from otp.settings import load_settings
from tests.infra.support import REAL_IDENTITY, Synth, deployed_settings, synth
from tests.infra.test_stack import HANDLERS, _functions, _policy_statements

REQUIRED = {"brandName": "Acme", "originationIdentity": "+12065550123"}
BUDGETS = {
    **REAL_IDENTITY,
    "otp.sendBudgetPerHour": 300,
    "otp.sendBudgetPerDay": 1200,
    "otp.countrySendBudgets": {"GB": {"perHour": 20, "perDay": 100}},
    "otp.reservedConcurrency": 0,
}


@pytest.fixture(scope="module")
def default() -> Synth:
    return synth(REAL_IDENTITY)


@pytest.fixture(scope="module")
def budgets() -> Synth:
    return synth(BUDGETS)


def problems(otp: Mapping[str, object], **flat: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config({"otp": {**REQUIRED, **otp}, **{f"otp.{k}": v for k, v in flat.items()}})
    return caught.value.problems


def alarm(s: Synth, name: str) -> dict[str, Any]:
    [found] = [
        a["Properties"]
        for a in s.resources("AWS::CloudWatch::Alarm").values()
        if name in json.dumps(a["Properties"].get("AlarmName", ""))
    ]
    return dict(found)


# ------------------------------------------------------------------------------------------- budget


def test_every_function_is_told_the_default_budget_and_the_code_accepts_it(default: Synth) -> None:
    for name, function in _functions(default).items():
        env = function["Properties"]["Environment"]["Variables"]
        settings = deployed_settings(env)
        assert (settings.send_budget_per_hour, settings.send_budget_per_day) == (500, 2000), name
        assert "OTP_COUNTRY_SEND_BUDGETS" not in env


def test_country_budgets_reach_the_functions_in_the_form_the_code_reads(budgets: Synth) -> None:
    env = _functions(budgets)["Api"]["Properties"]["Environment"]["Variables"]
    assert env["OTP_COUNTRY_SEND_BUDGETS"] == "GB:20:100"
    settings = load_settings(
        {
            "PINPOINT_APPLICATION_ID": "a",
            "OTP_BRAND_NAME": "Acme",
            "OTP_ORIGINATION_IDENTITY": "+12065550123",
            **{k: v for k, v in env.items() if isinstance(v, str) and k.startswith("OTP_SEND_BUDGET")},
            "OTP_COUNTRY_SEND_BUDGETS": env["OTP_COUNTRY_SEND_BUDGETS"],
        }
    )
    assert (settings.send_budget_per_hour, settings.send_budget_per_day) == (300, 1200)
    assert settings.country_send_budgets == (("GB", 20, 100),)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"sendBudgetPerHour": 0}, "from 1 to 1000000"),
        ({"sendBudgetPerHour": 600, "sendBudgetPerDay": 500}, "sendBudgetPerDay = 500 is invalid"),
        ({"countrySendBudgets": {"FR": {"perHour": 1, "perDay": 1}}}, "not in otp.allowedCountries"),
        ({"countrySendBudgets": {"GB": {"perHour": 900, "perDay": 900}}}, "within otp.sendBudgetPerHour"),
        ({"countrySendBudgets": {"GB": {"perHour": 5}}}, "perHour"),
        ({"countrySendBudgets": ["GB"]}, "an object of ISO country codes"),
    ],
)
def test_bad_budgets_stop_synthesis_naming_the_keys(config: dict[str, object], message: str) -> None:
    assert any(message in problem for problem in problems(config)), problems(config)


def test_an_alarm_warns_at_80_percent_of_any_budget_and_one_fires_when_a_budget_refuses(
    default: Synth,
) -> None:
    # The warning: the fullest shard of any budget (the total or a country's), from the metric the code emits
    nearly = alarm(default, "OtpSendBudgetNearlySpent")
    assert (nearly["Threshold"], nearly["ComparisonOperator"]) == (80, "GreaterThanOrEqualToThreshold")
    [query] = [m["Expression"] for m in nearly["Metrics"] if "Expression" in m]
    assert f"MAX({metric_names.OTP_SEND_BUDGET_USED})" in query
    assert metric_names.DIM_BUDGET in query
    # The trip: any refusal for a budget reason, every one of which the code can emit
    spent = alarm(default, "OtpSendBudgetSpent")
    assert spent["Threshold"] == 1
    reasons = {
        dimension["Value"]
        for m in spent["Metrics"]
        if "MetricStat" in m
        for dimension in m["MetricStat"]["Metric"]["Dimensions"]
        if dimension["Name"] == metric_names.DIM_REASON
    }
    assert reasons == set(BUDGET_REASONS)
    assert reasons <= {reason.value for reason in RejectReason}


def test_the_dashboard_shows_budget_usage_and_the_budget_alarms(default: Synth) -> None:
    (dashboard,) = default.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert metric_names.OTP_SEND_BUDGET_USED in body
    for name in ("SendBudgetNearlySpent", "SendBudgetSpent"):
        [logical_id] = [
            k for k, v in default.resources("AWS::CloudWatch::Alarm").items() if name in json.dumps(v)
        ]
        assert logical_id in body


# ------------------------------------------------------------------------------ reserved concurrency


def test_every_function_has_reserved_concurrency_by_default(default: Synth) -> None:
    for name, function in _functions(default).items():
        assert function["Properties"]["ReservedConcurrentExecutions"] == 25, name


def test_zero_reserves_nothing(budgets: Synth) -> None:
    for function in _functions(budgets).values():
        assert "ReservedConcurrentExecutions" not in function["Properties"]


def test_a_reservation_the_account_cannot_give_stops_synthesis() -> None:
    # 4 functions x 250 = 1000 of a 1000 quota, but Lambda keeps 100 unreserved: at most 225 each
    [problem] = problems({}, reservedConcurrency=250)
    assert "at most 225" in problem
    # A bigger quota (after a quota increase) allows it; a new account's 400 allows 75
    load_config({"otp": {**REQUIRED, "reservedConcurrency": 250, "accountConcurrentExecutions": 1100}})
    assert "at most 75" in problems({"accountConcurrentExecutions": 400}, reservedConcurrency=76)[0]


# ---------------------------------------------------------------------------------------------- WAF


def test_the_user_pool_has_a_web_acl_limiting_sign_in_calls_per_ip(default: Synth) -> None:
    # Given the default deployment's sign-in web ACL
    [acl] = [a for a in default.resources("AWS::WAFv2::WebACL").values() if "sign-in" in json.dumps(a)]
    properties = acl["Properties"]
    assert (properties["Scope"], properties["DefaultAction"]) == ("REGIONAL", {"Allow": {}})
    [rule] = properties["Rules"]
    statement = rule["Statement"]["RateBasedStatement"]
    # Then one IP may make 300 InitiateAuth / RespondToAuthChallenge calls in 5 minutes, then is blocked
    assert (statement["AggregateKeyType"], statement["Limit"], statement["EvaluationWindowSec"]) == (
        "IP",
        300,
        300,
    )
    assert rule["Action"] == {"Block": {}}
    matches = [s["ByteMatchStatement"] for s in statement["ScopeDownStatement"]["OrStatement"]["Statements"]]
    assert {(m["FieldToMatch"]["SingleHeader"]["Name"], m["SearchString"]) for m in matches} == {
        ("x-amz-target", ".initiateauth"),
        ("x-amz-target", ".respondtoauthchallenge"),
    }
    assert all(m["PositionalConstraint"] == "ENDS_WITH" for m in matches)
    assert all(m["TextTransformations"] == [{"Priority": 0, "Type": "LOWERCASE"}] for m in matches)
    # And it is associated with the user pool
    pool_id = default.logical_id(default.service.auth.user_pool)
    acl_id = default.logical_id(default.service.protection.sign_in_web_acl)
    [association] = [
        a["Properties"]
        for a in default.resources("AWS::WAFv2::WebACLAssociation").values()
        if pool_id in json.dumps(a["Properties"]["ResourceArn"])
    ]
    assert association["ResourceArn"] == {"Fn::GetAtt": [pool_id, "Arn"]}
    assert association["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}


def test_the_rule_matches_what_real_clients_send() -> None:
    # Cognito's operations as SDKs and Amplify send them, and the admin form a backend signs
    def counted(target: str) -> bool:
        return target.lower().endswith((".initiateauth", ".respondtoauthchallenge"))

    assert counted("AWSCognitoIdentityProviderService.InitiateAuth")
    assert counted("AWSCognitoIdentityProviderService.RespondToAuthChallenge")
    assert counted("awscognitoidentityproviderservice.INITIATEAUTH")
    assert not counted("AWSCognitoIdentityProviderService.AdminInitiateAuth")
    assert not counted("AWSCognitoIdentityProviderService.GetTokensFromRefreshToken")


def test_the_api_rule_cannot_block_a_backend_below_the_stage_throttle(default: Synth) -> None:
    # Given the default stage throttle (10 requests/s, burst 20) and the API's web ACL
    [acl] = [a for a in default.resources("AWS::WAFv2::WebACL").values() if "sign-in" not in json.dumps(a)]
    limit = acl["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"]["Limit"]
    # Then one caller's IP (the integrator's backend, under IAM) may send all the stage admits in 5 minutes
    assert limit >= stage_admits_per_waf_window(10, 20) == 3020
    # and a configuration where it could not is refused, naming the arithmetic
    [problem] = problems({}, throttleRateLimit=100, throttleBurstLimit=200)
    assert "100 x 300 s + 200 = 30200" in problem
    load_config(
        {"otp": {**REQUIRED, "throttleRateLimit": 100, "throttleBurstLimit": 200, "wafRateLimit": 30200}}
    )
    load_config({"otp": {**REQUIRED, "throttleRateLimit": 100, "wafEnabled": False}})


def test_without_waf_there_is_no_web_acl_at_all() -> None:
    s = synth({**REAL_IDENTITY, "otp.wafEnabled": False})
    assert s.resources("AWS::WAFv2::WebACL") == {}
    assert s.resources("AWS::WAFv2::WebACLAssociation") == {}


# ------------------------------------------------------------------------------ deployment secret


def test_the_deployment_secret_is_generated_and_only_create_and_the_api_can_read_it(default: Synth) -> None:
    # Given the stack's one secret, generated by CloudFormation at deploy time
    [(secret_id, secret)] = default.resources("AWS::SecretsManager::Secret").items()
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    assert "SecretString" not in secret["Properties"]
    functions = _functions(default)
    for name, function in functions.items():
        env = function["Properties"]["Environment"]["Variables"]
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        reads = [
            s
            for s in _policy_statements(default, role)
            if any(
                a.startswith("secretsmanager:")
                for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
            )
        ]
        if name in {"CreateAuthChallenge", "Api"}:
            # Then the Create trigger (decoy numbers) and the API (Idempotency-Key body fingerprints)
            # are told where it is and may read exactly it, nothing more
            assert env["OTP_SECRET_ARN"] == {"Ref": secret_id}
            [statement] = reads
            assert statement["Resource"] == {"Ref": secret_id}
            assert "secretsmanager:GetSecretValue" in statement["Action"]
            assert not any("*" in action for action in statement["Action"])
        else:
            # and no other function can
            assert "OTP_SECRET_ARN" not in env, name
            assert reads == [], name
    # And the key is not derived from the application id any more: nothing passes it to the secret
    assert "PinpointApplicationId" not in json.dumps(secret)
    assert set(HANDLERS) == set(functions)
