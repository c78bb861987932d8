"""Alarms and dashboard read exactly the metrics the Lambda code emits."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.metric_contract import METRIC_NAMES_FILE, load_metric_contract
from otp import metric_names
from tests.infra.support import Synth, synth

# Each service metric and the one dimension it carries besides `service`.
OWN_DIMENSION = {
    metric_names.OTP_DELIVERY: metric_names.DIM_DELIVERY_STATUS,
    metric_names.OTP_VERIFICATION: metric_names.DIM_RESULT,
    metric_names.OTP_REJECTED: metric_names.DIM_REASON,
    metric_names.OTP_UPSTREAM_ERROR: metric_names.DIM_ERROR_CODE,
    metric_names.OTP_SENT_BY_COUNTRY: metric_names.DIM_COUNTRY,
}


@pytest.fixture(scope="module")
def default() -> Synth:
    return synth({"otp.brandName": "Acme", "otp.originationIdentity": "+12065550123"})


def _alarms(s: Synth) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"] for a in s.resources("AWS::CloudWatch::Alarm").values()
    }


def _metric_stats(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    return [q["MetricStat"]["Metric"] for q in alarm.get("Metrics", []) if "MetricStat" in q]


def test_the_infra_reads_the_same_module_the_code_imports():
    # Given the metric names module as the Lambda code imports it, and as the CDK app loads it by path
    contract = load_metric_contract()

    # Then they are the same file and the same values
    assert METRIC_NAMES_FILE.samefile(metric_names.__file__)
    assert contract.namespace == metric_names.NAMESPACE == "OtpService"
    assert contract.service == metric_names.SERVICE == "otp"
    assert (contract.otp_delivery, contract.otp_verification, contract.otp_rejected) == (
        metric_names.OTP_DELIVERY,
        metric_names.OTP_VERIFICATION,
        metric_names.OTP_REJECTED,
    )
    assert contract.otp_upstream_error == metric_names.OTP_UPSTREAM_ERROR
    assert contract.delivery_statuses == metric_names.DELIVERY_STATUSES


def test_every_service_metric_an_alarm_reads_is_one_the_code_emits(default):
    # Given every alarm that reads the OtpService namespace
    metrics = [m for a in _alarms(default).values() for m in _metric_stats(a)]
    service_metrics = [m for m in metrics if m["Namespace"] == metric_names.NAMESPACE]
    assert service_metrics

    # Then each uses a metric name from metric_names.py with exactly {service: "otp", <its own dimension>}
    for metric in service_metrics:
        name = metric["MetricName"]
        assert name in OWN_DIMENSION
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert set(dimensions) == {"service", OWN_DIMENSION[name]}
        assert dimensions["service"] == metric_names.SERVICE
        if name == metric_names.OTP_DELIVERY:
            assert dimensions[metric_names.DIM_DELIVERY_STATUS] in metric_names.DELIVERY_STATUSES


def test_delivery_failure_rate_alarm_covers_every_status_and_counts_only_failures(default):
    # Given the delivery failure-rate alarm
    alarm = _alarms(default)["PinpointSmsOtp-OtpDeliveryFailureRate"]
    statuses = {
        q["Id"]: {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]}["DeliveryStatus"]
        for q in alarm["Metrics"]
        if "MetricStat" in q
    }
    (expression,) = [q["Expression"] for q in alarm["Metrics"] if "Expression" in q]

    # When the expression's numerator is read
    numerator = expression.split("100 * (", 1)[1].split(" / (", 1)[0]
    failed = {statuses[i] for i in re.findall(r"FILL\((\w+), 0\)", numerator)}

    # Then the denominator is every status the code emits and the numerator the sending-side failures
    assert set(statuses.values()) == set(metric_names.DELIVERY_STATUSES)
    assert failed == {"THROTTLED", "TEMPORARY_FAILURE", "PERMANENT_FAILURE", "UNKNOWN_FAILURE", "TIMEOUT"}
    assert alarm["Threshold"] == 20
    assert alarm["EvaluationPeriods"] == 2


def test_pinpoint_error_alarms_watch_deployment_faults_and_every_error_code(default):
    # Given the two upstream-error alarms
    alarms = _alarms(default)
    faults = alarms["PinpointSmsOtp-OtpDeploymentFault"]
    upstream = alarms["PinpointSmsOtp-OtpUpstreamErrors"]

    # Then the deployment-fault alarm fires on one NotFound/Forbidden/MethodNotAllowed/BadRequest
    codes = {
        {d["Name"]: d["Value"] for d in m["Dimensions"]}[metric_names.DIM_ERROR_CODE]
        for m in _metric_stats(faults)
    }
    assert codes == {
        "NotFoundException",
        "ForbiddenException",
        "MethodNotAllowedException",
        "BadRequestException",
    }
    assert faults["Threshold"] == 1
    # and the Metrics Insights alarm sums the metric over every ErrorCode of this service
    (query,) = [q["Expression"] for q in upstream["Metrics"]]
    assert query == (
        "SELECT SUM(OtpUpstreamError) FROM SCHEMA(OtpService, ErrorCode, service) WHERE service = 'otp'"
    )


def test_lambda_and_api_alarms_cover_every_function_and_the_stage(default):
    # Given the alarms on AWS metrics
    alarms = _alarms(default)
    functions = {default.logical_id(f) for f in default.stack.functions.all}

    # Then each function has an Errors and a Throttles alarm
    for metric_name in ("Errors", "Throttles"):
        watched = {
            a["Dimensions"][0]["Value"]["Ref"]
            for a in alarms.values()
            if a.get("Namespace") == "AWS/Lambda" and a.get("MetricName") == metric_name
        }
        assert watched == functions
    # and the API stage has a 5xx and a p99 latency alarm
    api = {a["MetricName"]: a for a in alarms.values() if a.get("Namespace") == "AWS/ApiGateway"}
    assert set(api) == {"5XXError", "Latency"}
    assert api["Latency"]["ExtendedStatistic"] == "p99"
    for alarm in api.values():
        assert {d["Name"] for d in alarm["Dimensions"]} == {"ApiName", "Stage"}
    assert all(a["TreatMissingData"] == "notBreaching" for a in alarms.values())


def test_dashboard_graphs_every_service_metric(default):
    # Given the dashboard body (a JSON document assembled with Fn::Join)
    (dashboard,) = default.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = "".join(p if isinstance(p, str) else "0" for p in parts)
    widgets = json.loads(body)["widgets"]
    text = json.dumps(widgets)

    # Then it shows the four service metrics, each delivery status, and the alarm status widget
    for name in OWN_DIMENSION:
        assert name in text
    for status in metric_names.DELIVERY_STATUSES:
        assert f'"{status}"' in text
    assert any(w["type"] == "alarm" for w in widgets)
