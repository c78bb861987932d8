"""A user pool made outside the stack signs users in by phone once the custom resource has added the
triggers, and stops when it takes them off: the imported-pool path end to end on the sandbox subprocess.

The pool is created with a stock boto3 client (as another team's tooling would); the custom resource's
function runs here with the events CloudFormation sends, pointed at the sandbox, naming the trigger ARNs
the sandbox serves with the project's real handlers; the sign-in crosses real sockets as in
test_cognito_sign_in.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local.cognito_triggers import trigger_arns
from local.cognito_users import create_sign_in_user
from tests.integration.test_user_pool_triggers_resource import (
    Answers,
    answers,
    event,
    function_pointed_at,
    invoke,
)
from tests.sandbox_harness import REGION, RunningSandbox, aws_client

pytestmark = pytest.mark.slow

__all__ = ["answers"]  # the fixture, imported for this module's tests
THEIR_TRIGGER = f"arn:aws:lambda:{REGION}:123456789012:function:their-pre-token"


@pytest.fixture
def sandbox(sandbox_pinpoint: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSandbox]:
    """The running sandbox, and the custom resource's environment pointed at it."""
    with function_pointed_at(sandbox_pinpoint.aws_url, REGION, monkeypatch):
        yield sandbox_pinpoint


def test_an_imported_pool_signs_in_by_phone_with_the_triggers_the_resource_added(
    sandbox: RunningSandbox, answers: Answers
) -> None:
    # Given a pool made elsewhere: phone numbers as usernames, a trigger and tags of its own, no auth triggers
    cognito: Any = aws_client("cognito-idp", sandbox.aws_url)
    pool_id = cognito.create_user_pool(
        PoolName=f"made-elsewhere-{uuid.uuid4().hex[:8]}",
        UsernameAttributes=["phone_number"],
        LambdaConfig={"PreTokenGeneration": THEIR_TRIGGER},
        UserPoolTags={"team": "identity"},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="otp-custom-auth",
        ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]["ClientId"]
    phone = f"+1206{200 + uuid.uuid4().int % 300}{uuid.uuid4().int % 10000:04d}"
    create_sign_in_user(cognito, pool_id, phone)

    # When the stack's custom resource adds the triggers the sandbox serves
    created = invoke(event("Create", answers, pool_id, triggers=trigger_arns(REGION)), answers)
    assert created["Status"] == "SUCCESS", created["Reason"]

    # Then the user signs in with the code texted to their number, and the pool kept its own settings
    challenge = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": phone}
    )
    assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
    (sms,) = sandbox.outbox(destination=phone)
    code = re.search(r"\b(\d{6})\b", sms["body"])
    assert code is not None
    result = cognito.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": phone, "ANSWER": code.group(1)},
    )
    assert result["AuthenticationResult"]["TokenType"] == "Bearer"
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["LambdaConfig"] == {"PreTokenGeneration": THEIR_TRIGGER, **trigger_arns(REGION)}
    assert pool["UserPoolTags"] == {"team": "identity"}
    assert pool["UsernameAttributes"] == ["phone_number"]

    # When the stack is deleted, Then the pool is back to its own trigger
    deleted = invoke(
        event("Delete", answers, pool_id, triggers=trigger_arns(REGION), physical_id=pool_id), answers
    )
    assert deleted["Status"] == "SUCCESS", deleted["Reason"]
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"] == {
        "PreTokenGeneration": THEIR_TRIGGER
    }
