""" "Call me instead" end to end: a stock boto3 cognito-idp client against the sandbox subprocess on
End User Messaging with ``OTP_CHANNELS=SMS,VOICE`` (docs/cognito.md's example), protection on.

The protocol is contracts.md's: answer with any ANSWER and ``ClientMetadata={"otpChannel": "VOICE"}``.
The outbox is the phone: an SMS, then a call, each code valid only in its turn.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_cognito_sign_in import another_code, create_user, fresh_number, start
from tests.e2e.test_cognito_sign_in import answer as respond
from tests.sandbox_harness import RunningSandbox, aws_client, running_sandbox

pytestmark = pytest.mark.slow

_CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(scope="module")
def sandbox(sandbox_sms_voice: RunningSandbox) -> RunningSandbox:
    return sandbox_sms_voice


def call_me(cognito: Any, pool: dict[str, str], challenge: dict[str, Any], phone: str) -> dict[str, Any]:
    """Exactly what docs/cognito.md tells a client to send."""
    return respond(cognito, pool, challenge, phone, "VOICE", {"otpChannel": "VOICE"})


def codes(sandbox: RunningSandbox, phone: str) -> list[tuple[str, str]]:
    """(channel, code) of every message to the number, oldest first, read from what the phone got."""
    found = []
    for message in sandbox.outbox(destination=phone):
        match = _CODE.search(message["body"])
        assert match, message
        found.append((message["channel"], match.group(1)))
    return found


def test_an_sms_then_a_call_each_code_valid_only_in_its_turn(sandbox, cognito, pool):
    # Given a user whose sign-in texted a code (the challenge offers a call)
    phone = fresh_number()
    create_user(cognito, pool, phone)
    challenge = start(cognito, pool, phone)
    parameters = challenge["ChallengeParameters"]
    assert (parameters["CODE_DELIVERY_DELIVERY_MEDIUM"], parameters["CODE_DELIVERY_ALTERNATIVES"]) == (
        "SMS",
        "VOICE",
    )
    [(_, sms_code)] = codes(sandbox, phone)

    # When, 10 s later (inside the 30 s per-number cooldown), they ask for a call instead
    sandbox.advance_clock(10)
    switched = call_me(cognito, pool, challenge, phone)

    # Then the call went out with a new code, and the challenge says so and offers nothing more
    assert switched["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert switched["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "VOICE"
    assert switched["ChallengeParameters"]["CODE_DELIVERY_ALTERNATIVES"] == ""
    assert (
        switched["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"]
        == parameters["CODE_DELIVERY_DESTINATION"]
    )
    [sms, call] = sandbox.outbox(destination=phone)
    assert (sms["channel"], call["channel"]) == ("SMS", "VOICE")
    assert call["referenceId"] != sms["referenceId"]
    voice_code = codes(sandbox, phone)[1][1]
    # And the texted code no longer signs in (a wrong answer), the spoken one does
    stale = respond(cognito, pool, switched, phone, sms_code)
    assert stale["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert stale["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "VOICE"
    signed_in = respond(cognito, pool, stale, phone, voice_code)
    assert "AccessToken" in signed_in["AuthenticationResult"]
    # And the switch spent no verification: the engine checked two answers, the stale and the right one
    validations = [
        c
        for c in sandbox.calls()
        if c["destination"] == phone and c["operation"] == "ValidateNotifyCodeVerification"
    ]
    assert len(validations) == 2


def test_the_switch_is_not_a_wrong_answer(sandbox, cognito, pool):
    # Given a user who asked for a call right away
    phone = fresh_number()
    create_user(cognito, pool, phone)
    challenge = call_me(cognito, pool, start(cognito, pool, phone), phone)
    voice_code = codes(sandbox, phone)[1][1]

    # When they then mistype the spoken code twice (3 attempts allowed) and type it right
    challenge = respond(cognito, pool, challenge, phone, another_code(voice_code))
    challenge = respond(cognito, pool, challenge, phone, another_code(voice_code))
    result = respond(cognito, pool, challenge, phone, voice_code)

    # Then all three attempts were theirs: the switch did not use one
    assert "AccessToken" in result["AuthenticationResult"]


def test_one_switch_per_sign_in_and_a_second_request_is_a_wrong_answer(sandbox, cognito, pool):
    # Given a sign-in that switched to a call
    phone = fresh_number()
    create_user(cognito, pool, phone)
    challenge = call_me(cognito, pool, start(cognito, pool, phone), phone)

    # When the client asks for a channel again (back to SMS, or a call again), past the cooldown
    sandbox.advance_clock(31)
    again = respond(cognito, pool, challenge, phone, "SMS", {"otpChannel": "SMS"})
    again = respond(cognito, pool, again, phone, "VOICE", {"otpChannel": "VOICE"})

    # Then nothing more is sent, and those were two wrong answers: the third ends the sign-in
    assert [channel for channel, _ in codes(sandbox, phone)] == ["SMS", "VOICE"]
    assert again["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "VOICE"
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        respond(cognito, pool, again, phone, "000000")


def test_two_sign_ins_and_two_switches_bring_at_most_two_codes_per_cooldown(sandbox, cognito, pool):
    # Given one sign-in whose SMS went out, and a second one started right after (refused: cooldown)
    phone = fresh_number()
    create_user(cognito, pool, phone)
    mine = start(cognito, pool, phone)
    theirs = start(cognito, pool, phone)

    # When both ask for a call
    call_me(cognito, pool, mine, phone)
    call_me(cognito, pool, theirs, phone)

    # Then only the first sign-in's call went out: its own SMS was the last code the number got; the
    # second sign-in's switch meets the cooldown like any other code
    assert [channel for channel, _ in codes(sandbox, phone)] == ["SMS", "VOICE"]


def test_an_unknown_number_switches_the_same_way_and_nothing_is_sent(sandbox, cognito, pool):
    # Given a number nobody registered
    phone = fresh_number()

    # When its sign-in asks for a call
    first = start(cognito, pool, phone)
    switched = call_me(cognito, pool, first, phone)

    # Then the challenges read exactly as a registered user's would, and no message went anywhere
    assert first["ChallengeParameters"]["CODE_DELIVERY_ALTERNATIVES"] == "VOICE"
    assert switched["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "VOICE"
    assert switched["ChallengeParameters"]["CODE_DELIVERY_ALTERNATIVES"] == ""
    assert switched["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == f"+1********{phone[-2:]}"
    assert sandbox.outbox(destination=phone) == []


def test_the_readme_example_on_a_plain_end_user_messaging_sandbox() -> None:
    """`OTP_ENGINE=endusermessaging make run` and nothing else: the sign-in offers a call, which comes."""
    with running_sandbox({"OTP_ENGINE": "endusermessaging"}) as plain:
        cognito = aws_client("cognito-idp", plain.aws_url)
        health = plain.health().body
        pool = {"userPoolId": health["userPoolId"], "clientId": health["userPoolClientId"]}
        phone = fresh_number()
        create_user(cognito, pool, phone)
        challenge = start(cognito, pool, phone)
        assert challenge["ChallengeParameters"]["CODE_DELIVERY_ALTERNATIVES"] == "VOICE"
        switched = call_me(cognito, pool, challenge, phone)
        [(_, _), (channel, voice_code)] = codes(plain, phone)
        assert channel == "VOICE"
        result = respond(cognito, pool, switched, phone, voice_code)
        assert "AccessToken" in result["AuthenticationResult"]
