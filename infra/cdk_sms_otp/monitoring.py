"""CloudWatch dashboard and alarms.

The service's own metrics are read with exactly the names and dimensions the code emits: namespace
``OtpService``, each metric with the dimensions ``{service: "otp", <its own dimension>}``, all taken from
``lambda/otp/metric_names.py`` (see :mod:`infra.metric_contract`). Alarms notify an SNS topic when
``alarmEmail`` is configured.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from cdk_sms_otp.api import OtpApi
from cdk_sms_otp.config import OtpConfig
from cdk_sms_otp.functions import OtpFunctions
from cdk_sms_otp.metric_contract import MetricContract, load_metric_contract

PERIOD: Final = Duration.minutes(5)
#: How alarms and graphs name each engine (otp.engine), and what its deployment faults usually mean.
ENGINE_LABELS: Final = {"pinpoint": "Pinpoint", "endusermessaging": "End User Messaging"}
FAULT_MEANINGS: Final = {
    "Pinpoint": "the application id, the IAM role, the origination identity or the request is wrong.",
    "End User Messaging": "the IAM role, the configuration set, the notify code configuration, the "
    "origination identity or the request is wrong.",
}
#: Statuses that mean the SMS did not go out for a reason on the sending side. OPT_OUT and DUPLICATE are
#: the recipient's or the caller's doing and do not count as failures.
FAILED_DELIVERY_STATUSES: Final = (
    "THROTTLED",
    "TEMPORARY_FAILURE",
    "PERMANENT_FAILURE",
    "UNKNOWN_FAILURE",
    "TIMEOUT",
)
#: Rates are only meaningful with some volume: below this many events per period the rate reads 0.
MIN_VOLUME: Final = 5
DELIVERY_FAILURE_RATE_THRESHOLD: Final = 20  # percent of sends in 5 minutes, twice in a row
VERIFICATION_FAILURE_RATE_THRESHOLD: Final = 50  # percent of verifications in 5 minutes, three times
UPSTREAM_ERRORS_THRESHOLD: Final = 5  # Pinpoint errors of any kind in 5 minutes
API_5XX_THRESHOLD: Final = 5  # 5xx answers in 5 minutes
API_P99_LATENCY_MS: Final = 5_000  # three periods in a row


class OtpMonitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OtpConfig,
        functions: OtpFunctions,
        api: OtpApi,
    ) -> None:
        super().__init__(scope, construct_id)
        self._names = load_metric_contract()
        # Which engine the alarms and graphs speak of, and the fault codes of every engine in use.
        self._engine = config.engine
        self._engine_label = ENGINE_LABELS.get(config.engine, config.engine)
        self._fault_codes = self._names.deployment_faults_for(config.engines_in_use)
        unknown = set(FAILED_DELIVERY_STATUSES) - set(self._names.delivery_statuses)
        if unknown:
            raise ValueError(
                f"FAILED_DELIVERY_STATUSES names statuses the code does not emit: {sorted(unknown)}"
            )
        self._prefix = Stack.of(self).stack_name
        self.topic = self._alarm_topic(config.alarm_email) if config.alarm_email else None
        self.alarms: list[cw.Alarm] = []

        self._service_alarms()
        self._api_alarms(api)
        for function in functions.all:
            self._function_alarms(function)
        self.dashboard = self._dashboard(api, functions)

    # ------------------------------------------------------------------------------------------ metrics

    def service_metric(
        self, metric_name: str, dimension: str, value: str, label: str | None = None
    ) -> cw.Metric:
        names: MetricContract = self._names
        return cw.Metric(
            namespace=names.namespace,
            metric_name=metric_name,
            dimensions_map={names.dim_service: names.service, dimension: value},
            statistic=cw.Stats.SUM,
            period=PERIOD,
            label=label or value,
        )

    def delivery_metrics(self) -> dict[str, cw.Metric]:
        n = self._names
        return {s: self.service_metric(n.otp_delivery, n.dim_delivery_status, s) for s in n.delivery_statuses}

    def verification_metrics(self) -> dict[str, cw.Metric]:
        n = self._names
        return {r: self.service_metric(n.otp_verification, n.dim_result, r) for r in n.verification_results}

    def _search(self, metric_name: str, dimension: str, label: str) -> cw.MathExpression:
        """Every value of a dimension (e.g. each rejection Reason), for graphs."""
        n = self._names
        query = (
            f'SEARCH(\'{{{n.namespace},{n.dim_service},{dimension}}} MetricName="{metric_name}" '
            f"{n.dim_service}=\"{n.service}\"', 'Sum', {int(PERIOD.to_seconds())})"
        )
        return cw.MathExpression(expression=query, label=label, period=PERIOD, using_metrics={})

    # ------------------------------------------------------------------------------------------- alarms

    def _alarm_topic(self, email: str) -> sns.Topic:
        # Encrypted with a customer-managed key: CloudWatch cannot publish to a topic encrypted with the
        # AWS-managed SNS key, so the key policy lets CloudWatch use this one.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"{self._prefix} alarm notifications",
            enable_key_rotation=True,
        )
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        topic = sns.Topic(
            self, "AlarmTopic", display_name=f"{self._prefix} OTP alarms", master_key=key, enforce_ssl=True
        )
        topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic

    def _add_alarm(
        self,
        construct_id: str,
        *,
        metric: cw.IMetric,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
    ) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            construct_id,
            metric=metric,
            alarm_name=f"{self._prefix}-{construct_id}",
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        if self.topic is not None:
            action = cw_actions.SnsAction(self.topic)
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        self.alarms.append(alarm)
        return alarm

    def _service_alarms(self) -> None:
        n = self._names
        delivery = self.delivery_metrics()
        ids = {status: f"d{i}" for i, status in enumerate(delivery)}
        total = " + ".join(f"FILL({ids[s]}, 0)" for s in delivery)
        failed = " + ".join(f"FILL({ids[s]}, 0)" for s in FAILED_DELIVERY_STATUSES)
        self.delivery_failure_rate = cw.MathExpression(
            expression=f"IF(({total}) >= {MIN_VOLUME}, 100 * ({failed}) / ({total}), 0)",
            using_metrics={ids[s]: m for s, m in delivery.items()},
            label="Failed deliveries (%)",
            period=PERIOD,
        )
        self._add_alarm(
            "OtpDeliveryFailureRate",
            metric=self.delivery_failure_rate,
            threshold=DELIVERY_FAILURE_RATE_THRESHOLD,
            evaluation_periods=2,
            description=f"{DELIVERY_FAILURE_RATE_THRESHOLD}%+ of OTP sends ({n.otp_delivery}) ended "
            f"{'/'.join(FAILED_DELIVERY_STATUSES)} in two consecutive 5-minute periods (with at least "
            f"{MIN_VOLUME} sends). Check the origination identity, the SMS spend limit and carrier status.",
        )

        results = self.verification_metrics()
        verifications = {"v0": results["VALID"], "v1": results["INVALID"]}
        total = "(FILL(v0, 0) + FILL(v1, 0))"
        self.verification_failure_rate = cw.MathExpression(
            expression=f"IF({total} >= {MIN_VOLUME}, 100 * FILL(v1, 0) / {total}, 0)",
            using_metrics=verifications,
            label="Wrong codes (%)",
            period=PERIOD,
        )
        self._add_alarm(
            "OtpVerificationFailureRate",
            metric=self.verification_failure_rate,
            threshold=VERIFICATION_FAILURE_RATE_THRESHOLD,
            evaluation_periods=3,
            description=f"{VERIFICATION_FAILURE_RATE_THRESHOLD}%+ of verifications ({n.otp_verification}) "
            "were INVALID for 15 minutes: codes are being guessed, or users do not receive them.",
        )

        faults = {
            f"e{i}": self.service_metric(n.otp_upstream_error, n.dim_error_code, code)
            for i, code in enumerate(self._fault_codes)
        }
        self._add_alarm(
            "OtpDeploymentFault",
            metric=cw.MathExpression(
                expression=" + ".join(f"FILL({i}, 0)" for i in faults),
                using_metrics=faults,
                label="Deployment faults",
                period=PERIOD,
            ),
            threshold=1,
            description=f"{self._engine_label} answered {'/'.join(self._fault_codes)} "
            f"({n.otp_upstream_error}): {FAULT_MEANINGS.get(self._engine_label, FAULT_MEANINGS['Pinpoint'])}",
        )
        quota_codes = self._names.engine_quota_codes_for(self._engine)
        if quota_codes:
            self._add_alarm(
                "OtpEngineQuotaExceeded",
                metric=self.service_metric(n.otp_engine_quota_exceeded, n.dim_engine, self._engine),
                threshold=1,
                description=f"{self._engine_label} refused a send with {'/'.join(quota_codes)} "
                f"({n.otp_engine_quota_exceeded}): an account quota, such as the monthly Notify spend limit, "
                "is used up and no code goes out (HTTP 503) until you raise it in the Service Quotas console "
                "or set a higher enforced spend limit.",
            )
        # Metrics Insights query: every ErrorCode, including timeouts and throttling.
        upstream = cw.MathExpression(
            expression=(
                f"SELECT SUM({n.otp_upstream_error}) FROM SCHEMA({n.namespace}, {n.dim_error_code}, "
                f"{n.dim_service}) WHERE {n.dim_service} = '{n.service}'"
            ),
            using_metrics={},
            label=f"{self._engine_label} errors",
            period=PERIOD,
        )
        self._add_alarm(
            "OtpUpstreamErrors",
            metric=upstream,
            threshold=UPSTREAM_ERRORS_THRESHOLD,
            description=f"{UPSTREAM_ERRORS_THRESHOLD}+ failed {self._engine_label} calls "
            f"({n.otp_upstream_error}, any ErrorCode) in 5 minutes.",
        )

    def _api_alarms(self, api: OtpApi) -> None:
        stage = api.rest_api.deployment_stage
        self._add_alarm(
            "Api5xx",
            metric=stage.metric_server_error(period=PERIOD, statistic=cw.Stats.SUM),
            threshold=API_5XX_THRESHOLD,
            description=f"{API_5XX_THRESHOLD}+ API responses with a 5xx status in 5 minutes.",
        )
        self._add_alarm(
            "ApiLatencyP99",
            metric=stage.metric_latency(period=PERIOD, statistic=cw.Stats.p(99)),
            threshold=API_P99_LATENCY_MS,
            evaluation_periods=3,
            description=f"API p99 latency at or above {API_P99_LATENCY_MS} ms for 15 minutes.",
        )

    def _function_alarms(self, function: lambda_.Function) -> None:
        name = function.node.scope.node.id if function.node.scope is not None else function.node.id
        self._add_alarm(
            f"{name}FunctionErrors",
            metric=function.metric_errors(period=PERIOD, statistic=cw.Stats.SUM),
            threshold=1,
            description=f"The {name} function failed (unhandled error or timeout).",
        )
        self._add_alarm(
            f"{name}FunctionThrottles",
            metric=function.metric_throttles(period=PERIOD, statistic=cw.Stats.SUM),
            threshold=1,
            description=f"The {name} function was throttled (account concurrency exhausted).",
        )

    # ---------------------------------------------------------------------------------------- dashboard

    def _dashboard(self, api: OtpApi, functions: OtpFunctions) -> cw.Dashboard:
        n = self._names
        stage = api.rest_api.deployment_stage
        width = 8
        dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{self._prefix}-otp",
            default_interval=Duration.hours(6),
        )
        dashboard.add_widgets(
            cw.TextWidget(
                markdown=f"# {self._prefix}: SMS one-time passwords\n"
                f"Service metrics: namespace `{n.namespace}`, dimension `{n.dim_service}={n.service}`. "
                "Alarms notify the SNS topic when `alarmEmail` is configured.",
                width=24,
                height=2,
            )
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title=f"Sends by delivery status ({n.otp_delivery})",
                left=list(self.delivery_metrics().values()),
                stacked=True,
                width=width,
            ),
            cw.GraphWidget(
                title="Failed deliveries (%)",
                left=[self.delivery_failure_rate],
                left_y_axis=cw.YAxisProps(min=0, max=100),
                left_annotations=[
                    cw.HorizontalAnnotation(value=DELIVERY_FAILURE_RATE_THRESHOLD, label="alarm")
                ],
                width=width,
            ),
            cw.GraphWidget(
                title=f"Verifications ({n.otp_verification})",
                left=list(self.verification_metrics().values()),
                right=[self.verification_failure_rate],
                right_y_axis=cw.YAxisProps(min=0, max=100),
                stacked=False,
                width=width,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title=f"Refused before sending, by reason ({n.otp_rejected})",
                left=[self._search(n.otp_rejected, n.dim_reason, "")],
                stacked=True,
                width=12,
            ),
            cw.GraphWidget(
                title=f"{self._engine_label} errors by code ({n.otp_upstream_error})",
                left=[self._search(n.otp_upstream_error, n.dim_error_code, "")],
                stacked=True,
                width=12,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="API requests",
                left=[
                    stage.metric_count(period=PERIOD, statistic=cw.Stats.SUM, label="requests"),
                    stage.metric_client_error(period=PERIOD, statistic=cw.Stats.SUM, label="4xx"),
                    stage.metric_server_error(period=PERIOD, statistic=cw.Stats.SUM, label="5xx"),
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="API latency (ms)",
                left=[
                    stage.metric_latency(period=PERIOD, statistic=cw.Stats.p(50), label="p50"),
                    stage.metric_latency(period=PERIOD, statistic=cw.Stats.p(99), label="p99"),
                    stage.metric_integration_latency(
                        period=PERIOD, statistic=cw.Stats.p(99), label="integration p99"
                    ),
                ],
                left_annotations=[cw.HorizontalAnnotation(value=API_P99_LATENCY_MS, label="alarm")],
                width=12,
            ),
        )

        def label(function: lambda_.Function) -> str:
            return function.node.scope.node.id if function.node.scope is not None else function.node.id

        dashboard.add_widgets(
            cw.GraphWidget(
                title="Lambda errors and throttles",
                left=[
                    f.metric_errors(period=PERIOD, statistic=cw.Stats.SUM, label=label(f))
                    for f in functions.all
                ],
                right=[
                    f.metric_throttles(period=PERIOD, statistic=cw.Stats.SUM, label=f"{label(f)} throttles")
                    for f in functions.all
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Lambda duration p99 (ms)",
                left=[
                    f.metric_duration(period=PERIOD, statistic=cw.Stats.p(99), label=label(f))
                    for f in functions.all
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24))
        return dashboard

    @property
    def dashboard_url(self) -> str:
        return (
            f"https://console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}"
            f"#dashboards:name={self._prefix}-otp"
        )
