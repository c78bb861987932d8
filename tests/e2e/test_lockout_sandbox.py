"""Lockout by strangers, through the sandbox subprocess's Cognito door (stock boto3, no credentials).

What a stranger who knows a user's phone number can and cannot do to them with the default limits:
- wrong answers in the stranger's own sessions never make the user's right code fail;
- sign-ins the stranger starts do use up the number's send quota: the README's threat table states
  what that costs (requests, hours), and this file measures it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_cognito_sign_in import another_code, create_user, fresh_number, start
from tests.sandbox_harness import RunningSandbox, aws_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandbox(engine_sandbox: RunningSandbox) -> RunningSandbox:
    """Both engines: what a stranger can do to a user must not depend on which one sends."""
    return engine_sandbox


_CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(scope="module")
def cognito(sandbox: RunningSandbox) -> Any:
    return aws_client("cognito-idp", sandbox.aws_url)


@pytest.fixture(scope="module")
def pool(sandbox: RunningSandbox) -> dict[str, str]:
    health = sandbox.health().body
    return {"userPoolId": health["userPoolId"], "clientId": health["userPoolClientId"]}


def respond(cognito: Any, pool: dict[str, str], challenge: dict[str, Any], phone: str, answer: str) -> Any:
    return cognito.respond_to_auth_challenge(
        ClientId=pool["clientId"],
        ChallengeName="CUSTOM_CHALLENGE",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": phone, "ANSWER": answer},
    )


def latest_code(sandbox: RunningSandbox, phone: str) -> str:
    match = _CODE.search(sandbox.outbox(destination=phone)[-1]["body"])
    assert match
    return match.group(1)


def test_strangers_wrong_answers_in_other_sessions_never_fail_the_users_right_code(
    sandbox: RunningSandbox, cognito: Any, pool: dict[str, str]
) -> None:
    # Given a user who started signing in and received a code
    phone = fresh_number()
    create_user(cognito, pool, phone)
    mine = start(cognito, pool, phone)
    code = latest_code(sandbox, phone)
    # When a stranger opens six sessions of their own for the same number and answers each one wrongly
    # until Cognito ends it (18 wrong answers: more than the old per-number cap of 15 an hour)
    wrong_answers = 0
    for _ in range(6):
        theirs = start(cognito, pool, phone)
        for _ in range(2):
            theirs = respond(cognito, pool, theirs, phone, another_code(code))
            wrong_answers += 1
        with pytest.raises(cognito.exceptions.NotAuthorizedException):
            respond(cognito, pool, theirs, phone, another_code(code))
        wrong_answers += 1
    # Then the user's right code, in the user's session, still signs them in
    result = respond(cognito, pool, mine, phone, code)
    assert wrong_answers == 18
    assert "AccessToken" in result["AuthenticationResult"]


def test_what_a_send_quota_lockout_costs_a_stranger(
    sandbox: RunningSandbox, cognito: Any, pool: dict[str, str]
) -> None:
    """The README's threat table row "lock a user out of SMS": the cost measured, not assumed."""
    # Given a registered user, and a stranger who knows the phone number (nothing else)
    phone = fresh_number()
    create_user(cognito, pool, phone)
    requests = 0
    # When the stranger starts sign-ins as fast as the per-number limits let SMS through
    # (a 30 s cooldown, 5 an hour, 10 a day), moving the sandbox clock instead of waiting
    elapsed = 0
    while True:
        start(cognito, pool, phone)
        requests += 1
        sent = len(sandbox.outbox(destination=phone))
        if sent == 10:
            break
        step = 30 if sent % 5 else 3600 - 4 * 30
        sandbox.advance_clock(step)
        elapsed += step
    # Then ten requests (one per SMS) over a little more than an hour used up the day's quota
    assert requests == 10
    assert elapsed == 3600 + 4 * 30
    # and the user's own sign-in now gets the usual challenge but no SMS ...
    start(cognito, pool, phone)
    assert len(sandbox.outbox(destination=phone)) == 10
    # ... until the first of the stranger's SMS is 24 hours old
    sandbox.advance_clock(24 * 3600 - elapsed)
    start(cognito, pool, phone)
    assert len(sandbox.outbox(destination=phone)) == 11
