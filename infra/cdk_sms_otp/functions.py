"""The four Lambda functions: the API handler and the three Cognito custom-auth triggers.

All share one asset (``lambda/``, bundled without Docker by :mod:`infra.bundling`), one runtime and one
architecture. Each has its own IAM role holding only what that handler calls, and its own log group with
a retention period.

With ``otp.snapStart`` each function publishes a version whenever its code or configuration changes,
with SnapStart on published versions, and an alias (:data:`ALIAS_NAME`) that follows the newest version:
API Gateway and the Cognito triggers invoke the alias (:meth:`OtpFunctions.invoked`), because SnapStart
applies to published versions only and ``$LATEST`` would start cold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import Acknowledgment, Annotations, Aws, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_sms_otp.bundling import LocalPipBundling, bundling_options
from cdk_sms_otp.config import END_USER_MESSAGING, PINPOINT, OtpConfig
from cdk_sms_otp.environment import deployment_environment, function_environment
from cdk_sms_otp.lambda_source import LAMBDA_ROOT
from cdk_sms_otp.metric_contract import load_metric_contract

ASSET_DIR: Final = LAMBDA_ROOT
#: Newest Python runtime that both Lambda and Powertools for AWS Lambda (3.37) support.
RUNTIME: Final = lambda_.Runtime.PYTHON_3_14
#: Graviton: ~20 % cheaper per GB-second than x86_64, and every compiled dependency ships aarch64 wheels.
ARCHITECTURE: Final = lambda_.Architecture.ARM_64
MEMORY_MB: Final = 256
#: The alias every caller invokes when SnapStart is on.
ALIAS_NAME: Final = "live"

SEND_OTP: Final = "mobiletargeting:SendOTPMessage"
VERIFY_OTP: Final = "mobiletargeting:VerifyOTPMessage"
# AWS End User Messaging (service prefix end-user-messaging), from the Service Authorization Reference's
# "Actions, resources, and condition keys for AWS End User Messaging":
# - SendNotifyCodeVerification: resource type notify-code-configuration (condition key aws:ResourceTag).
#   Every send names the stack's configuration, so the statement names its ARN and nothing wider: a send
#   naming another configuration, or none, is denied.
# - ValidateNotifyCodeVerification: no resource type and no condition key (the request names only the
#   number, the reference and the code), so its Resource can only be "*". It is scoped to this account by
#   the role itself, and to this stack's region by aws:RequestedRegion, a global condition key.
SEND_NOTIFY_CODE: Final = "end-user-messaging:SendNotifyCodeVerification"
VALIDATE_NOTIFY_CODE: Final = "end-user-messaging:ValidateNotifyCodeVerification"


@dataclass(frozen=True)
class NotifyCodeConfigurationRef:
    """The End User Messaging notify code configuration every send names (tokens of its custom resource)."""

    configuration_id: str
    arn: str


@dataclass(frozen=True)
class EngineCallBudget:
    """Timeouts of the messaging engine's client (read by ``otp.settings``) and the function timeout around
    them."""

    connect_timeout_s: int
    read_timeout_s: int
    max_attempts: int
    function_timeout_s: int
    #: Upper bound of the adapter's jittered backoff over all retries.
    backoff_allowance_s: float

    @property
    def worst_case_s(self) -> float:
        return self.max_attempts * self.connect_timeout_s + self.read_timeout_s + self.backoff_allowance_s

    def deployment_values(self) -> dict[str, float | int]:
        """The engine client's settings, as :func:`function_environment` takes them."""
        return {
            "connect_timeout": self.connect_timeout_s,
            "read_timeout": self.read_timeout_s,
            "max_attempts": self.max_attempts,
        }


