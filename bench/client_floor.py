"""``python -m bench.client_floor``: the warm rows with every AWS answer made in-process, at no cost.

``make bench`` times the handler and its bare-boto3 baselines against the sandbox, so each ratio is
(client work + the sandbox's work) over the same for the baseline. Here botocore's HTTP send is replaced
by canned answers (the engine's ``SUCCESSFUL``, an empty ``BatchGetItem``, an accepted
``TransactWriteItems``), so what is left is the client side alone: the function's own work plus botocore
building, signing and parsing each call. A ratio here is what ``make bench`` would print against an
endpoint that took no time at all; a faster sandbox moves ``make bench``'s ratio toward it, never below.

Prints, per row, both medians, the ratio, and the DynamoDB calls, keys and items of one protected send.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from bench.endpoint import LAMBDA_DIR, Endpoint, handler_environment
from bench.phones import destinations
from bench.stats import median, ratio

APPLICATION_ID = "bench0123456789abcdef0123456789ab"
_DYNAMODB_TARGET = "DynamoDB_20120810."


class _Body:
    """What botocore reads an answer's body from (urllib3's response, as far as botocore uses it)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _answer_in_process(seen: Counter[str]) -> None:
    """Every request botocore sends is answered here: the engine delivers, DynamoDB finds nothing and
    accepts every write. ``seen`` counts operations, and the most keys and items one call carried."""
    import botocore.httpsession
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    def send(_session: Any, request: Any) -> AWSResponse:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        body = json.loads(request.body or b"{}")
        if target.startswith(_DYNAMODB_TARGET):
            operation = target[len(_DYNAMODB_TARGET) :]
            seen[operation] += 1
            answer: dict[str, Any] = {}
            if operation == "BatchGetItem":
                tables = body["RequestItems"]
                keys = sum(len(table["Keys"]) for table in tables.values())
                seen["BatchGetItem keys"] = max(seen["BatchGetItem keys"], keys)
                answer = {"Responses": {name: [] for name in tables}, "UnprocessedKeys": {}}
            elif operation == "TransactWriteItems":
                items = len(body["TransactItems"])
                seen["TransactWriteItems items"] = max(seen["TransactWriteItems items"], items)
            content_type = "application/x-amz-json-1.0"
        else:
            number = body["DestinationIdentity"]
            answer = {
                "ApplicationId": APPLICATION_ID,
                "RequestId": "bench",
                "Result": {number: {"DeliveryStatus": "SUCCESSFUL", "StatusCode": 200, "MessageId": "m"}},
            }
            content_type = "application/json"
        headers = HTTPHeaders()
        headers["Content-Type"] = content_type
        headers["x-amzn-RequestId"] = "bench"
        return AWSResponse(request.url, 200, headers, _Body(json.dumps(answer).encode()))

    botocore.httpsession.URLLib3Session.send = send  # type: ignore[method-assign,assignment]


def _alternated(sides: dict[str, Callable[[], Callable[[], None]]], calls: int) -> dict[str, float]:
    """Median seconds of each side, timed in alternating blocks of 50 (as bench/warm.py does)."""
    from bench.warm import _timed

    times: dict[str, list[float]] = {name: [] for name in sides}
    for prepare in sides.values():
        _timed(prepare, 100, [])
    for _ in range(max(1, calls // 50)):
        for name, prepare in sides.items():
            _timed(prepare, 50, times[name])
    return {name: median(found) for name, found in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.client_floor", description=__doc__)
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per side")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(LAMBDA_DIR))
    endpoint = Endpoint(url="http://127.0.0.1:9", application_id=APPLICATION_ID)
    seen: Counter[str] = Counter()
    _answer_in_process(seen)
    from bench import warm

    numbers = destinations()
    os.environ.update(handler_environment(endpoint))
    from otp import wiring

    wiring.reset()
    with warm._quiet_handler():
        plain = _alternated(
            {"handler": warm._handler_call(numbers), "bare": warm._bare_call(endpoint, numbers)}, args.calls
        )
        os.environ.update(handler_environment(endpoint, protection=True))
        wiring.reset()
        seen.clear()
        guarded = _alternated(
            {
                "handler+protection": warm._handler_call(numbers),
                "bare+transaction": warm._bare_transact_call(endpoint, numbers),
            },
            args.calls,
        )
    rows = [
        ("warm POST /otp", plain["handler"], plain["bare"]),
        (
            "protection on (bare: + 1 TransactWriteItems)",
            guarded["handler+protection"],
            guarded["bare+transaction"],
        ),
    ]
    for name, handler, bare in rows:
        print(f"{name}: {handler * 1e6:.0f} us / {bare * 1e6:.0f} us = {ratio(handler, bare)}x")
    keys, items = seen["BatchGetItem keys"], seen["TransactWriteItems items"]
    print(f"one protected send: BatchGetItem of {keys} keys, TransactWriteItems of {items} items")
    return 0


if __name__ == "__main__":
    sys.exit(main())
