"""A throttled, contended or unavailable table fails closed on both doors and both engines (issue 20).

Against the session's sandbox of each engine, with DynamoDB faults queued through ``/_sandbox/faults``
(``local/dynamodb_faults.py``) for longer than botocore's retries last:

- throttling: ``ProvisionedThroughputExceededException`` and ``ThrottlingException`` on every item
  operation;
- a conditional-check storm: every ``TransactWriteItems`` cancelled (``TransactionCanceledException``,
  each item's condition failed);
- unavailable: ``InternalServerError`` (500) on every item operation.

For each: ``POST /v1/otp`` answers an error and nothing is sent; a right code is not accepted by
``POST /v1/otp/verify`` while the table cannot count the attempt; a Cognito sign-in gets the usual
challenge and no SMS, and a right code does not sign anyone in. Once the fault is cleared, the same
request goes through, so it was the fault that stopped it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_cognito_sign_in import PUBLIC_KEYS, answer, code_sent_to, create_user, fresh_number, start
from tests.sandbox_harness import RunningSandbox, http_call

pytestmark = pytest.mark.slow

# Every call botocore makes in a test (its retries included) meets the fault; cleared after each test.
FOREVER = 1000
FAULTS: dict[str, list[dict[str, Any]]] = {
    "throttled": [{"errorType": "ProvisionedThroughputExceededException"}],
    "throttled (ThrottlingException)": [{"errorType": "ThrottlingException"}],
    "conditional-check storm": [
        {"errorType": "TransactionCanceledException"},
        {"errorType": "ConditionalCheckFailedException"},
    ],
    "unavailable": [{"errorType": "InternalServerError"}],
}


@pytest.fixture(scope="module")
def sandbox(engine_sandbox: RunningSandbox) -> RunningSandbox:
    return engine_sandbox


@pytest.fixture(params=sorted(FAULTS))
def fault(request: pytest.FixtureRequest, sandbox: RunningSandbox) -> Iterator[list[dict[str, Any]]]:
    yield [{**body, "service": "dynamodb", "count": FOREVER} for body in FAULTS[request.param]]
    clear_faults(sandbox)


def inject(sandbox: RunningSandbox, fault: list[dict[str, Any]]) -> None:
    for body in fault:
        answer = http_call("POST", f"{sandbox.aws_url}/_sandbox/faults", body)
        assert answer.status == 200, answer


def clear_faults(sandbox: RunningSandbox) -> None:
    assert http_call("DELETE", f"{sandbox.aws_url}/_sandbox/faults").status == 200


def spent(sandbox: RunningSandbox) -> int:
    """How many DynamoDB calls met the queued faults so far."""
    queued = http_call("GET", f"{sandbox.aws_url}/_sandbox/faults").body["faults"]
    return sum(FOREVER - int(fault["remaining"]) for fault in queued)


def test_the_api_sends_nothing_while_the_table_fails(
    sandbox: RunningSandbox, fault: list[dict[str, Any]]
) -> None:
    # Given the table failing
    phone = fresh_number()
    inject(sandbox, fault)
    # When a code is requested over HTTP
    refused = sandbox.api("POST", "/v1/otp", {"phoneNumber": phone})
    # Then a refusal to try again later (503 for a store that cannot answer; 429, or the engine's rate
    # on End User Messaging, when every condition fails), the table was asked, and nothing was sent
    assert refused.status in (429, 503), refused
    assert int(refused.headers["Retry-After"]) >= 1
    assert spent(sandbox) > 0
    assert sandbox.outbox(destination=phone) == []
    # and once the table answers again, the same request sends a code
    clear_faults(sandbox)
    sent = sandbox.api("POST", "/v1/otp", {"phoneNumber": phone})
    assert sent.status == 202, sent
    assert len(sandbox.outbox(destination=phone)) == 1


def test_the_api_accepts_no_code_while_the_table_fails(
    sandbox: RunningSandbox, fault: list[dict[str, Any]]
) -> None:
    # Given a code sent while the table worked
    phone = fresh_number()
    sent = sandbox.api("POST", "/v1/otp", {"phoneNumber": phone})
    assert sent.status == 202, sent
    [sms] = sandbox.outbox(destination=phone)
    verification = {"phoneNumber": phone, "referenceId": sent.body["referenceId"], "code": sms["code"]}
    # When the table fails and the right code is entered
    inject(sandbox, fault)
    checked = sandbox.api("POST", "/v1/otp/verify", verification)
    # Then it is refused, to be tried again later: the attempt could not be counted
    assert checked.status in (429, 503), checked
    assert int(checked.headers["Retry-After"]) >= 1
    assert spent(sandbox) > 0
    # and once the table answers again, the same code verifies (the refusal spent no attempt)
    clear_faults(sandbox)
    again = sandbox.api("POST", "/v1/otp/verify", verification)
    assert (again.status, again.body) == (200, {"valid": True})


def test_a_sign_in_sends_nothing_while_the_table_fails(
    sandbox: RunningSandbox, cognito: Any, pool: dict[str, str], fault: list[dict[str, Any]]
) -> None:
    # Given a registered user and the table failing
    phone = fresh_number()
    create_user(cognito, pool, phone)
    inject(sandbox, fault)
    # When they start a sign-in
    challenge = start(cognito, pool, phone)
    # Then the usual challenge, the table was asked, and no SMS went out
    assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert set(challenge["ChallengeParameters"]) == PUBLIC_KEYS
    assert spent(sandbox) > 0
    assert sandbox.outbox(destination=phone) == []
    # and no answer passes the challenge
    try:
        result = answer(cognito, pool, challenge, phone, "123456")
    except cognito.exceptions.NotAuthorizedException:
        result = {}
    assert "AuthenticationResult" not in result
    # and once the table answers again, a new sign-in sends a code
    clear_faults(sandbox)
    start(cognito, pool, phone)
    assert len(sandbox.outbox(destination=phone)) == 1


def test_a_right_code_signs_no_one_in_while_the_table_fails(
    sandbox: RunningSandbox, cognito: Any, pool: dict[str, str], fault: list[dict[str, Any]]
) -> None:
    # Given a sign-in whose code went out while the table worked
    phone = fresh_number()
    create_user(cognito, pool, phone)
    challenge = start(cognito, pool, phone)
    code = code_sent_to(sandbox, phone)
    # When the table fails and the right code is entered
    inject(sandbox, fault)
    following = answer(cognito, pool, challenge, phone, code)
    # Then no tokens: the answer counts as wrong, and the next challenge follows
    assert "AuthenticationResult" not in following
    assert following["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert spent(sandbox) > 0
    # and once the table answers again, the same code signs them in
    clear_faults(sandbox)
    assert "AuthenticationResult" in answer(cognito, pool, following, phone, code)
