"""Warm requests in one process: the API handler's POST /otp against a bare boto3 send_otp_message.

Both sides send to the same endpoint, each request to a number never used before, in alternating
blocks so that drift (the endpoint's growing outbox, the machine's load) is shared. The handler's
log lines and EMF documents are written to /dev/null: formatting them is part of its cost, as it is
in Lambda; showing them is not.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bench.cold_child import params as bare_parameters
from bench.endpoint import PROTECTION_TABLE, Endpoint, handler_environment
from bench.stats import median, percentile
from tests.lambda_events import LambdaContext, rest_api_event

BLOCK = 50
WARMUP = 100


@dataclass(frozen=True)
class WarmSide:
    name: str
    seconds: list[float]

    @property
    def p50(self) -> float:
        return median(self.seconds)

    @property
    def p99(self) -> float:
        return percentile(self.seconds, 99)


def _handler_call(numbers: Iterator[str]) -> Callable[[], Callable[[], None]]:
    """Returns a preparer: each call builds one request's event, outside the timing (API Gateway's
    work, not the function's), and returns the timed call."""
    from otp.handlers.api import lambda_handler

    context = LambdaContext(aws_request_id="bench-warm")

    def prepare() -> Callable[[], None]:
        event = rest_api_event("POST", "/otp", {"phoneNumber": next(numbers)})

        def call() -> None:
            response = lambda_handler(event, context)
            if response["statusCode"] != 202:
                raise RuntimeError(f"handler answered {response['statusCode']}: {response.get('body')}")

        return call

    return prepare


def _bare_call(endpoint: Endpoint, numbers: Iterator[str]) -> Callable[[], Callable[[], None]]:
    import boto3

    client = boto3.client("pinpoint")

    def prepare() -> Callable[[], None]:
        number = next(numbers)
        parameters = bare_parameters(number)

        def call() -> None:
            response = client.send_otp_message(
                ApplicationId=endpoint.application_id, SendOTPMessageRequestParameters=parameters
            )
            if response["MessageResponse"]["Result"][number]["DeliveryStatus"] != "SUCCESSFUL":
                raise RuntimeError("bare send_otp_message was not delivered")

        return call

    return prepare


def _bare_transact_call(endpoint: Endpoint, numbers: Iterator[str]) -> Callable[[], Callable[[], None]]:
    """The protected send's baseline: one DynamoDB TransactWriteItems (a conditional put of the number's
    item, as a limit's compare-and-set is) and the engine call, in bare boto3."""
    import boto3

    dynamodb = boto3.client("dynamodb")
    send = _bare_call(endpoint, numbers)

    def prepare() -> Callable[[], None]:
        engine_call = send()
        key = f"bench#{time.time_ns()}"

        def call() -> None:
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": PROTECTION_TABLE,
                            "Item": {"pk": {"S": key}, "n": {"N": "1"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                ]
            )
            engine_call()

        return call

    return prepare


def _timed(prepare: Callable[[], Callable[[], None]], count: int, into: list[float]) -> None:
    clock = time.perf_counter
    for _ in range(count):
        call = prepare()
        started = clock()
        call()
        into.append(clock() - started)


@contextlib.contextmanager
def _quiet_handler() -> Iterator[None]:
    """Send the handler's stdout (EMF) and its logger's stream to /dev/null for the duration."""
    from otp.observability import logger

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        handler = logger.registered_handler
        previous = handler.setStream(sink)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            handler.setStream(previous)  # type: ignore[attr-defined]


def measure(endpoint: Endpoint, numbers: Iterator[str], calls: int) -> dict[str, WarmSide]:
    """Handler and bare boto3 in alternating blocks; then the handler with protection on and bare boto3
    with one TransactWriteItems before its send, also in alternating blocks."""
    os.environ.update(handler_environment(endpoint))
    from otp import wiring

    wiring.reset()
    with _quiet_handler():
        sides = {"handler": _handler_call(numbers), "bare boto3": _bare_call(endpoint, numbers)}
        times: dict[str, list[float]] = {name: [] for name in sides}
        for call in sides.values():
            _timed(call, WARMUP, [])
        done = 0
        while done < calls:
            block = min(BLOCK, calls - done)
            for name, call in sides.items():
                _timed(call, block, times[name])
            done += block
        # Protection on: the same handler, rebuilt with OTP_TABLE_NAME (one BatchGetItem and one
        # TransactWriteItems per send), against bare boto3 making one TransactWriteItems and the send.
        os.environ.update(handler_environment(endpoint, protection=True))
        wiring.reset()
        guarded = {
            "handler+protection": _handler_call(numbers),
            "bare boto3+transaction": _bare_transact_call(endpoint, numbers),
        }
        for name, call in guarded.items():
            times[name] = []
            _timed(call, WARMUP, [])
        done = 0
        while done < calls:
            block = min(BLOCK, calls - done)
            for name, call in guarded.items():
                _timed(call, block, times[name])
            done += block
    return {name: WarmSide(name, found) for name, found in times.items()}
