"""Every AWS operation the functions call, by botocore service name.

The Lambda bundle ships botocore data holding only these operations (infra/botocore_data.py writes it at
build time; otp.adapters.aws_sdk loads it): a call to an operation missing here would fail on Lambda
while passing locally, so an adapter that calls a new operation adds it here, and a new service adds a
row. Dependency-free on purpose: the CDK app loads this file by path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

OPERATIONS: Final[Mapping[str, tuple[str, ...]]] = {
    # otp.adapters.pinpoint
    "pinpoint": ("SendOTPMessage", "VerifyOTPMessage"),
    # otp.adapters.end_user_messaging; otp.adapters.notify_code_configurations (the custom resource)
    "endusermessaging": (
        "SendNotifyCodeVerification",
        "ValidateNotifyCodeVerification",
        "CreateNotifyCodeConfiguration",
        "UpdateNotifyCodeConfiguration",
        "DeleteNotifyCodeConfiguration",
    ),
    # otp.adapters.store, verification_store, ticket_store: the per-number limits, lifecycles and tickets
    # (BatchGetItem, GetItem, PutItem, TransactWriteItems, UpdateItem) and
    # Powertools Idempotency's DynamoDBPersistenceLayer (GetItem, PutItem, UpdateItem, DeleteItem);
    # otp.adapters.adaptive_store (PutItem, UpdateItem; Scan is the operators' command's, not a function's).
    "dynamodb": ("BatchGetItem", "DeleteItem", "GetItem", "PutItem", "TransactWriteItems", "UpdateItem"),
    # otp.adapters.user_pool_triggers (the custom resource on an imported user pool)
    "cognito-idp": ("DescribeUserPool", "UpdateUserPool"),
    # otp.adapters.secret: the deployment secret, read once per container by the functions granted it.
    "secretsmanager": ("GetSecretValue",),
    # otp.adapters.fallback_scheduler: a channel fallback's one-time schedule (EventBridge Scheduler).
    "scheduler": ("CreateSchedule",),
}
