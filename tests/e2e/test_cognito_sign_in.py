"""Passwordless sign-in end to end: a stock boto3 cognito-idp client against the sandbox subprocess.

Everything crosses real sockets: boto3 -> the sandbox's AWS endpoint -> the real trigger handlers ->
boto3 engine calls back into the endpoint -> the outbox, where the test reads the code as a user
would read their phone. Every test runs on both engines (``engine_sandbox``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from local.cognito_users import create_sign_in_user
from tests.sandbox_harness import RunningSandbox

pytestmark = pytest.mark.slow

PUBLIC_KEYS = {
    "CODE_DELIVERY_DELIVERY_MEDIUM",
    "CODE_DELIVERY_DESTINATION",
    "CODE_LENGTH",
    "CODE_DELIVERY_ALTERNATIVES",
    "OTP_DEVICE_TICKET",
    "OTP_ATTEMPTS_REMAINING",
    "USERNAME",
}
_CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(scope="module")
def sandbox(engine_sandbox: RunningSandbox) -> RunningSandbox:
    """This module's tests run against the sandbox of each engine in turn."""
    return engine_sandbox


def fresh_number() -> str:
    """A valid number no other test uses: the per-number send limits stay out of the way.

    Any of about 7.9 million Seattle numbers (206 + an exchange other than 555, whose 01xx block holds
    the sandbox's test numbers): a session's sandbox serves hundreds of sign-ins, and two tests sharing
    a number would see each other's codes and limits.
    """
    value = uuid.uuid4().int
    exchange = 200 + value % 799
    exchange += exchange >= 555
    return f"+1206{exchange}{value // 799 % 10000:04d}"


def create_user(cognito: Any, pool: dict[str, str], phone: str) -> None:
    """As docs/cognito.md shows: a user whose username and verified phone number are the same number."""
    create_sign_in_user(cognito, pool["userPoolId"], phone)


def start(cognito: Any, pool: dict[str, str], phone: str, client_id: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id or pool["clientId"], AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": phone}
    )
    return response


def answer(
    cognito: Any,
    pool: dict[str, str],
    challenge: dict[str, Any],
    phone: str,
    code: str,
    metadata: dict[str, str] | None = None,
    *,
    client_id: str | None = None,
) -> dict[str, Any]:
    """RespondToAuthChallenge with ``code`` as the answer (and ``metadata`` as ClientMetadata)."""
    extra = {"ClientMetadata": metadata} if metadata else {}
    response: dict[str, Any] = cognito.respond_to_auth_challenge(
        ClientId=client_id or pool["clientId"],
        ChallengeName="CUSTOM_CHALLENGE",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": phone, "ANSWER": code},
        **extra,
    )
    return response


def code_sent_to(sandbox: Any, phone: str) -> str:
    (sms,) = sandbox.outbox(destination=phone)
    match = _CODE.search(sms["body"])
    assert match, sms
    return match.group(1)


