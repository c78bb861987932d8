"""The custom resource that adds the three triggers to an imported user pool, against the sandbox's Cognito.

The function (``otp.handlers.user_pool_triggers``) gets the events CloudFormation sends, calls the sandbox
(moto's Cognito, with ``UpdateUserPool`` corrected to Cognito's behaviour by ``local.cognito_pool_updates``)
through the adapter's boto3 client, and PUTs its answer to a local HTTP server standing in for the
pre-signed ``ResponseURL``. The pool is read back with a stock boto3 client: the round trip must change
``LambdaConfig`` and nothing else a DescribeUserPool shows.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.lambda_events import LambdaContext
from tests.sandbox_harness import DUMMY_KEY, PinpointEndpoint, aws_client

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/SmsOtp/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
OURS = {
    "DefineAuthChallenge": f"{FUNCTION}:SmsOtp-Define:live",
    "CreateAuthChallenge": f"{FUNCTION}:SmsOtp-Create:live",
    "VerifyAuthChallengeResponse": f"{FUNCTION}:SmsOtp-Verify:live",
}
THEIRS = {
    "PreSignUp": f"{FUNCTION}:their-pre-sign-up",
    "CustomMessage": f"{FUNCTION}:their-custom-message",
    "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": f"{FUNCTION}:their-pre-token"},
    "CustomSMSSender": {"LambdaVersion": "V1_0", "LambdaArn": f"{FUNCTION}:their-sms-sender"},
    "KMSKeyID": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-0000-1111-2222-333344445555",
}
#: Changes on every write, by definition.
CHANGES_ON_WRITE = "LastModifiedDate"


@dataclass
class Answers:
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def answers() -> Iterator[Answers]:
    collected = Answers()

    class ResponseUrl(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            collected.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ResponseUrl)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    collected.url = f"http://127.0.0.1:{server.server_address[1]}/cloudformation-response?X-Amz-Signature=abc"
    yield collected
    server.shutdown()
    server.server_close()


@contextmanager
def function_pointed_at(url: str, region: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The custom resource function's environment pointed at the sandbox at ``url``, in ``region``; its
    cached client dropped on the way in and out."""
    from otp.handlers import user_pool_triggers

    for variable, value in {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": DUMMY_KEY,
        "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "POWERTOOLS_SERVICE_NAME": "otp",
    }.items():
        monkeypatch.setenv(variable, value)
    user_pool_triggers.pools.cache_clear()
    try:
        yield
    finally:
        user_pool_triggers.pools.cache_clear()


@pytest.fixture
def cognito(pinpoint_endpoint: PinpointEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The function's environment pointed at the sandbox; a stock client to make and read pools."""
    with function_pointed_at(pinpoint_endpoint.url, REGION, monkeypatch):
        yield aws_client("cognito-idp", pinpoint_endpoint.url, region=REGION)


def busy_pool(cognito: Any, **changes: Any) -> str:
    """A pool set up the way an integrator's might be: hardly a default left, triggers of its own."""
    settings: dict[str, Any] = {
        "PoolName": f"integrators-users-{uuid.uuid4().hex[:8]}",
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": 11,
                "RequireUppercase": False,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": False,
                "PasswordHistorySize": 4,
                "TemporaryPasswordValidityDays": 3,
            },
            "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]},
        },
        "DeletionProtection": "ACTIVE",
        "LambdaConfig": THEIRS,
        "AutoVerifiedAttributes": ["email"],
        "AliasAttributes": ["phone_number", "email", "preferred_username"],
        "SmsVerificationMessage": "Acme code {####}",
        "EmailVerificationMessage": "Your Acme code is {####}",
        "EmailVerificationSubject": "Acme verification",
        "VerificationMessageTemplate": {
            "SmsMessage": "Acme code {####}",
            "EmailMessage": "Your Acme code is {####}",
            "EmailSubject": "Acme verification",
            "EmailMessageByLink": "Click {##here##}",
            "EmailSubjectByLink": "Acme link",
            "DefaultEmailOption": "CONFIRM_WITH_LINK",
        },
        "SmsAuthenticationMessage": "Acme sign-in {####}",
        "MfaConfiguration": "OPTIONAL",
        "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]},
        "DeviceConfiguration": {
            "ChallengeRequiredOnNewDevice": True,
            "DeviceOnlyRememberedOnUserPrompt": True,
        },
        "EmailConfiguration": {
            "SourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/acme.example",
            "ReplyToEmailAddress": "help@acme.example",
            "EmailSendingAccount": "DEVELOPER",
            "From": "Acme <no-reply@acme.example>",
            "ConfigurationSet": "acme-mail",
        },
        "SmsConfiguration": {
            "SnsCallerArn": f"arn:aws:iam::{ACCOUNT}:role/acme-cognito-sms",
            "ExternalId": "acme-external-id",
            "SnsRegion": REGION,
        },
        "UserPoolTags": {"team": "identity", "cost-centre": "42"},
        "AdminCreateUserConfig": {
            "AllowAdminCreateUserOnly": True,
            "InviteMessageTemplate": {
                "SMSMessage": "Welcome {username}, code {####}",
                "EmailMessage": "Welcome {username}, code {####}",
                "EmailSubject": "Welcome to Acme",
            },
        },
        "Schema": [
            {"Name": "tenant", "AttributeDataType": "String", "Mutable": True},
            {"Name": "phone_number", "AttributeDataType": "String", "Mutable": True, "Required": True},
        ],
        "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"},
        "UsernameConfiguration": {"CaseSensitive": False},
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
        "UserPoolTier": "PLUS",
        **changes,
    }
    pool_id: str = cognito.create_user_pool(**settings)["UserPool"]["Id"]
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=f"acme-{uuid.uuid4().hex[:8]}")
    return pool_id


