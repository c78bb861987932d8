"""One number, one spelling, through the sandbox subprocess: the HTTP API and the Cognito sign-in.

The issue's reproduction: ``+14255557777``, ``+14255557777``, ``+114255557777`` answered 202, 429, 202
(two SMS 29 ms apart). The trunk-prefix spelling must not reach Pinpoint by either door.
"""

from __future__ import annotations

import random
from typing import Any

import phonenumbers
import pytest

from local.cognito_users import create_sign_in_user
from tests.sandbox_harness import RunningSandbox, aws_client

pytestmark = pytest.mark.slow


def fresh_us_number() -> str:
    """A valid US (425) number no other test texts, and the same number with the trunk prefix 1."""
    while True:
        candidate = f"+1425{random.randint(2_000_000, 9_999_999)}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)) and "55501" not in candidate:
            return candidate


def with_trunk_prefix(e164: str) -> str:
    """``+1NXXNXXXXXX`` as ``+11NXXNXXXXXX``: what libphonenumber strips back to the same number."""
    spelled = "+11" + e164[2:]
    assert (
        phonenumbers.format_number(phonenumbers.parse(spelled), phonenumbers.PhoneNumberFormat.E164) == e164
    )
    return spelled


def test_the_issue_sequence_sends_one_sms(sandbox: RunningSandbox) -> None:
    # Given a fresh number and its trunk-prefix spelling
    number = fresh_us_number()
    # When the issue's three requests are made
    statuses = [
        sandbox.api("POST", "/v1/otp", {"phoneNumber": spelling}).status
        for spelling in (number, number, with_trunk_prefix(number))
    ]
    # Then 202, 429 (cooldown), 400 (not canonical): one SMS, to the canonical number only
    assert statuses == [202, 429, 400]
    assert len(sandbox.outbox(destination=number)) == 1
    assert sandbox.outbox(destination=with_trunk_prefix(number)) == []


def test_a_user_stored_with_a_trunk_prefix_gets_no_second_quota(sandbox: RunningSandbox) -> None:
    # Given two users of the pool for the same number: one canonical, one with the trunk prefix
    cognito = aws_client("cognito-idp", sandbox.aws_url)
    health = sandbox.health().body
    number = fresh_us_number()
    for username in (number, with_trunk_prefix(number)):
        create_sign_in_user(cognito, health["userPoolId"], username)
    # When both sign in, one after the other (inside the cooldown)
    challenges: list[dict[str, Any]] = [
        cognito.initiate_auth(
            ClientId=health["userPoolClientId"], AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": username}
        )
        for username in (number, with_trunk_prefix(number))
    ]
    # Then both see an SMS challenge, and only the canonical spelling was ever texted
    assert [c["ChallengeName"] for c in challenges] == ["CUSTOM_CHALLENGE"] * 2
    assert len(sandbox.outbox(destination=number)) == 1
    assert sandbox.outbox(destination=with_trunk_prefix(number)) == []
