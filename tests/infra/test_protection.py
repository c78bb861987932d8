"""Abuse protection's infrastructure: the table and its scoped grants (cdk_sms_otp.protection), the WAF
rate rules (protection_waf), the alarms (protection_alarms), and their config."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from cdk_sms_otp import protection
from cdk_sms_otp.config import ConfigError, load_config
from otp import metric_names
from otp.adapters import store
from otp.domain.adaptive import block_key, counter_key
from otp.domain.engine_rate import RATE_KEY_PREFIX
from otp.domain.limiter import limit_key
from otp.domain.models import PhoneNumber
from otp.domain.shares import proven_key
from otp.domain.tickets import DeviceTickets
from otp.handlers.idempotency import IDEMPOTENCY_KEY_PREFIX
from otp.settings import default_reserve_per_day
from tests.infra.support import REAL_IDENTITY, Synth, arn_of, deployed_settings, synth

NUMBER = PhoneNumber("+12065550100", "US", 1, "MOBILE")

HANDLERS = {
    "Api": "otp.handlers.api.lambda_handler",
    "DefineAuthChallenge": "otp.handlers.cognito.define_auth_challenge",
    "CreateAuthChallenge": "otp.handlers.cognito.create_auth_challenge",
    "VerifyAuthChallenge": "otp.handlers.cognito.verify_auth_challenge",
}
CUSTOM = {
    **REAL_IDENTITY,
    "otp.allowedCountries": ["US", "IN"],
    "otp.sendCooldownSeconds": 60,
    "otp.sendLimitPerHour": 3,
    "otp.sendLimitPerDay": 6,
    "otp.sendReservePerDay": 2,
    "otp.deviceTicketDays": 30,
    "otp.verifyLimitPerReference": 4,
    "otp.allowTollFree": True,
    "otp.blockedPrefixes": ["+1900", "+9114"],
    "otp.idempotencyTtlSeconds": 600,
    "otp.wafEnabled": False,
    "otp.refusalAlarmThreshold": 25,
    "otp.newCountryAlarmMinSends": 4,
}


@pytest.fixture(scope="module")
def default() -> Synth:
    return synth(REAL_IDENTITY)


@pytest.fixture(scope="module")
def custom() -> Synth:
    return synth(CUSTOM)


def functions(s: Synth) -> dict[str, dict[str, Any]]:
    by_handler = {v["Properties"]["Handler"]: v for v in s.resources("AWS::Lambda::Function").values()}
    return {name: by_handler[handler] for name, handler in HANDLERS.items()}


def table_id(s: Synth) -> str:
    return s.logical_id(s.service.protection.table)


def dynamodb_statements(s: Synth, function: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in s.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                if any(action.startswith("dynamodb:") for action in actions):
                    statements.append({**statement, "Action": sorted(actions)})
    return statements


# -------------------------------------------------------------------------------------------- table


def test_the_table_is_on_demand_encrypted_recoverable_and_expires_items(default: Synth) -> None:
    # Given the default deployment
    # When the protection table is read
    [table] = default.resources("AWS::DynamoDB::GlobalTable").values()
    properties = table["Properties"]
    # Then it is keyed on pk only, billed on demand, with TTL, point-in-time recovery and KMS encryption
    assert properties["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    [replica] = properties["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # and it holds only short-lived counters, so it goes with the stack
    assert table["DeletionPolicy"] == "Delete"


def test_the_table_layout_and_key_prefixes_are_the_ones_the_code_uses() -> None:
    # The construct cannot import the Lambda code; these keep the two in step.
    assert protection.PARTITION_KEY == store.PARTITION_KEY
    assert protection.EXPIRY_ATTRIBUTE == store.EXPIRY_ATTRIBUTE
    assert limit_key("send", "+12065550100").startswith(protection.SEND_KEYS.removesuffix("*"))
    assert limit_key("verify", "+12065550100", "ref").startswith(protection.VERIFY_KEYS.removesuffix("*"))
    assert limit_key("open", "+12065550100").startswith(protection.OPEN_KEYS.removesuffix("*"))
    tickets = DeviceTickets(None, key=b"k" * 32, valid_days=90)
    assert tickets.record_key("+12065550100", "t" * 43).startswith(protection.TICKET_KEYS.removesuffix("*"))
    assert f"{IDEMPOTENCY_KEY_PREFIX}#*" == protection.IDEMPOTENCY_KEYS
    assert f"{RATE_KEY_PREFIX}*" == protection.RATE_KEYS
    assert counter_key("r:+44770", 1, 0).startswith(protection.COUNTER_KEYS.removesuffix("*"))
    assert block_key("+44770").startswith(protection.BLOCK_KEYS.removesuffix("*"))
    assert proven_key(NUMBER).startswith(protection.PROVEN_KEYS.removesuffix("*"))


# ------------------------------------------------------------------------------------ functions, IAM


def test_every_function_is_told_the_table_and_the_default_limits(default: Synth) -> None:
    for name, function in functions(default).items():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["OTP_TABLE_NAME"] == {"Ref": table_id(default)}, name
        # the defaults are the schema's, on both sides: the template carries none of them
        assert not [variable for variable in env if variable.startswith(("OTP_SEND_", "OTP_ALLOW_"))]
        s = deployed_settings(env)
        assert s.send_cooldown_seconds == 30
        assert (s.send_limit_per_hour, s.send_limit_per_day) == (5, 10)
        assert (s.reserve_per_day, s.device_ticket_days) == (4, 90)
        assert s.verify_limit_per_reference == 5
        assert "OTP_VERIFY_LIMIT_PER_NUMBER_PER_HOUR" not in env
        assert (s.allow_toll_free, s.allow_voip) == (False, False)
        assert s.idempotency_ttl_seconds == 3600
        assert s.blocked_prefixes == ()


def test_on_end_user_messaging_both_senders_may_take_a_slot_of_the_rate_and_nothing_more() -> None:
    # Given the stack on End User Messaging, whose tier limits the sends per second
    eum = synth({**REAL_IDENTITY, "otp.engine": "endusermessaging"})
    for name, function in functions(eum).items():
        # When each function's statements on rate# items are read
        granted = [
            s["Action"]
            for s in dynamodb_statements(eum, function)
            if "rate#*" in s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        ]
        # Then only the two that send may count a send in a second (an UpdateItem), alone in a statement
        expected = [["dynamodb:UpdateItem"]] if name in ("Api", "CreateAuthChallenge") else []
        assert [a if isinstance(a, list) else [a] for a in granted] == expected, name


def test_each_function_may_touch_only_its_own_keys(default: Synth) -> None:
    # Given the table's ARN
    table_arn = arn_of(table_id(default))
    limits = ["dynamodb:GetItem", "dynamodb:PutItem"]
    idempotency = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    update = ["dynamodb:UpdateItem"]
    # A send's one read: everything it checks, in one statement (IAM checks every key of a batch in one)
    batch = (["dynamodb:BatchGetItem"], ["send#*", "open#*", "budget#*", "conv#*", "block#*", "proven#*"])
    impose = (["dynamodb:PutItem"], ["block#*"])
    expected = {
        # The API alone reads a verification whole (GET /otp/{referenceId})
        "Api": [
            (limits, ["send#*", "open#*", "budget#*"]),
            (["dynamodb:GetItem", "dynamodb:UpdateItem"], ["verify#*"]),
            (idempotency, ["idempotency#*"]),
            batch,
            impose,
            (update, ["conv#*", "proven#*"]),
        ],
        # A sign-in's code starts a verification, written with the send's limits
        "CreateAuthChallenge": [
            (limits, ["send#*", "open#*", "budget#*", "ticket#*"]),
            (update, ["verify#*"]),
            batch,
            impose,
            (update, ["conv#*"]),
        ],
        # Verify counts its attempt and marks the verification, and may only turn a pending ticket valid:
        # no new ticket, no read of one
        "VerifyAuthChallenge": [
            (update, ["verify#*"]),
            (update, ["ticket#*"]),
            (update, ["conv#*", "proven#*"]),
        ],
        "DefineAuthChallenge": [],
    }
    # When each function's DynamoDB statements are read
    for name, function in functions(default).items():
        statements = dynamodb_statements(default, function)
        # Then they name this table only, no Scan/Query/wildcard, and only the key prefixes it needs
        granted = [
            (
                s["Action"] if isinstance(s["Action"], list) else [s["Action"]],
                s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
            )
            for s in statements
        ]
        assert sorted(granted) == sorted(expected[name]), name
        assert all(s["Resource"] == table_arn for s in statements), name


# ---------------------------------------------------------------------------------------------- WAF


def test_a_per_ip_rate_rule_guards_the_api_stage_by_default(default: Synth) -> None:
    # Given the default deployment
    [acl] = [a for a in default.resources("AWS::WAFv2::WebACL").values() if "SignIn" not in json.dumps(a)]
    [association] = [
        a
        for a in default.resources("AWS::WAFv2::WebACLAssociation").values()
        if "Stage" in json.dumps(a["Properties"]["ResourceArn"])
    ]
    # Then a regional web ACL allows by default and blocks one IP above 3100 requests in 5 minutes
    properties = acl["Properties"]
    assert properties["Scope"] == "REGIONAL"
    assert properties["DefaultAction"] == {"Allow": {}}
    [rule] = properties["Rules"]
    assert rule["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": 3100,
        "EvaluationWindowSec": 300,
    }
    # with a 429, a Retry-After and a problem+json-shaped body, like the API's own refusals
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    assert response["ResponseHeaders"] == [{"Name": "Retry-After", "Value": "300"}]
    body = properties["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    assert json.loads(body["Content"])["status"] == 429
    # and it is attached to the API's stage
    stage_id = default.logical_id(default.service.api.deployment_stage)
    assert stage_id in json.dumps(association["Properties"]["ResourceArn"])
    assert association["Properties"]["WebACLArn"] == arn_of(
        default.logical_id(default.service.protection.web_acl)
    )


# ------------------------------------------------------------------------------------------- alarms


def test_a_spike_in_refusals_raises_an_alarm(default: Synth) -> None:
    [alarm] = [
        a for a in default.resources("AWS::CloudWatch::Alarm").values() if "RefusalSpike" in json.dumps(a)
    ]
    properties = alarm["Properties"]
    assert properties["Threshold"] == 50
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    [query] = [m for m in properties["Metrics"] if "Expression" in m]
    assert f"SUM({metric_names.OTP_REJECTED})" in query["Expression"]
    assert metric_names.DIM_REASON in query["Expression"]


def test_each_allowed_country_has_a_new_country_send_alarm(default: Synth) -> None:
    # Given the default allowed countries
    alarms = {
        c: a
        for a in default.resources("AWS::CloudWatch::Alarm").values()
        for c in ("US", "CA", "GB")
        if a["Properties"].get("AlarmName", {})
        and f"CountrySendSpike-{c}" in json.dumps(a["Properties"]["AlarmName"])
    }
    # Then each alarms above its learned band, on its zero-filled, floored OtpSentByCountry series
    assert set(alarms) == {"US", "CA", "GB"}
    for country, alarm in alarms.items():
        properties = alarm["Properties"]
        assert properties["ComparisonOperator"] == "GreaterThanUpperThreshold"
        metrics = {m["Id"]: m for m in properties["Metrics"]}
        assert metrics[properties["ThresholdMetricId"]]["Expression"].startswith("ANOMALY_DETECTION_BAND(")
        [stat] = [m["MetricStat"] for m in metrics.values() if "MetricStat" in m]
        assert stat["Metric"]["MetricName"] == metric_names.OTP_SENT_BY_COUNTRY
        assert {"Name": metric_names.DIM_COUNTRY, "Value": country} in stat["Metric"]["Dimensions"]
        assert any(
            "IF(FILL(" in m.get("Expression", "") and ">= 10" in m["Expression"] for m in metrics.values()
        )


# ------------------------------------------------------------------------------------ configuration


def test_configured_values_reach_the_functions_the_waf_and_the_alarms(custom: Synth) -> None:
    # Given every protection key set to a non-default value
    # When the stack is synthesized
    env = functions(custom)["Api"]["Properties"]["Environment"]["Variables"]
    # Then the functions read them
    assert env["OTP_SEND_COOLDOWN_SECONDS"] == "60"
    assert env["OTP_BLOCKED_PREFIXES"] == "+1900,+9114"
    s = deployed_settings(env)
    assert (s.send_limit_per_hour, s.send_limit_per_day) == (3, 6)
    assert (s.reserve_per_day, s.device_ticket_days) == (2, 30)
    assert s.verify_limit_per_reference == 4
    assert (s.allow_toll_free, s.allow_voip) == (True, False)
    assert s.idempotency_ttl_seconds == 600
    # and the WAF is gone, the refusal threshold moved, and the country alarms follow the allowed list
    assert custom.resources("AWS::WAFv2::WebACL") == {}
    assert custom.resources("AWS::WAFv2::WebACLAssociation") == {}
    alarms = json.dumps(custom.resources("AWS::CloudWatch::Alarm"))
    assert "CountrySendSpike-IN" in alarms
    assert "CountrySendSpike-GB" not in alarms
    assert ">= 4, FILL" in alarms
    refusal = [
        a for a in custom.resources("AWS::CloudWatch::Alarm").values() if "RefusalSpike" in json.dumps(a)
    ]
    assert refusal[0]["Properties"]["Threshold"] == 25


def test_cdk_nag_finds_nothing_to_acknowledge_in_the_protection(default: Synth, custom: Synth) -> None:
    for synthesized in (default, custom):
        for plugin in synthesized.report["pluginReports"]:
            assert plugin["conclusion"] == "success"
            suppressed = json.dumps(plugin.get("suppressedViolations", []))
            assert "/Protection/" not in suppressed


REQUIRED = {"brandName": "Acme", "originationIdentity": "+12065550123"}


def problems(context: Mapping[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(context)
    return caught.value.problems


def test_the_protection_defaults() -> None:
    config = load_config({"otp": REQUIRED})
    assert (config.send_cooldown_seconds, config.send_limit_per_hour, config.send_limit_per_day) == (
        30,
        5,
        10,
    )
    assert config.verify_limit_per_reference == 5
    assert (config.allow_toll_free, config.allow_voip, config.blocked_prefixes) == (False, False, ())
    assert (config.waf_enabled, config.waf_rate_limit, config.idempotency_ttl_seconds) == (True, 3100, 3600)
    assert config.waf_sign_in_rate_limit == 300
    assert (config.send_budget_per_hour, config.send_budget_per_day) == (500, 2000)
    assert config.country_send_budgets == ()
    assert (config.reserved_concurrency, config.account_concurrent_executions) == (25, 1000)
    assert (config.refusal_alarm_threshold, config.new_country_alarm_min_sends) == (50, 10)
    assert (config.send_reserve_per_day, config.reserve_per_day, config.device_ticket_days) == (None, 4, 90)


def test_cli_strings_are_coerced() -> None:
    config = load_config(
        {
            "otp": REQUIRED,
            "otp.sendCooldownSeconds": "0",
            "otp.allowVoip": "true",
            "otp.wafEnabled": "false",
            "otp.blockedPrefixes": "+1900, +4470",
        }
    )
    assert config.send_cooldown_seconds == 0
    assert (config.allow_voip, config.waf_enabled) == (True, False)
    assert config.blocked_prefixes == ("+1900", "+4470")


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("sendCooldownSeconds", 3601, "from 0 to 3600"),
        ("sendLimitPerHour", 0, "from 1 to 100"),
        ("sendLimitPerDay", 1001, "from 1 to 1000"),
        ("verifyLimitPerReference", 21, "from 1 to 20"),
        ("allowTollFree", "yes", "true or false"),
        ("allowVoip", 1, "true or false"),
        ("blockedPrefixes", ["1900"], "E.164 prefixes"),
        ("idempotencyTtlSeconds", 59, "from 60 to 86400"),
        ("wafEnabled", "on", "true or false"),
        ("wafRateLimit", 9, "from 10 to 2000000000"),
        ("refusalAlarmThreshold", 0, "from 1 to 1000000"),
        ("newCountryAlarmMinSends", 0, "from 1 to 1000000"),
        ("sendReservePerDay", -1, "from 0 to 999"),
        ("deviceTicketDays", 366, "from 1 to 365"),
    ],
)
def test_a_bad_value_names_the_key_the_value_and_what_is_allowed(
    key: str, value: object, allowed: str
) -> None:
    [problem] = problems({"otp": {**REQUIRED, key: value}})
    assert problem.startswith(f"otp.{key} = {json.dumps(value)} is invalid")
    assert allowed in problem


def test_a_day_cap_below_the_hour_cap_is_refused_naming_both() -> None:
    [problem] = problems({"otp": {**REQUIRED, "sendLimitPerHour": 8, "sendLimitPerDay": 6}})
    assert "otp.sendLimitPerDay = 6" in problem
    assert "otp.sendLimitPerHour (8)" in problem


def test_a_reserve_that_leaves_no_open_part_is_refused_naming_both() -> None:
    [problem] = problems({"otp": {**REQUIRED, "sendReservePerDay": 10}})
    assert "otp.sendReservePerDay = 10 is invalid" in problem
    assert "otp.sendLimitPerDay - 1 (9)" in problem
    assert load_config({"otp": {**REQUIRED, "sendReservePerDay": 9}}).reserve_per_day == 9


@pytest.mark.parametrize(("per_hour", "per_day"), [(5, 10), (5, 6), (1, 1), (10, 10), (3, 100), (100, 1000)])
def test_the_stack_and_the_functions_derive_the_same_default_reserve(per_hour: int, per_day: int) -> None:
    config = load_config({"otp": {**REQUIRED, "sendLimitPerHour": per_hour, "sendLimitPerDay": per_day}})
    assert config.reserve_per_day == default_reserve_per_day(per_hour, per_day)
    assert config.reserve_per_day <= per_day - 1


def test_each_allowed_country_has_a_conversion_collapse_alarm(default: Synth) -> None:
    # Given the default allowed countries (the floor is 20 sends, whatever adaptiveMinSends says)
    alarms = {
        c: a
        for a in default.resources("AWS::CloudWatch::Alarm").values()
        for c in ("US", "CA", "GB")
        if f"OtpConversionCollapse-{c}" in json.dumps(a["Properties"].get("AlarmName", ""))
    }
    assert set(alarms) == {"US", "CA", "GB"}
    for country, alarm in alarms.items():
        properties = alarm["Properties"]
        # Then each alarms below 35 % of the country's codes entered in an hour, once 20 were sent
        assert (properties["Threshold"], properties["ComparisonOperator"]) == (35, "LessThanThreshold")
        [expression] = [m["Expression"] for m in properties["Metrics"] if "Expression" in m]
        assert expression == "IF(FILL(sends, 0) >= 20, 100 * FILL(verified, 0) / FILL(sends, 0), 100)"
        series = {m["Id"]: m["MetricStat"]["Metric"] for m in properties["Metrics"] if "MetricStat" in m}
        assert series["sends"]["MetricName"] == metric_names.OTP_SENT_BY_COUNTRY
        assert series["verified"]["MetricName"] == metric_names.OTP_VERIFIED_BY_COUNTRY
        assert {"Name": metric_names.DIM_COUNTRY, "Value": country} in series["verified"]["Dimensions"]
        assert all(m["MetricStat"]["Period"] == 3600 for m in properties["Metrics"] if "MetricStat" in m)
    # And the dashboard shows conversion, sends and right codes by country, and the blocks
    body = json.dumps(default.resources("AWS::CloudWatch::Dashboard"))
    for title in ("Conversion by country", "Sends and right codes by country", "Ranges blocked"):
        assert title in body