# API Gateway gives an integration at most 29 s. The adapter retries only calls that certainly sent
# nothing (throttled, 5xx, connection failure): 3 x 2 s connect + one 10 s read + <= 1.5 s backoff = 17.5 s,
# inside a 20 s function timeout, inside 29 s.
API_BUDGET: Final = EngineCallBudget(
    connect_timeout_s=2, read_timeout_s=10, max_attempts=3, function_timeout_s=20, backoff_allowance_s=1.5
)
# Cognito waits 5 s for a trigger and then retries it (up to 3 times in all). A longer function timeout
# would only let an abandoned invocation keep running - and maybe send a second SMS while Cognito's retry
# sends another - so the timeout is 5 s and one 1 s connect + 3 s read attempt fits inside it.
TRIGGER_BUDGET: Final = EngineCallBudget(
    connect_timeout_s=1, read_timeout_s=3, max_attempts=1, function_timeout_s=5, backoff_allowance_s=0
)


@dataclass(frozen=True)
class _Spec:
    id: str
    handler: str
    description: str
    sends: bool
    verifies: bool
    budget: EngineCallBudget

    @property
    def calls_engine(self) -> bool:
        return self.sends or self.verifies


API: Final = _Spec(
    "Api", "otp.handlers.api.lambda_handler", "POST /otp and /otp/verify", True, True, API_BUDGET
)
DEFINE: Final = _Spec(
    "DefineAuthChallenge",
    "otp.handlers.cognito.define_auth_challenge",
    "Cognito Define Auth Challenge trigger",
    False,
    False,
    TRIGGER_BUDGET,
)
CREATE: Final = _Spec(
    "CreateAuthChallenge",
    "otp.handlers.cognito.create_auth_challenge",
    "Cognito Create Auth Challenge trigger: sends the code",
    True,
    False,
    TRIGGER_BUDGET,
)
# EventBridge Scheduler's target: no caller waits on it, so one engine attempt has API_BUDGET's timeouts
# and the function time to wait for a slot of the engine's rate.
FALLBACK_BUDGET: Final = EngineCallBudget(
    connect_timeout_s=2, read_timeout_s=10, max_attempts=3, function_timeout_s=30, backoff_allowance_s=1.5
)
FALLBACK: Final = _Spec(
    "Fallback",
    "otp.handlers.fallback.lambda_handler",
    "Channel fallback: the next channel's code when a verification is still open (EventBridge Scheduler)",
    True,
    False,
    FALLBACK_BUDGET,
)
VERIFY: Final = _Spec(
    "VerifyAuthChallenge",
    "otp.handlers.cognito.verify_auth_challenge",
    "Cognito Verify Auth Challenge trigger: checks the code",
    False,
    True,
    TRIGGER_BUDGET,
)


def engine_actions(config: OtpConfig, *, sends: bool, verifies: bool) -> dict[str, tuple[str, ...]]:
    """Engine -> the IAM actions a function needs: the engine's send and/or verify, and only the verify
    of a previous engine (which sends nothing any more)."""
    actions = {
        PINPOINT: ((SEND_OTP,) if sends else ()) + ((VERIFY_OTP,) if verifies else ()),
        END_USER_MESSAGING: ((SEND_NOTIFY_CODE,) if sends else ())
        + ((VALIDATE_NOTIFY_CODE,) if verifies else ()),
    }
    needed = {config.engine: actions[config.engine]}
    if config.previous_engine is not None and verifies:
        needed[config.previous_engine] = (
            (VERIFY_OTP,) if config.previous_engine == PINPOINT else (VALIDATE_NOTIFY_CODE,)
        )
    return {engine: granted for engine, granted in needed.items() if granted}


def lambda_code() -> lambda_.Code:
    """The one asset every function of the stack runs (``lambda/``, bundled without Docker)."""
    return lambda_.Code.from_asset(
        str(ASSET_DIR),
        exclude=["**/__pycache__", "**/*.pyc", ".pytest_cache", ".mypy_cache", "tests"],
        bundling=bundling_options(
            LocalPipBundling(ASSET_DIR, packages=["otp"], runtime=RUNTIME, architecture=ARCHITECTURE),
            RUNTIME,
        ),
    )


