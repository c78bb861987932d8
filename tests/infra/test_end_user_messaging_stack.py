"""The stack with ``otp.engine=endusermessaging``: protect configuration, configuration set, event metrics,
delivered-rate alarm, per-engine IAM and environment; cdk-nag and cfn-lint clean; the default unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import phonenumbers
import pytest

from cdk_sms_otp.end_user_messaging import (
    COUNTRY_CODES,
    DELIVERED_EVENT_TYPES,
    OTP_MESSAGE_EVENTS,
    OTP_MESSAGES_DELIVERED,
    OTP_MESSAGES_FINAL,
)
from cdk_sms_otp.functions import SEND_NOTIFY_CODE, SEND_OTP, VALIDATE_NOTIFY_CODE, VERIFY_OTP
from otp.settings import load_settings
from tests.infra.support import REAL_IDENTITY, Synth, synth

EUM: dict[str, Any] = {**REAL_IDENTITY, "otp.engine": "endusermessaging"}
EUM_ALL_CHANNELS: dict[str, Any] = {
    **EUM,
    "otp.channels": ["SMS", "VOICE", "WHATSAPP"],
    "otp.voiceId": "Joanna",
    "otp.voiceLanguage": "en-GB",
    "otp.whatsAppTemplateName": "otp_code",
    "otp.whatsAppOriginationIdentity": "phone-number-id-0123456789abcdef0123456789abcdef",
    "otp.allowedCountries": ["US", "GB", "IN"],
    "otp.alarmEmail": "ops@example.com",
}
SWITCH: dict[str, Any] = {**EUM, "otp.previousEngine": "pinpoint"}
HANDLERS = {
    "Api": "otp.handlers.api.lambda_handler",
    "DefineAuthChallenge": "otp.handlers.cognito.define_auth_challenge",
    "CreateAuthChallenge": "otp.handlers.cognito.create_auth_challenge",
    "VerifyAuthChallenge": "otp.handlers.cognito.verify_auth_challenge",
}
CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")


def _resolved(variable: str) -> str:
    """A value of the kind CloudFormation would put in place of a reference."""
    if variable.endswith("_ROLE_ARN"):
        return "arn:aws:iam::123456789012:role/resolved"
    if variable.endswith("_ARN"):
        return f"arn:aws:lambda:us-east-1:123456789012:function:resolved-{variable.lower()}"
    return f"resolved-{variable.lower()}"


def _one(s: Synth, resource_type: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = s.resources(resource_type).items()
    return logical_id, resource["Properties"]


def _functions(s: Synth) -> dict[str, dict[str, Any]]:
    by_handler = {v["Properties"]["Handler"]: v for v in s.resources("AWS::Lambda::Function").values()}
    return {name: by_handler[handler]["Properties"] for name, handler in HANDLERS.items()}


def _granted(s: Synth, function: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in s.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return [
        st
        for st in statements
        if any(a.split(":")[0] in ("mobiletargeting", "end-user-messaging") for a in _actions(st))
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


@pytest.mark.parametrize("variant", [EUM, EUM_ALL_CHANNELS], ids=["sms", "sms+voice+whatsapp"])
def test_the_protect_configuration_filters_exactly_the_allowed_countries(variant):
    # Given the stack on End User Messaging
    s = synth(variant)
    _, protect = _one(s, "AWS::SMSVOICE::ProtectConfiguration")
    allowed = set(variant.get("otp.allowedCountries", ["US", "CA", "GB"]))

    # Then for SMS and voice every allowed country is FILTER (sent, AIT-filtered) and every other is BLOCK
    for capability in ("SMS", "VOICE"):
        rules = {r["CountryCode"]: r["ProtectStatus"] for r in protect["CountryRuleSet"][capability]}
        assert {c for c, status in rules.items() if status == "FILTER"} == allowed
        assert {c for c, status in rules.items() if status == "BLOCK"} == set(COUNTRY_CODES) - allowed
        assert set(rules.values()) == {"FILTER", "BLOCK"}
    assert "MMS" not in protect["CountryRuleSet"]
    # every ISO code libphonenumber knows, which is every country the service could be asked to text
    assert set(COUNTRY_CODES) == set(phonenumbers.SUPPORTED_REGIONS) - {"AC", "TA", "XK"}


def test_the_configuration_set_uses_the_protect_configuration_and_logs_delivery_events():
    s = synth(EUM)
    protect_id, _ = _one(s, "AWS::SMSVOICE::ProtectConfiguration")
    set_id, configuration_set = _one(s, "AWS::SMSVOICE::ConfigurationSet")
    assert configuration_set["ConfigurationSetName"] == "SmsOtp-otp"
    assert configuration_set["ProtectConfigurationId"] == {
        "Fn::GetAtt": [protect_id, "ProtectConfigurationId"]
    }
    [destination] = configuration_set["EventDestinations"]
    assert destination["Enabled"] is True
    assert destination["MatchingEventTypes"] == ["TEXT_ALL", "VOICE_ALL"]
    logs = destination["CloudWatchLogsDestination"]
    group_id = logs["LogGroupArn"]["Fn::GetAtt"][0]
    assert s.json["Resources"][group_id]["Type"] == "AWS::Logs::LogGroup"
    assert s.json["Resources"][group_id]["Properties"]["RetentionInDays"] == 30
    # The role only End User Messaging, for this account and this configuration set, may assume
    role_id = logs["IamRoleArn"]["Fn::GetAtt"][0]
    [trust] = s.json["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sms-voice.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert json.dumps(trust["Condition"]["ArnLike"]).endswith(':configuration-set/SmsOtp-otp"]]}}')
    # may write to that log group and nothing else, and exists before the set checks it
    [policy_id] = [
        k for k, v in s.resources("AWS::IAM::Policy").items() if {"Ref": role_id} in v["Properties"]["Roles"]
    ]
    [statement] = s.json["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]
    assert set(_actions(statement)) == {
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    }
    assert statement["Resource"] == {"Fn::GetAtt": [group_id, "Arn"]}
    assert policy_id in s.json["Resources"][set_id]["DependsOn"]


def test_delivery_events_become_metrics_by_type_and_country_and_a_delivered_rate():
    s = synth(EUM)
    filters = {
        f["Properties"]["MetricTransformations"][0]["MetricName"]: f["Properties"]
        for f in s.resources("AWS::Logs::MetricFilter").values()
    }
    assert set(filters) == {OTP_MESSAGE_EVENTS, OTP_MESSAGES_FINAL, OTP_MESSAGES_DELIVERED}
    events = filters[OTP_MESSAGE_EVENTS]["MetricTransformations"][0]
    assert events["Dimensions"] == [
        {"Key": "EventType", "Value": "$.eventType"},
        {"Key": "Country", "Value": "$.isoCountryCode"},
    ]
    assert events["MetricNamespace"] == "OtpService"
    assert "$.isFinal IS TRUE" in filters[OTP_MESSAGES_FINAL]["FilterPattern"]
    delivered = filters[OTP_MESSAGES_DELIVERED]["FilterPattern"]
    assert "$.isFinal IS TRUE" in delivered
    assert all(f'$.eventType = "{t}"' in delivered for t in DELIVERED_EVENT_TYPES)


def test_the_delivered_rate_is_alarmed_and_on_the_dashboard():
    s = synth(EUM_ALL_CHANNELS)
    [alarm] = [
        a["Properties"]
        for a in s.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("AlarmName") == "SmsOtp-OtpDeliveredRate"
    ]
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Threshold"] == 80
    assert alarm["TreatMissingData"] == "notBreaching"
    assert len(alarm["AlarmActions"]) == 1  # the alarm topic (alarmEmail is set)
    expressions = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expressions[0]["Expression"] == "IF(FILL(f, 0) >= 5, 100 * FILL(d, 0) / f, 100)"
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert names == {OTP_MESSAGES_FINAL, OTP_MESSAGES_DELIVERED}
    _, dashboard = _one(s, "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["DashboardBody"])
    assert "Delivery events by type" in body
    assert "GROUP BY EventType" in body
    assert "GROUP BY Country" in body


def test_each_function_may_call_only_its_own_end_user_messaging_operation():
    s = synth(EUM)
    [configuration_id] = s.resources("Custom::NotifyCodeConfiguration")
    expected = {
        "Api": {SEND_NOTIFY_CODE, VALIDATE_NOTIFY_CODE},
        "CreateAuthChallenge": {SEND_NOTIFY_CODE},
        "VerifyAuthChallenge": {VALIDATE_NOTIFY_CODE},
        "DefineAuthChallenge": set(),
    }
    for name, function in _functions(s).items():
        statements = _granted(s, function)
        assert {a for st in statements for a in _actions(st)} == expected[name], name
        for statement in statements:
            if _actions(statement) == [SEND_NOTIFY_CODE]:
                # The send names the stack's notify code configuration: its ARN, nothing wider
                assert statement["Resource"] == {"Fn::GetAtt": [configuration_id, "Arn"]}
                assert "Condition" not in statement
            else:
                # Validate has no resource type in the Service Authorization Reference: *, this region only
                assert _actions(statement) == [VALIDATE_NOTIFY_CODE]
                assert statement["Resource"] == "*"
                assert statement["Condition"] == {
                    "StringEquals": {"aws:RequestedRegion": {"Ref": "AWS::Region"}}
                }
    # and no Pinpoint application exists to call
    assert s.resources("AWS::Pinpoint::App") == {}


def test_during_a_switch_pinpoint_may_only_verify():
    s = synth(SWITCH)
    assert s.service.messaging is not None  # Pinpoint still verifies the codes it sent
    app_id = s.logical_id(s.service.messaging.app)
    expected = {
        "Api": {SEND_NOTIFY_CODE, VALIDATE_NOTIFY_CODE, VERIFY_OTP},
        "CreateAuthChallenge": {SEND_NOTIFY_CODE},
        "VerifyAuthChallenge": {VALIDATE_NOTIFY_CODE, VERIFY_OTP},
        "DefineAuthChallenge": set(),
    }
    for name, function in _functions(s).items():
        statements = _granted(s, function)
        assert {a for st in statements for a in _actions(st)} == expected[name], name
        assert SEND_OTP not in {a for st in statements for a in _actions(st)}
        for statement in statements:
            if _actions(statement) == [VERIFY_OTP]:
                assert {"Fn::GetAtt": [app_id, "Arn"]} in statement["Resource"]
    env = _functions(s)["Api"]["Environment"]["Variables"]
    assert env["OTP_PREVIOUS_ENGINE"] == "pinpoint"
    assert env["PINPOINT_APPLICATION_ID"] == {"Ref": app_id}
    assert "OTP_DEPLOYMENT_ID" not in env


@pytest.mark.parametrize("variant", [EUM, EUM_ALL_CHANNELS, SWITCH], ids=["sms", "all-channels", "switch"])
@pytest.mark.parametrize("name", HANDLERS)
def test_the_code_starts_with_each_function_environment(variant, name):
    # Given a function's environment from the template, references filled in as CloudFormation would
    variables = _functions(synth(variant))[name]["Environment"]["Variables"]
    environ = {k: v if isinstance(v, str) else _resolved(k) for k, v in variables.items()}
    environ["AWS_LAMBDA_FUNCTION_NAME"] = f"SmsOtp-{name}"

    # When the functions' settings read it, then they start on the configured engine and channels
    settings = load_settings(environ)
    assert settings.engine == "endusermessaging"
    assert {c.value for c in settings.channels} == set(variant.get("otp.channels", ["SMS"]))
    assert settings.configuration_set == "resolved-otp_configuration_set"
    assert settings.notify_code_configuration == "resolved-otp_notify_code_configuration"
    # The templates and the voice are the configuration's, not variables of the functions
    assert not {"OTP_MESSAGE_TEMPLATE", "OTP_VOICE_TEMPLATE", "OTP_VOICE_ID", "OTP_VOICE_LANGUAGE"} & set(
        variables
    )
    if "otp.whatsAppTemplateName" in variant:
        assert settings.whatsapp_template_name == "otp_code"
    # The Notify tier the account is on (Basic unless configured): the rate the sends keep to
    assert (settings.notify_tier, settings.engine_send_rate) == ("BASIC", 1)


def test_the_advanced_tier_reaches_the_functions():
    variables = _functions(synth({**EUM, "otp.notifyTier": "ADVANCED"}))["Api"]["Environment"]["Variables"]
    assert variables["OTP_NOTIFY_TIER"] == "ADVANCED"


def test_outputs_name_the_configuration_set_and_protect_configuration():
    outputs = synth(EUM).json["Outputs"]
    assert {"ConfigurationSetName", "ProtectConfigurationId"} <= set(outputs)
    assert "PinpointApplicationId" not in outputs


@pytest.mark.parametrize("variant", [EUM, EUM_ALL_CHANNELS, SWITCH], ids=["sms", "all-channels", "switch"])
def test_cdk_nag_and_cfn_lint_are_clean(variant, tmp_path):
    # Given the synthesized variant (cdk-nag runs during synthesis: a finding would have raised)
    s = synth(variant)
    open_findings = [v["ruleName"] for p in s.report["pluginReports"] for v in p["violations"]]
    # nothing from cdk-nag; the one warning is the Basic tier's daily cap on the default budget
    # (tests/infra/test_variants.py)
    assert open_findings == ["Annotation::otp:BudgetAboveEngineCap"]
    # every acknowledgement of the variant is the default stack's, or IAM5 on a function role, or the
    # notify code configuration's (its function's role and the custom resource provider)
    default = {
        (v["acknowledgedId"], c["constructPath"].split("/", 2)[2])
        for p in synth(REAL_IDENTITY).report["pluginReports"]
        for v in p.get("suppressedViolations", [])
        for c in v["violatingConstructs"]
    }
    for plugin in s.report["pluginReports"]:
        for violation in plugin.get("suppressedViolations", []):
            for construct in violation["violatingConstructs"]:
                path = construct["constructPath"].split("/", 2)[2]
                if path.startswith("EndUserMessaging/NotifyCodeConfiguration/Role"):
                    assert "IAM5" in violation["ruleName"]
                    assert "cdk-sms-otp:stack" in violation["reason"]
                    continue
                # with 2+ channels, the channel fallback (tests/infra/test_fallback_stack.py): its function's
                # role as every function's, and the schedule group's wildcard on the roles that schedule
                if path.startswith("Functions/Fallback/Role") or ":schedule/" in violation["acknowledgedId"]:
                    assert "IAM5" in violation["ruleName"]
                    continue
                assert (violation["acknowledgedId"], path) in default
            if ":schedule/" in violation["acknowledgedId"]:
                assert "schedule group" in violation["reason"]
                continue
            paths = str(violation["violatingConstructs"])
            # the functions that validate codes: ValidateNotifyCodeVerification can only be granted on *
            callers = ("Functions/Api/", "Functions/VerifyAuthChallenge/")
            if "IAM5" in violation["ruleName"] and any(c in paths for c in callers):
                # the reason names the End User Messaging statement too, where the role has one
                assert "End User Messaging" in violation["reason"]
            elif "IAM5" in violation["ruleName"] and "EndUserMessaging/" not in paths:
                assert "End User Messaging" not in violation["reason"]

    # When cfn-lint checks the template, then it reports nothing
    path = tmp_path / "template.json"
    path.write_text(json.dumps(s.json), encoding="utf-8")
    result = subprocess.run(
        [CFN_LINT, "--format", "json", "--", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert json.loads(result.stdout or "[]") == [], result.stdout


def _without_asset_hashes(template: dict[str, Any]) -> str:
    return json.dumps(template, sort_keys=True)


def test_the_default_stack_is_unchanged_by_the_new_engine():
    # Given the default synthesis, and the same with the engine spelled out and every End User
    # Messaging key at its default value
    default = synth(REAL_IDENTITY).json
    spelled_out = synth(
        {
            **REAL_IDENTITY,
            "otp.engine": "pinpoint",
            "otp.channels": ["SMS"],
            "otp.messageTemplate": "This is your One Time Password: {{code}} from {{brand}}",
        }
    ).json

    # Then the templates are identical, and hold nothing of the new engine
    assert _without_asset_hashes(spelled_out) == _without_asset_hashes(default)
    text = json.dumps(default)
    assert "AWS::SMSVOICE" not in text
    assert "end-user-messaging" not in text
    assert '"OTP_ENGINE"' not in text
    assert "OtpDeliveredRate" not in text
    # and the deployment-fault alarm still watches exactly Pinpoint's four codes
    [fault] = [
        a["Properties"]
        for a in default["Resources"].values()
        if a["Type"] == "AWS::CloudWatch::Alarm"
        and a["Properties"].get("AlarmName") == "SmsOtp-OtpDeploymentFault"
    ]
    codes = {
        d["Value"]
        for m in fault["Metrics"]
        if "MetricStat" in m
        for d in m["MetricStat"]["Metric"]["Dimensions"]
        if d["Name"] == "ErrorCode"
    }
    assert codes == {
        "BadRequestException",
        "NotFoundException",
        "ForbiddenException",
        "MethodNotAllowedException",
    }


def test_the_deployment_fault_alarm_watches_the_engines_in_use():
    def fault_codes(s: Synth) -> set[str]:
        [fault] = [
            a["Properties"]
            for a in s.resources("AWS::CloudWatch::Alarm").values()
            if a["Properties"].get("AlarmName") == "SmsOtp-OtpDeploymentFault"
        ]
        return {
            d["Value"]
            for m in fault["Metrics"]
            if "MetricStat" in m
            for d in m["MetricStat"]["Metric"]["Dimensions"]
            if d["Name"] == "ErrorCode"
        }

    # An account quota (the spend limit) has an alarm of its own: its remedy is raising the quota
    eum_codes = {"ValidationException", "AccessDeniedException", "ResourceNotFoundException"}
    assert fault_codes(synth(EUM)) == eum_codes
    assert fault_codes(synth(SWITCH)) == eum_codes | {
        "BadRequestException",
        "NotFoundException",
        "ForbiddenException",
        "MethodNotAllowedException",
    }


def test_a_used_up_quota_has_its_own_alarm_on_its_own_metric():
    # Given the End User Messaging stack's alarms
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth(EUM).resources("AWS::CloudWatch::Alarm").values()
    }
    quota = alarms["SmsOtp-OtpEngineQuotaExceeded"]
    # Then one refused send alarms, on the metric the functions emit for ServiceQuotaExceededException
    [stat] = [m["MetricStat"] for m in quota["Metrics"] if "MetricStat" in m]
    assert (stat["Metric"]["MetricName"], quota["Threshold"], quota["EvaluationPeriods"]) == (
        "OtpEngineQuotaExceeded",
        1,
        1,
    )
    dimensions = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
    assert dimensions == {"service": "otp", "Engine": "endusermessaging"}
    assert "spend limit" in quota["AlarmDescription"]
    # and Pinpoint, which has no such quota, has no such alarm
    pinpoint = [
        a["Properties"]["AlarmName"]
        for a in synth(REAL_IDENTITY).resources("AWS::CloudWatch::Alarm").values()
    ]
    assert "SmsOtp-OtpEngineQuotaExceeded" not in pinpoint


def _request_models(s: Synth) -> dict[str, Any]:
    return {
        m["Properties"]["Name"]: m["Properties"]["Schema"]
        for m in s.resources("AWS::ApiGateway::Model").values()
    }


@pytest.mark.parametrize("variant", [EUM, EUM_ALL_CHANNELS], ids=["sms", "sms+voice+whatsapp"])
def test_api_gateway_validates_the_same_contract_on_every_engine(variant):
    # Given the request models of the default stack and of an End User Messaging stack
    default, engine = _request_models(synth(REAL_IDENTITY)), _request_models(synth(variant))
    # Then they are the same models: one contract whatever sends (a channel the deployment does not
    # enable passes API Gateway and is refused by the function, naming the field, before any send)
    assert engine == default
    channel = engine["SendOtpRequest"]["properties"]["channel"]
    assert [b.get("enum") for b in channel["anyOf"]] == [["SMS", "VOICE", "WHATSAPP"], None]
    # and a 4-digit code, which only End User Messaging can issue, passes the verify model
    assert engine["VerifyOtpRequest"]["properties"]["code"]["pattern"] == "^[0-9]{4,8}$"