def described(cognito: Any, pool_id: str) -> dict[str, Any]:
    pool: dict[str, Any] = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    return pool


def without(pool: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in pool.items() if name not in names}


def event(
    kind: str,
    answers: Answers,
    pool_id: str,
    *,
    triggers: dict[str, str] | None = None,
    physical_id: str | None = None,
    old: dict[str, Any] | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "RequestType": kind,
        "ServiceToken": f"{FUNCTION}:SmsOtp-UserPoolTriggers",
        "ResponseURL": answers.url,
        "StackId": STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "AuthPoolTriggersResource0A1B2C3D",
        "ResourceType": "Custom::UserPoolTriggers",
        "ResourceProperties": {"ServiceToken": f"{FUNCTION}:x", "UserPoolId": pool_id, **(triggers or OURS)},
    }
    if physical_id is not None:
        document["PhysicalResourceId"] = physical_id
    if old is not None:
        document["OldResourceProperties"] = old
    return document


def invoke(document: dict[str, Any], answers: Answers) -> dict[str, Any]:
    from otp.handlers.user_pool_triggers import handler

    before = len(answers.received)
    handler(document, LambdaContext(function_name="user-pool-triggers"))
    assert len(answers.received) == before + 1, "exactly one answer per event"
    return answers.received[-1]


# -------------------------------------------------------------------------------- the round trip


def test_create_adds_the_three_triggers_and_changes_nothing_else_and_delete_restores(answers, cognito):
    # Given a pool with hardly a default left, a domain and triggers of its own
    pool_id = busy_pool(cognito)
    before = described(cognito, pool_id)
    assert before["LambdaConfig"] == THEIRS
    assert before["UserPoolTier"] == "PLUS"
    assert before["Domain"]

    # When the stack creates the resource
    created = invoke(event("Create", answers, pool_id), answers)

    # Then it succeeds with the pool's id, and the pool has the three triggers next to its own ...
    assert created["Status"] == "SUCCESS", created["Reason"]
    assert created["PhysicalResourceId"] == pool_id
    assert created["Data"] == {"UserPoolId": pool_id}
    after = described(cognito, pool_id)
    assert after["LambdaConfig"] == {**THEIRS, **OURS}
    # ... and every other setting DescribeUserPool shows is what it was
    assert without(after, "LambdaConfig", CHANGES_ON_WRITE) == without(
        before, "LambdaConfig", CHANGES_ON_WRITE
    )
    assert after[CHANGES_ON_WRITE] >= before[CHANGES_ON_WRITE]

    # When the stack deletes the resource
    deleted = invoke(event("Delete", answers, pool_id, physical_id=pool_id), answers)

    # Then the pool is as it was before the stack, its own triggers included
    assert deleted["Status"] == "SUCCESS", deleted["Reason"]
    assert without(described(cognito, pool_id), CHANGES_ON_WRITE) == without(before, CHANGES_ON_WRITE)


