"""The sandbox memoises moto's UpdateExpression parsing and expression-only checks
(local.moto_expressions): the same expression string must still give each call its own answer.

Every test repeats one expression string with different values, names or items; a cache keyed too
loosely, or a kept tree changed by one call, would answer the second call with the first one's result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture(autouse=True)
def _cache_installed(dynamodb: DynamoDBClient) -> None:
    """The moto server of these tests runs with the cache, as the sandbox does (else they prove nothing)."""
    from moto.dynamodb.parsing import validators

    assert getattr(validators, "_otp_sandbox_expression_cache", False)


def _key(name: str) -> dict[str, Any]:
    return {"pk": {"S": name}}


def _item(dynamodb: DynamoDBClient, table: str, name: str) -> dict[str, Any]:
    return dict(dynamodb.get_item(TableName=table, Key=_key(name), ConsistentRead=True).get("Item", {}))


def _update(dynamodb: DynamoDBClient, table: str, name: str, expression: str, **more: Any) -> None:
    dynamodb.update_item(TableName=table, Key=_key(name), UpdateExpression=expression, **more)


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_same_expression_with_different_values_sets_each_call_its_own(
    dynamodb: DynamoDBClient, table_name: str
) -> None:
    expression = "ADD #n :step SET #label = :label"
    names = {"#n": "n", "#label": "label"}
    for name, step, label in (("a", "1", "first"), ("b", "5", "second"), ("a", "2", "third")):
        _update(
            dynamodb,
            table_name,
            name,
            expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":step": {"N": step}, ":label": {"S": label}},
        )
    assert _item(dynamodb, table_name, "a") == {"pk": {"S": "a"}, "n": {"N": "3"}, "label": {"S": "third"}}
    assert _item(dynamodb, table_name, "b") == {"pk": {"S": "b"}, "n": {"N": "5"}, "label": {"S": "second"}}


def test_same_expression_with_different_names_writes_the_named_attributes(
    dynamodb: DynamoDBClient, table_name: str
) -> None:
    expression = "SET #a = :v"
    for attribute, value in (("colour", "red"), ("size", "large")):
        _update(
            dynamodb,
            table_name,
            "x",
            expression,
            ExpressionAttributeNames={"#a": attribute},
            ExpressionAttributeValues={":v": {"S": value}},
        )
    assert _item(dynamodb, table_name, "x") == {
        "pk": {"S": "x"},
        "colour": {"S": "red"},
        "size": {"S": "large"},
    }


def test_names_that_make_a_passed_expression_overlap_are_still_refused(
    dynamodb: DynamoDBClient, table_name: str
) -> None:
    expression = "SET #a = :v, #b = :w"
    values = {":v": {"S": "1"}, ":w": {"S": "2"}}
    _update(
        dynamodb,
        table_name,
        "x",
        expression,
        ExpressionAttributeNames={"#a": "p", "#b": "q"},
        ExpressionAttributeValues=values,
    )
    with pytest.raises(ClientError) as refused:
        _update(
            dynamodb,
            table_name,
            "x",
            expression,
            ExpressionAttributeNames={"#a": "p", "#b": "p"},
            ExpressionAttributeValues=values,
        )
    assert _error_code(refused) == "ValidationException"
    assert _item(dynamodb, table_name, "x") == {"pk": {"S": "x"}, "p": {"S": "1"}, "q": {"S": "2"}}


def test_a_name_that_points_a_passed_expression_at_the_key_is_still_refused(
    dynamodb: DynamoDBClient, table_name: str
) -> None:
    expression = "SET #k = :v"
    _update(
        dynamodb,
        table_name,
        "x",
        expression,
        ExpressionAttributeNames={"#k": "other"},
        ExpressionAttributeValues={":v": {"S": "1"}},
    )
    with pytest.raises(ClientError) as refused:
        _update(
            dynamodb,
            table_name,
            "x",
            expression,
            ExpressionAttributeNames={"#k": "pk"},
            ExpressionAttributeValues={":v": {"S": "y"}},
        )
    assert _error_code(refused) == "ValidationException"
    assert _item(dynamodb, table_name, "x") == {"pk": {"S": "x"}, "other": {"S": "1"}}


def test_an_item_dependent_failure_still_fails_after_the_expression_passed(
    dynamodb: DynamoDBClient, table_name: str
) -> None:
    expression = "ADD #n :one"
    arguments: dict[str, Any] = {
        "ExpressionAttributeNames": {"#n": "n"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    _update(dynamodb, table_name, "counted", expression, **arguments)
    _update(
        dynamodb,
        table_name,
        "text",
        "SET #n = :s",
        ExpressionAttributeNames={"#n": "n"},
        ExpressionAttributeValues={":s": {"S": "not a number"}},
    )
    with pytest.raises(ClientError) as refused:
        _update(dynamodb, table_name, "text", expression, **arguments)
    assert _error_code(refused) == "ValidationException"
    assert _item(dynamodb, table_name, "text")["n"] == {"S": "not a number"}


def test_a_conditional_failure_is_still_a_failure_each_time(
    dynamodb: DynamoDBClient, table_name: str
) -> None:
    update: Any = {
        "TableName": table_name,
        "Key": _key("limited"),
        "UpdateExpression": "ADD #sends :one",
        "ConditionExpression": "attribute_not_exists(#sends) OR #sends < :rate",
        "ExpressionAttributeNames": {"#sends": "sends"},
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":rate": {"N": "2"}},
    }
    dynamodb.transact_write_items(TransactItems=[{"Update": update}])
    dynamodb.transact_write_items(TransactItems=[{"Update": update}])
    for _ in range(2):
        with pytest.raises(ClientError) as cancelled:
            dynamodb.transact_write_items(TransactItems=[{"Update": update}])
        assert _error_code(cancelled) == "TransactionCanceledException"
        with pytest.raises(ClientError) as refused:
            dynamodb.update_item(**update)
        assert _error_code(refused) == "ConditionalCheckFailedException"
    assert _item(dynamodb, table_name, "limited")["sends"] == {"N": "2"}
    # A higher limit in the same expression lets the next one through.
    update["ExpressionAttributeValues"] = {":one": {"N": "1"}, ":rate": {"N": "3"}}
    dynamodb.transact_write_items(TransactItems=[{"Update": update}])
    assert _item(dynamodb, table_name, "limited")["sends"] == {"N": "3"}


def test_an_expression_that_does_not_parse_is_refused_every_time(
    dynamodb: DynamoDBClient, table_name: str
) -> None:
    for _ in range(2):
        with pytest.raises(ClientError) as refused:
            _update(
                dynamodb,
                table_name,
                "x",
                "SET #a = = :v",
                ExpressionAttributeNames={"#a": "a"},
                ExpressionAttributeValues={":v": {"S": "1"}},
            )
        assert _error_code(refused) == "ValidationException"
    assert _item(dynamodb, table_name, "x") == {}
