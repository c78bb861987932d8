"""The Idempotency-Key records as an attacker or an outage sees them: what a stolen table reveals, and what
the caller is told when the store fails before or after the SMS went out."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.conftest import Invoke
from tests.integration.protection.conftest import Configure
from tests.sandbox_harness import aws_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PHONE = "+12065550100"


def idempotency_items(dynamodb: DynamoDBClient, table_name: str) -> list[dict[str, Any]]:
    items = dynamodb.scan(TableName=table_name)["Items"]
    return [item for item in items if item["pk"]["S"].startswith("idempotency#")]


def unkeyed_digests(body: dict[str, Any]) -> set[str]:
    """What anyone can compute for a guessed body: unkeyed digests of its JSON spellings and the number."""
    spellings = {
        PHONE,
        json.dumps(PHONE),
        json.dumps(body),
        json.dumps(body, sort_keys=True),
        json.dumps(body, separators=(",", ":")),
        json.dumps(body, sort_keys=True, separators=(",", ":")),
    }
    return {
        getattr(hashlib, name)(text.encode()).hexdigest()
        for text in spellings
        for name in ("md5", "sha1", "sha256", "sha512")
    }


def new_deployment_secret(pinpoint_endpoint: Any) -> str:
    """A deployment secret as the stack generates one, in the sandbox endpoint's Secrets Manager."""
    return str(
        aws_client("secretsmanager", pinpoint_endpoint.url).create_secret(
            Name=f"otp-test-{secrets.token_hex(4)}", SecretString=secrets.token_urlsafe(48)
        )["ARN"]
    )


@pytest.mark.parametrize("with_secret", [True, False], ids=["deployment secret", "no secret (local run)"])
def test_a_stored_record_cannot_be_matched_to_a_number_without_the_deployments_key(
    protect: Configure,
    invoke: Invoke,
    dynamodb: DynamoDBClient,
    table_name: str,
    pinpoint_endpoint: Any,
    with_secret: bool,
) -> None:
    # Given a send with an Idempotency-Key (with the secret the stack grants the API function, or
    # without it, as in a local run), and an attacker holding a copy of the table
    if with_secret:
        protect(OTP_SECRET_ARN=new_deployment_secret(pinpoint_endpoint))
    body = {"phoneNumber": PHONE}
    assert invoke("POST", "/otp", body, headers={"Idempotency-Key": "k-hash"}).status == 202
    [item] = idempotency_items(dynamodb, table_name)
    stored = {str(value.get("S", "")) for value in item.values()}
    # When they hash the number they are looking for, every usual way, with no key
    # Then nothing in the record matches: the body's fingerprint is keyed
    assert not stored & unkeyed_digests(body)
    assert PHONE not in json.dumps(item)


def test_the_fingerprint_depends_on_the_deployment_secret(
    protect: Configure, invoke: Invoke, dynamodb: DynamoDBClient, table_name: str, pinpoint_endpoint: Any
) -> None:
    # Given the same body sent by two deployments, each with its own generated secret
    for index in range(2):
        protect(OTP_SECRET_ARN=new_deployment_secret(pinpoint_endpoint), OTP_SEND_COOLDOWN_SECONDS="0")
        headers = {"Idempotency-Key": f"k-{index}"}
        assert invoke("POST", "/otp", {"phoneNumber": PHONE}, headers=headers).status == 202
    fingerprints = {item["validation"]["S"] for item in idempotency_items(dynamodb, table_name)}
    # Then the stored fingerprints differ: knowing one deployment's records says nothing about another's
    assert len(fingerprints) == 2


def test_a_store_failure_before_the_send_says_nothing_was_sent(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any, dynamodb: DynamoDBClient, table_name: str
) -> None:
    # Given the protection table is gone (the Idempotency-Key record cannot be written)
    dynamodb.delete_table(TableName=table_name)
    # When a send with a key arrives
    result = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers={"Idempotency-Key": "k-down"})
    # Then 503 problem+json that does not claim the SMS may have gone out, and nothing did
    assert result.status == 503
    assert result.body["type"] == "urn:otp:problem:protection-unavailable"
    assert result.headers["Retry-After"] == "5"
    assert "may have been sent" not in result.body["detail"]
    assert "not sent" in result.body["detail"]
    assert pinpoint_endpoint.emulator.calls() == []


def test_an_unreadable_deployment_secret_sends_nothing_and_says_so(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given the API function's deployment secret cannot be read (here: it does not exist)
    protect(OTP_SECRET_ARN="arn:aws:secretsmanager:us-east-1:123456789012:secret:otp-missing-AbCdEf")
    # When a send with a key arrives (the key's body fingerprint needs the secret)
    result = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers={"Idempotency-Key": "k-secret"})
    # Then 503 saying nothing was sent, and nothing was; a send without a key does not need the secret
    assert result.status == 503
    assert result.body["type"] == "urn:otp:problem:protection-unavailable"
    assert "not sent" in result.body["detail"]
    assert pinpoint_endpoint.emulator.calls() == []
    assert invoke("POST", "/otp", {"phoneNumber": PHONE}).status == 202


def test_a_store_failure_after_the_send_says_the_sms_may_have_been_sent(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the store accepts the in-progress record but fails to record the success
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from botocore.exceptions import ClientError

    def fail(self: Any, data_record: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "UpdateItem")

    monkeypatch.setattr(DynamoDBPersistenceLayer, "_update_record", fail)
    # When a send with a key arrives
    result = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers={"Idempotency-Key": "k-late"})
    # Then 503 warning that the SMS may have been sent (it was: one SMS)
    assert result.status == 503
    assert "may have been sent" in result.body["detail"]
    assert len(pinpoint_endpoint.emulator.outbox()) == 1
