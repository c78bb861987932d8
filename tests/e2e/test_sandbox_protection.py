"""Per-number limits end to end: HTTP API → real handler → moto's DynamoDB, in the sandbox subprocess.

Each test texts a fresh random number, so the session-wide sandbox's earlier traffic cannot interfere.
Time moves with the sandbox clock (``/_sandbox/clock``), which the limits follow: no sleeping. Every
test runs on both engines.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import phonenumbers
import pytest

from tests.sandbox_harness import HttpAnswer, RunningSandbox


@pytest.fixture
def sandbox(engine_sandbox: RunningSandbox) -> RunningSandbox:
    """The session's sandbox of each engine in turn (tests/conftest.py)."""
    return engine_sandbox


PARALLEL = 20


def fresh_number() -> str:
    """A valid US number no other test uses (the 555-01xx test numbers have scripted outcomes)."""
    while True:
        candidate = f"+1425{random.randint(2_000_000, 9_999_999)}"
        parsed = phonenumbers.parse(candidate)
        if phonenumbers.is_valid_number(parsed) and "55501" not in candidate:
            return candidate


def send_in_parallel(sandbox: RunningSandbox, number: str) -> list[HttpAnswer]:
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(
            pool.map(lambda _: sandbox.api("POST", "/v1/otp", {"phoneNumber": number}), range(PARALLEL))
        )


def assert_rate_limited(answer: HttpAnswer, *, at_least: int, at_most: int) -> None:
    assert answer.status == 429
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"] == "urn:otp:problem:rate-limited"
    assert at_least <= int(answer.headers["Retry-After"]) <= at_most


def test_twenty_parallel_sends_to_a_fresh_number_deliver_exactly_one_sms(sandbox: RunningSandbox) -> None:
    # Given a number nobody has texted
    number = fresh_number()
    # When 20 clients ask for a code for it at the same moment
    answers = send_in_parallel(sandbox, number)
    # Then exactly one SMS went out (the cooldown allows one), and the 19 others got 429 + Retry-After
    assert Counter(answer.status for answer in answers) == {202: 1, 429: PARALLEL - 1}
    assert len(sandbox.outbox(destination=number)) == 1
    for answer in answers:
        if answer.status == 429:
            assert_rate_limited(answer, at_least=1, at_most=30)
            assert number not in str(answer.body)


def test_the_hourly_cap_holds_under_parallel_bursts_as_the_clock_moves(sandbox: RunningSandbox) -> None:
    # Given a fresh number, and bursts of 20 parallel requests 30 s apart (each after the cooldown)
    number = fresh_number()
    delivered_per_burst = []
    # The sandbox clock runs on between bursts too: the Retry-After below allows for the real seconds
    # the bursts took (a busy sandbox, whose moto tables grow with every test, can take several).
    began = time.monotonic()
    for _ in range(6):
        answers = send_in_parallel(sandbox, number)
        delivered_per_burst.append(sum(1 for answer in answers if answer.status == 202))
        sandbox.advance_clock(30)
    # Then each of the first five bursts delivered one SMS and the sixth none: five per hour
    assert delivered_per_burst == [1, 1, 1, 1, 1, 0]
    assert len(sandbox.outbox(destination=number)) == 5
    # and the refusal says so, with a Retry-After until the first code is an hour old
    refused = sandbox.api("POST", "/v1/otp", {"phoneNumber": number})
    took = math.ceil(time.monotonic() - began)
    assert_rate_limited(refused, at_least=3600 - 6 * 30 - took - 1, at_most=3600 - 6 * 30)
    assert "5 per hour" in refused.body["detail"]


def test_a_retry_with_the_same_idempotency_key_replays_the_answer(sandbox: RunningSandbox) -> None:
    # Given a send with an Idempotency-Key
    number = fresh_number()
    headers = {"Idempotency-Key": f"e2e-{random.getrandbits(64):x}"}
    first = sandbox.api("POST", "/v1/otp", {"phoneNumber": number}, headers)
    # When the client retries it, and then reuses the key for another number
    again = sandbox.api("POST", "/v1/otp", {"phoneNumber": number}, headers)
    reused = sandbox.api("POST", "/v1/otp", {"phoneNumber": fresh_number()}, headers)
    # Then the retry gets the same 202 and body, one SMS went out, and the reuse is a 422
    assert (first.status, again.status) == (202, 202)
    assert again.body == first.body
    assert len(sandbox.outbox(destination=number)) == 1
    assert reused.status == 422
    assert reused.body["type"] == "urn:otp:problem:idempotency-key-reused"
