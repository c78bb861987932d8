"""Joined writes (otp.domain.ports.JoinedWrite): items that ride in a send's commit or a verification's one
request, real boto3 against moto's server. The ``Stamp`` below is how any feature adds an item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from otp.adapters.store import PARTITION_KEY, DynamoDbLimitLedger, joined_writer
from otp.domain.errors import JoinedWriteRefused, OtpError, SendRefused
from otp.domain.limiter import SendRateGuard, SlidingWindowLimiter, limit_key
from otp.domain.models import (
    DeliveryReport,
    Door,
    OtpPolicy,
    PhoneNumber,
    RequestSource,
    SendOtpRequest,
    SendOutcome,
)
from otp.domain.ports import JoinedWrite
from otp.domain.service import OtpService
from tests.integration.protection.conftest import CallLog, FakeClock

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

NUMBER = PhoneNumber(e164="+12065550100", region="US", country_code=1, number_type="MOBILE")


class StampTaken(OtpError):
    """What a Stamp whose ``only_if_absent`` failed means."""


@dataclass(frozen=True, slots=True)
class Stamp(JoinedWrite):
    """A test item: ``note`` on ``key``; with ``only_if_absent``, only if the item does not exist yet."""

    note: str = ""
    only_if_absent: bool = False

    def refused(self) -> OtpError:
        return StampTaken(self.note)


@joined_writer(Stamp)
def _stamp_entry(table: str, write: Stamp) -> TransactWriteItemTypeDef:
    update: TransactWriteItemTypeDef = {
        "Update": {
            "TableName": table,
            "Key": {PARTITION_KEY: {"S": write.key}},
            "UpdateExpression": "SET #note = :note",
            "ExpressionAttributeNames": {"#note": "note"},
            "ExpressionAttributeValues": {":note": {"S": write.note}},
        }
    }
    if write.only_if_absent:
        update["Update"]["ConditionExpression"] = "attribute_not_exists(#pk)"
        update["Update"]["ExpressionAttributeNames"] = {"#note": "note", "#pk": PARTITION_KEY}
    return update


@dataclass(frozen=True, slots=True)
class Unregistered(JoinedWrite):
    pass


def note(dynamodb: DynamoDBClient, table_name: str, key: str) -> str | None:
    item = dynamodb.get_item(TableName=table_name, Key={PARTITION_KEY: {"S": key}}, ConsistentRead=True)
    return item.get("Item", {}).get("note", {}).get("S")


def history_version(dynamodb: DynamoDBClient, table_name: str) -> str | None:
    key = limit_key("send", NUMBER.e164)
    item = dynamodb.get_item(TableName=table_name, Key={PARTITION_KEY: {"S": key}}, ConsistentRead=True)
    return item.get("Item", {}).get("version", {}).get("N")


@pytest.fixture
def guard(ledger: DynamoDbLimitLedger, clock: FakeClock) -> SendRateGuard:
    limiter = SlidingWindowLimiter(ledger, clock=clock, pause=lambda _: None)
    return SendRateGuard(limiter, cooldown_seconds=30, per_hour=5, per_day=10)


def test_a_joined_write_lands_in_the_sends_own_commit_without_another_call(
    guard: SendRateGuard, dynamodb: DynamoDBClient, table_name: str, clock: FakeClock
) -> None:
    # Given the calls a send makes without a joined write
    calls = CallLog(dynamodb)
    guard.before_send(NUMBER)
    alone = calls.take()
    clock.advance(60)
    # When a send carries one
    guard.before_send(NUMBER, joined=[Stamp("stamp#1", note="with the send")])
    # Then it is written by the same number of calls, in the transaction that records the send
    assert len(calls.take()) == len(alone)
    assert note(dynamodb, table_name, "stamp#1") == "with the send"
    assert history_version(dynamodb, table_name) == "2"


def test_a_refused_send_writes_none_of_its_joined_writes(
    guard: SendRateGuard, dynamodb: DynamoDBClient, table_name: str
) -> None:
    # Given a code just sent (the cooldown runs)
    guard.before_send(NUMBER)
    # When the next send, refused by the cooldown, carries a joined write
    with pytest.raises(SendRefused):
        guard.before_send(NUMBER, joined=[Stamp("stamp#2", note="never")])
    # Then the write never happened
    assert note(dynamodb, table_name, "stamp#2") is None


def test_a_joined_write_whose_condition_fails_cancels_the_send_and_says_why(
    guard: SendRateGuard, dynamodb: DynamoDBClient, table_name: str, ledger: DynamoDbLimitLedger
) -> None:
    # Given the item a conditional joined write requires to be absent already exists
    ledger.record([Stamp("stamp#3", note="first")])
    # When a send carries that write
    with pytest.raises(StampTaken):
        guard.before_send(NUMBER, joined=[Stamp("stamp#3", note="second", only_if_absent=True)])
    # Then nothing was written: neither the item nor the send in the number's history
    assert note(dynamodb, table_name, "stamp#3") == "first"
    assert history_version(dynamodb, table_name) is None


def test_record_writes_one_item_with_one_call_and_several_in_one_transaction(
    ledger: DynamoDbLimitLedger, dynamodb: DynamoDBClient, table_name: str
) -> None:
    calls = CallLog(dynamodb)
    ledger.record([Stamp("stamp#4", note="alone")])
    assert calls.take() == ["UpdateItem"]
    ledger.record([Stamp("stamp#5", note="a"), Stamp("stamp#6", note="b")])
    assert calls.take() == ["TransactWriteItems"]
    assert [note(dynamodb, table_name, f"stamp#{index}") for index in (4, 5, 6)] == ["alone", "a", "b"]
    # A failed condition, alone or among others, raises its refusal and writes nothing
    with pytest.raises(StampTaken):
        ledger.record([Stamp("stamp#4", note="again", only_if_absent=True)])
    with pytest.raises(StampTaken):
        ledger.record([Stamp("stamp#7", note="c"), Stamp("stamp#5", note="d", only_if_absent=True)])
    assert note(dynamodb, table_name, "stamp#4") == "alone"
    assert note(dynamodb, table_name, "stamp#7") is None


def test_a_write_of_an_unregistered_kind_is_refused_before_any_call(
    ledger: DynamoDbLimitLedger, dynamodb: DynamoDBClient
) -> None:
    calls = CallLog(dynamodb)
    with pytest.raises(TypeError, match="Unregistered"):
        ledger.record([Unregistered("x#1")])
    assert calls.take() == []
    # The default refusal names the kind of key only
    assert str(JoinedWriteRefused("ticket#abc")) == "a joined write's condition failed (ticket#...)"


@dataclass
class Contributions:
    """A feature that adds a write to every send and to every right answer."""

    def joined_for_send(
        self, destination: PhoneNumber, request: SendOtpRequest, source: RequestSource
    ) -> Sequence[JoinedWrite]:
        return [Stamp(f"sent#{request.reference_id}", note=f"{request.channel.value} via {source.caller}")]

    def joined_for_verify(
        self, destination: PhoneNumber, reference_id: str, source: RequestSource, *, valid: bool
    ) -> Sequence[JoinedWrite]:
        return [Stamp(f"verified#{reference_id}", note=f"valid via {source.caller}")] if valid else []


class QuietObserver:
    def delivery(self, outcome: SendOutcome) -> None: ...
    def verification(
        self, destination: PhoneNumber, reference_id: str, *, valid: bool, reason: str | None = None
    ) -> None: ...
    def rejected(self, reason: str, *, destination: PhoneNumber | None = None) -> None: ...
    def upstream_error(self, code: str, operation: str, *, maybe_sent: bool) -> None: ...


@dataclass
class AnsweringGateway:
    """The engine's side is not what is tested here: every send succeeds, and code 123456 is right."""

    def send(self, request: SendOtpRequest) -> DeliveryReport:
        return DeliveryReport("SUCCESSFUL", "message-1", 200, "ok")

    def verify(self, *, destination: str, reference_id: str, code: str) -> bool:
        return code == "123456"