def test_the_update_leaves_out_only_the_setting_the_model_says_is_no_longer_in_use(cognito):
    # Given the pool as DescribeUserPool returns it (moto adds the retired UnusedAccountValidityDays)
    from otp.handlers.user_pool_triggers import pools

    pool_id = busy_pool(cognito)
    pool = described(cognito, pool_id)

    # When the update request is built from it
    from otp.adapters.user_pool_triggers import update_request

    request = update_request(pool, OURS, settings=pools().settings)

    # Then every member of UpdateUserPool the pool has is in it, as read, but UnusedAccountValidityDays
    assert request["PoolName"] == pool["Name"]
    copied = ("Policies", "DeletionProtection", "UserPoolTier", "SmsConfiguration", "EmailConfiguration",
              "UserPoolAddOns", "AccountRecoverySetting", "DeviceConfiguration", "UserPoolTags",
              "VerificationMessageTemplate", "UserAttributeUpdateSettings", "MfaConfiguration")  # fmt: skip
    for name in copied:
        assert request[name] == pool[name], name
    assert request["AdminCreateUserConfig"] == without(
        pool["AdminCreateUserConfig"], "UnusedAccountValidityDays"
    )
    assert request["LambdaConfig"] == OURS


def test_a_repeated_create_is_success_and_writes_nothing(answers, cognito):
    # Given a pool that already carries the triggers (CloudFormation or Lambda delivered the event twice)
    pool_id = busy_pool(cognito)
    first = invoke(event("Create", answers, pool_id), answers)
    assert first["Status"] == "SUCCESS"
    once = described(cognito, pool_id)

    # When the same create comes again, Then it succeeds without writing the pool again
    again = invoke(event("Create", answers, pool_id), answers)
    assert again["Status"] == "SUCCESS"
    assert described(cognito, pool_id) == once


def test_an_update_replaces_the_previous_triggers_of_this_resource(answers, cognito):
    # Given the triggers in place, and then functions with new ARNs (SnapStart switched off: no alias)
    pool_id = busy_pool(cognito)
    invoke(event("Create", answers, pool_id), answers)
    new = {name: arn.removesuffix(":live") for name, arn in OURS.items()}
    old_properties = {"ServiceToken": f"{FUNCTION}:x", "UserPoolId": pool_id, **OURS}

    # When the stack updates the resource
    updated = invoke(
        event("Update", answers, pool_id, triggers=new, physical_id=pool_id, old=old_properties), answers
    )

    # Then the pool invokes the new ARNs, its own triggers untouched
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert described(cognito, pool_id)["LambdaConfig"] == {**THEIRS, **new}


def test_an_update_to_another_pool_moves_the_triggers(answers, cognito):
    # Given the triggers on one pool, and the stack now importing another
    first, second = busy_pool(cognito), busy_pool(cognito)
    invoke(event("Create", answers, first), answers)
    old_properties = {"ServiceToken": f"{FUNCTION}:x", "UserPoolId": first, **OURS}

    # When the stack updates the resource, Then the second pool gets them and its id is the new physical id
    updated = invoke(event("Update", answers, second, physical_id=first, old=old_properties), answers)
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert updated["PhysicalResourceId"] == second
    assert described(cognito, second)["LambdaConfig"] == {**THEIRS, **OURS}

    # When CloudFormation then deletes the old physical resource (with the old properties)
    deleted = invoke(
        event("Delete", answers, first, physical_id=first), answers
    )  # the old properties name the same ARNs

    # Then the first pool is back to its own triggers
    assert deleted["Status"] == "SUCCESS"
    assert described(cognito, first)["LambdaConfig"] == THEIRS


# ------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("trigger", list(OURS))
def test_a_pool_with_another_functions_auth_challenge_trigger_is_refused_and_left_alone(
    answers, cognito, trigger
):
    # Given a pool whose owner already has one of the three custom-auth triggers
    pool_id = busy_pool(cognito, LambdaConfig={**THEIRS, trigger: f"{FUNCTION}:their-{trigger}"})
    before = described(cognito, pool_id)

    # When the stack creates the resource
    refused = invoke(event("Create", answers, pool_id), answers)

    # Then it fails, naming the trigger and the way out, and the pool is untouched
    assert refused["Status"] == "FAILED"
    assert f"already has a {trigger} trigger that is not this stack's" in refused["Reason"]
    assert "omit user_pool" in refused["Reason"]
    assert refused["PhysicalResourceId"].startswith("not-created:")
    assert described(cognito, pool_id) == before