def another_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_sign_in_with_the_right_code(sandbox, cognito, pool):
    # Given a user with a verified phone number
    phone = fresh_number()
    create_user(cognito, pool, phone)

    # When they start a CUSTOM_AUTH sign-in and answer with the code they received
    challenge = start(cognito, pool, phone)
    code = code_sent_to(sandbox, phone)
    result = answer(cognito, pool, challenge, phone, code)

    # Then the challenge showed only the masked number, and the answer earned a full set of tokens
    assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert set(challenge["ChallengeParameters"]) == PUBLIC_KEYS
    assert challenge["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == f"+1********{phone[-2:]}"
    assert challenge["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    assert challenge["ChallengeParameters"]["CODE_DELIVERY_ALTERNATIVES"] == (
        "VOICE,WHATSAPP" if sandbox.ready["engine"] == "endusermessaging" else ""
    )
    assert code not in str(challenge)
    tokens = result["AuthenticationResult"]
    assert {"IdToken", "AccessToken", "RefreshToken", "ExpiresIn", "TokenType"} <= set(tokens)
    assert tokens["TokenType"] == "Bearer"
    # And the tokens are the pool's own: Cognito's GetUser and refresh accept them
    user = cognito.get_user(AccessToken=tokens["AccessToken"])
    assert {"Name": "phone_number", "Value": phone} in user["UserAttributes"]
    refreshed = cognito.initiate_auth(
        ClientId=pool["clientId"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )
    assert refreshed["AuthenticationResult"]["AccessToken"]


def test_one_wrong_then_the_right_code_sends_exactly_one_sms(sandbox, cognito, pool):
    # Given a user who has started signing in
    phone = fresh_number()
    create_user(cognito, pool, phone)
    challenge = start(cognito, pool, phone)
    code = code_sent_to(sandbox, phone)

    # When they mistype the code once, then type it correctly
    retry = answer(cognito, pool, challenge, phone, another_code(code))
    result = answer(cognito, pool, retry, phone, code)

    # Then they are asked again (same masked number, one attempt fewer, new session), signed in, and
    # texted only once
    assert retry["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert challenge["ChallengeParameters"]["OTP_ATTEMPTS_REMAINING"] == "3"
    assert retry["ChallengeParameters"] == challenge["ChallengeParameters"] | {"OTP_ATTEMPTS_REMAINING": "2"}
    assert retry["Session"] != challenge["Session"]
    assert "AccessToken" in result["AuthenticationResult"]
    assert len(sandbox.outbox(destination=phone)) == 1


def test_allowed_attempts_wrong_codes_fail_the_sign_in(sandbox, cognito, pool):
    # Given a user who has started signing in (the sandbox allows 3 attempts)
    phone = fresh_number()
    create_user(cognito, pool, phone)
    challenge = start(cognito, pool, phone)
    wrong = another_code(code_sent_to(sandbox, phone))

    # When they answer wrongly three times
    challenge = answer(cognito, pool, challenge, phone, wrong)
    challenge = answer(cognito, pool, challenge, phone, wrong)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as failed:
        answer(cognito, pool, challenge, phone, wrong)

    # Then Cognito's own words end the sign-in, the session is spent, and only one SMS was sent
    assert failed.value.response["Error"]["Message"] == "Incorrect username or password."
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        answer(cognito, pool, challenge, phone, code_sent_to(sandbox, phone))
    assert len(sandbox.outbox(destination=phone)) == 1


def test_an_unknown_user_gets_the_same_challenge_and_no_sms(sandbox, cognito, pool):
    # Given a registered user's challenge, for comparison, and a number nobody registered
    known = fresh_number()
    create_user(cognito, pool, known)
    real = start(cognito, pool, known)
    unknown = fresh_number()
    sent_before = len(sandbox.outbox())

    # When someone starts a sign-in with the unregistered number
    decoy = start(cognito, pool, unknown)

    # Then the challenge has the same shape and shows that number masked, as a real one would,
    # and no SMS went out
    assert decoy["ChallengeName"] == real["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert set(decoy["ChallengeParameters"]) == set(real["ChallengeParameters"])
    for shown in ("CODE_DELIVERY_DELIVERY_MEDIUM", "CODE_DELIVERY_ALTERNATIVES"):
        assert decoy["ChallengeParameters"][shown] == real["ChallengeParameters"][shown]
    assert decoy["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == f"+1********{unknown[-2:]}"
    assert decoy["ChallengeParameters"]["CODE_LENGTH"] == real["ChallengeParameters"]["CODE_LENGTH"]
    assert sandbox.outbox(destination=unknown) == []
    assert len(sandbox.outbox()) == sent_before
    # And guessing ends the way it ends for a real user
    decoy = answer(cognito, pool, decoy, unknown, "123456")
    decoy = answer(cognito, pool, decoy, unknown, "123456")
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as failed:
        answer(cognito, pool, decoy, unknown, "123456")
    assert failed.value.response["Error"]["Message"] == "Incorrect username or password."


def test_an_expired_code_does_not_sign_in(sandbox, cognito, pool):
    # Given an app client whose sign-in sessions last 15 minutes, longer than the 5-minute code
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool["userPoolId"],
        ClientName="long-sessions",
        ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
        AuthSessionValidity=15,
    )["UserPoolClient"]["ClientId"]
    phone = fresh_number()
    create_user(cognito, pool, phone)
    challenge = start(cognito, pool, phone, client_id)
    code = code_sent_to(sandbox, phone)

    # When the user answers with the right code five minutes and one second later
    sandbox.advance_clock(301)
    retry = answer(cognito, pool, challenge, phone, code, client_id=client_id)

    # Then it counts as a wrong answer: no tokens, asked again, and no new SMS sent
    assert "AuthenticationResult" not in retry
    assert retry["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert len(sandbox.outbox(destination=phone)) == 1


def test_a_session_answered_after_it_expired_is_refused(sandbox, cognito, pool):
    # Given a sign-in on the sandbox's client, whose sessions last as long as a code (5 minutes)
    phone = fresh_number()
    create_user(cognito, pool, phone)
    challenge = start(cognito, pool, phone)
    code = code_sent_to(sandbox, phone)

    # When the answer comes after the session expired
    sandbox.advance_clock(301)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as failed:
        answer(cognito, pool, challenge, phone, code)

    # Then Cognito refuses the session itself
    assert failed.value.response["Error"]["Message"] == "Invalid session for the user, session is expired."


def test_password_flows_are_refused_as_the_deployed_client_refuses_them(sandbox, cognito, pool):
    # Given a user with a verified phone number
    phone = fresh_number()
    create_user(cognito, pool, phone)

    # When a client tries a password flow instead of CUSTOM_AUTH
    with pytest.raises(cognito.exceptions.InvalidParameterException) as raised:
        cognito.initiate_auth(
            ClientId=pool["clientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": phone, "PASSWORD": "not-the-password"},
        )

    # Then the app client (custom auth and refresh only) refuses it, and nobody is texted
    assert raised.value.response["Error"]["Message"] == "USER_PASSWORD_AUTH flow not enabled for this client"
    assert sandbox.outbox(destination=phone) == []