def otp_environment(
    config: OtpConfig,
    application_id: str | None,
    configuration_set: str | None = None,
    notify_code_configuration: str | None = None,
) -> dict[str, str]:
    """The variables ``otp.settings`` reads (docs/configuration.md), from the validated config."""
    metrics = load_metric_contract()
    omit = set()
    if notify_code_configuration is not None:
        # Templates, voice and policy are the configuration's (otp.engine_rules.notify_code_configuration).
        omit |= {"message_template", "voice_template", "voice_language", "voice_id"}
    if "VOICE" not in config.channels:
        omit |= {"voice_template", "voice_language", "voice_id", "voice_origination_identity"}
    if "WHATSAPP" not in config.channels:
        omit |= {"whatsapp_template_name", "whatsapp_origination_identity"}
    env = function_environment(
        config,
        omit=omit,
        application_id=application_id,
        configuration_set=configuration_set,
        notify_code_configuration=notify_code_configuration,
        # Without a Pinpoint application, the stack id stands in as a private, stable deployment id.
        deployment_id=Aws.STACK_ID if application_id is None else None,
    )
    env.update(
        {
            "POWERTOOLS_SERVICE_NAME": metrics.service,
            "POWERTOOLS_METRICS_NAMESPACE": metrics.namespace,
            "POWERTOOLS_LOG_LEVEL": config.log_level,
            # Lambda records each invocation's segment itself; only tracing=sdk loads the X-Ray SDK (+0.17x
            # bare-boto3 time and 7 MiB per cold start) for subsegments of each AWS call
            # (docs/observability.md).
            "POWERTOOLS_TRACE_DISABLED": "false" if config.tracing == "sdk" else "true",
        }
    )
    return env


