"""Lockout by strangers, through the sandbox subprocess's Cognito door (stock boto3, no credentials).

What a stranger who knows a user's phone number can and cannot do to them with the default limits
(30 s cooldown, 5 codes an hour, 10 a day of which 4 are reserved for device tickets):
- wrong answers in the stranger's own sessions never make the user's right code fail;
- sign-ins the stranger starts spend the open part of the number's daily cap (6 codes), no more: a
  device that signed in before answers with its ticket and gets a code from the reserve;
- a ticket is useless unless its own sign-in verified, for another number, and once expired;
- a first sign-in on a new device has only the open part: the threat table (docs/threat-model.md) states what
  locking that out costs (requests, hours), and this file measures it. Tickets never reach a log.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.test_cognito_sign_in import another_code, create_user, fresh_number, start
from tests.e2e.test_cognito_sign_in import answer as respond
from tests.sandbox_harness import RunningSandbox

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandbox(engine_sandbox: RunningSandbox) -> RunningSandbox:
    """Both engines: what a stranger can do to a user must not depend on which one sends."""
    return engine_sandbox


_CODE = re.compile(r"\b(\d{6})\b")


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


OPEN_PART = 6  # sendLimitPerDay 10 less the default reserve of 4 (10 - 5 - 1)


def sign_in(sandbox: RunningSandbox, cognito: Any, pool: dict[str, str], phone: str) -> str:
    """A whole sign-in with the code the phone received; returns the device ticket the app keeps."""
    challenge = start(cognito, pool, phone)
    result = respond(cognito, pool, challenge, phone, latest_code(sandbox, phone))
    assert "AccessToken" in result["AuthenticationResult"]
    ticket: str = challenge["ChallengeParameters"]["OTP_DEVICE_TICKET"]
    return ticket


def stranger_spends(
    sandbox: RunningSandbox, cognito: Any, pool: dict[str, str], phone: str, requests: int
) -> tuple[int, int]:
    """A stranger starts sign-ins as fast as the limits let codes through: the cooldown after a code,
    the rest of the hour after a refusal or a fifth code. Returns (codes sent, seconds elapsed)."""
    sent, elapsed = 0, 0
    for _ in range(requests):
        before = len(sandbox.outbox(destination=phone))
        start(cognito, pool, phone)
        got = len(sandbox.outbox(destination=phone)) - before
        sent += got
        step = 30 if got and (before + got) % 5 else 3600 - 4 * 30
        sandbox.advance_clock(step)
        elapsed += step
    return sent, elapsed


def ask_with_ticket(
    cognito: Any, pool: dict[str, str], challenge: dict[str, Any], phone: str, ticket: str
) -> dict[str, Any]:
    """What docs/cognito.md tells an app to send when a sign-in's code does not arrive."""
    channel = challenge["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"]
    answer: dict[str, Any] = respond(
        cognito, pool, challenge, phone, channel, {"otpChannel": channel, "otpDeviceTicket": ticket}
    )
    return answer


def spend_the_open_part(sandbox: RunningSandbox, cognito: Any, pool: dict[str, str], phone: str) -> None:
    """Strangers' sign-ins until the day's open part is gone (the outbox shows 6 codes in 24 hours)."""
    while codes_today(sandbox, phone) < OPEN_PART:
        stranger_spends(sandbox, cognito, pool, phone, 1)
    sandbox.advance_clock(31)


def codes_today(sandbox: RunningSandbox, phone: str) -> int:
    """Codes the number received in the last 24 hours of the sandbox's clock."""
    now = datetime.fromisoformat(sandbox.advance_clock(0)["now"].replace("Z", "+00:00"))
    sent = [
        datetime.fromisoformat(m["time"].replace("Z", "+00:00")) for m in sandbox.outbox(destination=phone)
    ]
    return sum(1 for at in sent if at > now - timedelta(days=1))


