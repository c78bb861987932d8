"""otp.adapters.call_log: one DEBUG line per AWS call, never its parameters or its answer."""

from __future__ import annotations

import logging

import botocore.session
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from otp.adapters.call_log import log_calls

NUMBER = "+12065550142"
CODE = "482913"


def _client() -> BaseClient:
    session = botocore.session.get_session()
    return session.create_client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def _put(client: BaseClient) -> None:
    client.put_item(TableName="t", Item={"pk": {"S": NUMBER}, "code": {"S": CODE}})  # type: ignore[attr-defined]


def test_at_debug_each_call_logs_its_operation_outcome_and_time_and_nothing_it_carried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="otp")
    client = log_calls(_client())
    with Stubber(client) as stub:
        stub.add_response("put_item", {"Attributes": {"pk": {"S": NUMBER}}})
        stub.add_client_error("put_item", "ProvisionedThroughputExceededException", http_status_code=400)
        _put(client)
        with pytest.raises(ClientError, match="ProvisionedThroughputExceededException"):
            _put(client)
    lines = [record for record in caplog.records if record.getMessage() == "aws call"]
    assert [(r.levelno, r.awsService, r.awsOperation, r.httpStatus, r.errorCode) for r in lines] == [  # type: ignore[attr-defined]
        (logging.DEBUG, "dynamodb", "PutItem", 200, None),
        (logging.DEBUG, "dynamodb", "PutItem", 400, "ProvisionedThroughputExceededException"),
    ]
    assert all(record.elapsedMs >= 0 for record in lines)  # type: ignore[attr-defined]
    for record in lines:
        assert NUMBER not in str(record.__dict__)
        assert CODE not in str(record.__dict__)


def test_at_info_nothing_is_registered_or_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="otp")
    client = log_calls(_client())
    with Stubber(client) as stub:
        stub.add_response("put_item", {})
        _put(client)
    assert [record for record in caplog.records if record.getMessage() == "aws call"] == []


def test_a_call_that_gets_no_answer_logs_the_failures_type(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="otp")
    # Given nothing listening where the client calls
    client = log_calls(
        botocore.session.get_session().create_client(
            "dynamodb",
            region_name="us-east-1",
            endpoint_url="http://127.0.0.1:9",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
        )
    )
    with pytest.raises(EndpointConnectionError):
        _put(client)
    [line] = [record for record in caplog.records if record.getMessage() == "aws call"]
    assert (line.awsOperation, line.exception) == ("PutItem", "EndpointConnectionError")  # type: ignore[attr-defined]
    assert NUMBER not in str(line.__dict__)
