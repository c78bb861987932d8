"""Alarms and dashboard read exactly the metrics the Lambda code emits."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cdk_sms_otp.metric_contract import METRIC_NAMES_FILE, load_metric_contract
from otp import metric_names
from tests.infra.support import Synth, synth

# Each service metric and the one dimension it carries besides `service`.
OWN_DIMENSION = {
    metric_names.OTP_DELIVERY: metric_names.DIM_DELIVERY_STATUS,
    metric_names.OTP_VERIFICATION: metric_names.DIM_RESULT,
    metric_names.OTP_REJECTED: metric_names.DIM_REASON,
    metric_names.OTP_UPSTREAM_ERROR: metric_names.DIM_ERROR_CODE,
    metric_names.OTP_SENT_BY_COUNTRY: metric_names.DIM_COUNTRY,
    metric_names.OTP_SEND_BUDGET_USED: metric_names.DIM_BUDGET,
    metric_names.OTP_VERIFIED_BY_COUNTRY: metric_names.DIM_COUNTRY,
}
# Metrics the code prints that the stack reads only through a search expression (the dashboard's).
SEARCHED = {metric_names.OTP_RANGE_BLOCKED: metric_names.DIM_COUNTRY}


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
    alarm = _alarms(default)["SmsOtp-OtpDeliveryFailureRate"]
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
    faults = alarms["SmsOtp-OtpDeploymentFault"]
    upstream = alarms["SmsOtp-OtpUpstreamErrors"]

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
    functions = {default.logical_id(f) for f in default.service.functions.all}

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


# ------------------------------------------------------------ the EMF the code prints, read as CloudWatch

# A read of the stack: (metric name, the exact dimension names, the dimension values it fixes).
Read = tuple[str, frozenset[str], tuple[tuple[str, str], ...]]


def _reads(s: Synth) -> set[Read]:
    """Every way the alarms and the dashboard select an OtpService metric: metric stats (alarms and
    dashboard graphs), SEARCH expressions and Metrics Insights SCHEMA queries."""
    reads: set[Read] = set()
    for alarm in _alarms(s).values():
        for metric in _metric_stats(alarm):
            if metric["Namespace"] == metric_names.NAMESPACE:
                fixed = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
                reads.add((metric["MetricName"], frozenset(fixed), tuple(sorted(fixed.items()))))
    (dashboard,) = s.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    widgets = json.loads("".join(p if isinstance(p, str) else "0" for p in parts))["widgets"]
    for widget in widgets:
        for row in widget.get("properties", {}).get("metrics", []):
            labels = [cell for cell in row if isinstance(cell, str)]
            if labels and labels[0] == metric_names.NAMESPACE:
                fixed = dict(zip(labels[2::2], labels[3::2], strict=True))
                reads.add((labels[1], frozenset(fixed), tuple(sorted(fixed.items()))))
    text = json.dumps(s.json).replace('\\"', '"')
    for dims, name in re.findall(
        r"SEARCH\('\{" + metric_names.NAMESPACE + r",([^}]*)\} MetricName=\"(\w+)\"", text
    ):
        reads.add((name, frozenset(d.strip() for d in dims.split(",")), ((metric_names.DIM_SERVICE, "otp"),)))
    for name, dims in re.findall(
        r"SELECT (?:SUM|MAX)\((\w+)\) FROM SCHEMA\(" + metric_names.NAMESPACE + r", ([^)]*)\)", text
    ):
        reads.add((name, frozenset(d.strip() for d in dims.split(",")), ((metric_names.DIM_SERVICE, "otp"),)))
    return reads


Datapoint = tuple[str, str, tuple[tuple[str, str], ...]]


def _extract(output: str) -> list[Datapoint]:
    """Metric data points as CloudWatch extracts them from EMF documents: for each directive, each
    dimension set and each metric, one point whose dimension values are the root members so named."""
    points = []
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    [value] = document[metric["Name"]]
                    assert (metric["Unit"], value) == ("Count", 1) or (
                        metric["Unit"] == "Percent" and 0 <= value <= 100
                    )
                    dimensions = tuple(sorted((name, document[name]) for name in dimension_set))
                    points.append((directive["Namespace"], metric["Name"], dimensions))
    return points


def _emitted_by_every_event() -> list[Datapoint]:
    """What the real observer prints for every kind of event, each delivery status, result and reason."""
    from datetime import UTC, datetime

    from otp.domain.models import DeliveryReport, DeliveryStatus, PhoneNumber, SendOutcome
    from otp.domain.ports import RangeBlock
    from otp.domain.reasons import RejectReason
    from otp.observability import PowertoolsObserver
    from tests.telemetry import captured_output

    observer = PowertoolsObserver()
    number = PhoneNumber(e164="+12065550100", region="US", country_code=1)
    with captured_output() as output:
        for status in DeliveryStatus:
            report = DeliveryReport(status.value, "m-1", 200, "ok", "req-1")
            observer.delivery(SendOutcome(number, "ref", report, datetime(2026, 1, 1, tzinfo=UTC)))
        for country in ("CA", "GB"):  # the other allowed countries of cdk.json's defaults
            abroad = PhoneNumber(e164="+12045550100", region=country, country_code=1)
            report = DeliveryReport("SUCCESSFUL", "m-1", 200, "ok", "req-1")
            observer.delivery(SendOutcome(abroad, "ref", report, datetime(2026, 1, 1, tzinfo=UTC)))
            observer.verification(abroad, "ref", valid=True)
        observer.range_blocked(RangeBlock("+1206555", until_ms=2, since_ms=1, sends=20), "US")
        for valid in (True, False):
            observer.verification(number, "ref", valid=valid)
        for reason in RejectReason:
            observer.rejected(reason, destination=number)
        faults = load_metric_contract().deployment_fault_codes
        for code in (*faults, "TooManyRequestsException", "Timeout", "ConnectionError"):
            observer.upstream_error(code, "SendOTPMessage", maybe_sent=False)
        for scope, percent in (("ALL", 42), ("US", 10)):
            observer.budget_usage(scope, percent)
    return _extract(output.getvalue())


def test_every_metric_the_stack_reads_is_selectable_in_what_the_code_prints(default):
    # Given every selection the alarms and the dashboard make in the OtpService namespace
    reads = _reads(default)
    assert {name for name, _, _ in reads} == set(OWN_DIMENSION)
    # and the data points CloudWatch extracts from what the observer prints for every event
    points = _emitted_by_every_event()

    # Then every data point carries exactly service + its metric's own dimension, in OtpService
    for namespace, name, dimensions in points:
        assert namespace == metric_names.NAMESPACE
        own = {**OWN_DIMENSION, **SEARCHED}[name]
        assert {d for d, _ in dimensions} == {metric_names.DIM_SERVICE, own}
        assert dict(dimensions)[metric_names.DIM_SERVICE] == metric_names.SERVICE
    # and every read of the stack selects some of them: same name, same dimension names, same values
    for name, dimension_names, fixed in reads:
        matching = [
            point
            for point in points
            if point[1] == name
            and {d for d, _ in point[2]} == dimension_names
            and set(fixed) <= set(point[2])
        ]
        assert matching, (name, sorted(dimension_names), fixed)


def test_one_send_is_one_document_with_both_of_its_metrics():
    # Given one delivered send
    from datetime import UTC, datetime

    from otp.domain.models import DeliveryReport, PhoneNumber, SendOutcome
    from otp.observability import PowertoolsObserver
    from tests.telemetry import captured_output, parse_output

    number = PhoneNumber(e164="+442079460000", region="GB", country_code=44)
    report = DeliveryReport("SUCCESSFUL", "m-1", 200, "ok", "req-1")
    with captured_output() as output:
        PowertoolsObserver().delivery(SendOutcome(number, "ref", report, datetime(2026, 1, 1, tzinfo=UTC)))

    # Then one EMF document carries OtpDelivery by DeliveryStatus and OtpSentByCountry by Country
    [document] = parse_output(output.getvalue()).metrics
    assert sorted(_extract(output.getvalue())) == [
        ("OtpService", "OtpDelivery", (("DeliveryStatus", "SUCCESSFUL"), ("service", "otp"))),
        ("OtpService", "OtpSentByCountry", (("Country", "GB"), ("service", "otp"))),
    ]
    assert len(document["_aws"]["CloudWatchMetrics"]) == 2