def test_a_strangers_ten_requests_no_longer_lock_out_a_returning_device(
    sandbox: RunningSandbox, cognito: Any, pool: dict[str, str]
) -> None:
    """The threat table's row "lock a returning device out of codes"."""
    # Given a user who signed in on this device once (1 code) and kept the ticket
    phone = fresh_number()
    create_user(cognito, pool, phone)
    ticket = sign_in(sandbox, cognito, pool, phone)
    sandbox.advance_clock(30)
    # When a stranger who knows the number makes the ten requests that used to lock it out for a day
    sent, elapsed = stranger_spends(sandbox, cognito, pool, phone, 10)
    # Then the stranger got the open part only: five codes (the device's own sign-in was the sixth)
    assert sent == OPEN_PART - 1
    assert elapsed < 24 * 3600
    # And the device's next sign-in, whose first round brings nothing, gets a code with its ticket
    challenge = start(cognito, pool, phone)
    assert len(sandbox.outbox(destination=phone)) == OPEN_PART
    again = ask_with_ticket(cognito, pool, challenge, phone, ticket)
    assert len(sandbox.outbox(destination=phone)) == OPEN_PART + 1
    result = respond(cognito, pool, again, phone, latest_code(sandbox, phone))
    assert "AccessToken" in result["AuthenticationResult"]
    # And that sign-in's own ticket works the next time: four codes a day the stranger cannot reach
    newer = again["ChallengeParameters"]["OTP_DEVICE_TICKET"]
    assert newer == challenge["ChallengeParameters"]["OTP_DEVICE_TICKET"] != ticket
    for _ in range(3):
        sandbox.advance_clock(31)
        retry = ask_with_ticket(cognito, pool, start(cognito, pool, phone), phone, newer)
        assert retry["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert len(sandbox.outbox(destination=phone)) == 10
    # and never more than the daily cap: a fifth reserved code is refused
    sandbox.advance_clock(3600)
    ask_with_ticket(cognito, pool, start(cognito, pool, phone), phone, newer)
    assert len(sandbox.outbox(destination=phone)) == 10
    # (no ticket ever reached the sandbox's console, where the handlers log)
    assert ticket not in sandbox.console()
    assert newer not in sandbox.console()


def test_a_stranger_can_hold_a_returning_device_off_for_an_hour_at_most(
    sandbox: RunningSandbox, cognito: Any, pool: dict[str, str]
) -> None:
    # Given a device that signed in, and a stranger who then spends the hourly cap within two minutes
    phone = fresh_number()
    create_user(cognito, pool, phone)
    ticket = sign_in(sandbox, cognito, pool, phone)
    for _ in range(4):
        sandbox.advance_clock(30)
        start(cognito, pool, phone)
    assert len(sandbox.outbox(destination=phone)) == 5
    # When the device asks with its ticket during that hour, and again once it is over
    sandbox.advance_clock(31)
    during = ask_with_ticket(cognito, pool, start(cognito, pool, phone), phone, ticket)
    sent_during = len(sandbox.outbox(destination=phone))
    sandbox.advance_clock(3600 - 4 * 30 - 31)
    after = ask_with_ticket(cognito, pool, start(cognito, pool, phone), phone, ticket)
    # Then the hourly cap (which the reserve does not lift) held it off, and an hour on it got a code
    assert during["ChallengeName"] == after["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert sent_during == 5
    assert len(sandbox.outbox(destination=phone)) == 6


@pytest.mark.parametrize("which", ["never verified", "another number's", "expired"])
def test_a_ticket_brings_nothing_unless_valid_for_this_number(
    sandbox: RunningSandbox, cognito: Any, pool: dict[str, str], which: str
) -> None:
    # Given a user, and a ticket of the kind under test
    phone = fresh_number()
    create_user(cognito, pool, phone)
    if which == "never verified":
        # a sign-in that showed its ticket but whose code was never entered
        ticket = start(cognito, pool, phone)["ChallengeParameters"]["OTP_DEVICE_TICKET"]
    elif which == "another number's":
        other = fresh_number()
        create_user(cognito, pool, other)
        ticket = sign_in(sandbox, cognito, pool, other)
    else:
        ticket = sign_in(sandbox, cognito, pool, phone)
        sandbox.advance_clock(90 * 86400)
    sandbox.advance_clock(31)
    valid = sign_in(sandbox, cognito, pool, phone) if which != "expired" else None
    # When strangers spend the open part and the user's sign-in answers with that ticket
    spend_the_open_part(sandbox, cognito, pool, phone)
    before = len(sandbox.outbox(destination=phone))
    challenge = start(cognito, pool, phone)
    again = ask_with_ticket(cognito, pool, challenge, phone, ticket)
    # Then nothing is sent, and the challenge reads as it would after a send
    assert len(sandbox.outbox(destination=phone)) == before
    assert set(again["ChallengeParameters"]) == set(challenge["ChallengeParameters"])
    # while a ticket this number's device verified (the control) does bring a code
    if valid is not None:
        sandbox.advance_clock(31)
        ask_with_ticket(cognito, pool, start(cognito, pool, phone), phone, valid)
        assert len(sandbox.outbox(destination=phone)) == before + 1


def test_what_locking_out_a_first_sign_in_on_a_new_device_costs_a_stranger(
    sandbox: RunningSandbox, cognito: Any, pool: dict[str, str]
) -> None:
    """The threat table's row for a device without a ticket: measured, not assumed."""
    # Given a registered user, and a stranger who knows the phone number (nothing else)
    phone = fresh_number()
    create_user(cognito, pool, phone)
    # When the stranger starts sign-ins as fast as the per-number limits let codes through
    # (a 30 s cooldown, 5 an hour), moving the sandbox clock instead of waiting
    requests, elapsed = 0, 0
    while True:
        start(cognito, pool, phone)
        requests += 1
        sent = len(sandbox.outbox(destination=phone))
        if sent == OPEN_PART:
            break
        step = 30 if sent % 5 else 3600 - 4 * 30
        sandbox.advance_clock(step)
        elapsed += step
    # Then six requests (one per code) over an hour (the hourly cap makes the sixth wait) did it ...
    assert requests == OPEN_PART
    assert elapsed == 3600
    # ... after which a sign-in without a ticket gets the usual challenge but no code ...
    start(cognito, pool, phone)
    assert len(sandbox.outbox(destination=phone)) == OPEN_PART
    # ... until the first of the stranger's codes is 24 hours old
    sandbox.advance_clock(24 * 3600 - elapsed)
    start(cognito, pool, phone)
    assert len(sandbox.outbox(destination=phone)) == OPEN_PART + 1
