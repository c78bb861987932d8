"""The imported pool's custom resource, without a network: what it copies, what it refuses, and the guard
against settings the SDK does not know (``otp.adapters.user_pool_triggers``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from otp.adapters.user_pool_triggers import (
    TRIGGERS,
    PoolRefused,
    ServiceTriggers,
    UnknownSettings,
    UserPoolTriggers,
    check_sign_in,
    copied_settings,
    unknown_settings,
    update_request,
    with_triggers,
    without_triggers,
)
from otp.handlers.user_pool_triggers import InvalidProperties, apply, parse_properties

ARN = "arn:aws:lambda:eu-west-1:123456789012:function"
OURS = ServiceTriggers(define=f"{ARN}:define", create=f"{ARN}:create", verify=f"{ARN}:verify")


def _client() -> Any:
    return boto3.client(
        "cognito-idp", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def test_every_setting_update_user_pool_takes_is_copied_from_the_pool():
    # Given botocore's model of the two operations
    model = _client().meta.service_model
    request = set(model.operation_model("UpdateUserPool").input_shape.members)

    # Then every member of the request but the pool's id, its name (sent as read, from Name) and the
    # triggers themselves is copied from what DescribeUserPool returned
    assert set(copied_settings(_client())) == request - {"UserPoolId", "PoolName", "LambdaConfig"}
    assert {
        "Policies",
        "UserPoolTier",
        "SmsConfiguration",
        "EmailConfiguration",
        "DeletionProtection",
    } <= set(copied_settings(_client()))


def test_the_request_is_the_pool_as_read_with_only_the_triggers_and_the_retired_member_changed():
    # Given a pool as DescribeUserPool returns it
    pool: dict[str, Any] = {
        "Id": "eu-west-1_abc",
        "Name": "users",
        "Arn": "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc",
        "AliasAttributes": ["phone_number"],
        "Policies": {"PasswordPolicy": {"MinimumLength": 11, "TemporaryPasswordValidityDays": 3}},
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True, "UnusedAccountValidityDays": 7},
        "LambdaConfig": {"PreSignUp": f"{ARN}:theirs"},
        "UserPoolTier": "PLUS",
    }

    # When the request is built
    request = update_request(
        pool, {"PreSignUp": f"{ARN}:theirs", **OURS.as_lambda_config()}, settings=copied_settings(_client())
    )

    # Then it names the pool, keeps its name and settings, drops the member the model retired and what
    # UpdateUserPool does not take, and leaves what was read unchanged
    assert request == {
        "UserPoolId": "eu-west-1_abc",
        "PoolName": "users",
        "Policies": pool["Policies"],
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
        "UserPoolTier": "PLUS",
        "LambdaConfig": {"PreSignUp": f"{ARN}:theirs", **OURS.as_lambda_config()},
    }
    assert pool["AdminCreateUserConfig"]["UnusedAccountValidityDays"] == 7


def test_another_functions_auth_challenge_trigger_is_refused_and_this_resources_previous_ones_replaced():
    for trigger in TRIGGERS:
        with pytest.raises(PoolRefused, match=f"already has a {trigger} trigger"):
            with_triggers({trigger: f"{ARN}:someone-else"}, OURS)
    previous = f"{ARN}:define-old-version"
    assert with_triggers({"DefineAuthChallenge": previous, "PreSignUp": "x"}, OURS, [previous]) == {
        "PreSignUp": "x",
        **OURS.as_lambda_config(),
    }
    assert with_triggers(OURS.as_lambda_config(), OURS) == OURS.as_lambda_config()


def test_delete_takes_off_only_the_triggers_still_pointing_at_this_resource():
    current = {**OURS.as_lambda_config(), "DefineAuthChallenge": f"{ARN}:theirs", "PreSignUp": "x"}
    assert without_triggers(current, OURS.as_lambda_config().values()) == {
        "DefineAuthChallenge": f"{ARN}:theirs",
        "PreSignUp": "x",
    }


@pytest.mark.parametrize(
    ("pool", "allowed"),
    [
        ({"UsernameAttributes": ["phone_number"]}, True),
        ({"AliasAttributes": ["email", "phone_number"]}, True),
        ({"UsernameAttributes": ["email"]}, False),
        ({"AliasAttributes": ["preferred_username"]}, False),
        ({}, True),  # the username alone: the canonical number is the username (the service's own design)
    ],
)
def test_phone_sign_in_is_required(pool, allowed):
    if allowed:
        check_sign_in(pool)
    else:
        with pytest.raises(PoolRefused, match="does not let users sign in with their phone number"):
            check_sign_in(pool)


# ----------------------------------------------------------------------------- unknown settings


def test_unknown_settings_are_found_at_any_depth():
    shape = _client().meta.service_model.operation_model("DescribeUserPool").output_shape.members["UserPool"]
    known = {
        "Id": "x",
        "Policies": {"PasswordPolicy": {"MinimumLength": 8}},
        "SchemaAttributes": [{"Name": "a"}],
    }
    assert unknown_settings(known, shape) == []
    novel = {
        "Id": "x",
        "FutureSetting": {"On": True},
        "Policies": {"PasswordPolicy": {"MinimumLength": 8, "FutureRule": 1}},
        "SchemaAttributes": [{"Name": "a", "FutureFlag": True}],
        "UserPoolTags": {"team": "identity"},
    }
    assert sorted(unknown_settings(novel, shape)) == [
        "UserPool.FutureSetting",
        "UserPool.Policies.PasswordPolicy.FutureRule",
        "UserPool.SchemaAttributes[0].FutureFlag",
    ]


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _answering(document: dict[str, Any]) -> UserPoolTriggers:
    """The adapter on a client whose DescribeUserPool answers ``document`` (no network)."""
    client = _client()
    sent: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        target = request.headers["X-Amz-Target"]
        sent.append(target.decode() if isinstance(target, bytes) else target)
        body = json.dumps(document).encode()
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.1"
        return AWSResponse(request.url, 200, headers, _Body(body))

    client.meta.events.register("before-send.cognito-idp", answer)
    store = UserPoolTriggers(client, sleep=lambda _: None)
    store.sent = sent  # type: ignore[attr-defined]
    return store


def test_a_pool_with_a_setting_the_sdk_does_not_know_is_not_written():
    # Given DescribeUserPool answering a member this botocore's model does not declare
    store = _answering(
        {"UserPool": {"Id": "eu-west-1_abc", "UsernameAttributes": ["phone_number"], "Tomorrow": 1}}
    )

    # When the resource reads the pool, Then it stops, naming the member, before any write
    with pytest.raises(UnknownSettings, match=r"UserPool\.Tomorrow"):
        store.describe("eu-west-1_abc")
    event = {
        "RequestType": "Create",
        "ResourceProperties": {"UserPoolId": "eu-west-1_abc", **OURS.as_lambda_config()},
    }
    with pytest.raises(UnknownSettings):
        apply(event, store, "eu-west-1")
    assert store.sent == [  # type: ignore[attr-defined]
        "AWSCognitoIdentityProviderService.DescribeUserPool",
        "AWSCognitoIdentityProviderService.DescribeUserPool",
    ]


def test_a_known_answer_is_read_as_botocore_parses_it():
    store = _answering({"UserPool": {"Id": "eu-west-1_abc", "Name": "users", "MfaConfiguration": "OFF"}})
    assert store.describe("eu-west-1_abc") == {
        "Id": "eu-west-1_abc",
        "Name": "users",
        "MfaConfiguration": "OFF",
    }


# ------------------------------------------------------------------------------------ properties


def test_properties_are_a_pool_id_and_three_arns_and_nothing_else():
    properties = {
        "ServiceToken": "x",
        "ServiceTimeout": "300",
        "UserPoolId": "eu-west-1_abc",
        **OURS.as_lambda_config(),
    }
    assert parse_properties(properties) == ("eu-west-1_abc", OURS)
    with pytest.raises(InvalidProperties, match="unknown properties Extra"):
        parse_properties({**properties, "Extra": "1"})
    with pytest.raises(InvalidProperties, match="CreateAuthChallenge must be a non-empty string"):
        parse_properties({**properties, "CreateAuthChallenge": ""})
