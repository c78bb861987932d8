"""What the construct tells the functions about the resources it made (and what Lambda sets): environment
variables only, no context key and no construct argument."""

from __future__ import annotations

from .. import engine_rules as engines
from .declaration import CONSTRUCT, option, schema_class
from .kinds import Integer, Optional, Seconds, Text


@schema_class
class DeploymentValues:
    """What the construct tells the functions about the resources it made (and what Lambda sets)."""

    # With End User Messaging alone there is no Pinpoint application, and the deployment id stands in
    # for it where a private, stable id of the deployment is needed (the Cognito decoy key).
    application_id: str = option(
        default="",
        kind=Text(r".{1,2048}", "1 to 2048 characters"),
        env="PINPOINT_APPLICATION_ID",
        source=CONSTRUCT,
        doc="the stack's Pinpoint application; required while OTP_ENGINE or OTP_PREVIOUS_ENGINE is pinpoint",
    )
    deployment_id: str | None = option(
        default=None,
        kind=Optional(Text(r".{1,2048}", "1 to 2048 characters")),
        source=CONSTRUCT,
        doc="the stack id: a private, stable id of the deployment, standing in for PINPOINT_APPLICATION_ID "
        "where there is no Pinpoint application",
    )
    configuration_set: str | None = option(
        default=None,
        kind=Optional(Text(engines.CONFIGURATION_SET_NAME_PATTERN, "1-64 of A-Z a-z 0-9 _ -")),
        source=CONSTRUCT,
        doc="the stack's End User Messaging configuration set, named in every send",
    )
    notify_code_configuration: str | None = option(
        default=None,
        kind=Optional(Text(r"[A-Za-z0-9_:/-]{1,256}", "an id or ARN: 1-256 of A-Z a-z 0-9 _ : / -")),
        source=CONSTRUCT,
        doc="the stack's notify code configuration (id or ARN): every End User Messaging send names it; "
        "unset, each request carries the policy and templates itself",
    )
    # Without a table the limits and Idempotency-Key cannot work: refused in a deployed function.
    table_name: str | None = option(
        default=None,
        kind=Optional(Text(r".{3,255}", "3 to 255 characters")),
        source=CONSTRUCT,
        doc="the protection table (limits, budget, device tickets, Idempotency-Key records); required in "
        "Lambda",
    )
    secret_arn: str | None = option(
        default=None,
        kind=Optional(Text(r".{20,2048}", "20 to 2048 characters")),
        source=CONSTRUCT,
        doc="the deployment secret the functions derive keys from; set only where granted",
    )
    connect_timeout: float = option(
        default=2.0,
        kind=Seconds(10),
        env="OTP_ENGINE_CONNECT_TIMEOUT",
        renamed_from=("PINPOINT_CONNECT_TIMEOUT",),
        source=CONSTRUCT,
        doc="seconds to connect to the engine",
    )
    read_timeout: float = option(
        default=10.0,
        kind=Seconds(25),
        env="OTP_ENGINE_READ_TIMEOUT",
        renamed_from=("PINPOINT_READ_TIMEOUT",),
        source=CONSTRUCT,
        doc="seconds to wait for the engine's answer",
    )
    max_attempts: int = option(
        default=3,
        kind=Integer(1, 5),
        env="OTP_ENGINE_MAX_ATTEMPTS",
        renamed_from=("PINPOINT_MAX_ATTEMPTS",),
        source=CONSTRUCT,
        doc="attempts for throttled / 5xx / unreachable engine calls",
    )
    # Channel fallback (otp/domain/fallback.py, cdk_sms_otp/fallback.py): set on the API and Fallback
    # functions where the stack deployed it; without the group and the role a fallback is refused.
    fallback_schedule_group: str | None = option(
        default=None,
        kind=Optional(
            Text(r"[0-9A-Za-z_.-]{1,64}", "an EventBridge Scheduler group name: 1-64 of A-Z a-z 0-9 - _ .")
        ),
        source=CONSTRUCT,
        doc="the EventBridge Scheduler group of the channel fallback's one-time schedules",
    )
    fallback_role_arn: str | None = option(
        default=None,
        kind=Optional(Text(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/.{1,512}", "an IAM role ARN")),
        source=CONSTRUCT,
        doc="the role EventBridge Scheduler invokes the Fallback function with",
    )
    fallback_target_arn: str | None = option(
        default=None,
        kind=Optional(Text(r"arn:aws[a-z-]*:lambda:.{1,1024}", "a Lambda function ARN")),
        source=CONSTRUCT,
        doc="the Fallback function the schedules invoke (set on the API only: that one uses its own ARN)",
    )
    # Set by the Lambda runtime: its presence means "this is a deployed function".
    lambda_function_name: str | None = option(
        default=None,
        kind=Optional(Text(r".{1,256}", "1 to 256 characters")),
        env="AWS_LAMBDA_FUNCTION_NAME",
        source=CONSTRUCT,
        doc="set by Lambda: a function that has it is deployed, and refuses to start without OTP_TABLE_NAME",
    )