def test_a_pool_users_cannot_sign_in_to_by_phone_is_refused(answers, cognito):
    # Given a pool that signs in by e-mail address only
    pool_id = busy_pool(cognito, AliasAttributes=["email"])
    before = described(cognito, pool_id)

    # When the stack creates the resource, Then it fails saying why, and the pool is untouched
    refused = invoke(event("Create", answers, pool_id), answers)
    assert refused["Status"] == "FAILED"
    assert "does not let users sign in with their phone number (it signs in with email)" in refused["Reason"]
    assert described(cognito, pool_id) == before


def test_a_pool_that_does_not_exist_or_is_in_another_region_is_refused(answers, cognito):
    missing = invoke(event("Create", answers, f"{REGION}_doesNotExist"), answers)
    assert missing["Status"] == "FAILED"
    assert "does not exist in this account and region" in missing["Reason"]

    elsewhere = invoke(event("Create", answers, "us-west-2_abcdefghi"), answers)
    assert elsewhere["Status"] == "FAILED"
    assert f"is in us-west-2, this stack in {REGION}" in elsewhere["Reason"]


# ------------------------------------------------------------------------------------- delete


def test_delete_keeps_a_trigger_that_now_points_elsewhere(answers, cognito):
    # Given the triggers in place, then the pool's owner pointing Define at a function of theirs
    pool_id = busy_pool(cognito)
    invoke(event("Create", answers, pool_id), answers)
    pool = described(cognito, pool_id)
    from otp.adapters.user_pool_triggers import update_request
    from otp.handlers.user_pool_triggers import pools

    repointed = {**pool["LambdaConfig"], "DefineAuthChallenge": f"{FUNCTION}:their-define"}
    cognito.update_user_pool(**update_request(pool, repointed, settings=pools().settings))

    # When the stack deletes the resource, Then only the two still pointing at the stack are taken off
    deleted = invoke(event("Delete", answers, pool_id, physical_id=pool_id), answers)
    assert deleted["Status"] == "SUCCESS"
    assert described(cognito, pool_id)["LambdaConfig"] == {
        **THEIRS,
        "DefineAuthChallenge": f"{FUNCTION}:their-define",
    }


def test_delete_of_a_pool_that_is_gone_or_never_got_the_triggers_succeeds(answers, cognito):
    gone = invoke(event("Delete", answers, f"{REGION}_goneAway", physical_id=f"{REGION}_goneAway"), answers)
    assert gone["Status"] == "SUCCESS"

    not_created = invoke(event("Delete", answers, f"{REGION}_x", physical_id="not-created:abc"), answers)
    assert not_created["Status"] == "SUCCESS"
    assert not_created["PhysicalResourceId"] == "not-created:abc"


# ------------------------------------------------------------------------------- the sandbox itself


def test_the_sandboxs_update_user_pool_resets_what_is_left_out_and_keeps_what_cognito_keeps(cognito):
    # Given a busy pool (PLUS tier, MFA optional, phone as an alias)
    pool_id = busy_pool(cognito)
    before = described(cognito, pool_id)

    # When an update gives only a new name and the deletion protection
    cognito.update_user_pool(UserPoolId=pool_id, PoolName="renamed", DeletionProtection="ACTIVE")
    after = described(cognito, pool_id)

    # Then, as Cognito documents: what the request left out is back to its default (triggers, MFA,
    # tags, SMS configuration), what UpdateUserPool cannot set is kept, and so is the feature plan
    assert after["Name"] == "renamed"
    assert after.get("LambdaConfig") in (None, {})
    assert after["MfaConfiguration"] == "OFF"
    assert "SmsConfiguration" not in after
    assert "UserPoolTags" not in after
    assert after["AliasAttributes"] == before["AliasAttributes"]
    assert after["UsernameConfiguration"] == before["UsernameConfiguration"]
    assert after["SchemaAttributes"] == before["SchemaAttributes"]
    assert after["UserPoolTier"] == "PLUS"
    assert "UserPoolId" not in after
    assert "PoolName" not in after
