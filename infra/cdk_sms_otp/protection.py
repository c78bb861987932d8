"""Abuse protection: the DynamoDB table behind the per-number limits, the account-wide send budget and
Idempotency-Key, its scoped grants, the optional WAF web ACLs (a per-IP rate rule on the API stage, and
one on the user pool's sign-in operations), and the alarms for refusals, new countries and the budget.

The limits themselves are enforced by the functions (``otp.domain.limiter`` on ``otp.adapters.store``);
this construct gives them a table, tells them the configured limits through environment variables, and
lets each function touch only the keys it needs (``dynamodb:LeadingKeys``).
"""

from __future__ import annotations

import json
from typing import Final

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from cdk_sms_otp.api import OtpApi
from cdk_sms_otp.auth import OtpAuth
from cdk_sms_otp.config import WAF_WINDOW_SECONDS, OtpConfig
from cdk_sms_otp.functions import OtpFunctions
from cdk_sms_otp.metric_contract import load_metric_contract
from cdk_sms_otp.monitoring import OtpMonitoring

# The layout otp/adapters/store.py reads and writes (tests/infra/test_protection.py keeps them in step).
PARTITION_KEY: Final = "pk"
EXPIRY_ATTRIBUTE: Final = "expiration"
SEND_KEYS: Final = "send#*"
VERIFY_KEYS: Final = "verify#*"
IDEMPOTENCY_KEYS: Final = "idempotency#*"
BUDGET_KEYS: Final = "budget#*"
OPEN_KEYS: Final = "open#*"
TICKET_KEYS: Final = "ticket#*"

# Powertools Idempotency: PutItem (claim), GetItem (read a replay), UpdateItem (store the answer),
# DeleteItem (drop the claim when the send failed, so a retry may try again).
IDEMPOTENCY_ACTIONS: Final = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# The limiter: a consistent GetItem, then a conditional PutItem (alone or inside TransactWriteItems,
# which IAM authorizes as the PutItem calls it contains).
LIMIT_ACTIONS: Final = ("dynamodb:GetItem", "dynamodb:PutItem")
# Device tickets: Create holds them (a conditional PutItem) and checks them (GetItem); Verify only turns
# a pending one valid (a conditional UpdateItem), and can neither create nor read one.
TICKET_CONFIRM_ACTIONS: Final = ("dynamodb:UpdateItem",)

REFUSALS_PERIOD: Final = Duration.minutes(5)
NEW_COUNTRY_PERIOD: Final = Duration.minutes(15)
NEW_COUNTRY_STD_DEVS: Final = 3
BUDGET_PERIOD: Final = Duration.minutes(5)
#: The "nearly spent" alarm: a shard of some budget (the total or a country's) this full after a send.
BUDGET_WARNING_PERCENT: Final = 80
#: What Cognito's API operations carry in X-Amz-Target (AWS SDKs and Amplify send it on every call).
COGNITO_TARGET_PREFIX: Final = "AWSCognitoIdentityProviderService."
SIGN_IN_OPERATIONS: Final = ("InitiateAuth", "RespondToAuthChallenge")
BUDGET_REASONS: Final = (
    "SEND_BUDGET_HOURLY",
    "SEND_BUDGET_DAILY",
    "COUNTRY_SEND_BUDGET_HOURLY",
    "COUNTRY_SEND_BUDGET_DAILY",
)


