"""DynamoDB adapter: the protection table's client and layout, limit histories (compare-and-set), the
writes joined to a send's transaction, and the Idempotency-Key records. Verification lifecycles are
written by otp/adapters/verification_store.py, device tickets by otp/adapters/ticket_store.py.

Table layout (created by infra/protection.py, and by the sandbox in moto at start-up):
- partition key ``pk`` (string), no sort key; TTL attribute ``expiration`` (epoch seconds).
- ``send#<sha256>``: a limit history, ``events`` (list of epoch milliseconds), ``version`` (incremented
  by every write; the compare-and-set condition) and ``writer`` (a token naming the write that produced
  this version).
- ``verify#<sha256>``: one number + reference: ``events`` (the verify calls counted against the
  per-reference cap, at most the cap of them, each added by one conditional UpdateItem) and the
  verification's lifecycle record (otp/domain/verification.py): ``owner``, ``nonce``, ``startedAt``,
  ``sentAt``, ``expiresAt`` (epoch ms), ``channel``, ``allowed``, ``tries``, ``sends`` (a map from each
  send's nonce to its ``channel``, ``status`` and ``at``), ``verifiedAt``, ``cancelledAt``,
  ``fallback`` (a list of ``channel`` + ``after``) and ``language``; never the number or a code.
- ``budget#<scope>#<shard>``: a shard of the account-wide send budget, the same attributes plus
  ``counts`` (sends per bucket; ``events`` then holds the buckets' end times).
- ``open#<sha256>``: the open part of a number's daily cap (sends without a device ticket), as ``send#``.
- ``ticket#<hmac>``: a device ticket's record (otp/domain/tickets.py): ``state`` (PENDING or VALID) and
  ``until`` (epoch seconds), expiring with it; never the ticket or the number.
- ``idempotency#<hash>``: Powertools Idempotency records for POST /otp.
- ``conv#<scope>#<day>#<shard>``, ``block#<prefix>``, ``proven#<sha256>``: the adaptive defence's
  counters, range blocks and proven numbers (otp/adapters/adaptive_store.py writes them).
The key prefixes are what the IAM policies of each function are scoped to (dynamodb:LeadingKeys).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from otp.adapters import aws_sdk
from otp.domain.errors import PROTECTION_STORE_UNAVAILABLE, UpstreamError, UpstreamFailure
from otp.domain.ports import (
    Counters,
    EventHistory,
    HistoryUpdate,
    JoinedWrite,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        PutTypeDef,
        TransactWriteItemTypeDef,
    )

PARTITION_KEY = "pk"
EXPIRY_ATTRIBUTE = "expiration"
EVENTS_ATTRIBUTE = "events"
VERSION_ATTRIBUTE = "version"
WRITER_ATTRIBUTE = "writer"
COUNTS_ATTRIBUTE = "counts"
STATE_ATTRIBUTE = "state"
UNTIL_ATTRIBUTE = "until"
# BatchGetItem takes at most 100 keys; a throttled batch hands back the rest as UnprocessedKeys.
_BATCH_MAX = 100
_BATCH_ROUNDS = 4
# DynamoDB's TTL deletes an item up to a few days after it expires; ``until`` is what the code checks.
_TTL_SLACK_SECONDS = 3600

# DynamoDB answers in milliseconds; short timeouts and a few quick retries keep a slow store from
# eating the API's 29-second budget. Throttling and 5xx are retried by botocore: these calls are safe
# to repeat because a repeated compare-and-set fails rather than double-counting.
_CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "total_max_attempts": 3},
    tcp_keepalive=True,
)


@lru_cache(maxsize=1)
def dynamodb_client() -> DynamoDBClient:
    """One client per container."""
    return cast("DynamoDBClient", aws_sdk.client("dynamodb", _CLIENT_CONFIG))


def _unavailable(exc: Exception, operation: str) -> UpstreamError:
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
    return UpstreamError(
        PROTECTION_STORE_UNAVAILABLE,
        code or type(exc).__name__,
        failure=UpstreamFailure.STORE_UNAVAILABLE,
        operation=operation,
    )


W = TypeVar("W", bound=JoinedWrite)
JoinedWriter = Callable[[str, Any], "TransactWriteItemTypeDef"]
# How each kind of JoinedWrite becomes a TransactWriteItems entry (table name, write) -> entry.
_JOINED_WRITERS: dict[type[JoinedWrite], JoinedWriter] = {}


def joined_writer(kind: type[W]) -> Callable[[Callable[[str, W], TransactWriteItemTypeDef]], JoinedWriter]:
    """Register how ``kind`` is written: a function (table name, write) -> one TransactWriteItems entry
    (``{"Put": ...}``, ``{"Update": ...}``, ``{"Delete": ...}`` or ``{"ConditionCheck": ...}``) on the
    item ``write.key``. The entry's ConditionExpression, if any, is the write's own condition."""

    def register(writer: Callable[[str, W], TransactWriteItemTypeDef]) -> JoinedWriter:
        _JOINED_WRITERS[kind] = writer
        return writer

    return register


def joined_entry(table: str, write: JoinedWrite) -> TransactWriteItemTypeDef:
    writer = _JOINED_WRITERS.get(type(write))
    if writer is None:
        raise TypeError(f"no joined_writer registered for {type(write).__name__}")
    return writer(table, write)


def _refused_joined(exc: ClientError, joined: Sequence[JoinedWrite], first: int) -> JoinedWrite | None:
    """The joined write (entries from index ``first`` on) whose own condition cancelled the request."""
    reasons = exc.response.get("CancellationReasons") or []
    for index, reason in enumerate(reasons[first:]):
        if reason.get("Code") == "ConditionalCheckFailed" and index < len(joined):
            return joined[index]
    return None


class DynamoDbLimitLedger:
    """Implements the domain's LimitLedger. Fails closed: if the table cannot be used, nothing is sent."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def read(self, key: str) -> EventHistory:
        try:
            item = self._client.get_item(
                TableName=self._table,
                Key={PARTITION_KEY: {"S": key}},
                # A stale read would let two requests count from the same history; the conditional write
                # would still catch it, but a consistent read makes that the rare case.
                ConsistentRead=True,
                ProjectionExpression="#events, #version, #counts",
                ExpressionAttributeNames={
                    "#events": EVENTS_ATTRIBUTE,
                    "#version": VERSION_ATTRIBUTE,
                    "#counts": COUNTS_ATTRIBUTE,
                },
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc, "GetItem") from exc
        if not item:
            return EventHistory(key)
        version = int(item.get(VERSION_ATTRIBUTE, {}).get("N", "0"))
        return EventHistory(key, _numbers(item, EVENTS_ATTRIBUTE), version, _numbers(item, COUNTS_ATTRIBUTE))

    def read_batch(
        self, history_keys: Sequence[str], counter_keys: Sequence[str] = ()
    ) -> tuple[list[EventHistory], dict[str, Counters]]:
        """One consistent BatchGetItem for the histories and the items of numbers; a retry only for keys
        DynamoDB left unprocessed (throttling), with botocore's own back-off between."""
        wanted = list(dict.fromkeys([*history_keys, *counter_keys]))
        found: dict[str, Mapping[str, Any]] = {}
        pending: list[dict[str, AttributeValueTypeDef]] = [{PARTITION_KEY: {"S": key}} for key in wanted]
        try:
            for _ in range(_BATCH_ROUNDS):
                if not pending:
                    break
                chunk, pending = pending[:_BATCH_MAX], pending[_BATCH_MAX:]
                answer = self._client.batch_get_item(
                    RequestItems={self._table: {"Keys": chunk, "ConsistentRead": True}}
                )
                for item in answer.get("Responses", {}).get(self._table, []):
                    found[item[PARTITION_KEY]["S"]] = item
                unprocessed = answer.get("UnprocessedKeys") or {}
                left = unprocessed[self._table]["Keys"] if self._table in unprocessed else []
                pending = [*left, *pending]
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc, "BatchGetItem") from exc
        if pending:
            raise UpstreamError(
                PROTECTION_STORE_UNAVAILABLE,
                "UnprocessedKeys",
                failure=UpstreamFailure.STORE_UNAVAILABLE,
                operation="BatchGetItem",
            )
        histories = [_history(key, found.get(key)) for key in history_keys]
        return histories, {key: _counters(found[key]) for key in counter_keys if key in found}

    def commit(self, updates: Sequence[HistoryUpdate], joined: Sequence[JoinedWrite] = ()) -> bool:
        # botocore repeats a write whose answer was lost; the token lets a repeat that fails its
        # condition recognise that the version it collided with is its own first attempt.
        writer = uuid.uuid4().hex
        puts = [self._conditional_put(update, writer) for update in updates]
        entries: list[TransactWriteItemTypeDef] = [{"Put": put} for put in puts]
        entries += [joined_entry(self._table, write) for write in joined]
        try:
            if len(entries) == 1 and puts:
                self._client.put_item(**puts[0])
            else:
                # A transaction's repeat carries the same ClientRequestToken, which DynamoDB
                # deduplicates itself; the token check below covers the single put.
                self._client.transact_write_items(TransactItems=entries)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "TransactionCanceledException":
                refused = _refused_joined(exc, joined, len(puts))
                if refused is not None:
                    raise refused.refused() from exc
            # ConditionalCheckFailed: a version moved. TransactionCanceled: a version moved or another
            # transaction held one of the items. Either way this attempt wrote nothing: decide again,
            # unless an earlier attempt of this same write is what moved the version.
            if code in {"ConditionalCheckFailedException", "TransactionCanceledException"}:
                if code == "TransactionCanceledException" and not _only_contention(exc):
                    raise _unavailable(exc, "TransactWriteItems") from exc
                return all(self._written_by(update, writer) for update in updates)
            raise _unavailable(exc, "TransactWriteItems") from exc
        except BotoCoreError as exc:
            raise _unavailable(exc, "TransactWriteItems") from exc
        return True

    def record(self, writes: Sequence[JoinedWrite]) -> None:
        """Joined writes without a history: one item is its own call, several one transaction."""
        if not writes:
            return
        entries = [joined_entry(self._table, write) for write in writes]
        operation = "TransactWriteItems"
        try:
            if len(entries) == 1:
                operation = _write_single(self._client, entries[0])
            else:
                self._client.transact_write_items(TransactItems=entries)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException" and len(writes) == 1:
                raise writes[0].refused() from exc
            if code == "TransactionCanceledException":
                refused = _refused_joined(exc, writes, 0)
                if refused is not None:
                    raise refused.refused() from exc
            raise _unavailable(exc, operation) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc, operation) from exc

    def _written_by(self, update: HistoryUpdate, writer: str) -> bool:
        """True when the item holds exactly the version this write produced."""
        try:
            item = (
                self._client.get_item(
                    TableName=self._table,
                    Key={PARTITION_KEY: {"S": update.key}},
                    ConsistentRead=True,
                    ProjectionExpression="#version, #writer",
                    ExpressionAttributeNames={"#version": VERSION_ATTRIBUTE, "#writer": WRITER_ATTRIBUTE},
                ).get("Item")
                or {}
            )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc, "GetItem") from exc
        return item.get(WRITER_ATTRIBUTE, {}).get("S") == writer and item.get(VERSION_ATTRIBUTE, {}).get(
            "N"
        ) == str(update.expected_version + 1)

    def _conditional_put(self, update: HistoryUpdate, writer: str) -> PutTypeDef:
        item: dict[str, AttributeValueTypeDef] = {
            PARTITION_KEY: {"S": update.key},
            EVENTS_ATTRIBUTE: {"L": [{"N": str(event)} for event in update.events_ms]},
            VERSION_ATTRIBUTE: {"N": str(update.expected_version + 1)},
            WRITER_ATTRIBUTE: {"S": writer},
            EXPIRY_ATTRIBUTE: {"N": str(update.expires_at)},
        }
        if update.counts:
            item[COUNTS_ATTRIBUTE] = {"L": [{"N": str(count)} for count in update.counts]}
        put: PutTypeDef = {"TableName": self._table, "Item": item}
        if update.expected_version == 0:
            put["ConditionExpression"] = "attribute_not_exists(#pk)"
            put["ExpressionAttributeNames"] = {"#pk": PARTITION_KEY}
        else:
            put["ConditionExpression"] = "#version = :expected"
            put["ExpressionAttributeNames"] = {"#version": VERSION_ATTRIBUTE}
            put["ExpressionAttributeValues"] = {":expected": {"N": str(update.expected_version)}}
        return put


