"""DynamoDB adapter for verification lifecycles (otp/domain/verification.py): the ``verify#<sha256>`` items
of the protection table (layout in otp/adapters/store.py), their per-reference verify-call counts and the
record each send, fallback step and right code writes, joined to the send's own transaction or alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from otp.adapters.store import (
    EVENTS_ATTRIBUTE,
    EXPIRY_ATTRIBUTE,
    PARTITION_KEY,
    _numbers,
    _unavailable,
    joined_writer,
)
from otp.domain.models import Channel
from otp.domain.ports import AttemptResult
from otp.domain.verification import (
    FallbackStep,
    SendEntry,
    Verification,
    VerificationStart,
    VerificationStep,
    VerificationVerified,
    VerifyState,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef, UpdateTypeDef

OWNER = "owner"
NONCE = "nonce"
STARTED_AT = "startedAt"
SENT_AT = "sentAt"
EXPIRES_AT = "expiresAt"
CHANNEL = "channel"
ALLOWED = "allowed"
TRIES = "tries"
SENDS = "sends"
VERIFIED_AT = "verifiedAt"
CANCELLED_AT = "cancelledAt"
FALLBACK = "fallback"
LANGUAGE = "language"
_ENTRY_STATUS = "status"
_ENTRY_AT = "at"
_STEP_AFTER = "after"
_LIFECYCLE = (OWNER, NONCE, STARTED_AT, SENT_AT, EXPIRES_AT, CHANNEL, ALLOWED, TRIES, SENDS, VERIFIED_AT,
              CANCELLED_AT, FALLBACK, LANGUAGE)  # fmt: skip
# The code can still be tried, by this caller: what every counted verify call requires of the record, if
# there is one.
_OPEN = (
    "(attribute_not_exists(#owner) OR #owner = :owner)"
    " AND attribute_not_exists(#verifiedAt) AND attribute_not_exists(#cancelledAt)"
    " AND (attribute_not_exists(#expiresAt) OR #expiresAt > :now)"
    " AND (attribute_not_exists(#allowed) OR #tries < #allowed)"
)
_OPEN_NAMES = {
    "#owner": OWNER,
    "#verifiedAt": VERIFIED_AT,
    "#cancelledAt": CANCELLED_AT,
    "#expiresAt": EXPIRES_AT,
    "#allowed": ALLOWED,
    "#tries": TRIES,
}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def _entry(entry: SendEntry) -> AttributeValueTypeDef:
    return {
        "M": {
            CHANNEL: {"S": entry.channel.value},
            _ENTRY_STATUS: {"S": entry.delivery_status},
            _ENTRY_AT: _n(entry.at_ms),
        }
    }


def _send_names_and_values(
    write: VerificationStart | VerificationStep,
) -> tuple[str, dict[str, str], dict[str, AttributeValueTypeDef]]:
    """What every send's write sets: the code in force (its nonce, times, channel, no attempt yet)."""
    names: dict[str, str] = {
        "#nonce": NONCE,
        "#sentAt": SENT_AT,
        "#expiresAt": EXPIRES_AT,
        "#channel": CHANNEL,
        "#tries": TRIES,
        "#sends": SENDS,
        "#expiration": EXPIRY_ATTRIBUTE,
        "#verifiedAt": VERIFIED_AT,
        "#cancelledAt": CANCELLED_AT,
    }
    values: dict[str, AttributeValueTypeDef] = {
        ":nonce": {"S": write.nonce},
        ":sent": _n(write.sent_ms),
        ":expires": _n(write.expires_ms),
        ":channel": {"S": write.channel.value},
        ":zero": _n(0),
        ":ttl": _n(write.expires_at),
    }
    common = "#nonce = :nonce, #sentAt = :sent, #expiresAt = :expires, #channel = :channel, #tries = :zero, "
    common += "#expiration = :ttl"
    return common, names, values