def test_the_use_case_collects_each_features_writes_and_makes_no_extra_call(
    guard: SendRateGuard, ledger: DynamoDbLimitLedger, dynamodb: DynamoDBClient, table_name: str
) -> None:
    # Given a service whose sends and verifications carry a feature's writes
    service = OtpService(
        gateway=AnsweringGateway(),
        policy=OtpPolicy("Acme", "+12065550199", 6, 5, 3, "en-US"),
        allowed_countries={"US"},
        observer=QuietObserver(),
        send_guards=[guard],
        send_records=[Contributions()],
        verify_records=[Contributions()],
        record_store=ledger,
    )
    calls = CallLog(dynamodb)
    # When a code is sent through a door, then a wrong and a right answer come
    door = service.with_source(RequestSource(Door.SIGN_IN, "client-1"))
    outcome: SendOutcome = door.send(NUMBER, reference_id="ref-1")
    send_calls = calls.take()
    assert not door.verify(NUMBER, reference_id="ref-1", code="000000")
    wrong_calls = calls.take()
    assert service.verify(NUMBER, reference_id="ref-1", code="123456", source=RequestSource(caller="api-1"))
    right_calls = calls.take()
    # Then the send's write rode in its commit, a wrong answer wrote nothing, a right one one item
    assert outcome.reference_id == "ref-1"
    assert send_calls[-1] == "TransactWriteItems"
    assert note(dynamodb, table_name, "sent#ref-1") == "SMS via client-1"
    assert wrong_calls == []
    assert right_calls == ["UpdateItem"]
    assert note(dynamodb, table_name, "verified#ref-1") == "valid via api-1"
