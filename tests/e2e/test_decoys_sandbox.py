"""Decoy sign-in challenges in the sandbox subprocess: keyed by the sandbox's own generated secret.

An attacker who has the Pinpoint application id (the sandbox reports it in /_sandbox/health, as the
stack does in its outputs) tries to predict the masked number each unknown username is shown.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.test_decoy_key import predicted_from_the_application_id
from tests.sandbox_harness import RunningSandbox, aws_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandbox(engine_sandbox: RunningSandbox) -> RunningSandbox:
    """Both engines: what a stranger can do to a user must not depend on which one sends."""
    return engine_sandbox


def shown(cognito: Any, client_id: str, username: str) -> str:
    challenge = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": username}
    )
    assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
    return str(challenge["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"])


def test_the_application_id_does_not_predict_the_sandboxs_decoys(sandbox: RunningSandbox) -> None:
    # Given unknown usernames that are not phone numbers, and the sandbox's application id
    health = sandbox.health().body
    cognito = aws_client("cognito-idp", sandbox.aws_url)
    usernames = [f"{uuid.uuid4().hex[:10]}@example.com" for _ in range(20)]
    # When each starts a sign-in twice
    first = [shown(cognito, health["userPoolClientId"], username) for username in usernames]
    again = [shown(cognito, health["userPoolClientId"], username) for username in usernames]
    # Then each username keeps its decoy, which the application id does not predict
    assert again == first
    predicted = [
        predicted_from_the_application_id(health["applicationId"], username) for username in usernames
    ]
    assert sum(a == b for a, b in zip(first, predicted, strict=True)) <= 3
