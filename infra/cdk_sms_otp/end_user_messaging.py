"""AWS End User Messaging resources for the ``endusermessaging`` engine (``otp.engine``).

- A protect configuration (``AWS::SMSVOICE::ProtectConfiguration``) whose SMS and voice country rules
  FILTER exactly ``otp.allowedCountries`` (sent, but AWS's artificially-inflated-traffic model blocks
  what it suspects) and BLOCK every other country. A new protect configuration allows every country
  (``CreateProtectConfiguration``: "by default all country rule sets for each capability are set to
  ALLOW"), so every other ISO code is listed explicitly; listing all also keeps CloudFormation's drift
  detection quiet (the service always returns every country).
- A configuration set (``AWS::SMSVOICE::ConfigurationSet``) associated with that protect configuration,
  which the functions name in every send (``configurationSetName``): AWS applies the protect
  configuration of the request's configuration set, and sends the delivery events to its destinations.
  The account default protect configuration is left alone: it would also filter every other SMS of the
  account (Amazon SNS, Cognito, Pinpoint).
- One event destination: a CloudWatch Logs group, written by a role only ``sms-voice.amazonaws.com``
  acting for this configuration set may assume. Metric filters turn the JSON events into metrics:
  ``OtpMessageEvents`` by ``EventType`` and ``Country`` (the events' ``eventType`` and
  ``isoCountryCode``), and ``OtpMessagesFinal`` / ``OtpMessagesDelivered`` for the delivered rate, which
  is alarmed and graphed on the dashboard with the events by type and by country.

No CloudFormation resource type exists for a notify code configuration (the ``endusermessaging`` API
has one, aws-cdk-lib 2.275 and CloudFormation do not): the functions pass the code policy and templates
with every request, as they do with Pinpoint OTP. WhatsApp deliveries are not events of a configuration
set (its event types are TEXT_*, VOICE_*, MEDIA_* and RCS_*), so they are not in these metrics.
"""

from __future__ import annotations

from typing import Final

import phonenumbers
from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_smsvoice as smsvoice
from constructs import Construct

from cdk_sms_otp.config import OtpConfig
from cdk_sms_otp.functions import log_retention
from cdk_sms_otp.metric_contract import load_metric_contract
from cdk_sms_otp.monitoring import OtpMonitoring

# phonenumbers' regions that are not ISO 3166-1 codes (Ascension, Tristan da Cunha, Kosovo): a protect
# configuration takes ISO codes only.
_NOT_ISO_3166: Final = frozenset({"AC", "TA", "XK"})
#: Every country a protect configuration rule can name (ISO 3166-1 alpha-2 regions with phone numbers).
COUNTRY_CODES: Final = tuple(sorted(set(phonenumbers.SUPPORTED_REGIONS) - _NOT_ISO_3166))
ALLOWED_STATUS: Final = "FILTER"
OTHER_STATUS: Final = "BLOCK"
#: The capabilities this service sends with (MMS is never used and keeps the service's default).
PROTECTED_CAPABILITIES: Final = ("SMS", "VOICE")
MATCHING_EVENT_TYPES: Final = ("TEXT_ALL", "VOICE_ALL")

# Metrics made by the metric filters (namespace OtpService; not emitted by the functions).
OTP_MESSAGE_EVENTS: Final = "OtpMessageEvents"
OTP_MESSAGES_FINAL: Final = "OtpMessagesFinal"
OTP_MESSAGES_DELIVERED: Final = "OtpMessagesDelivered"
DIM_EVENT_TYPE: Final = "EventType"
#: A final event that means the code reached the phone: delivered, accepted by a carrier that sends no
#: receipt (TEXT_SUCCESSFUL with isFinal), or a call that was answered and completed.
DELIVERED_EVENT_TYPES: Final = ("TEXT_DELIVERED", "TEXT_SUCCESSFUL", "VOICE_COMPLETED")
DELIVERY_PERIOD: Final = Duration.minutes(15)
DELIVERED_RATE_THRESHOLD: Final = 80  # percent of final events, two periods in a row
DELIVERED_RATE_MIN_VOLUME: Final = 5  # final events per period; below it the rate reads 100


