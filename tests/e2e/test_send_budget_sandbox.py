"""The account-wide send budget under concurrency, through both doors of a sandbox subprocess.

Parallel clients: threads calling the sandbox's HTTP API (``POST /v1/otp``) for distinct numbers, and
threads signing in through its Cognito endpoint with a stock boto3 client (``InitiateAuth``,
``CUSTOM_AUTH``), all at once. The budget (45 an hour: two shards) must never be exceeded, a refusal
must say so (HTTP 503 with Retry-After; Cognito: the usual challenge, no SMS), and every send the budget
allowed must really go out.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.cognito_users import create_sign_in_user
from tests.e2e.test_cognito_sign_in import PUBLIC_KEYS
from tests.sandbox_harness import RunningSandbox, aws_client, running_sandbox

pytestmark = pytest.mark.slow

BUDGET_PER_HOUR = 45
HTTP_CLIENTS = 40
COGNITO_CLIENTS = 30


@pytest.fixture(scope="module")
def budget_sandbox() -> Iterator[RunningSandbox]:
    env = {"OTP_SEND_BUDGET_PER_HOUR": str(BUDGET_PER_HOUR), "OTP_SEND_BUDGET_PER_DAY": "60"}
    with running_sandbox(env) as sandbox:
        yield sandbox


def distinct_numbers(count: int) -> list[str]:
    """Valid US numbers nobody else uses (425-200-xxxx..., outside the 555-01xx test block)."""
    base = uuid.uuid4().int % 700_000
    return [f"+1425{2_000_000 + (base + index) % 7_000_000:07d}" for index in range(count)]


def register(cognito: Any, pool_id: str, phones: list[str]) -> None:
    for phone in phones:
        create_sign_in_user(cognito, pool_id, phone)


def test_parallel_clients_on_both_doors_never_exceed_the_budget(budget_sandbox: RunningSandbox) -> None:
    sandbox = budget_sandbox
    health = sandbox.health().body
    cognito = aws_client("cognito-idp", sandbox.aws_url)
    http_numbers = distinct_numbers(HTTP_CLIENTS)
    users = distinct_numbers(COGNITO_CLIENTS)
    register(cognito, health["userPoolId"], users)

    def over_http(phone: str) -> tuple[str, Any]:
        answer = sandbox.api("POST", "/v1/otp", {"phoneNumber": phone})
        return "http", answer

    def over_cognito(phone: str) -> tuple[str, Any]:
        client = aws_client("cognito-idp", sandbox.aws_url)  # one client per caller, as apps have
        challenge = client.initiate_auth(
            ClientId=health["userPoolClientId"], AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": phone}
        )
        return "cognito", challenge

    # Given 70 callers (40 over HTTP, 30 signing in through Cognito) asking at the same moment
    jobs = [(over_http, phone) for phone in http_numbers] + [(over_cognito, phone) for phone in users]
    order = list(range(len(jobs)))
    secrets.SystemRandom().shuffle(order)
    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(lambda index: jobs[index][0](jobs[index][1]), order))

    # Then no more than the budget went out, across both doors
    sent = [sms for sms in sandbox.outbox() if sms["destination"] in set(http_numbers) | set(users)]
    assert len(sent) <= BUDGET_PER_HOUR
    # and every HTTP refusal says why, with a Retry-After (the budget, or a lost race to be retried)
    http = [answer for door, answer in results if door == "http"]
    statuses = Counter(answer.status for answer in http)
    assert set(statuses) <= {202, 503, 429}, statuses
    for answer in http:
        if answer.status == 503:
            assert answer.body["type"] == "urn:otp:problem:send-budget-exhausted"
            assert int(answer.headers["Retry-After"]) >= 3000
        elif answer.status == 429:
            assert answer.body["type"] == "urn:otp:problem:rate-limited"
    # and every sign-in got the same-shaped challenge, texted or not
    for door, challenge in results:
        if door == "cognito":
            assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
            assert set(challenge["ChallengeParameters"]) == PUBLIC_KEYS
    # and each 202 is an SMS that really went out
    delivered_over_http = {sms["destination"] for sms in sent} & set(http_numbers)
    assert statuses[202] == len(delivered_over_http)

    # When more callers come, one after the other (no race left to lose)
    more = distinct_numbers(BUDGET_PER_HOUR)
    for phone in more:
        sandbox.api("POST", "/v1/otp", {"phoneNumber": phone})
    # Then the budget was filled exactly, and not one SMS beyond it
    everyone = set(http_numbers) | set(users) | set(more)
    total = [sms for sms in sandbox.outbox() if sms["destination"] in everyone]
    assert len(total) == BUDGET_PER_HOUR
    refused = sandbox.api("POST", "/v1/otp", {"phoneNumber": distinct_numbers(1)[0]})
    assert refused.status == 503
    assert refused.body["type"] == "urn:otp:problem:send-budget-exhausted"
