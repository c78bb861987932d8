"""DynamoDB adapter for device tickets (otp/domain/tickets.py): the ``ticket#<hmac>`` items of the
protection table (layout in otp/adapters/store.py), never the ticket or the number."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from otp.adapters.store import (
    _TTL_SLACK_SECONDS,
    EXPIRY_ATTRIBUTE,
    PARTITION_KEY,
    STATE_ATTRIBUTE,
    UNTIL_ATTRIBUTE,
    _unavailable,
)
from otp.domain.ports import TicketRecord, TicketState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoDbTicketBook:
    """Implements the domain's TicketBook: one item per ticket, written with conditions so that a
    record is created once and only a pending, unexpired one can become valid."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def hold(self, key: str, *, until: int) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    PARTITION_KEY: {"S": key},
                    STATE_ATTRIBUTE: {"S": TicketState.PENDING.value},
                    UNTIL_ATTRIBUTE: {"N": str(until)},
                    EXPIRY_ATTRIBUTE: {"N": str(until + _TTL_SLACK_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise _unavailable(exc, "PutItem") from exc
        except BotoCoreError as exc:
            raise _unavailable(exc, "PutItem") from exc

    def confirm(self, key: str, *, now: int, until: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={PARTITION_KEY: {"S": key}},
                UpdateExpression="SET #state = :valid, #until = :until, #expiration = :expiration",
                ConditionExpression="#state = :pending AND #until > :now",
                ExpressionAttributeNames={
                    "#state": STATE_ATTRIBUTE,
                    "#until": UNTIL_ATTRIBUTE,
                    "#expiration": EXPIRY_ATTRIBUTE,
                },
                ExpressionAttributeValues={
                    ":valid": {"S": TicketState.VALID.value},
                    ":pending": {"S": TicketState.PENDING.value},
                    ":until": {"N": str(until)},
                    ":expiration": {"N": str(until + _TTL_SLACK_SECONDS)},
                    ":now": {"N": str(now)},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise _unavailable(exc, "UpdateItem") from exc
        except BotoCoreError as exc:
            raise _unavailable(exc, "UpdateItem") from exc
        return True

    def read(self, key: str) -> TicketRecord | None:
        try:
            item = self._client.get_item(
                TableName=self._table,
                Key={PARTITION_KEY: {"S": key}},
                ConsistentRead=True,
                ProjectionExpression="#state, #until",
                ExpressionAttributeNames={"#state": STATE_ATTRIBUTE, "#until": UNTIL_ATTRIBUTE},
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc, "GetItem") from exc
        if not item:
            return None
        try:
            state = TicketState(item.get(STATE_ATTRIBUTE, {}).get("S", ""))
            until = int(item.get(UNTIL_ATTRIBUTE, {}).get("N", "0"))
        except ValueError:
            return None
        return TicketRecord(state, until)