@joined_writer(VerificationStart)
def _start_entry(table: str, write: VerificationStart) -> TransactWriteItemTypeDef:
    """A new verification: replaces the record (the verify calls counted against the cap stay)."""
    common, names, values = _send_names_and_values(write)
    names.update({"#owner": OWNER, "#startedAt": STARTED_AT, "#allowed": ALLOWED, "#fallback": FALLBACK})
    names["#language"] = LANGUAGE
    values.update(
        {
            ":owner": {"S": write.owner},
            ":allowed": _n(write.allowed_attempts),
            ":sends": {"M": {write.nonce: _entry(write.entry)}},
            ":fallback": {
                "L": [
                    {"M": {CHANNEL: {"S": step.channel.value}, _STEP_AFTER: _n(step.after_seconds)}}
                    for step in write.fallback
                ]
            },
        }
    )
    expression = (
        f"SET {common}, #owner = :owner, #startedAt = :sent, #allowed = :allowed, #sends = :sends, "
        "#fallback = :fallback"
    )
    if write.language is not None:
        values[":language"] = {"S": write.language}
        expression += ", #language = :language REMOVE #verifiedAt, #cancelledAt"
    else:
        expression += " REMOVE #verifiedAt, #cancelledAt, #language"
    update: UpdateTypeDef = {
        "TableName": table,
        "Key": {PARTITION_KEY: {"S": write.key}},
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    return {"Update": update}


@joined_writer(VerificationStep)
def _step_entry(table: str, write: VerificationStep) -> TransactWriteItemTypeDef:
    """A fallback's code: only while the verification is open and still at the send it followed."""
    common, names, values = _send_names_and_values(write)
    names["#new"] = write.nonce
    values.update({":expected": {"S": write.expected_nonce}, ":entry": _entry(write.entry)})
    update: UpdateTypeDef = {
        "TableName": table,
        "Key": {PARTITION_KEY: {"S": write.key}},
        "UpdateExpression": f"SET {common}, #sends.#new = :entry",
        "ConditionExpression": (
            "#nonce = :expected AND attribute_not_exists(#verifiedAt) AND attribute_not_exists(#cancelledAt)"
        ),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    return {"Update": update}


@joined_writer(VerificationVerified)
def _verified_entry(table: str, write: VerificationVerified) -> TransactWriteItemTypeDef:
    """The engine accepted a code. No condition: it must never cancel the verification's request."""
    update: UpdateTypeDef = {
        "TableName": table,
        "Key": {PARTITION_KEY: {"S": write.key}},
        "UpdateExpression": "SET #verifiedAt = if_not_exists(#verifiedAt, :now)",
        "ExpressionAttributeNames": {"#verifiedAt": VERIFIED_AT},
        "ExpressionAttributeValues": {":now": _n(write.at_ms)},
    }
    return {"Update": update}


def _number(item: Mapping[str, Any], attribute: str) -> int | None:
    raw = item.get(attribute, {}).get("N")
    return int(raw) if raw is not None else None


def _text(item: Mapping[str, Any], attribute: str) -> str | None:
    raw = item.get(attribute, {}).get("S")
    return raw if isinstance(raw, str) else None


def _channel(name: str) -> Channel:
    # Only this code writes the attribute; an unknown name can only come from a newer release.
    return Channel(name) if name in Channel.__members__ else Channel.SMS


def _failed_item(exc: ClientError) -> Mapping[str, Any]:
    item = exc.response.get("Item")
    return item if isinstance(item, dict) else {}


def verify_state(item: Mapping[str, Any]) -> VerifyState:
    """A ``verify#`` item as the domain reads it; a record without a send is no verification."""
    calls = _numbers(item, EVENTS_ATTRIBUTE)
    nonce = _text(item, NONCE)
    sent = _number(item, SENT_AT)
    expires = _number(item, EXPIRES_AT)
    allowed = _number(item, ALLOWED)
    channel = _text(item, CHANNEL)
    if nonce is None or sent is None or expires is None or allowed is None or channel is None:
        return VerifyState(calls)
    sends = []
    for entry in item.get(SENDS, {}).get("M", {}).values():
        fields = entry.get("M", {})
        at = _number(fields, _ENTRY_AT)
        entry_channel = _text(fields, CHANNEL)
        status = _text(fields, _ENTRY_STATUS)
        if at is not None and entry_channel is not None and status is not None:
            sends.append(SendEntry(_channel(entry_channel), status, at))
    steps = []
    for step in item.get(FALLBACK, {}).get("L", []):
        fields = step.get("M", {})
        step_channel = _text(fields, CHANNEL)
        after = _number(fields, _STEP_AFTER)
        if step_channel is not None and after is not None:
            steps.append(FallbackStep(_channel(step_channel), after))
    verification = Verification(
        owner=_text(item, OWNER) or "",
        nonce=nonce,
        started_ms=_number(item, STARTED_AT) or sent,
        sent_ms=sent,
        expires_ms=expires,
        channel=_channel(channel),
        allowed_attempts=allowed,
        attempts=_number(item, TRIES) or 0,
        sends=tuple(sorted(sends, key=lambda entry: entry.at_ms)),
        verified_ms=_number(item, VERIFIED_AT),
        cancelled_ms=_number(item, CANCELLED_AT),
        fallback=tuple(steps),
        language=_text(item, LANGUAGE),
    )
    return VerifyState(calls, verification)


class DynamoDbVerificationBook:
    """Implements the domain's VerificationBook on the ``verify#`` items: each method is one call. (A
    send's record and a verified mark are JoinedWrites: the writers above.)"""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def attempt(self, key: str, *, owner: str, now_ms: int, cap: int, expires_at: int) -> AttemptResult:
        return self._counted(
            key,
            owner=owner,
            calls="list_append(if_not_exists(#events, :empty), :call)",
            condition=f"(attribute_not_exists(#events) OR size(#events) < :cap) AND {_OPEN}",
            values={":empty": {"L": []}, ":call": {"L": [_n(now_ms)]}, ":cap": _n(cap)},
            now_ms=now_ms,
            expires_at=expires_at,
        )

    def attempt_replacing(
        self,
        key: str,
        *,
        owner: str,
        calls_ms: Sequence[int],
        now_ms: int,
        expected: Sequence[int],
        expires_at: int,
    ) -> AttemptResult:
        return self._counted(
            key,
            owner=owner,
            calls=":calls",
            condition=f"#events = :expected AND {_OPEN}",
            values={
                ":calls": {"L": [_n(call) for call in calls_ms]},
                ":expected": {"L": [_n(call) for call in expected]},
            },
            now_ms=now_ms,
            expires_at=expires_at,
        )

    def _counted(
        self,
        key: str,
        *,
        owner: str,
        calls: str,
        condition: str,
        values: dict[str, AttributeValueTypeDef],
        now_ms: int,
        expires_at: int,
    ) -> AttemptResult:
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key={PARTITION_KEY: {"S": key}},
                UpdateExpression=(
                    f"SET #events = {calls}, #tries = if_not_exists(#tries, :zero) + :one, #expiration = :ttl"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    **_OPEN_NAMES,
                    "#events": EVENTS_ATTRIBUTE,
                    "#expiration": EXPIRY_ATTRIBUTE,
                },
                ExpressionAttributeValues={
                    **values,
                    ":zero": _n(0),
                    ":one": _n(1),
                    ":now": _n(now_ms),
                    ":ttl": _n(expires_at),
                    ":owner": {"S": owner},
                },
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return AttemptResult(False, verify_state(_failed_item(exc)))
            raise _unavailable(exc, "UpdateItem") from exc
        except BotoCoreError as exc:
            raise _unavailable(exc, "UpdateItem") from exc
        return AttemptResult(True, verify_state(answer.get("Attributes") or {}))

    def read(self, key: str) -> VerifyState:
        try:
            item = self._client.get_item(
                TableName=self._table,
                Key={PARTITION_KEY: {"S": key}},
                ConsistentRead=True,
                ProjectionExpression=", ".join(f"#a{index}" for index in range(len(_LIFECYCLE) + 1)),
                ExpressionAttributeNames={
                    f"#a{index}": name for index, name in enumerate((EVENTS_ATTRIBUTE, *_LIFECYCLE))
                },
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc, "GetItem") from exc
        return verify_state(item or {})

    def cancel(self, key: str, *, owner: str, now_ms: int) -> tuple[bool, VerifyState]:
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key={PARTITION_KEY: {"S": key}},
                UpdateExpression="SET #cancelledAt = :now",
                ConditionExpression=(
                    "attribute_exists(#nonce) AND #owner = :owner AND attribute_not_exists(#verifiedAt) "
                    "AND attribute_not_exists(#cancelledAt)"
                ),
                ExpressionAttributeNames={
                    "#cancelledAt": CANCELLED_AT,
                    "#nonce": NONCE,
                    "#owner": OWNER,
                    "#verifiedAt": VERIFIED_AT,
                },
                ExpressionAttributeValues={":now": _n(now_ms), ":owner": {"S": owner}},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False, verify_state(_failed_item(exc))
            raise _unavailable(exc, "UpdateItem") from exc
        except BotoCoreError as exc:
            raise _unavailable(exc, "UpdateItem") from exc
        return True, verify_state(answer.get("Attributes") or {})

    def send_failed(self, key: str, *, nonce: str, delivery_status: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={PARTITION_KEY: {"S": key}},
                UpdateExpression="SET #sends.#send.#status = :status",
                ConditionExpression="attribute_exists(#sends.#send)",
                ExpressionAttributeNames={"#sends": SENDS, "#send": nonce, "#status": _ENTRY_STATUS},
                ExpressionAttributeValues={":status": {"S": delivery_status}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise _unavailable(exc, "UpdateItem") from exc
        except BotoCoreError as exc:
            raise _unavailable(exc, "UpdateItem") from exc
