"""The alarms and dashboard widgets of abuse protection: refusals, sends to a country above the band
CloudWatch learned for it, and the send budgets. Built by :class:`cdk_sms_otp.protection.OtpProtection`
in its own scope, so their construct ids (and logical ids) are the protection construct's.

Every metric is read by the names in lambda/otp/metric_names.py (:mod:`cdk_sms_otp.metric_contract`).
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from constructs import Construct

from cdk_sms_otp._lambda.otp.options.rules import send_budget_caps
from cdk_sms_otp.config import OtpConfig
from cdk_sms_otp.metric_contract import load_metric_contract
from cdk_sms_otp.monitoring import OtpMonitoring

REFUSALS_PERIOD: Final = Duration.minutes(5)
NEW_COUNTRY_PERIOD: Final = Duration.minutes(15)
NEW_COUNTRY_STD_DEVS: Final = 3
BUDGET_PERIOD: Final = Duration.minutes(5)
#: The "nearly spent" alarm: a shard of some budget (the total or a country's) this full after a send.
BUDGET_WARNING_PERCENT: Final = 80
#: A country's conversion (right codes / codes sent) over this period, alarmed below the percent once at
#: least CONVERSION_ALARM_MIN_SENDS codes went there (Vonage alerts at 35 %; real users convert at about
#: 85 %). Not adaptiveMinSends (5): a country's hour of 5 codes is too little to page anyone for.
CONVERSION_PERIOD: Final = Duration.hours(1)
CONVERSION_ALARM_PERCENT: Final = 35
CONVERSION_ALARM_MIN_SENDS: Final = 20
BUDGET_REASONS: Final = (
    "SEND_BUDGET_HOURLY",
    "SEND_BUDGET_DAILY",
    "COUNTRY_SEND_BUDGET_HOURLY",
    "COUNTRY_SEND_BUDGET_DAILY",
)


class ProtectionAlarms:
    """Creates the alarms in ``scope`` (``alarms``) and adds the widgets to the monitoring dashboard."""

    def __init__(
        self, scope: Construct, *, config: OtpConfig, monitoring: OtpMonitoring, prefix: str
    ) -> None:
        self._scope = scope
        self._config = config
        self._monitoring = monitoring
        self._prefix = prefix
        self.alarms: list[cw.AlarmBase] = [
            self._refusal_alarm(),
            *self._new_country_alarms(),
            *self._budget_alarms(),
            *self._conversion_alarms(),
        ]
        self._dashboard_widgets()

    def _notify(self, alarm: cw.AlarmBase) -> None:
        topic = self._monitoring.topic
        if topic is not None:
            action = cw_actions.SnsAction(topic)
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

    def _refusal_alarm(self) -> cw.Alarm:
        n = load_metric_contract()
        threshold = self._config.refusal_alarm_threshold
        # Metrics Insights: every Reason in one series, including reasons added after this stack.
        refusals = cw.MathExpression(
            expression=(
                f"SELECT SUM({n.otp_rejected}) FROM SCHEMA({n.namespace}, {n.dim_reason}, {n.dim_service}) "
                f"WHERE {n.dim_service} = '{n.service}'"
            ),
            using_metrics={},
            label="Refused requests",
            period=REFUSALS_PERIOD,
        )
        alarm = cw.Alarm(
            self._scope,
            "RefusalSpike",
            alarm_name=f"{self._prefix}-OtpRefusalSpike",
            alarm_description=(
                f"{threshold}+ requests refused before sending ({n.otp_rejected}, any Reason) in 5 "
                "minutes: someone is probing numbers, pumping SMS or guessing codes. The dashboard's "
                "'Refused before sending, by reason' graph says which."
            ),
            metric=refusals,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self._notify(alarm)
        return alarm

    def _new_country_alarms(self) -> list[cw.AnomalyDetectionAlarm]:
        """Per allowed country: sends above the band CloudWatch learned for that country.

        The series is zero-filled, so a country the service never texts trains to a band around zero and
        its first burst stands out; below the floor (``newCountryAlarmMinSends`` per 15 minutes) the
        series reads zero, so one new user in a new country does not page anyone.
        """
        n = load_metric_contract()
        floor = self._config.new_country_alarm_min_sends
        alarms = []
        for country in self._config.allowed_countries:
            sends = cw.Metric(
                namespace=n.namespace,
                metric_name=n.otp_sent_by_country,
                dimensions_map={n.dim_service: n.service, n.dim_country: country},
                statistic=cw.Stats.SUM,
                period=NEW_COUNTRY_PERIOD,
            )
            gated = cw.MathExpression(
                expression=f"IF(FILL(sends, 0) >= {floor}, FILL(sends, 0), 0)",
                using_metrics={"sends": sends},
                label=f"Sends to {country}",
                period=NEW_COUNTRY_PERIOD,
            )
            alarm = cw.AnomalyDetectionAlarm(
                self._scope,
                f"NewCountrySends{country}",
                alarm_name=f"{self._prefix}-OtpCountrySendSpike-{country}",
                alarm_description=(
                    f"Unusually many codes sent to {country} ({n.otp_sent_by_country}): at least {floor} "
                    f"in 15 minutes and above the band learned for {country}. SMS pumping usually targets "
                    "a country the service rarely texts; check the numbers in the logs, and consider "
                    "removing the country from allowedCountries or adding blockedPrefixes."
                ),
                metric=gated,
                evaluation_periods=1,
                std_devs=NEW_COUNTRY_STD_DEVS,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            self._notify(alarm)
            alarms.append(alarm)
        return alarms

    def _country_series(self, metric_name: str, country: str) -> cw.Metric:
        n = load_metric_contract()
        return cw.Metric(
            namespace=n.namespace,
            metric_name=metric_name,
            dimensions_map={n.dim_service: n.service, n.dim_country: country},
            statistic=cw.Stats.SUM,
            period=CONVERSION_PERIOD,
        )

    def _conversion_alarms(self) -> list[cw.Alarm]:
        """Per allowed country: its conversion collapsed (right codes / sends, over an hour, with at least
        CONVERSION_ALARM_MIN_SENDS sends). Real users enter about 85 % of their codes; a pump none."""
        n = load_metric_contract()
        floor = CONVERSION_ALARM_MIN_SENDS
        alarms = []
        for country in self._config.allowed_countries:
            conversion = cw.MathExpression(
                expression=(f"IF(FILL(sends, 0) >= {floor}, 100 * FILL(verified, 0) / FILL(sends, 0), 100)"),
                using_metrics={
                    "sends": self._country_series(n.otp_sent_by_country, country),
                    "verified": self._country_series(n.otp_verified_by_country, country),
                },
                label=f"Conversion {country} (%)",
                period=CONVERSION_PERIOD,
            )
            alarm = cw.Alarm(
                self._scope,
                f"ConversionCollapse{country}",
                alarm_name=f"{self._prefix}-OtpConversionCollapse-{country}",
                alarm_description=(
                    f"Fewer than {CONVERSION_ALARM_PERCENT} % of the codes sent to {country} in the last "
                    f"hour were entered ({n.otp_verified_by_country} / {n.otp_sent_by_country}, at least "
                    f"{floor} sent): SMS pumping, or a delivery problem in that country. The adaptive "
                    f"defence blocks ranges that do not convert ({n.otp_range_blocked}); list them with "
                    "`make ranges` (docs/abuse-protection.md#adaptive-defence)."
                ),
                metric=conversion,
                threshold=CONVERSION_ALARM_PERCENT,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            self._notify(alarm)
            alarms.append(alarm)
        return alarms

    def _budget_alarms(self) -> list[cw.Alarm]:
        """One alarm before a send budget is spent (a shard of it 80 % full), one when it refuses."""
        n = load_metric_contract()
        c = self._config
        fullest = cw.MathExpression(
            expression=(
                f"SELECT MAX({n.otp_send_budget_used}) FROM SCHEMA({n.namespace}, {n.dim_budget}, "
                f"{n.dim_service}) WHERE {n.dim_service} = '{n.service}'"
            ),
            using_metrics={},
            label="Fullest send budget (%)",
            period=BUDGET_PERIOD,
        )
        per_hour, per_day = send_budget_caps(c)
        nearly = cw.Alarm(
            self._scope,
            "SendBudgetNearlySpent",
            alarm_name=f"{self._prefix}-OtpSendBudgetNearlySpent",
            alarm_description=(
                f"A send budget is {BUDGET_WARNING_PERCENT} % spent ({n.otp_send_budget_used}, any "
                f"{n.dim_budget}): the total ({per_hour}/hour, {per_day}/day) "
                "or a country's. At 100 % every send is refused with 503 until it frees up. If the traffic "
                "is real, raise sendBudgetPerHour / sendBudgetPerDay / countrySendBudgets; if not, see "
                "'Sends by country' and the refusals for SMS pumping."
            ),
            metric=fullest,
            threshold=BUDGET_WARNING_PERCENT,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        refusals = {
            f"r{index}": cw.Metric(
                namespace=n.namespace,
                metric_name=n.otp_rejected,
                dimensions_map={n.dim_service: n.service, n.dim_reason: reason},
                statistic=cw.Stats.SUM,
                period=BUDGET_PERIOD,
            )
            for index, reason in enumerate(BUDGET_REASONS)
        }
        spent = cw.Alarm(
            self._scope,
            "SendBudgetSpent",
            alarm_name=f"{self._prefix}-OtpSendBudgetSpent",
            alarm_description=(
                "A send budget is spent: codes are being refused (HTTP 503 send-budget-exhausted; Cognito "
                f"sign-ins get no SMS), {n.otp_rejected} with Reason " + ", ".join(BUDGET_REASONS) + "."
            ),
            metric=cw.MathExpression(
                expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in refusals),
                using_metrics=dict(refusals),
                label="Sends refused by a budget",
                period=BUDGET_PERIOD,
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (nearly, spent):
            self._notify(alarm)
        return [nearly, spent]

    def _dashboard_widgets(self) -> None:
        n = load_metric_contract()
        by_country = cw.MathExpression(
            expression=(
                f"SEARCH('{{{n.namespace},{n.dim_service},{n.dim_country}}} "
                f'MetricName="{n.otp_sent_by_country}" {n.dim_service}="{n.service}"\', \'Sum\', '
                f"{int(NEW_COUNTRY_PERIOD.to_seconds())})"
            ),
            using_metrics={},
            label="",
            period=NEW_COUNTRY_PERIOD,
        )
        budget_usage = cw.MathExpression(
            expression=(
                f"SEARCH('{{{n.namespace},{n.dim_service},{n.dim_budget}}} "
                f'MetricName="{n.otp_send_budget_used}" {n.dim_service}="{n.service}"\', \'Maximum\', '
                f"{int(BUDGET_PERIOD.to_seconds())})"
            ),
            using_metrics={},
            label="",
            period=BUDGET_PERIOD,
        )
        widgets: list[cw.IWidget] = [
            cw.GraphWidget(title=f"Sends by country ({n.otp_sent_by_country})", left=[by_country], width=12),
            cw.GraphWidget(
                title=f"Send budgets used, % ({n.otp_send_budget_used}, by {n.dim_budget})",
                left=[budget_usage],
                left_annotations=[
                    cw.HorizontalAnnotation(value=BUDGET_WARNING_PERCENT, label="nearly spent alarm")
                ],
                width=12,
            ),
            cw.GraphWidget(
                title=f"Conversion by country, % ({n.otp_verified_by_country} / {n.otp_sent_by_country})",
                left=[
                    cw.MathExpression(
                        # Ids are unique within the graph: one pair per country.
                        expression=f"100 * FILL(v{country.lower()}, 0) / s{country.lower()}",
                        using_metrics={
                            f"s{country.lower()}": self._country_series(n.otp_sent_by_country, country),
                            f"v{country.lower()}": self._country_series(n.otp_verified_by_country, country),
                        },
                        label=country,
                        period=CONVERSION_PERIOD,
                    )
                    for country in self._config.allowed_countries
                ],
                left_annotations=[
                    cw.HorizontalAnnotation(value=CONVERSION_ALARM_PERCENT, label="conversion alarm")
                ],
                width=12,
            ),
            cw.GraphWidget(
                title=(
                    f"Sends and right codes by country ({n.otp_sent_by_country}, {n.otp_verified_by_country})"
                ),
                left=[
                    series
                    for country in self._config.allowed_countries
                    for series in (
                        self._country_series(n.otp_sent_by_country, country).with_(label=f"sent {country}"),
                        self._country_series(n.otp_verified_by_country, country).with_(
                            label=f"verified {country}"
                        ),
                    )
                ],
                width=12,
            ),
            cw.GraphWidget(
                title=f"Ranges blocked ({n.otp_range_blocked}, by {n.dim_country})",
                left=[
                    cw.MathExpression(
                        expression=(
                            f"SEARCH('{{{n.namespace},{n.dim_service},{n.dim_country}}} "
                            f'MetricName="{n.otp_range_blocked}" {n.dim_service}="{n.service}"\', \'Sum\', '
                            f"{int(CONVERSION_PERIOD.to_seconds())})"
                        ),
                        using_metrics={},
                        label="",
                        period=CONVERSION_PERIOD,
                    )
                ],
                width=12,
            ),
            cw.AlarmStatusWidget(title="Abuse protection alarms", alarms=list(self.alarms), width=12),
        ]
        self._monitoring.dashboard.add_widgets(*widgets)
