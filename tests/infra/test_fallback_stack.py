"""The channel fallback in the template (End User Messaging with more than one channel): EventBridge
Scheduler's schedule group, the role the schedules invoke with, the Fallback function and exactly the
permissions each side needs; nothing of it elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.support import REAL_IDENTITY, Synth, synth

EUM: dict[str, Any] = {**REAL_IDENTITY, "otp.engine": "endusermessaging"}
SMS_VOICE: dict[str, Any] = {**EUM, "otp.channels": ["SMS", "VOICE"]}
HANDLERS = {
    "Api": "otp.handlers.api.lambda_handler",
    "Fallback": "otp.handlers.fallback.lambda_handler",
    "CreateAuthChallenge": "otp.handlers.cognito.create_auth_challenge",
}


@pytest.fixture(scope="module")
def stack() -> Synth:
    return synth(SMS_VOICE)


def functions(s: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    by_handler = {
        v["Properties"]["Handler"]: (k, v["Properties"])
        for k, v in s.resources("AWS::Lambda::Function").items()
    }
    return {name: by_handler[handler] for name, handler in HANDLERS.items() if handler in by_handler}


def statements(s: Synth, role_logical_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in s.resources("AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_one_schedule_group_and_a_fallback_function(stack):
    [(_, group)] = stack.resources("AWS::Scheduler::ScheduleGroup").items()
    assert group["Properties"]["Name"] == "SmsOtp-otp-fallback"
    _, fallback = functions(stack)["Fallback"]
    assert fallback["Timeout"] == 30
    env = fallback["Environment"]["Variables"]
    assert env["OTP_FALLBACK_SCHEDULE_GROUP"] == "SmsOtp-otp-fallback"
    # it schedules its next step with its own ARN from its context: in its environment it would be a cycle
    assert "OTP_FALLBACK_TARGET_ARN" not in env
    assert {"OTP_TABLE_NAME", "OTP_NOTIFY_CODE_CONFIGURATION", "OTP_FALLBACK_ROLE_ARN"} <= set(env)


def test_only_eventbridge_scheduler_of_this_account_may_invoke_the_fallback_function_and_nothing_else(stack):
    fallback_id, _ = functions(stack)["Fallback"]
    [(role_id, role)] = [
        (k, v)
        for k, v in stack.resources("AWS::IAM::Role").items()
        if v["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
        == "scheduler.amazonaws.com"
    ]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    [invoke] = statements(stack, role_id)
    assert actions(invoke) == ["lambda:InvokeFunction"]
    assert invoke["Resource"] == {"Fn::GetAtt": [fallback_id, "Arn"]}


@pytest.mark.parametrize("name", ["Api", "Fallback"])
def test_the_api_and_the_fallback_may_create_schedules_in_the_group_and_pass_only_that_role(stack, name):
    _, function = functions(stack)[name]
    granted = statements(stack, function["Role"]["Fn::GetAtt"][0])
    [create] = [st for st in granted if "scheduler:CreateSchedule" in actions(st)]
    assert actions(create) == ["scheduler:CreateSchedule"]
    assert ":schedule/SmsOtp-otp-fallback/*" in str(create["Resource"])
    [passing] = [st for st in granted if "iam:PassRole" in actions(st)]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
    assert "SchedulerRole" in str(passing["Resource"])


def test_the_fallback_function_sends_with_the_configuration_and_keeps_every_limit(stack):
    _, function = functions(stack)["Fallback"]
    granted = statements(stack, function["Role"]["Fn::GetAtt"][0])
    [send] = [st for st in granted if any(a.startswith("end-user-messaging:") for a in actions(st))]
    assert actions(send) == ["end-user-messaging:SendNotifyCodeVerification"]
    assert "NotifyCodeConfiguration" in str(send["Resource"])
    prefixes = sorted(
        prefix
        for st in granted
        if any(a.startswith("dynamodb:") for a in actions(st))
        for prefix in st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    )
    # (the adaptive defence's one batch read names the limits' prefixes again, with its own)
    assert sorted(set(prefixes)) == [
        "block#*",
        "budget#*",
        "conv#*",
        "open#*",
        "proven#*",
        "rate#*",
        "send#*",
        "verify#*",
    ]
    # and it validates no code, reads no idempotency record and no ticket
    assert not any("Validate" in a or "idempotency" in str(st) for st in granted for a in actions(st))


@pytest.mark.parametrize("variant", [EUM, REAL_IDENTITY], ids=["sms-only", "pinpoint"])
def test_no_fallback_where_none_is_offered(variant):
    s = synth(variant)
    assert s.resources("AWS::Scheduler::ScheduleGroup") == {}
    assert "Fallback" not in functions(s)
    _, api = functions(s)["Api"]
    assert not any(name.startswith("OTP_FALLBACK_") for name in api["Environment"]["Variables"])


def test_cdk_nag_finds_only_the_acknowledged_schedule_wildcard(stack):
    # nothing from cdk-nag; the one warning is the Basic tier's daily cap on the default budget
    # (tests/infra/test_variants.py)
    open_findings = [v["ruleName"] for p in stack.report["pluginReports"] for v in p["violations"]]
    assert open_findings == ["Annotation::otp:BudgetAboveEngineCap"]
    scheduler = [
        v
        for p in stack.report["pluginReports"]
        for v in p.get("suppressedViolations", [])
        if ":schedule/SmsOtp-otp-fallback/*" in v["acknowledgedId"]
    ]
    roles = set()
    for violation in scheduler:
        for construct in violation["violatingConstructs"]:
            parts = construct["constructPath"].split("/")
            roles.add(parts[parts.index("Functions") + 1])
    assert roles == {
        "Api",
        "Fallback",
    }
