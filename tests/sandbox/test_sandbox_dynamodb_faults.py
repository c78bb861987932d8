"""DynamoDB faults (issue 20): each injected error reaches a stock boto3 client as DynamoDB's own.

Throttling, a conditional-check storm and an unavailable table cannot be provoked by any request, so
``POST /_sandbox/faults`` queues them (``local/dynamodb_faults.py``); what the service does with them
is tested on both doors in ``tests/e2e/test_dynamodb_faults_sandbox.py``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.faults import DYNAMODB_ERROR_STATUS, DYNAMODB_OPERATION_ERRORS
from tests.sandbox_harness import PinpointEndpoint, aws_client, end_user_messaging_client, http_call

TABLE = "faults-test"
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1})


@pytest.fixture
def dynamodb(pinpoint_endpoint: PinpointEndpoint) -> Iterator[Any]:
    client = aws_client("dynamodb", pinpoint_endpoint.aws_url, config=ONE_ATTEMPT)
    # Not list_tables: it answers 100 names a page, and the worker's moto may hold more tables
    # (tests/integration/protection makes one per test in the same process-wide backend).
    with contextlib.suppress(client.exceptions.ResourceInUseException):
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    yield client
    pinpoint_endpoint.emulator.faults.clear()


def _fault(endpoint: PinpointEndpoint, body: dict[str, Any]) -> Any:
    return http_call("POST", f"{endpoint.aws_url}/_sandbox/faults", body)


def _put(dynamodb: Any, key: str) -> Any:
    return dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": key}})


def _transact(dynamodb: Any, *keys: str) -> Any:
    """One put per key, each but the last on the condition that the item does not exist yet."""
    return dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {"pk": {"S": key}},
                    **({"ConditionExpression": "attribute_not_exists(pk)"} if key != keys[-1] else {}),
                }
            }
            for key in keys
        ]
    )


def _stored(dynamodb: Any, key: str) -> bool:
    return "Item" in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": key}})


@pytest.mark.parametrize(("error_type", "status"), sorted(DYNAMODB_ERROR_STATUS.items()))
def test_each_dynamodb_fault_reaches_boto3_as_the_modeled_exception(
    pinpoint_endpoint: PinpointEndpoint, dynamodb: Any, error_type: str, status: int
) -> None:
    # Given a fault queued for an operation whose model lists the error
    single = {"TransactionConflictException", "ConditionalCheckFailedException"}
    operation = "PutItem" if error_type in single else "TransactWriteItems"
    assert error_type in DYNAMODB_OPERATION_ERRORS[operation]
    answer = _fault(
        pinpoint_endpoint, {"errorType": error_type, "service": "dynamodb", "operation": operation}
    )
    assert answer.status == 200, answer.body
    keys = [uuid.uuid4().hex, uuid.uuid4().hex]

    # When that operation is called
    with pytest.raises(ClientError) as caught:
        _put(dynamodb, keys[0]) if operation == "PutItem" else _transact(dynamodb, *keys)

    # Then botocore raises DynamoDB's modeled exception with DynamoDB's status, and nothing was written
    response = caught.value.response
    assert response["Error"]["Code"] == error_type
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert isinstance(caught.value, getattr(dynamodb.exceptions, error_type))
    assert not any(_stored(dynamodb, key) for key in keys)
    if error_type == "TransactionCanceledException":
        # a storm: every condition failed; one reason per item, in order, as DynamoDB lists them
        assert response["CancellationReasons"] == [
            {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
            {"Code": "None"},
        ]
    # and, the fault spent, the same call goes through
    _put(dynamodb, keys[0]) if operation == "PutItem" else _transact(dynamodb, *keys)
    assert all(_stored(dynamodb, key) for key in keys[: 1 if operation == "PutItem" else 2])


def test_a_dynamodb_fault_outlasts_botocores_retries_only_with_the_count_to_do_so(
    pinpoint_endpoint: PinpointEndpoint, dynamodb: Any
) -> None:
    retrying = aws_client(
        "dynamodb", pinpoint_endpoint.aws_url, config=Config(retries={"total_max_attempts": 3})
    )
    key = uuid.uuid4().hex
    # Two throttled answers are retried away by a client that makes three attempts...
    _fault(pinpoint_endpoint, {"errorType": "ProvisionedThroughputExceededException", "count": 2})
    retrying.put_item(TableName=TABLE, Item={"pk": {"S": key}})
    assert _stored(dynamodb, key)
    # ...three are not, and each attempt spent one
    _fault(pinpoint_endpoint, {"errorType": "InternalServerError", "count": 4})
    with pytest.raises(ClientError) as caught:
        retrying.get_item(TableName=TABLE, Key={"pk": {"S": key}})
    assert caught.value.response["Error"]["Code"] == "InternalServerError"
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    [left] = http_call("GET", f"{pinpoint_endpoint.aws_url}/_sandbox/faults").body["faults"]
    assert left == {
        "service": "dynamodb",
        "errorType": "InternalServerError",
        "operation": None,
        "remaining": 1,
    }


def test_a_dynamodb_throttle_and_end_user_messagings_never_reach_each_other(
    pinpoint_endpoint: PinpointEndpoint, dynamodb: Any
) -> None:
    eum = end_user_messaging_client(pinpoint_endpoint.url, retries={"total_max_attempts": 1})
    validate = {"destinationIdentity": "+12065550100", "code": "123456"}
    # DynamoDB's ThrottlingException leaves End User Messaging alone and hits the table
    _fault(pinpoint_endpoint, {"errorType": "ThrottlingException", "service": "dynamodb"})
    assert eum.validate_notify_code_verification(**validate)["status"] == "INVALID"
    with pytest.raises(ClientError, match="ThrottlingException"):
        _put(dynamodb, uuid.uuid4().hex)
    # and End User Messaging's (no service named: the engine's, as before) leaves the table alone
    _fault(pinpoint_endpoint, {"errorType": "ThrottlingException"})
    _put(dynamodb, uuid.uuid4().hex)
    with pytest.raises(ClientError, match="ThrottlingException"):
        eum.validate_notify_code_verification(**validate)


@pytest.mark.parametrize(
    "body",
    [
        {"errorType": "TransactionCanceledException", "operation": "GetItem"},  # not a transaction
        {"errorType": "ForbiddenException", "service": "dynamodb"},  # Pinpoint's
        {"errorType": "ConditionalCheckFailedException", "operation": "TransactWriteItems"},  # single writes
        {"errorType": "InternalServerError", "service": "s3"},
        {"errorType": "InternalServerError", "service": "pinpoint"},
        {"errorType": "ThrottlingException", "operation": "PutItem", "service": "endusermessaging"},
        {"errorType": "InternalServerError", "operation": "CreateTable"},  # not an item operation
    ],
)
def test_a_dynamodb_fault_the_model_does_not_allow_is_refused(
    pinpoint_endpoint: PinpointEndpoint, body: dict[str, Any]
) -> None:
    answer = _fault(pinpoint_endpoint, body)
    assert answer.status == 400
    assert pinpoint_endpoint.emulator.faults.pending() == []
