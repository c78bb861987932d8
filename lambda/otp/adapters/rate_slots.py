"""How a slot of the engine's send rate (otp.domain.engine_rate.RateSlot) is written: one more entry of
the send's TransactWriteItems, on the item ``rate#<epoch second>`` of the protection table.

``sends`` counts the second's sends (ADD); the condition lets it reach the tier's rate and no further, so
a full second cancels the whole commit (nothing of the send is recorded) and the domain waits for the next
one. The item expires (TTL) two minutes after its second. Imported by otp.wiring, which registers it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from otp.adapters.store import EXPIRY_ATTRIBUTE, PARTITION_KEY, joined_writer
from otp.domain.engine_rate import RateSlot

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef, UpdateTypeDef

SENDS_ATTRIBUTE = "sends"


@joined_writer(RateSlot)
def rate_slot_entry(table: str, write: RateSlot) -> TransactWriteItemTypeDef:
    update: UpdateTypeDef = {
        "TableName": table,
        "Key": {PARTITION_KEY: {"S": write.key}},
        "UpdateExpression": "ADD #sends :one SET #expiration = :ttl",
        "ConditionExpression": "attribute_not_exists(#sends) OR #sends < :rate",
        "ExpressionAttributeNames": {"#sends": SENDS_ATTRIBUTE, "#expiration": EXPIRY_ATTRIBUTE},
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":ttl": {"N": str(write.expires_at)},
            ":rate": {"N": str(write.per_second)},
        },
    }
    return {"Update": update}