class EndUserMessaging(Construct):
    """Protect configuration, configuration set, event destination; then metrics, alarm and dashboard."""

    def __init__(self, scope: Construct, construct_id: str, *, config: OtpConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._prefix = Stack.of(self).stack_name
        self.configuration_set_name = f"{self._prefix}-otp"
        self.protect_configuration = smsvoice.CfnProtectConfiguration(
            self,
            "ProtectConfiguration",
            country_rule_set=smsvoice.CfnProtectConfiguration.CountryRuleSetProperty(
                **{capability.lower(): self._country_rules() for capability in PROTECTED_CAPABILITIES}
            ),
            deletion_protection_enabled=False,
        )
        self.event_log_group = logs.LogGroup(
            self,
            "EventLogs",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        role, policy = self._event_role()
        self.configuration_set = smsvoice.CfnConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=self.configuration_set_name,
            protect_configuration_id=self.protect_configuration.attr_protect_configuration_id,
            event_destinations=[
                smsvoice.CfnConfigurationSet.EventDestinationProperty(
                    event_destination_name="otp-delivery-events",
                    enabled=True,
                    matching_event_types=list(MATCHING_EVENT_TYPES),
                    cloud_watch_logs_destination=smsvoice.CfnConfigurationSet.CloudWatchLogsDestinationProperty(
                        iam_role_arn=role.role_arn, log_group_arn=self.event_log_group.log_group_arn
                    ),
                )
            ],
        )
        # The service checks the role when the destination is created: its policy must exist first (the
        # role itself is already a dependency, through the GetAtt).
        self.configuration_set.node.add_dependency(policy)
        self._metric_filters()

    def _country_rules(self) -> list[smsvoice.CfnProtectConfiguration.CountryRuleProperty]:
        allowed = set(self._config.allowed_countries)
        return [
            smsvoice.CfnProtectConfiguration.CountryRuleProperty(
                country_code=code, protect_status=ALLOWED_STATUS if code in allowed else OTHER_STATUS
            )
            for code in COUNTRY_CODES
        ]

    def _event_role(self) -> tuple[iam.Role, iam.Policy]:
        stack = Stack.of(self)
        configuration_set_arn = stack.format_arn(
            service="sms-voice", resource="configuration-set", resource_name=self.configuration_set_name
        )
        # The trust policy End User Messaging documents, with its recommended confused-deputy conditions.
        role = iam.Role(
            self,
            "EventRole",
            assumed_by=iam.ServicePrincipal(
                "sms-voice.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": configuration_set_arn},
                },
            ),
            description=f"{self._prefix}: End User Messaging writes delivery events to its log group",
        )
        policy = iam.Policy(
            self,
            "EventPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    # The log group's ARN ends in ":*": the group's streams, which the service creates.
                    resources=[self.event_log_group.log_group_arn],
                )
            ],
        )
        return role, policy

    def _metric_filters(self) -> None:
        namespace = load_metric_contract().namespace
        has_type = logs.FilterPattern.exists("$.eventType")
        final = logs.FilterPattern.boolean_value("$.isFinal", True)
        delivered = logs.FilterPattern.any(
            *(logs.FilterPattern.string_value("$.eventType", "=", t) for t in DELIVERED_EVENT_TYPES)
        )
        country = load_metric_contract().dim_country
        self.event_metric_filter = self.event_log_group.add_metric_filter(
            "Events",
            filter_pattern=logs.FilterPattern.all(has_type, logs.FilterPattern.exists("$.isoCountryCode")),
            metric_namespace=namespace,
            metric_name=OTP_MESSAGE_EVENTS,
            metric_value="1",
            dimensions={DIM_EVENT_TYPE: "$.eventType", country: "$.isoCountryCode"},
            unit=cw.Unit.COUNT,
        )
        for construct_id, name, pattern in (
            ("Final", OTP_MESSAGES_FINAL, logs.FilterPattern.all(has_type, final)),
            ("Delivered", OTP_MESSAGES_DELIVERED, logs.FilterPattern.all(final, delivered)),
        ):
            self.event_log_group.add_metric_filter(
                construct_id,
                filter_pattern=pattern,
                metric_namespace=namespace,
                metric_name=name,
                metric_value="1",
                unit=cw.Unit.COUNT,
            )

    # ----------------------------------------------------------------------------------- monitoring

    def add_monitoring(self, monitoring: OtpMonitoring) -> cw.Alarm:
        """The delivered-rate alarm and a dashboard row (called once the dashboard exists)."""
        names = load_metric_contract()

        def total(metric_name: str) -> cw.Metric:
            return cw.Metric(
                namespace=names.namespace,
                metric_name=metric_name,
                statistic=cw.Stats.SUM,
                period=DELIVERY_PERIOD,
            )

        minimum = DELIVERED_RATE_MIN_VOLUME
        self.delivered_rate = cw.MathExpression(
            expression=f"IF(FILL(f, 0) >= {minimum}, 100 * FILL(d, 0) / f, 100)",
            using_metrics={"f": total(OTP_MESSAGES_FINAL), "d": total(OTP_MESSAGES_DELIVERED)},
            label="Delivered (%)",
            period=DELIVERY_PERIOD,
        )
        alarm = cw.Alarm(
            self,
            "DeliveredRate",
            alarm_name=f"{self._prefix}-OtpDeliveredRate",
            alarm_description=(
                f"Under {DELIVERED_RATE_THRESHOLD}% of the codes whose delivery ended in 15 minutes reached "
                f"the phone ({OTP_MESSAGES_DELIVERED} / {OTP_MESSAGES_FINAL}, from End User Messaging's "
                f"delivery events, with at least {minimum} per period), twice in a row. The dashboard's "
                "events by type and country say which carriers or countries fail."
            ),
            metric=self.delivered_rate,
            threshold=DELIVERED_RATE_THRESHOLD,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        if monitoring.topic is not None:
            action = cw_actions.SnsAction(monitoring.topic)
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        monitoring.alarms.append(alarm)

        def grouped_by(dimension: str) -> cw.MathExpression:
            # Metrics Insights: one series per value, whatever event types and countries appear.
            return cw.MathExpression(
                expression=(
                    f"SELECT SUM({OTP_MESSAGE_EVENTS}) FROM SCHEMA({names.namespace}, {DIM_EVENT_TYPE}, "
                    f"{names.dim_country}) GROUP BY {dimension}"
                ),
                using_metrics={},
                label="",
                period=DELIVERY_PERIOD,
            )

        monitoring.dashboard.add_widgets(
            cw.GraphWidget(
                title=f"Delivery events by type ({OTP_MESSAGE_EVENTS})",
                left=[grouped_by(DIM_EVENT_TYPE)],
                stacked=True,
                width=8,
            ),
            cw.GraphWidget(
                title="Delivery events by country",
                left=[grouped_by(names.dim_country)],
                stacked=True,
                width=8,
            ),
            cw.GraphWidget(
                title="Delivered (%)",
                left=[self.delivered_rate],
                left_y_axis=cw.YAxisProps(min=0, max=100),
                left_annotations=[cw.HorizontalAnnotation(value=DELIVERED_RATE_THRESHOLD, label="alarm")],
                width=8,
            ),
        )
        return alarm
