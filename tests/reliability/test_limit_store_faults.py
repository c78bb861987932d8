"""The per-number limits when the protection store (DynamoDB) is slow: a write whose answer is lost.

botocore retries a DynamoDB call whose answer did not arrive in time. When the lost answer belonged
to a conditional write that did succeed, the retry fails its condition, and the limiter must not read
its own event as someone else's: that refuses a first request for a number with "a code was sent
less than 30 seconds ago" although no SMS went out, and burns one of the hour's sends.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from local.protection_table import atomic_dynamodb, create_protection_table
from otp.adapters.store import _CLIENT_CONFIG, DynamoDbLimitLedger
from otp.domain.errors import SendRefused
from otp.domain.limiter import SendRateGuard, SlidingWindowLimiter
from otp.domain.models import PhoneNumber
from tests.sandbox_harness import aws_client

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

WRITES = ("DynamoDB_20120810.PutItem", "DynamoDB_20120810.TransactWriteItems")


class LoseFirstWriteAnswer:
    """WSGI middleware: the first write is applied, but its answer comes after the client gave up."""

    def __init__(self, app: WSGIApplication, delay_seconds: float) -> None:
        self._app, self._delay = app, delay_seconds
        self._lock, self.delayed = threading.Lock(), 0

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer = list(self._app(environ, start_response))  # the write happens here
        with self._lock:
            first = environ.get("HTTP_X_AMZ_TARGET") in WRITES and self.delayed == 0
            self.delayed += first
        if first:
            time.sleep(self._delay)
        return answer


@pytest.fixture
def slow_store() -> Iterator[tuple[str, LoseFirstWriteAnswer]]:
    middleware = LoseFirstWriteAnswer(
        atomic_dynamodb(DomainDispatcherApplication(create_backend_app)),
        delay_seconds=float(_CLIENT_CONFIG.read_timeout) + 0.5,  # type: ignore[attr-defined]  # set by Config()
    )
    server = make_server("127.0.0.1", 0, middleware, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", middleware
    server.shutdown()
    thread.join(timeout=5)


def test_a_lost_answer_to_a_successful_write_does_not_refuse_the_first_send(
    slow_store: tuple[str, LoseFirstWriteAnswer],
) -> None:
    # Given the deployed client configuration, and a store whose first write answer is lost
    url, middleware = slow_store
    client = aws_client("dynamodb", url, config=_CLIENT_CONFIG)
    table = create_protection_table(client, f"otp-slow-{uuid.uuid4().hex[:8]}")
    guard = SendRateGuard(
        SlidingWindowLimiter(DynamoDbLimitLedger(client, table)), cooldown_seconds=30, per_hour=5, per_day=10
    )
    # When the very first send to a number is checked
    try:
        guard.before_send(PhoneNumber(e164="+12065550123", region="US", country_code=1))
        refused = None
    except SendRefused as exc:
        refused = exc.reason
    # Then it is allowed: nothing was ever sent to this number (and the write was indeed retried)
    assert middleware.delayed == 1
    assert refused is None
