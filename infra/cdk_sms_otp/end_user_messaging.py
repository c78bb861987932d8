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

- The notify code configuration (:class:`NotifyCodeConfiguration`): the code policy and the text, voice
  and WhatsApp parameters every send names, as AWS documents the code-verification path. No
  CloudFormation type exists for it (the ``endusermessaging`` API has one, aws-cdk-lib 2.275 and
  CloudFormation do not), so it is a custom resource backed by the stack's own Lambda code.

WhatsApp deliveries are not events of a configuration set (its event types are TEXT_*, VOICE_*, MEDIA_*
and RCS_*), so they are not in these metrics.
"""

from __future__ import annotations

from typing import Final

import phonenumbers
from aws_cdk import Acknowledgment, Aws, CustomResource, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_smsvoice as smsvoice
from constructs import Construct

from cdk_sms_otp.config import OtpConfig, engine_rules
from cdk_sms_otp.functions import ARCHITECTURE, MEMORY_MB, RUNTIME, NotifyCodeConfigurationRef, log_retention
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
    """Notify code configuration, protect configuration, configuration set, event destination; then
    metrics, alarm and dashboard. ``code`` is the stack's Lambda asset (the configuration's function)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: OtpConfig, code: lambda_.Code) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._prefix = Stack.of(self).stack_name
        self.notify_code_configuration = NotifyCodeConfiguration(
            self, "NotifyCodeConfiguration", config=config, code=code
        )
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


# ------------------------------------------------------------------------ the notify code configuration

#: Every configuration the stack creates carries this tag with the stack's id: the custom resource's role
#: may create configurations only with it, and update or delete only configurations that carry it.
STACK_TAG_KEY: Final = "cdk-sms-otp:stack"
RESOURCE_TYPE: Final = "Custom::NotifyCodeConfiguration"
HANDLER: Final = "otp.handlers.notify_code_configuration.handler"
CREATE_CONFIGURATION: Final = "end-user-messaging:CreateNotifyCodeConfiguration"
TAG_RESOURCE: Final = "end-user-messaging:TagResource"
UPDATE_CONFIGURATION: Final = "end-user-messaging:UpdateNotifyCodeConfiguration"
DELETE_CONFIGURATION: Final = "end-user-messaging:DeleteNotifyCodeConfiguration"


class NotifyCodeConfiguration(Construct):
    """The deployment's notify code configuration (code policy and templates), as a custom resource.

    CloudFormation has no type for it, so a function of this stack's own Lambda code
    (``otp.handlers.notify_code_configuration``, bundled with the other functions, no Docker) creates,
    updates and deletes it; its id is the resource's ``Ref`` and its ARN the ``Arn`` attribute. Not
    ``custom_resources.AwsCustomResource``: aws-cdk-lib 2.275's SDK metadata does not know the
    ``endusermessaging`` service (it would grant ``endusermessaging:*`` actions, a prefix that does not
    exist, instead of ``end-user-messaging:*``), the Node.js runtime's bundled SDK may not include its
    client (``installLatestAwsSdk`` would install it from npm at deploy time, inside your account), and an
    SDK call cannot compute an update that clears what the properties no longer hold, nor an idempotent
    create.

    IAM (Service Authorization Reference, "Actions, resources, and condition keys for AWS End User
    Messaging"): CreateNotifyCodeConfiguration has no resource type, only the request-tag condition keys,
    so it is granted on ``*`` on condition that the request tags the configuration with this stack's id;
    Update and Delete require the ``notify-code-configuration`` resource and take ``aws:ResourceTag``, so
    they are granted on this account's and region's configurations that carry that tag. TagResource, for
    the tag given at create (whether a tag-on-create is also authorized as TagResource is not documented
    for this service; some services do), is granted with the same request-tag condition.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: OtpConfig, code: lambda_.Code) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        rules = engine_rules()
        properties = rules.notify_code_configuration(
            name=rules.notify_code_configuration_name(stack.stack_name),
            brand=config.brand_name,
            code_length=config.code_length,
            validity_minutes=config.validity_minutes,
            allowed_attempts=config.allowed_attempts,
            channels=config.channels,
            message_template=config.message_template,
            voice_template=config.voice_template,
            voice_language=config.voice_language or config.language,
            voice_id=config.voice_id,
            whatsapp_template_name=config.whatsapp_template_name,
            whatsapp_language=config.language,
            entity_id=config.entity_id,
            template_id=config.template_id,
        )
        properties["deletionProtectionEnabled"] = config.notify_code_deletion_protection
        properties["tags"] = [{"key": STACK_TAG_KEY, "value": Aws.STACK_ID}]
        self.properties = properties

        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{stack.stack_name}: creates, updates and deletes its notify code configuration",
        )
        log_group.grant_write(role)
        own_configurations = stack.format_arn(
            service="end-user-messaging", resource="notify-code-configuration", resource_name="*"
        )
        tagged_here = {"StringEquals": {f"aws:RequestTag/{STACK_TAG_KEY}": Aws.STACK_ID}}
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=[CREATE_CONFIGURATION], resources=["*"], conditions=tagged_here)
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[TAG_RESOURCE], resources=[own_configurations], conditions=tagged_here
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[UPDATE_CONFIGURATION, DELETE_CONFIGURATION],
                resources=[own_configurations],
                conditions={"StringEquals": {f"aws:ResourceTag/{STACK_TAG_KEY}": Aws.STACK_ID}},
            )
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "CreateNotifyCodeConfiguration has no resource type (Service Authorization Reference), "
                    "so its Resource must be *; the statement requires the request to tag the new "
                    f"configuration with {STACK_TAG_KEY} = this stack's id."
                ),
            )
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id=(
                    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:end-user-messaging:"
                    "<AWS::Region>:<AWS::AccountId>:notify-code-configuration/*]"
                ),
                reason=(
                    "The configuration's id is known only once this function has created it; the "
                    "statements hold only configurations of this account and region that carry "
                    f"{STACK_TAG_KEY} = this stack's id (aws:ResourceTag / aws:RequestTag)."
                ),
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description="Custom::NotifyCodeConfiguration: the End User Messaging notify code configuration",
            code=code,
            handler=HANDLER,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=MEMORY_MB,
            # Management calls are limited to 1 a second: room for the retries, well under the resource's
            # service timeout.
            timeout=Duration.minutes(1),
            log_group=log_group,
            role=role,
            environment={
                "POWERTOOLS_SERVICE_NAME": load_metric_contract().service,
                "POWERTOOLS_LOG_LEVEL": config.log_level,
            },
        )
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            # A function that never answers would otherwise hold the stack for an hour.
            service_timeout=Duration.minutes(5),
        )
        #: The id every send names (OTP_NOTIFY_CODE_CONFIGURATION) and the ARN their IAM statement names.
        self.ref = NotifyCodeConfigurationRef(
            configuration_id=self.resource.ref, arn=self.resource.get_att_string("Arn")
        )
