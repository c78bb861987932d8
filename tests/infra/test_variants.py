"""The optional shapes of the stack: API key auth, alarm e-mail, sender ID, India DLT values."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from tests.infra.support import VARIANT, Synth, arn_of, ref, synth


@pytest.fixture(scope="module")
def variant() -> Synth:
    return synth(VARIANT)


def test_api_key_mode_requires_a_key_on_every_method(variant):
    # Given apiAuth=apiKey
    methods = variant.resources("AWS::ApiGateway::Method").values()

    # Then every method (send, verify, status, cancel) requires an API key instead of SigV4
    assert len(methods) == 4
    for method in methods:
        assert method["Properties"]["AuthorizationType"] == "NONE"
        assert method["Properties"]["ApiKeyRequired"] is True


def test_api_key_mode_has_a_usage_plan_with_the_configured_throttle(variant):
    # Given apiAuth=apiKey and throttleRateLimit=25 / throttleBurstLimit=50
    stage = variant.logical_id(variant.service.api.deployment_stage)
    api = variant.logical_id(variant.service.api)
    (key_id,) = variant.resources("AWS::ApiGateway::ApiKey")
    (plan_id,) = variant.resources("AWS::ApiGateway::UsagePlan")

    # Then a usage plan on stage v1 throttles callers, the key is attached to it, and its id is an output
    variant.template.has_resource_properties(
        "AWS::ApiGateway::UsagePlan",
        {
            "Throttle": {"RateLimit": 25, "BurstLimit": 50},
            "ApiStages": [{"ApiId": ref(api), "Stage": ref(stage)}],
        },
    )
    variant.template.has_resource_properties(
        "AWS::ApiGateway::UsagePlanKey",
        {"KeyId": ref(key_id), "UsagePlanId": ref(plan_id), "KeyType": "API_KEY"},
    )
    assert variant.json["Outputs"]["ApiKeyId"]["Value"] == ref(key_id)
    variant.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {"MethodSettings": [Match.object_like({"ThrottlingRateLimit": 25, "ThrottlingBurstLimit": 50})]},
    )


def test_log_retention_follows_the_configuration(variant):
    # Given logRetentionDays=90
    # Then all five log groups (four functions, API access logs) keep events 90 days
    variant.template.resource_properties_count_is("AWS::Logs::LogGroup", {"RetentionInDays": 90}, 5)
    assert len(variant.resources("AWS::Logs::LogGroup")) == 5


def test_alarm_email_creates_an_encrypted_topic_that_every_alarm_notifies(variant):
    # Given alarmEmail=ops@example.com
    (topic_id, topic) = next(iter(variant.resources("AWS::SNS::Topic").items()))
    (key_id, key) = next(iter(variant.resources("AWS::KMS::Key").items()))

    # Then the topic is encrypted with a rotating customer key CloudWatch may use, requires TLS,
    # has the e-mail subscription, and every alarm notifies it on ALARM and OK
    assert topic["Properties"]["KmsMasterKeyId"] == arn_of(key_id)
    assert key["Properties"]["EnableKeyRotation"] is True
    cloudwatch = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert cloudwatch
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])
    variant.template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": ref(topic_id)},
    )
    variant.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )
    alarms = variant.resources("AWS::CloudWatch::Alarm").values()
    assert alarms
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [ref(topic_id)]
        assert alarm["Properties"]["OKActions"] == [ref(topic_id)]
    assert variant.json["Outputs"]["AlarmTopicArn"]["Value"] == ref(topic_id)


def test_without_alarm_email_there_is_no_topic_and_no_alarm_action():
    # Given the default configuration (no alarmEmail)
    s = synth({"otp.brandName": "Acme", "otp.originationIdentity": "+12065550123"})

    # Then alarms exist but notify nobody, and no topic or key is created
    assert s.resources("AWS::CloudWatch::Alarm")
    assert not s.resources("AWS::SNS::Topic")
    assert not s.resources("AWS::KMS::Key")
    assert all("AlarmActions" not in a["Properties"] for a in s.resources("AWS::CloudWatch::Alarm").values())


def test_sender_id_becomes_the_sms_channel_default_and_dlt_values_reach_the_functions(variant):
    # Given originationIdentity=AcmeCo (a sender ID) and India DLT entity / template ids
    # Then the SMS channel uses it as its sender ID
    variant.template.has_resource_properties(
        "AWS::Pinpoint::SMSChannel", {"SenderId": "AcmeCo", "ShortCode": Match.absent(), "Enabled": True}
    )
    # and every function gets the DLT values and the allowed countries
    for function in variant.resources("AWS::Lambda::Function").values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["OTP_ENTITY_ID"] == "1101234567890123456"
        assert env["OTP_TEMPLATE_ID"] == "1107890123456789012"
        assert env["OTP_ALLOWED_COUNTRIES"] == "IN"


def warnings(s: Synth) -> list[str]:
    """The rules of the construct annotations (warnings) in the synthesis' validation report."""
    return [
        v["ruleName"]
        for report in s.report["pluginReports"]
        if report["pluginName"] == "Construct Annotations"
        for v in report["violations"]
    ]


def test_example_identity_warns_and_a_real_one_does_not():
    # Given cdk.json as shipped (example identity) and a real identity
    example = synth()
    real = synth({"otp.brandName": "Acme", "otp.originationIdentity": "+12065550123"})

    # When the construct-annotation part of the validation report is read
    # Then only the example configuration carries the "cannot send SMS" warning
    assert warnings(example) == ["Annotation::otp:ExampleConfiguration"]
    assert warnings(real) == []


def test_a_budget_above_the_basic_tiers_200_a_day_warns_and_the_alarm_states_the_cap_kept():
    eum = {
        "otp.engine": "endusermessaging",
        "otp.brandName": "Acme",
        "otp.originationIdentity": "+12065550123",
    }

    # Given the default budget (2,000 a day) on the Basic tier every configuration starts on
    basic = synth(eum)
    assert warnings(basic) == ["Annotation::otp:BudgetAboveEngineCap"]
    [nearly] = [
        a["Properties"]["AlarmDescription"]
        for a in basic.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("AlarmName", "").endswith("OtpSendBudgetNearlySpent")
    ]
    assert "the total (200/hour, 200/day)" in nearly
    # A budget within the tier, or the Advanced tier, does not warn
    within = synth({**eum, "otp.sendBudgetPerHour": 100, "otp.sendBudgetPerDay": 200})
    assert warnings(within) == []
    assert warnings(synth({**eum, "otp.notifyTier": "ADVANCED"})) == []
