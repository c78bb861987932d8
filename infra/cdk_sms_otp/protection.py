"""Abuse protection: the DynamoDB table behind the per-number limits, the account-wide send budget and
Idempotency-Key, the variables that tell the functions the limits, and each function's scoped grants.
The optional WAF web ACLs are built by :mod:`cdk_sms_otp.protection_waf`, the alarms and dashboard
widgets by :mod:`cdk_sms_otp.protection_alarms`, both in this construct's scope.

The limits themselves are enforced by the functions (``otp.domain.limiter`` on ``otp.adapters.store``);
this construct gives them a table, tells them the configured limits through environment variables, and
lets each function touch only the keys it needs (``dynamodb:LeadingKeys``).
"""

from __future__ import annotations

from typing import Final

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from cdk_sms_otp.api import OtpApi
from cdk_sms_otp.auth import OtpAuth
from cdk_sms_otp.config import OtpConfig
from cdk_sms_otp.environment import deployment_environment
from cdk_sms_otp.functions import OtpFunctions
from cdk_sms_otp.monitoring import OtpMonitoring
from cdk_sms_otp.protection_alarms import ProtectionAlarms
from cdk_sms_otp.protection_waf import api_web_acl, sign_in_web_acl

# The layout otp/adapters/store.py reads and writes (tests/infra/test_protection.py keeps them in step).
PARTITION_KEY: Final = "pk"
EXPIRY_ATTRIBUTE: Final = "expiration"
SEND_KEYS: Final = "send#*"
VERIFY_KEYS: Final = "verify#*"
IDEMPOTENCY_KEYS: Final = "idempotency#*"
BUDGET_KEYS: Final = "budget#*"
OPEN_KEYS: Final = "open#*"
TICKET_KEYS: Final = "ticket#*"
RATE_KEYS: Final = "rate#*"
# The adaptive defence (otp/adapters/adaptive_store.py): conversion counters, range blocks, proven numbers.
COUNTER_KEYS: Final = "conv#*"
BLOCK_KEYS: Final = "block#*"
PROVEN_KEYS: Final = "proven#*"
# Everything a send reads, in its one BatchGetItem. IAM checks dynamodb:LeadingKeys against every key of
# the batch in one statement (ForAllValues), so the read is one grant of all of them.
SEND_READ_KEYS: Final = (SEND_KEYS, OPEN_KEYS, BUDGET_KEYS, COUNTER_KEYS, BLOCK_KEYS, PROVEN_KEYS)
BATCH_READ_ACTIONS: Final = ("dynamodb:BatchGetItem",)
# Counters and proven numbers are only ever added to / set by UpdateItem (inside a send's or a
# verification's TransactWriteItems); a block is imposed by one conditional PutItem.
COUNTER_ACTIONS: Final = ("dynamodb:UpdateItem",)
BLOCK_ACTIONS: Final = ("dynamodb:PutItem",)

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
# A verify# item (the per-reference verify cap and the verification's lifecycle): every write is an
# UpdateItem (a send's, inside its TransactWriteItems; a verify's conditional count; the verified mark;
# a cancellation), and only the API reads one whole (GET /otp/{referenceId}).
LIFECYCLE_WRITE_ACTIONS: Final = ("dynamodb:UpdateItem",)
LIFECYCLE_READ_ACTIONS: Final = ("dynamodb:GetItem", "dynamodb:UpdateItem")
# Device tickets: Create holds them (a conditional PutItem) and checks them (GetItem); Verify only turns
# a pending one valid (a conditional UpdateItem), and can neither create nor read one.
TICKET_CONFIRM_ACTIONS: Final = ("dynamodb:UpdateItem",)
# The engine's send rate (End User Messaging's tier, otp/domain/engine_rate.py): a slot of the second is an
# UpdateItem (ADD, with a condition) inside the send's TransactWriteItems, nothing else.
RATE_SLOT_ACTIONS: Final = ("dynamodb:UpdateItem",)


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
        self.table = self._table()
        self._configure(functions)
        # Both doors that send charge the account-wide budget (budget#...) along with the number's history
        # and, without a device ticket (the API never has one), the open part of its daily cap (open#...).
        self._grant(functions.api, (SEND_KEYS, OPEN_KEYS, BUDGET_KEYS), LIMIT_ACTIONS)
        self._grant(functions.api, (VERIFY_KEYS,), LIFECYCLE_READ_ACTIONS)
        self._grant(functions.api, (IDEMPOTENCY_KEYS,), IDEMPOTENCY_ACTIONS)
        # The adaptive defence, on both doors: a send reads everything in one batch, adds to the
        # counters and may impose a block; a right code adds to the counters and proves its number.
        for sender in (functions.api, functions.create_auth_challenge):
            self._grant(sender, SEND_READ_KEYS, BATCH_READ_ACTIONS)
            self._grant(sender, (BLOCK_KEYS,), BLOCK_ACTIONS)
        for verifier in (functions.api, functions.verify_auth_challenge):
            self._grant(verifier, (COUNTER_KEYS, PROVEN_KEYS), COUNTER_ACTIONS)
        self._grant(functions.create_auth_challenge, (COUNTER_KEYS,), COUNTER_ACTIONS)
        self._grant(
            functions.create_auth_challenge, (SEND_KEYS, OPEN_KEYS, BUDGET_KEYS, TICKET_KEYS), LIMIT_ACTIONS
        )
        # A sign-in's code starts a verification too (no API caller owns it).
        self._grant(functions.create_auth_challenge, (VERIFY_KEYS,), LIFECYCLE_WRITE_ACTIONS)
        self._grant(functions.verify_auth_challenge, (VERIFY_KEYS,), LIFECYCLE_WRITE_ACTIONS)
        self._grant(functions.verify_auth_challenge, (TICKET_KEYS,), TICKET_CONFIRM_ACTIONS)
        if config.uses_end_user_messaging:
            # Both doors that send keep to the tier's rate.
            for sender in (functions.api, functions.create_auth_challenge):
                self._grant(sender, (RATE_KEYS,), RATE_SLOT_ACTIONS)
        if functions.fallback is not None:
            # A fallback reads the verification, then sends as the API does: the number's limits, the budget,
            # a slot of the rate, and its code's record (an UpdateItem conditioned on the nonce it read).
            self._grant(functions.fallback, (SEND_KEYS, OPEN_KEYS, BUDGET_KEYS), LIMIT_ACTIONS)
            self._grant(functions.fallback, (VERIFY_KEYS,), LIFECYCLE_READ_ACTIONS)
            self._grant(functions.fallback, (RATE_KEYS,), RATE_SLOT_ACTIONS)
            # and the adaptive defence, as any send: the one batch read, the counters, a block to impose.
            self._grant(functions.fallback, SEND_READ_KEYS, BATCH_READ_ACTIONS)
            self._grant(functions.fallback, (BLOCK_KEYS,), BLOCK_ACTIONS)
            self._grant(functions.fallback, (COUNTER_KEYS,), COUNTER_ACTIONS)
        self.web_acl: wafv2.CfnWebACL | None = None
        self.sign_in_web_acl: wafv2.CfnWebACL | None = None
        if config.waf_enabled:
            self.web_acl = api_web_acl(
                self, name_prefix=self._prefix, rate_limit=config.waf_rate_limit, api=api
            )
            self.sign_in_web_acl = sign_in_web_acl(
                self, name_prefix=self._prefix, rate_limit=config.waf_sign_in_rate_limit, auth=auth
            )
        self.alarms: list[cw.AlarmBase] = ProtectionAlarms(
            self, config=config, monitoring=monitoring, prefix=self._prefix
        ).alarms

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
        """The variables otp.settings reads (docs/configuration.md), on every function.

        Define Auth Challenge gets them too: it shares the settings module, which refuses to start in
        Lambda without OTP_TABLE_NAME. It gets no permission on the table.
        """
        # The limits themselves are options, in the functions' environment already (cdk_sms_otp.environment).
        variables = deployment_environment(table_name=self.table.table_name)
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
