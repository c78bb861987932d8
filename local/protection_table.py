"""The abuse-protection table in the sandbox: created in moto's DynamoDB at start-up, served atomically.

The Lambda code finds the table through ``OTP_TABLE_NAME`` and reaches it through ``AWS_ENDPOINT_URL``,
exactly as in AWS, so every per-number limit and the Idempotency-Key work locally.

moto checks a ConditionExpression and then writes, as two Python steps with no lock between them;
under a threaded server two conditional writes to one item can both pass. Real DynamoDB makes each
item write atomic, and the limits rely on that, so the sandbox runs DynamoDB calls one at a time.

moto also backs up, for every item of a TransactWriteItems, the whole table it touches (a deep copy,
to roll back on failure): each protected send then cost time in proportion to every number ever
limited, ~50 ms once a few thousand sends were in the table. Since the calls run one at a time here,
the backup can be of the touched items alone (``install_item_level_rollback``). moto's parsing and
expression-only validation of UpdateExpressions is memoised too (``local.moto_expressions``), and
its answers skip the AttributeValue members an attribute does not hold (``local.moto_attribute_values``).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from local.moto_attribute_values import install_attribute_value_fast_path
from local.moto_expressions import install_expression_cache

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE_NAME = "otp-protection"

_DYNAMODB_TARGET_PREFIX = "DynamoDB_"


def create_protection_table(client: DynamoDBClient, table_name: str = TABLE_NAME) -> str:
    """Create the table as infra/protection.py declares it (on-demand, TTL on), unless it exists."""
    from otp.adapters.store import EXPIRY_ATTRIBUTE, PARTITION_KEY  # the asset root must be on sys.path

    # Not list_tables: it answers 100 names a page, and a test process's moto may hold more.
    try:
        client.create_table(
            TableName=table_name,
            AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except client.exceptions.ResourceInUseException:
        return table_name
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE},
    )
    return table_name


def _is_dynamodb(headers_target: str) -> bool:
    return headers_target.startswith(_DYNAMODB_TARGET_PREFIX)


def _touched_key(backend: Any, operation: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The table and primary key one TransactWriteItems entry writes or checks (None: no such table)."""
    table = backend.tables.get(operation.get("TableName"))
    if table is None:
        return None
    if "Key" in operation:
        return table.name, operation["Key"]
    item = operation.get("Item") or {}
    names = [name for name in (table.hash_key_attr, table.range_key_attr) if name is not None]
    if not all(name in item for name in names):
        return None  # moto refuses the entry itself, before writing anything
    return table.name, {name: item[name] for name in names}


@contextmanager
def _tables_not_copied(models: Any) -> Iterator[None]:
    """While moto's transaction runs, its ``copy.deepcopy(table)`` backup returns the table itself
    (restoring it is then a no-op; the touched items are restored instead). Everything else moto's
    DynamoDB module deep-copies is copied as before."""
    from moto.dynamodb.models.table import Table

    real = models.copy

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else real.deepcopy(value, memo)

    models.copy = SimpleNamespace(deepcopy=deepcopy, copy=real.copy)
    try:
        yield
    finally:
        models.copy = real


_installed = threading.Lock()


def install_item_level_rollback() -> None:
    """Make moto's TransactWriteItems back up only the items it touches (idempotent, process-wide).

    Only sound while DynamoDB calls run one at a time (AtomicDynamoDb, atomic_dynamodb): between the
    backup and a rollback nothing else may write those items.
    """
    import moto.dynamodb.models as models

    with _installed:
        backend_class = models.DynamoDBBackend
        if getattr(backend_class.transact_write_items, "item_level_rollback", False):
            return
        moto_transaction = backend_class.transact_write_items

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            backups: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
            for entry in transact_items:
                touched = _touched_key(self, next(iter(entry.values()), {}))
                if touched is not None:
                    table_name, key = touched
                    current = self.get_item(table_name, key)
                    attributes = None if current is None else copy.deepcopy(current.to_json()["Attributes"])
                    backups.append((table_name, key, attributes))
            with _tables_not_copied(models):
                try:
                    moto_transaction(self, transact_items)
                except BaseException:
                    # Reversed, so that an item listed twice (moto refuses that) ends as it was first.
                    for table_name, key, attributes in reversed(backups):
                        if attributes is None:
                            self.delete_item(table_name, key)
                        else:
                            self.put_item(table_name, attributes, overwrite=True)
                    raise

        transact_write_items.item_level_rollback = True  # type: ignore[attr-defined]
        backend_class.transact_write_items = transact_write_items  # type: ignore[method-assign]


class AtomicDynamoDb:
    """An AwsEndpoint override: forwards DynamoDB calls to moto one at a time, leaves the rest alone."""

    def __init__(self, forward_to_moto: Callable[[Request], Response]) -> None:
        install_item_level_rollback()
        install_expression_cache()
        install_attribute_value_fast_path()
        self._forward = forward_to_moto
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response | None:
        if not _is_dynamodb(request.headers.get("X-Amz-Target", "")):
            return None
        with self._lock:
            return self._forward(request)


def atomic_dynamodb(app: WSGIApplication) -> WSGIApplication:
    """The same guarantee as a WSGI middleware, for a bare moto server (the tests use one)."""
    install_item_level_rollback()
    install_expression_cache()
    install_attribute_value_fast_path()
    lock = threading.Lock()

    def serialized(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not _is_dynamodb(str(environ.get("HTTP_X_AMZ_TARGET", ""))):
            return app(environ, start_response)
        with lock:
            # moto works while its answer is produced: finish it inside the lock.
            return list(app(environ, start_response))

    return serialized