class OtpFunctions(Construct):
    """The API function and the Cognito triggers, each with its own least-privilege role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OtpConfig,
        application_id: str | None,
        application_arn: str | None,
        configuration_set: str | None = None,
        code: lambda_.Code | None = None,
        notify_code_configuration: NotifyCodeConfigurationRef | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._application_arn = application_arn
        self._notify_code_configuration = notify_code_configuration
        self.code = code or lambda_code()
        self.environment = otp_environment(
            config,
            application_id,
            configuration_set,
            notify_code_configuration.configuration_id if notify_code_configuration else None,
        )
        self._aliases: dict[str, lambda_.Alias] = {}
        self.api = self._function(API)
        self.define_auth_challenge = self._function(DEFINE)
        self.create_auth_challenge = self._function(CREATE)
        self.verify_auth_challenge = self._function(VERIFY)
        # Channel fallback's scheduled jobs (cdk_sms_otp.fallback wires the schedules to it).
        self.fallback = self._function(FALLBACK) if config.offers_fallback else None
        # infra.config checks reservedConcurrency x the function count against the account's quota.
        assert len(self.all) == config.function_count, "update OtpConfig.function_count"

    @property
    def all(self) -> tuple[lambda_.Function, ...]:
        four = (self.api, self.define_auth_challenge, self.create_auth_challenge, self.verify_auth_challenge)
        return four if self.fallback is None else (*four, self.fallback)

    def invoked(self, function: lambda_.Function) -> lambda_.IFunction:
        """What a caller (API Gateway, a Cognito trigger) invokes: the alias with SnapStart, else the
        function itself."""
        return self._aliases.get(function.node.path, function)

    def add_environment(self, key: str, value: str) -> None:
        """Set a variable on every function (for constructs added later, e.g. a table name)."""
        for function in self.all:
            function.add_environment(key, value)

    def _pinpoint_resources(self, action: str) -> list[str]:
        # The Service Authorization Reference lists the `apps` resource (apps/<id>); Pinpoint's developer
        # guide gives apps/<id>/otp and apps/<id>/verify-otp. Both exact ARNs are granted, so the policy
        # works whichever the service evaluates, without a wildcard and without reaching another app.
        suffix = "otp" if action == SEND_OTP else "verify-otp"
        if self._application_arn is None:
            raise ValueError("a Pinpoint action needs the Pinpoint application")
        return [self._application_arn, f"{self._application_arn}/{suffix}"]

    def _grant_engine_actions(self, role: iam.Role, spec: _Spec) -> None:
        granted = engine_actions(self._config, sends=spec.sends, verifies=spec.verifies)
        for action in granted.get(PINPOINT, ()):
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=[action], resources=self._pinpoint_resources(action))
            )
        eum = granted.get(END_USER_MESSAGING, ())
        if SEND_NOTIFY_CODE in eum:
            configuration = self._notify_code_configuration
            if configuration is None:
                raise ValueError("End User Messaging sends name a notify code configuration: pass one")
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=[SEND_NOTIFY_CODE], resources=[configuration.arn])
            )
        if VALIDATE_NOTIFY_CODE in eum:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=[VALIDATE_NOTIFY_CODE],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:RequestedRegion": Aws.REGION}},
                )
            )

    def _function(self, spec: _Spec) -> lambda_.Function:
        scope = Construct(self, spec.id)
        log_group = logs.LogGroup(
            scope,
            "Logs",
            retention=log_retention(self._config.log_retention_days),
            # Kept after `cdk destroy` for audits; the retention period still ages the events out.
            removal_policy=RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{Stack.of(self).stack_name} {spec.id}: logs, X-Ray and only its own Pinpoint calls",
        )
        # Instead of the AWSLambdaBasicExecutionRole managed policy (logs:* on every group): this group only.
        log_group.grant_write(role)
        self._grant_engine_actions(role, spec)
        reason = (
            "Only the statement CDK adds for active X-Ray tracing: xray:PutTraceSegments and "
            "xray:PutTelemetryRecords support no resource-level permissions, so Resource must be *. "
            "Every other statement names this function's log group, this Pinpoint application or "
            "the protection table (scoped to key prefixes)."
        )
        if VALIDATE_NOTIFY_CODE in engine_actions(self._config, sends=spec.sends, verifies=spec.verifies).get(
            END_USER_MESSAGING, ()
        ):
            reason += (
                " And End User Messaging's ValidateNotifyCodeVerification: the Service Authorization "
                "Reference lists no resource type and no condition key for it, so Resource must be *; the "
                "statement is limited to this stack's region (aws:RequestedRegion). Its "
                "SendNotifyCodeVerification names the stack's notify code configuration ARN."
            )
        Validations.of(role).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Resource::*]", reason=reason)
        )
        environment = dict(self.environment)
        if spec.calls_engine:
            environment.update(deployment_environment(**spec.budget.deployment_values()))
        function = lambda_.Function(
            scope,
            "Function",
            description=spec.description,
            code=self.code,
            handler=spec.handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=MEMORY_MB,
            timeout=Duration.seconds(spec.budget.function_timeout_s),
            tracing=lambda_.Tracing.DISABLED if self._config.tracing == "off" else lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            environment=environment,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if self._config.snap_start else None,
            # Each published version keeps a SnapStart snapshot, billed while the version exists: the
            # version the alias leaves behind is deleted on the next deploy (the alias has moved by then).
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
            # A ceiling of its own on how many run at once (a second one on spend, after the send
            # budget), taken out of the account's shared concurrency; 0 in the config reserves none.
            reserved_concurrent_executions=self._config.reserved_concurrency or None,
        )
        if self._config.snap_start:
            Annotations.of(function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                "The version is published right here (current_version) and every caller invokes its alias.",
            )
            # current_version is computed at synthesis from the function's final configuration, variables
            # added later (the protection table's) included: any change publishes a new version.
            self._aliases[function.node.path] = lambda_.Alias(
                scope, "Alias", alias_name=ALIAS_NAME, version=function.current_version
            )
        # CDK makes the function DependsOn its role *and* the role's DefaultPolicy, so that the policy
        # exists before the function can run; cfn-lint W3005 flags the role half as redundant with the
        # GetAtt. Harmless, and CDK's to decide.
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        return function


def log_retention(days: int) -> logs.RetentionDays:
    """The RetentionDays member for a validated number of days (also used for the API's access logs)."""
    names = {
        1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
        60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
        365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS",
        1096: "THREE_YEARS", 1827: "FIVE_YEARS", 2192: "SIX_YEARS", 2557: "SEVEN_YEARS",
        2922: "EIGHT_YEARS", 3288: "NINE_YEARS", 3653: "TEN_YEARS",
    }  # fmt: skip
    return logs.RetentionDays[names[days]]
