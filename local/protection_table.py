"""The abuse-protection table in the sandbox: created in moto's DynamoDB at start-up, served atomically.

The Lambda code finds the table through ``OTP_TABLE_NAME`` and reaches it through ``AWS_ENDPOINT_URL``,
exactly as in AWS, so every per-number limit and the Idempotency-Key work locally.

moto checks a ConditionExpression and then writes, as two Python steps with no lock between them;
under a threaded server two conditional writes to one item can both pass. Real DynamoDB makes each
item write atomic, and the limits rely on that, so the sandbox runs DynamoDB calls one at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE_NAME = "otp-protection"

_DYNAMODB_TARGET_PREFIX = "DynamoDB_"


def create_protection_table(client: DynamoDBClient, table_name: str = TABLE_NAME) -> str:
    """Create the table as infra/protection.py declares it (on-demand, TTL on), unless it exists."""
    from otp.adapters.store import EXPIRY_ATTRIBUTE, PARTITION_KEY  # the asset root must be on sys.path

    existing = client.list_tables().get("TableNames", [])
    if table_name not in existing:
        client.create_table(
            TableName=table_name,
            AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE},
        )
    return table_name


def _is_dynamodb(headers_target: str) -> bool:
    return headers_target.startswith(_DYNAMODB_TARGET_PREFIX)


class AtomicDynamoDb:
    """An AwsEndpoint override: forwards DynamoDB calls to moto one at a time, leaves the rest alone."""

    def __init__(self, forward_to_moto: Callable[[Request], Response]) -> None:
        self._forward = forward_to_moto
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response | None:
        if not _is_dynamodb(request.headers.get("X-Amz-Target", "")):
            return None
        with self._lock:
            return self._forward(request)


def atomic_dynamodb(app: WSGIApplication) -> WSGIApplication:
    """The same guarantee as a WSGI middleware, for a bare moto server (the tests use one)."""
    lock = threading.Lock()

    def serialized(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not _is_dynamodb(str(environ.get("HTTP_X_AMZ_TARGET", ""))):
            return app(environ, start_response)
        with lock:
            # moto works while its answer is produced: finish it inside the lock.
            return list(app(environ, start_response))

    return serialized