def _history(key: str, item: Mapping[str, Any] | None) -> EventHistory:
    if not item:
        return EventHistory(key)
    version = int(item.get(VERSION_ATTRIBUTE, {}).get("N", "0"))
    return EventHistory(key, _numbers(item, EVENTS_ATTRIBUTE), version, _numbers(item, COUNTS_ATTRIBUTE))


def _counters(item: Mapping[str, Any]) -> dict[str, int]:
    """An item's numeric attributes (a counter's slots, a block's fields), by name."""
    return {
        name: int(value["N"]) for name, value in item.items() if "N" in value and name != EXPIRY_ATTRIBUTE
    }


def _write_single(client: DynamoDBClient, entry: TransactWriteItemTypeDef) -> str:
    """One TransactWriteItems entry as the single-item call it stands for; returns the operation's name."""
    if "Put" in entry:
        client.put_item(**entry["Put"])
        return "PutItem"
    if "Update" in entry:
        client.update_item(**entry["Update"])
        return "UpdateItem"
    if "Delete" in entry:
        client.delete_item(**entry["Delete"])
        return "DeleteItem"
    # A lone ConditionCheck writes nothing; as a transaction it still fails when its condition does.
    client.transact_write_items(TransactItems=[entry])
    return "TransactWriteItems"


def _numbers(item: Mapping[str, Any], attribute: str) -> tuple[int, ...]:
    return tuple(int(entry["N"]) for entry in item.get(attribute, {}).get("L", []) if "N" in entry)


def _only_contention(exc: ClientError) -> bool:
    """True when every cancellation reason is a failed condition or a conflicting transaction."""
    reasons = exc.response.get("CancellationReasons") or []
    return all(
        reason.get("Code") in {"None", "ConditionalCheckFailed", "TransactionConflict"} for reason in reasons
    )


def idempotency_store(table_name: str) -> DynamoDBPersistenceLayer:
    """Powertools' persistence layer on the same table, with the same key and TTL attribute names.

    Imported here, not at the top: only requests with an Idempotency-Key need it (a cold start saves
    the import of Powertools' Idempotency utility).
    """
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr=PARTITION_KEY,
        expiry_attr=EXPIRY_ATTRIBUTE,
        boto3_client=dynamodb_client(),
    )