class OtpProtection(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OtpConfig,
        functions: OtpFunctions,
        api: OtpApi,
        auth: OtpAuth,
        monitoring: OtpMonitoring,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._prefix = Stack.of(self).stack_name
        self._monitoring = monitoring
        self.table = self._table()
        self._configure(functions)
        # Both doors that send charge the account-wide budget (budget#...) along with the number's history
        # and, without a device ticket (the API never has one), the open part of its daily cap (open#...).
        self._grant(functions.api, (SEND_KEYS, OPEN_KEYS, VERIFY_KEYS, BUDGET_KEYS), LIMIT_ACTIONS)
        self._grant(functions.api, (IDEMPOTENCY_KEYS,), IDEMPOTENCY_ACTIONS)
        self._grant(
            functions.create_auth_challenge, (SEND_KEYS, OPEN_KEYS, BUDGET_KEYS, TICKET_KEYS), LIMIT_ACTIONS
        )
        self._grant(functions.verify_auth_challenge, (VERIFY_KEYS,), LIMIT_ACTIONS)
        self._grant(functions.verify_auth_challenge, (TICKET_KEYS,), TICKET_CONFIRM_ACTIONS)
        self.web_acl = self._web_acl(api) if config.waf_enabled else None
        self.sign_in_web_acl = self._sign_in_web_acl(auth) if config.waf_enabled else None
        self.alarms: list[cw.AlarmBase] = [
            self._refusal_alarm(),
            *self._new_country_alarms(),
            *self._budget_alarms(),
        ]
        self._dashboard_widgets()

    # -------------------------------------------------------------------------------------------- table

    def _table(self) -> dynamodb.TableV2:
        return dynamodb.TableV2(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            # Traffic is spiky and small; on-demand costs nothing while idle and cannot be throttled by a
            # provisioned capacity an attack would exhaust (which would block every send: fail closed).
            billing=dynamodb.Billing.on_demand(),
            # Every item expires: limit histories and idempotency records within a day, device tickets
            # when their validity (deviceTicketDays) ends.
            time_to_live_attribute=EXPIRY_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # AWS-managed KMS key: key use shows in CloudTrail, no key policy to maintain, no monthly fee.
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            # Only short-lived counters live here (no number in clear): nothing worth keeping after the
            # stack is gone, and a retained table would be left to collect items nobody reads.
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _configure(self, functions: OtpFunctions) -> None:
        """The variables otp.settings reads (docs/architecture.md), on every function.

        Define Auth Challenge gets them too: it shares the settings module, which refuses to start in
        Lambda without OTP_TABLE_NAME. It gets no permission on the table.
        """
        c = self._config
        variables = {
            "OTP_TABLE_NAME": self.table.table_name,
            "OTP_SEND_COOLDOWN_SECONDS": str(c.send_cooldown_seconds),
            "OTP_SEND_LIMIT_PER_HOUR": str(c.send_limit_per_hour),
            "OTP_SEND_LIMIT_PER_DAY": str(c.send_limit_per_day),
            "OTP_SEND_RESERVE_PER_DAY": str(c.reserve_per_day),
            "OTP_DEVICE_TICKET_DAYS": str(c.device_ticket_days),
            "OTP_VERIFY_LIMIT_PER_REFERENCE": str(c.verify_limit_per_reference),
            "OTP_ALLOW_TOLL_FREE": str(c.allow_toll_free).lower(),
            "OTP_ALLOW_VOIP": str(c.allow_voip).lower(),
            "OTP_IDEMPOTENCY_TTL_SECONDS": str(c.idempotency_ttl_seconds),
            "OTP_SEND_BUDGET_PER_HOUR": str(c.send_budget_per_hour),
            "OTP_SEND_BUDGET_PER_DAY": str(c.send_budget_per_day),
        }
        if c.blocked_prefixes:
            variables["OTP_BLOCKED_PREFIXES"] = ",".join(c.blocked_prefixes)
        if c.country_send_budgets:
            variables["OTP_COUNTRY_SEND_BUDGETS"] = ",".join(
                f"{country}:{per_hour}:{per_day}" for country, per_hour, per_day in c.country_send_budgets
            )
        for name, value in variables.items():
            functions.add_environment(name, value)

    def _grant(
        self, function: lambda_.Function, key_patterns: tuple[str, ...], actions: tuple[str, ...]
    ) -> None:
        """Only these actions, on this table, on items whose key starts with one of these prefixes."""
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=[self.table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(key_patterns)}},
            )
        )

    # ---------------------------------------------------------------------------------------------- WAF

    def _web_acl(self, api: OtpApi) -> wafv2.CfnWebACL:
        """A per-IP rate rule on the API stage: one source cannot drive more than the configured rate,
        whatever numbers it rotates through (the per-number limits cannot see that pattern)."""
        name = f"{self._prefix}-otp"
        problem = {
            "type": "urn:otp:problem:ip-rate-limited",
            "title": "Too many requests from this address",
            "status": 429,
            "detail": f"more than {self._config.waf_rate_limit} requests in 5 minutes from one address",
        }
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=name,
            description="Per-IP rate limit in front of the OTP API",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            custom_response_bodies={
                "ip-rate-limited": wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=json.dumps(problem)
                )
            },
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="PerIpRateLimit",
                    priority=0,
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP",
                            limit=self._config.waf_rate_limit,
                            evaluation_window_sec=WAF_WINDOW_SECONDS,
                        )
                    ),
                    action=wafv2.CfnWebACL.RuleActionProperty(
                        block=wafv2.CfnWebACL.BlockActionProperty(
                            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                                response_code=429,
                                custom_response_body_key="ip-rate-limited",
                                response_headers=[
                                    wafv2.CfnWebACL.CustomHTTPHeaderProperty(
                                        name="Retry-After", value=str(WAF_WINDOW_SECONDS)
                                    )
                                ],
                            )
                        )
                    ),
                    visibility_config=self._visibility("PerIpRateLimit"),
                )
            ],
            visibility_config=self._visibility(name),
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=api.rest_api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )
        return acl

    def _sign_in_web_acl(self, auth: OtpAuth) -> wafv2.CfnWebACL:
        """A web ACL of its own on the user pool: per IP, at most ``wafSignInRateLimit`` sign-in calls
        (InitiateAuth, RespondToAuthChallenge) in 5 minutes. Its own ACL rather than a second rule in the
        API's, so that a header cannot move a request from one rule's count to the other's. Cognito hands
        WAF the operation's X-Amz-Target header but never the username or the number (see README)."""
        name = f"{self._prefix}-otp-sign-in"
        operations = [
            wafv2.CfnWebACL.StatementProperty(
                byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                    field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                        single_header={"Name": "x-amz-target"}
                    ),
                    # Lower-cased and matched at the end, so that neither the case of the header's value
                    # nor anything before the operation's name can dodge the count; AdminInitiateAuth
                    # (the integrator's backend, signed) does not end with ".initiateauth".
                    positional_constraint="ENDS_WITH",
                    search_string=f".{operation.lower()}",
                    text_transformations=[
                        wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")
                    ],
                )
            )
            for operation in SIGN_IN_OPERATIONS
        ]
        acl = wafv2.CfnWebACL(
            self,
            "SignInWebAcl",
            name=name,
            description="Per-IP rate limit on the user pool sign-in operations",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="PerIpSignInRateLimit",
                    priority=0,
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP",
                            limit=self._config.waf_sign_in_rate_limit,
                            evaluation_window_sec=WAF_WINDOW_SECONDS,
                            scope_down_statement=wafv2.CfnWebACL.StatementProperty(
                                or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=operations)
                            ),
                        )
                    ),
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    visibility_config=self._visibility("PerIpSignInRateLimit"),
                )
            ],
            visibility_config=self._visibility(name),
        )
        wafv2.CfnWebACLAssociation(
            self,
            "SignInWebAclAssociation",
            resource_arn=auth.user_pool.user_pool_arn,
            web_acl_arn=acl.attr_arn,
        )
        return acl

    @staticmethod
    def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
        return wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
        )

    # ------------------------------------------------------------------------------------------- alarms

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
            self,
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
                self,
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
        nearly = cw.Alarm(
            self,
            "SendBudgetNearlySpent",
            alarm_name=f"{self._prefix}-OtpSendBudgetNearlySpent",
            alarm_description=(
                f"A send budget is {BUDGET_WARNING_PERCENT} % spent ({n.otp_send_budget_used}, any "
                f"{n.dim_budget}): the total ({c.send_budget_per_hour}/hour, {c.send_budget_per_day}/day) "
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
            self,
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
            cw.AlarmStatusWidget(title="Abuse protection alarms", alarms=list(self.alarms), width=12),
        ]
        self._monitoring.dashboard.add_widgets(*widgets)
