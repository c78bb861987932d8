"""The decoy challenge's made-up masked numbers are keyed by a secret generated at deploy time.

Before, the key was SHA-256 of the Pinpoint application id, which the stack prints as an output: anyone
who knew it could compute the decoy for any username and compare it with what the challenge shows,
telling registered users from unregistered ones. The attacker's side is played here by the project's
own public code, given the only thing the attacker knows.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from otp.domain.challenge import SmsChallenges
from otp.domain.models import Channel
from tests.handler_env import use_handler_env
from tests.lambda_events import LambdaContext
from tests.sandbox_harness import aws_client
from tests.telemetry import captured_output
from tests.unit.test_cognito_triggers import create_event

USERNAMES = [f"user-{index}@example.com" for index in range(12)]
ALLOWED = frozenset({"US", "CA", "GB"})


def decoy_shown(username: str) -> str:
    from otp.handlers.cognito import create_auth_challenge

    with captured_output():
        event = create_auth_challenge(
            create_event({}, user_not_found=True, user_name=username), LambdaContext()
        )
    return str(event["response"]["publicChallengeParameters"]["CODE_DELIVERY_DESTINATION"])


def predicted_from_the_application_id(application_id: str, username: str) -> str:
    """What someone who read the stack's PinpointApplicationId output would compute (the old key)."""
    key = hashlib.sha256(b"otp-cognito-decoy\x00" + application_id.encode()).digest()
    # The masked number needs no service: only the policy's code length, attempts and channels are read.
    policy = SimpleNamespace(code_length=6, allowed_attempts=3, channels=frozenset({Channel.SMS}))
    anything = SimpleNamespace(policy=policy)
    challenges = SmsChallenges(anything, allowed_countries=ALLOWED, decoy_key=key)  # type: ignore[arg-type]
    return challenges.decoy(username).public_parameters["CODE_DELIVERY_DESTINATION"]


@pytest.fixture
def with_secret(pinpoint_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """Give the Create trigger a deployment secret (moto's Secrets Manager, through the endpoint)."""
    from otp import wiring

    def new_secret() -> str:
        use_handler_env(monkeypatch, pinpoint_endpoint, OTP_ALLOWED_COUNTRIES="US,CA,GB")
        arn = aws_client("secretsmanager", pinpoint_endpoint.url).create_secret(
            Name=f"otp-test-{secrets.token_hex(4)}", SecretString=secrets.token_urlsafe(48)
        )["ARN"]
        monkeypatch.setenv("OTP_SECRET_ARN", arn)
        wiring.reset()
        return str(arn)

    return new_secret


def test_knowing_the_application_id_does_not_reveal_the_decoys(
    with_secret: Callable[[], str], pinpoint_endpoint: Any
) -> None:
    # Given a deployment with its secret, and an attacker who knows its Pinpoint application id
    with_secret()
    # When decoy challenges are created for twelve unknown usernames
    shown = [decoy_shown(username) for username in USERNAMES]
    # Then the application id predicts them no better than chance (1 in 100 for the last two digits)
    predicted = [predicted_from_the_application_id(pinpoint_endpoint.application_id, u) for u in USERNAMES]
    assert sum(a == b for a, b in zip(shown, predicted, strict=True)) <= 2
    # while each username still gets the same decoy every time, as a real user gets the same number
    assert [decoy_shown(username) for username in USERNAMES] == shown


def test_another_deployment_secret_gives_other_decoys(with_secret: Callable[[], str]) -> None:
    # Given the decoys of one deployment
    with_secret()
    first = [decoy_shown(username) for username in USERNAMES]
    # When the same usernames are tried against a deployment with another secret
    with_secret()
    second = [decoy_shown(username) for username in USERNAMES]
    # Then the decoys differ: they come from the secret, not from anything the two share
    assert sum(a == b for a, b in zip(first, second, strict=True)) <= 2


def test_the_secret_is_read_once_per_container(with_secret: Callable[[], str]) -> None:
    # Given a deployment with its secret
    with_secret()
    from otp.adapters import secret

    reads: list[str] = []
    original = secret.read_secret

    def counting(arn: str) -> bytes:
        reads.append(arn)
        return original(arn)

    # When ten decoys are created
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("otp.wiring.read_secret", counting)
        for username in USERNAMES[:10]:
            decoy_shown(username)
    # Then Secrets Manager was asked once
    assert len(reads) == 1
