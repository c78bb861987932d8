"""The adaptive defence through both doors of a sandbox subprocess, as a pump would meet it: distinct
numbers of one range, codes never entered. Over HTTP the 6th is refused (429 range-suspended, with
Retry-After, nothing sent); through Cognito's InitiateAuth it gets the challenge any sign-in gets, and no
SMS. A block is the range's, whichever door: a range pumped over HTTP is closed to sign-ins too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from local.cognito_users import create_sign_in_user
from tests.e2e.test_cognito_sign_in import PUBLIC_KEYS
from tests.sandbox_harness import RunningSandbox, aws_client, running_sandbox

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox({"OTP_ADAPTIVE_PROTECTION": "true"}) as running:
        yield running


def in_range(prefix: str, count: int) -> list[str]:
    """Distinct valid US numbers of one 5-digit range (``prefix``: +1 and 5 digits)."""
    base = uuid.uuid4().int % 10_000
    return [f"{prefix}{(base + index) % 100_000:05d}" for index in range(count)]


def pump_over_http(sandbox: RunningSandbox, numbers: list[str]) -> list[int]:
    return [sandbox.api("POST", "/v1/otp", {"phoneNumber": number}).status for number in numbers]


def test_a_pumped_range_is_refused_over_http_with_429_and_nothing_sent(sandbox: RunningSandbox) -> None:
    # Given 5 codes to distinct numbers of one range, none entered (adaptiveMinSends, default)
    pumped = in_range("+142520", 6)
    assert pump_over_http(sandbox, pumped[:5]) == [202] * 5
    # When the 6th comes
    refused = sandbox.api("POST", "/v1/otp", {"phoneNumber": pumped[5]})
    # Then it is refused as a suspended range, says until when, and nothing was texted
    assert refused.status == 429
    assert refused.body["type"] == "urn:otp:problem:range-suspended"
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert sandbox.outbox(destination=pumped[5]) == []
    # And a real user elsewhere still gets a code and verifies it
    real = in_range("+120655", 1)[0]
    sent = sandbox.api("POST", "/v1/otp", {"phoneNumber": real})
    assert sent.status == 202
    code = sandbox.code_for(sent.body["referenceId"])
    verified = sandbox.api(
        "POST", "/v1/otp/verify", {"phoneNumber": real, "referenceId": sent.body["referenceId"], "code": code}
    )
    assert verified.body["valid"] is True


def test_a_sign_in_to_a_pumped_range_looks_like_any_other_and_sends_nothing(sandbox: RunningSandbox) -> None:
    health = sandbox.health().body
    cognito = aws_client("cognito-idp", sandbox.aws_url)
    pumped = in_range("+142530", 7)
    for phone in pumped:
        create_sign_in_user(cognito, health["userPoolId"], phone)

    def sign_in(phone: str) -> dict[str, object]:
        challenge: dict[str, object] = cognito.initiate_auth(
            ClientId=health["userPoolClientId"], AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": phone}
        )
        return challenge

    # Given 5 sign-ins to one range whose codes are never entered
    texted = [sign_in(phone) for phone in pumped[:5]]
    assert all(sandbox.outbox(destination=phone) for phone in pumped[:5])
    # When two more users of that range sign in
    held_back = [sign_in(phone) for phone in pumped[5:]]
    # Then they get a challenge of the same shape as the ones that were texted, and no SMS
    for challenge in held_back:
        assert challenge["ChallengeName"] == texted[0]["ChallengeName"] == "CUSTOM_CHALLENGE"
        parameters = challenge["ChallengeParameters"]
        assert isinstance(parameters, dict)
        assert set(parameters) == PUBLIC_KEYS
        first = texted[0]["ChallengeParameters"]
        assert isinstance(first, dict)
        assert parameters["CODE_DELIVERY_DELIVERY_MEDIUM"] == first["CODE_DELIVERY_DELIVERY_MEDIUM"]
        assert parameters["OTP_ATTEMPTS_REMAINING"] == first["OTP_ATTEMPTS_REMAINING"]
        assert len(str(parameters["CODE_DELIVERY_DESTINATION"])) == len(
            str(first["CODE_DELIVERY_DESTINATION"])
        )
    assert all(sandbox.outbox(destination=phone) == [] for phone in pumped[5:])


def test_a_range_blocked_through_one_door_is_blocked_through_the_other(sandbox: RunningSandbox) -> None:
    health = sandbox.health().body
    cognito = aws_client("cognito-idp", sandbox.aws_url)
    # Given a range pumped over HTTP until blocked
    pumped = in_range("+142540", 7)
    pump_over_http(sandbox, pumped[:6])
    # When a user of that range signs in through Cognito
    create_sign_in_user(cognito, health["userPoolId"], pumped[6])
    challenge = cognito.initiate_auth(
        ClientId=health["userPoolClientId"], AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": pumped[6]}
    )
    # Then the sign-in goes on as usual, and no SMS goes out
    assert set(challenge["ChallengeParameters"]) == PUBLIC_KEYS
    assert sandbox.outbox(destination=pumped[6]) == []
