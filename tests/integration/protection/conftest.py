"""A real DynamoDB API (moto's server on a free port) and a fresh protection table per test."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from local.protection_table import atomic_dynamodb, create_protection_table
from otp.adapters.store import DynamoDbLimitLedger
from tests.sandbox_harness import aws_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Configure = Callable[..., None]


class FakeClock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def dynamodb_url() -> Iterator[str]:
    """moto's server, threaded like the sandbox's, with DynamoDB writes made atomic as in AWS."""
    server = make_server(
        "127.0.0.1", 0, atomic_dynamodb(DomainDispatcherApplication(create_backend_app)), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, name="moto-dynamodb", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def dynamodb(dynamodb_url: str) -> DynamoDBClient:
    client: DynamoDBClient = aws_client("dynamodb", dynamodb_url)
    return client


@pytest.fixture
def table_name(dynamodb: DynamoDBClient) -> str:
    """A table of its own for each test: no test sees another's counts."""
    return create_protection_table(dynamodb, f"otp-protection-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def ledger(dynamodb: DynamoDBClient, table_name: str) -> DynamoDbLimitLedger:
    return DynamoDbLimitLedger(dynamodb, table_name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def protect(
    handler_env: dict[str, str], dynamodb_url: str, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> Configure:
    """Turn the protection on for the handler (OTP_TABLE_NAME), with optional extra variables."""
    from otp import wiring

    def configure(**variables: str) -> None:
        monkeypatch.setenv("OTP_TABLE_NAME", table_name)
        # DynamoDB from moto's server; Pinpoint still from AWS_ENDPOINT_URL (the sandbox's endpoint).
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_url)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        wiring.reset()

    configure()
    return configure


class CallLog:
    """The DynamoDB operations a boto3 client made, in order, as botocore sent them."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.operations: list[str] = []
        client.meta.events.register("before-call.dynamodb.*", self._seen)

    def _seen(self, model: object, **_: object) -> None:
        self.operations.append(str(getattr(model, "name", "")))

    def take(self) -> list[str]:
        taken, self.operations = self.operations, []
        return taken
