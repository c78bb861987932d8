"""The sandbox's DynamoDB transactions: all or nothing, without copying the table each time.

moto rolled a failed TransactWriteItems back from a deep copy of every table it touched, made for
every transaction; the sandbox backs up the touched items only (local/protection_table.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _item(dynamodb: DynamoDBClient, table: str, pk: str) -> dict[str, Any] | None:
    return dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


@pytest.fixture
def tables_cannot_be_copied(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deep-copying a moto table fails the request (the server runs in this process)."""
    from moto.dynamodb.models.table import Table

    def refuse(self: Table, memo: dict[int, Any]) -> Table:
        raise AssertionError("a whole table was copied")

    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)


def test_a_cancelled_transaction_leaves_every_item_as_it_was(
    dynamodb: DynamoDBClient, table_name: str, tables_cannot_be_copied: None
) -> None:
    # Given an item with a count of 1, and many others in the table
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    for index in range(50):
        dynamodb.put_item(TableName=table_name, Item={"pk": {"S": f"other-{index}"}})
    # When a transaction raises the count, creates an item, then fails its last condition
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table_name,
                        "Key": {"pk": {"S": "a"}},
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": table_name, "Item": {"pk": {"S": "b"}, "n": {"N": "7"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table_name,
                        "Key": {"pk": {"S": "c"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    # Then it is cancelled for that condition alone, and nothing it wrote remains
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [reason["Code"] for reason in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert _item(dynamodb, table_name, "a") == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert _item(dynamodb, table_name, "b") is None
    assert dynamodb.scan(TableName=table_name, Select="COUNT")["Count"] == 51


def test_a_transaction_that_holds_writes_everything(
    dynamodb: DynamoDBClient, table_name: str, tables_cannot_be_copied: None
) -> None:
    # Given an item with a count of 1
    dynamodb.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    # When a transaction whose conditions hold raises it and creates another
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table_name,
                    "Key": {"pk": {"S": "a"}},
                    "UpdateExpression": "SET n = n + :one",
                    "ConditionExpression": "n < :two",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":two": {"N": "2"}},
                }
            },
            {
                "Put": {
                    "TableName": table_name,
                    "Item": {"pk": {"S": "b"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )
    # Then both writes are there
    assert _item(dynamodb, table_name, "a") == {"pk": {"S": "a"}, "n": {"N": "2"}}
    assert _item(dynamodb, table_name, "b") == {"pk": {"S": "b"}}
