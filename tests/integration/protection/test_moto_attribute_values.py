"""The sandbox serialises DynamoDB AttributeValues by the members they hold
(local.moto_attribute_values): the answer must be byte for byte moto's own, and round-trip every type.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Every AttributeValue type, nested, as moto's items hold them (B as base64 text, as moto keeps it).
EVERY_TYPE: dict[str, Any] = {
    "pk": {"S": "every"},
    "s": {"S": "text"},
    "n": {"N": "12.5"},
    "b": {"B": "AAEC"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": ["AAE=", "AgM="]},
    "null": {"NULL": True},
    "bool": {"BOOL": False},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"L": [{"BOOL": True}]}}}]},
    "m": {"M": {"inner": {"M": {"s": {"S": "y"}}}, "empty": {"M": {}}, "list": {"L": []}}},
}


def _serialise(operation: str, result: dict[str, Any]) -> str:
    from moto.core.serialize import BaseJSONSerializer, JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    assert getattr(BaseJSONSerializer, "_otp_sandbox_attribute_values", False), "fast path not installed"
    model = get_service_model("dynamodb").operation_model(operation)
    serializer = JSONSerializer(operation_model=model, value_picker=XFormedAttributePicker())
    return str(serializer.serialize(result)["body"])


@pytest.mark.parametrize(
    ("operation", "result"),
    [
        ("GetItem", {"Item": EVERY_TYPE}),
        ("BatchGetItem", {"Responses": {"t": [EVERY_TYPE, {"pk": {"S": "other"}}]}, "UnprocessedKeys": {}}),
        ("TransactWriteItems", {}),
        ("UpdateItem", {"Attributes": EVERY_TYPE}),
    ],
)
def test_the_answer_is_moto_own_byte_for_byte(
    dynamodb: DynamoDBClient, operation: str, result: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.serialize import BaseJSONSerializer

    fast = _serialise(operation, result)
    monkeypatch.setattr(
        BaseJSONSerializer,
        "_serialize_type_structure",
        BaseJSONSerializer._serialize_type_structure.moto,  # type: ignore[attr-defined]
    )
    assert fast == _serialise(operation, result)


def test_every_type_round_trips_through_the_server(dynamodb: DynamoDBClient, table_name: str) -> None:
    item = {**EVERY_TYPE, "b": {"B": b"\x00\x01\x02"}, "bs": {"BS": [b"\x00\x01", b"\x02\x03"]}}
    dynamodb.put_item(TableName=table_name, Item=item)
    got = dynamodb.get_item(TableName=table_name, Key={"pk": {"S": "every"}}, ConsistentRead=True)["Item"]
    batch = dynamodb.batch_get_item(RequestItems={table_name: {"Keys": [{"pk": {"S": "every"}}]}})
    assert got == item
    assert batch["Responses"][table_name] == [item]
    assert Decimal(got["n"]["N"]) == Decimal("12.5")
