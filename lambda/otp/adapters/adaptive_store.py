"""DynamoDB items of the adaptive defence (otp/domain/adaptive.py), in the protection table:

- ``conv#<scope>#<epoch day>#<shard>``: sends (``s``) and verified codes (``v``) of one scope (a range
  ``r:+44770``, a country ``cc:GB``, a door and caller ``door:api:<hash>``) on one UTC day, and per
  ten-minute slot (``s017``, ``v017``); every write is an ``ADD`` riding in a send's commit or a
  verification's one request, so the item is created by its first count and never read-modified-written.
- ``block#<prefix>``: a range's block: ``until``, ``since`` (epoch ms), ``level``, ``offences``, the
  evidence ``sends`` and ``verified``, and an operator's ``pinned`` / ``allowed`` (1 or 0).
- ``proven#<sha256>``: a number that verified a code, ``until`` (epoch ms) it counts as proven.
Never a number or a code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from otp.adapters.store import (
    EXPIRY_ATTRIBUTE,
    PARTITION_KEY,
    _counters,
    _unavailable,
    joined_entry,
    joined_writer,
)
from otp.domain.adaptive import BLOCK_PREFIX, REOFFEND_MS, CounterAdd, ProvenMark, block_key
from otp.domain.ports import JoinedWrite, RangeBlock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, PutTypeDef, TransactWriteItemTypeDef


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


@joined_writer(CounterAdd)
def _counter_entry(table: str, write: CounterAdd) -> TransactWriteItemTypeDef:
    """ADD to each number, creating the item; no condition, so it can never cancel a send."""
    names = {f"#a{index}": name for index, (name, _) in enumerate(write.amounts)}
    values = {f":a{index}": _n(amount) for index, (_, amount) in enumerate(write.amounts)}
    names["#ttl"] = EXPIRY_ATTRIBUTE
    values[":ttl"] = _n(write.expires_at)
    adds = ", ".join(f"#a{index} :a{index}" for index in range(len(write.amounts)))
    return {
        "Update": {
            "TableName": table,
            "Key": {PARTITION_KEY: {"S": write.key}},
            "UpdateExpression": f"ADD {adds} SET #ttl = :ttl",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


@joined_writer(ProvenMark)
def _proven_entry(table: str, write: ProvenMark) -> TransactWriteItemTypeDef:
    return {
        "Update": {
            "TableName": table,
            "Key": {PARTITION_KEY: {"S": write.key}},
            "UpdateExpression": "SET #until = :until, #ttl = :ttl",
            "ExpressionAttributeNames": {"#until": "until", "#ttl": EXPIRY_ATTRIBUTE},
            "ExpressionAttributeValues": {
                ":until": _n(write.until_ms),
                ":ttl": _n(write.until_ms // 1000 + 3600),
            },
        }
    }


def _block_item(block: RangeBlock, expires_at: int | None) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {PARTITION_KEY: {"S": block_key(block.prefix)}}
    item.update({name: _n(value) for name, value in block.numbers().items()})
    if expires_at is not None:
        item[EXPIRY_ATTRIBUTE] = _n(expires_at)
    return item


class DynamoDbBlockBook:
    """Implements the domain's BlockBook on the ``block#`` items."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def impose(
        self,
        block: RangeBlock,
        *,
        previous_until_ms: int,
        now_ms: int,
        compensate: Sequence[JoinedWrite] = (),
    ) -> bool:
        """One conditional PutItem; with ``compensate``, one TransactWriteItems of it and them."""
        # Kept while a re-offence would lengthen the next block.
        expires_at = (block.until_ms + REOFFEND_MS) // 1000
        put: PutTypeDef = {
            "TableName": self._table,
            "Item": _block_item(block, expires_at),
            "ConditionExpression": (
                "attribute_not_exists(#pk) OR (#until = :previous AND #until <= :now"
                " AND #pinned = :no AND #allowed = :no)"
            ),
            "ExpressionAttributeNames": {
                "#pk": PARTITION_KEY,
                "#until": "until",
                "#pinned": "pinned",
                "#allowed": "allowed",
            },
            "ExpressionAttributeValues": {
                ":previous": _n(previous_until_ms),
                ":now": _n(now_ms),
                ":no": _n(0),
            },
        }
        operation = "TransactWriteItems" if compensate else "PutItem"
        try:
            if compensate:
                entries: list[TransactWriteItemTypeDef] = [{"Put": put}]
                entries += [joined_entry(self._table, write) for write in compensate]
                self._client.transact_write_items(TransactItems=entries)
            else:
                self._client.put_item(**put)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                return False
            reasons = exc.response.get("CancellationReasons") or []
            if (
                code == "TransactionCanceledException"
                and reasons
                and reasons[0].get("Code")
                in {
                    "ConditionalCheckFailed",
                    "TransactionConflict",
                }
            ):
                return False
            raise _unavailable(exc, operation) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc, operation) from exc
        return True

    def blocks(self) -> list[RangeBlock]:
        found: list[RangeBlock] = []
        paginator = self._client.get_paginator("scan")
        try:
            for page in paginator.paginate(
                TableName=self._table,
                FilterExpression="begins_with(#pk, :prefix)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
                ExpressionAttributeValues={":prefix": {"S": f"{BLOCK_PREFIX}#"}},
                ConsistentRead=True,
            ):
                for item in page.get("Items", []):
                    prefix = item[PARTITION_KEY]["S"].split("#", 1)[1]
                    found.append(RangeBlock.from_counters(prefix, _counters(item)))
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc, "Scan") from exc
        return sorted(found, key=lambda block: block.prefix)

    def put(self, block: RangeBlock, *, expires_at: int | None) -> None:
        try:
            self._client.put_item(TableName=self._table, Item=_block_item(block, expires_at))
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc, "PutItem") from exc
