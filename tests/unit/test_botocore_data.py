"""The trimmed botocore data (infra/botocore_data.py) against botocore's full data, call for call.

Two clients of each service: one from the trimmed directory through ``otp.adapters.aws_sdk`` (as on
Lambda), one from botocore's own data (as ``boto3.client``). Their HTTP is replaced by canned answers at
botocore's ``before-send`` event, after signing, so what is compared is exactly what would go on the wire
and exactly what the adapters get back: method, URL, headers, body; parsed responses, parsed errors and
the exceptions the adapters raise from them.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemAlreadyExistsError
from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb as powertools_dynamodb
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from urllib3 import HTTPHeaderDict

from cdk_sms_otp import botocore_data
from otp.adapters import aws_sdk, end_user_messaging
from otp.adapters.aws_operations import OPERATIONS
from otp.adapters.end_user_messaging import (
    EndUserMessagingGateway,
    EndUserMessagingOptions,
    end_user_messaging_client,
)
from otp.adapters.pinpoint import PinpointOtpGateway, pinpoint_client
from otp.adapters.secret import read_secret, secretsmanager_client
from otp.adapters.store import DynamoDbLimitLedger, dynamodb_client
from otp.domain.errors import UpstreamError
from otp.domain.models import SendOtpRequest
from otp.domain.ports import HistoryUpdate
from tests.sandbox_harness import DUMMY_KEY

SERVICES = sorted(OPERATIONS)
_UUID4 = uuid.uuid4
# Differ on every call by design (time, a random id, the signature over the time); compared separately.
VOLATILE_HEADERS = {"authorization", "x-amz-date", "amz-sdk-invocation-id"}


@pytest.fixture(scope="module")
def trimmed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("botocore-data")
    botocore_data.write_data(target)
    return target


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Credentials and region from the environment, and no endpoint override: the real AWS endpoints."""
    import os

    for name in [
        n for n in os.environ if n.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCOUNT_ID"))
    ]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    aws_sdk.reset()
    yield
    aws_sdk.reset()
    pinpoint_client.cache_clear()
    dynamodb_client.cache_clear()
    end_user_messaging_client.cache_clear()
    secretsmanager_client.cache_clear()


# ------------------------------------------------------------------------------------ wire capture


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@dataclass(frozen=True)
class Canned:
    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Wire:
    """The requests a client sent and the canned answers it got, in order."""

    answer: Callable[[str], Canned]
    sent: list[dict[str, Any]] = field(default_factory=list)

    def attach(self, client: BaseClient) -> BaseClient:
        client.meta.events.register("before-send", self._send)  # type: ignore[arg-type]  # returns the answer
        return client

    def _send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse:
        operation = event_name.rsplit(".", 1)[-1]
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        authorization = headers["authorization"]
        body: Any = request.body or b""
        if "user-agent" in headers:
            headers["user-agent"] = _sorted_feature_ids(headers["user-agent"])
        self.sent.append(
            {
                "operation": operation,
                "method": request.method,
                "url": request.url,
                "headers": {k: v for k, v in headers.items() if k not in VOLATILE_HEADERS},
                # The credential scope (region and signing name) and the signed headers; the signature
                # itself changes with the time.
                "scope": authorization.split("Credential=")[1].split("/", 2)[2].split(",")[0],
                "signed": authorization.split("SignedHeaders=")[1].split(",")[0],
                "body": body if isinstance(body, bytes) else body.encode(),
            }
        )
        canned = self.answer(operation)
        data = canned.body if isinstance(canned.body, bytes) else json.dumps(canned.body).encode()
        headers_out = HTTPHeaderDict({"x-amzn-requestid": "req-1", **canned.headers})
        # urllib3's header dict, as botocore's real transport passes it (case-insensitive lookups)
        return AWSResponse(request.url, canned.status, headers_out, _Body(data))  # type: ignore[arg-type]


def _sorted_feature_ids(user_agent: str) -> str:
    """Botocore lists the features a call used (``m/b,Z,g``) from a set: their order is arbitrary.

    The SDK's own name is left out: a client of the trimmed data is botocore's (``Botocore/1.x``, no boto3
    imported, otp/adapters/aws_sdk.py), the fallback is boto3's (``Boto3/1.y md/Botocore#1.x ...
    Botocore/1.x``); the rest of the header (platform, retry mode, the features used) must be the same."""
    return " ".join(
        "m/" + ",".join(sorted(token[2:].split(","))) if token.startswith("m/") else token
        for token in user_agent.split(" ")
        if not token.startswith(("Boto3/", "Botocore/", "md/Botocore#"))
    )


def _pair(
    make: Callable[[], BaseClient],
    answers: Callable[[], Callable[[str], Canned]],
    trimmed_dir: Path,
    monkeypatch: Any,
) -> tuple[tuple[BaseClient, Wire], tuple[BaseClient, Wire]]:
    """The same factory run twice: with the trimmed data, then with botocore's full data; each client
    gets its own copy of the canned answers."""
    built = []
    for data_dir in (trimmed_dir, trimmed_dir / "absent"):
        monkeypatch.setattr(aws_sdk, "DATA_DIR", data_dir)
        # Fresh sessions on both sides: the first call of a session also reports how it found the
        # credentials (user agent feature "g"), as the first call of a Lambda container does.
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        aws_sdk.reset()
        pinpoint_client.cache_clear()
        dynamodb_client.cache_clear()
        end_user_messaging_client.cache_clear()
        secretsmanager_client.cache_clear()
        wire = Wire(answers())
        built.append((wire.attach(make()), wire))
    trimmed, full = built
    # The trimmed client really is built from the trimmed model, the full one from botocore's
    assert len(trimmed[0].meta.service_model.operation_names) < 10
    assert len(full[0].meta.service_model.operation_names) > 20
    return trimmed, full


def _assert_same_requests(trimmed: Wire, full: Wire) -> None:
    """Request for request, field for field (a failure names the field that differs)."""
    assert [r["operation"] for r in trimmed.sent] == [r["operation"] for r in full.sent]
    for number, (mine, theirs) in enumerate(zip(trimmed.sent, full.sent, strict=True)):
        differing = {key: (mine[key], theirs[key]) for key in theirs if mine.get(key) != theirs[key]}
        assert differing == {}, f"request {number} ({theirs['operation']})"


def _same_outcome(run: Callable[[BaseClient], Any], trimmed: BaseClient, full: BaseClient) -> Any:
    """Run the same adapter call on both; the results (or the exceptions) must be equal.

    uuid4 (the ledger's writer token, botocore's idempotency tokens) gives both runs the same sequence.
    """
    outcomes = []
    for client in (trimmed, full):
        uuid.uuid4 = _counting_uuid4()  # undone below
        try:
            outcomes.append(("returned", run(client)))
        except Exception as exc:
            outcomes.append(("raised", _describe(exc)))
        finally:
            uuid.uuid4 = _UUID4
    assert outcomes[0] == outcomes[1]
    return outcomes[0]


def _counting_uuid4() -> Callable[[], uuid.UUID]:
    numbers = itertools.count(1)
    return lambda: uuid.UUID(int=next(numbers))


def _describe(exc: Exception) -> Any:
    if isinstance(exc, ClientError):
        return (type(exc).__name__, exc.response)
    if isinstance(exc, UpstreamError):
        return ("UpstreamError", exc.code, exc.message, exc.maybe_sent)
    if isinstance(exc, IdempotencyItemAlreadyExistsError):
        return ("IdempotencyItemAlreadyExistsError", vars(exc.old_data_record))
    return (type(exc).__name__, str(exc))


# ------------------------------------------------------------------------------- the adapters' calls

APP_ID = "0123456789abcdef0123456789abcdef"
SEND_RESPONSE = {
    "ApplicationId": APP_ID,
    "RequestId": "r-1",
    "Result": {
        "+12065550100": {
            "DeliveryStatus": "SUCCESSFUL",
            "MessageId": "m-1",
            "StatusCode": 200,
            "StatusMessage": "OK",
        }
    },
}


def _send_request() -> SendOtpRequest:
    return SendOtpRequest(
        destination="+12065550100",
        reference_id="ref-1",
        brand_name="Acme",
        origination_identity="+12065550199",
        code_length=6,
        validity_minutes=5,
        allowed_attempts=3,
        language="en-US",
        entity_id="1101234567890123456",
        template_id="1107890123456789012",
    )


def _pinpoint_answers(*errors: Canned) -> Callable[[str], Canned]:
    queue = list(errors)

    def answer(operation: str) -> Canned:
        if queue:
            return queue.pop(0)
        return Canned(body=SEND_RESPONSE if operation == "SendOTPMessage" else {"Valid": True})

    return answer


@pytest.mark.parametrize(
    "errors",
    [
        (),
        (Canned(429, {"message": "slow down"}, {"x-amzn-ErrorType": "TooManyRequestsException"}),),
        (Canned(400, {"message": "bad", "RequestID": "r"}, {"x-amzn-ErrorType": "BadRequestException"}),),
        (Canned(403, {"message": "no"}, {"x-amzn-ErrorType": "ForbiddenException:http://internal"}),),
        (Canned(500, {"message": "oops"}, {"x-amzn-ErrorType": "InternalServerErrorException"}),) * 3,
        (Canned(200, b"not json"),),
    ],
    ids=["ok", "throttled-then-ok", "bad-request", "forbidden", "internal-error-thrice", "garbled"],
)
def test_pinpoint_adapter_sends_and_reads_the_same_with_the_trimmed_data(errors, trimmed_dir, monkeypatch):
    # Given the adapter's own client factory, once with the trimmed data and once with the full data
    (trimmed, trimmed_wire), (full, full_wire) = _pair(
        lambda: pinpoint_client(1, 2), lambda: _pinpoint_answers(*errors), trimmed_dir, monkeypatch
    )

    # When the gateway sends a code and verifies one, through each, against the same answers
    def send(client: BaseClient) -> Any:
        return PinpointOtpGateway(client, APP_ID, sleep=lambda _: None).send(_send_request())  # type: ignore[arg-type]

    def verify(client: BaseClient) -> Any:
        gateway = PinpointOtpGateway(client, APP_ID, sleep=lambda _: None)  # type: ignore[arg-type]
        return gateway.verify(destination="+12065550100", reference_id="ref-1", code="123456")

    _same_outcome(send, trimmed, full)
    _same_outcome(verify, trimmed, full)

    # Then the requests on the wire were identical, attempt for attempt
    _assert_same_requests(trimmed_wire, full_wire)
    assert {r["operation"] for r in full_wire.sent} == {"SendOTPMessage", "VerifyOTPMessage"}
    assert full_wire.sent[0]["url"] == f"https://pinpoint.eu-west-1.amazonaws.com/v1/apps/{APP_ID}/otp"
    assert full_wire.sent[0]["scope"] == "eu-west-1/mobiletargeting/aws4_request"


def _end_user_messaging_answers(*errors: Canned) -> Callable[[str], Canned]:
    queue = list(errors)

    def answer(operation: str) -> Canned:
        if queue:
            return queue.pop(0)
        if operation == "SendNotifyCodeVerification":
            return Canned(body={"verificationId": "v-1", "messageId": "m-1"})
        return Canned(body={"status": "VALID"})

    return answer


@pytest.mark.parametrize(
    "errors",
    [
        (),
        (Canned(429, {"message": "slow down"}, {"x-amzn-ErrorType": "ThrottlingException"}),),
        (Canned(400, {"message": "bad", "reason": "OTHER"}, {"x-amzn-ErrorType": "ValidationException"}),),
        (Canned(500, {"message": "oops"}, {"x-amzn-ErrorType": "InternalServerException"}),),
    ],
    ids=["ok", "throttled-then-ok", "validation", "internal-error"],
)
def test_end_user_messaging_adapter_sends_and_reads_the_same_with_the_trimmed_data(
    errors, trimmed_dir, monkeypatch
):
    # Given the adapter's client factory with the trimmed data, and with botocore's own full model (the
    # model shipped with the code moved out of the way, so the comparison is with botocore's)
    monkeypatch.setattr(end_user_messaging, "SERVICE_MODELS_DIR", trimmed_dir / "absent")
    (trimmed, trimmed_wire), (full, full_wire) = _pair(
        lambda: end_user_messaging_client(1, 2),
        lambda: _end_user_messaging_answers(*errors),
        trimmed_dir,
        monkeypatch,
    )
    options = EndUserMessagingOptions(configuration_set="otp-events")

    # When the gateway sends a code and validates one, through each, against the same answers
    def send(client: BaseClient) -> Any:
        return EndUserMessagingGateway(client, options, sleep=lambda _: None).send(_send_request())  # type: ignore[arg-type]

    def verify(client: BaseClient) -> Any:
        gateway = EndUserMessagingGateway(client, options, sleep=lambda _: None)  # type: ignore[arg-type]
        return gateway.verify(destination="+12065550100", reference_id="ref.1", code="123456")

    _same_outcome(send, trimmed, full)
    _same_outcome(verify, trimmed, full)

    # Then the requests on the wire were identical
    _assert_same_requests(trimmed_wire, full_wire)
    assert {r["operation"] for r in full_wire.sent} >= {"SendNotifyCodeVerification"}


ITEM = {"events": {"L": [{"N": "1700000000000"}]}, "version": {"N": "3"}, "writer": {"S": "w"}}
CANCELLED = Canned(
    400,
    {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": "Transaction cancelled",
        "CancellationReasons": [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}],
    },
)
CONDITION_FAILED = Canned(
    400,
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "message": "The conditional request failed",
        "Item": {
            "pk": {"S": "idempotency#k"},
            "expiration": {"N": "1900000000"},
            "status": {"S": "COMPLETED"},
            "data": {"S": '{"statusCode": 202}'},
        },
    },
)


def _dynamodb_answers(*errors: Canned, item: dict[str, Any] | None = None) -> Callable[[str], Canned]:
    queue = list(errors)

    def answer(operation: str) -> Canned:
        if queue:
            return queue.pop(0)
        return Canned(body={"Item": item or ITEM} if operation == "GetItem" else {})

    return answer


def _update(key: str, version: int) -> HistoryUpdate:
    return HistoryUpdate(key, (1700000000000, 1700000005000), version, 1700086400)


@pytest.mark.parametrize(
    ("errors", "updates"),
    [
        ((), [_update("send#a", 0)]),
        ((), [_update("verify#a", 2), _update("verify#b", 0)]),
        ((CONDITION_FAILED,), [_update("send#a", 3)]),
        ((CANCELLED,), [_update("verify#a", 2), _update("verify#b", 0)]),
        (
            (Canned(400, {"__type": "x#ResourceNotFoundException", "message": "no table"}),),
            [_update("send#a", 0)],
        ),
        ((Canned(500, {"__type": "x#InternalServerError", "message": "oops"}),) * 3, [_update("send#a", 0)]),
    ],
    ids=["put", "transaction", "condition-failed", "cancelled", "no-table", "internal-error"],
)
def test_limit_ledger_reads_and_writes_the_same_with_the_trimmed_data(
    errors, updates, trimmed_dir, monkeypatch
):
    # Given the store's client factory, with the trimmed and with the full data
    (trimmed, trimmed_wire), (full, full_wire) = _pair(
        dynamodb_client, lambda: _dynamodb_answers(*errors), trimmed_dir, monkeypatch
    )

    # When the ledger reads a history and commits (one put, or a transaction; conflicts re-read)
    _same_outcome(lambda c: DynamoDbLimitLedger(c, "otp-protection").read("send#a"), trimmed, full)  # type: ignore[arg-type]
    _same_outcome(lambda c: DynamoDbLimitLedger(c, "otp-protection").commit(updates), trimmed, full)  # type: ignore[arg-type]

    # Then every request on the wire was identical (botocore's retries included)
    _assert_same_requests(trimmed_wire, full_wire)
    assert full_wire.sent[0]["url"] == "https://dynamodb.eu-west-1.amazonaws.com/"
    assert full_wire.sent[0]["headers"]["x-amz-target"] == "DynamoDB_20120810.GetItem"


SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:otp-deployment-AbCdEf"


@pytest.mark.parametrize(
    "answer",
    [
        Canned(body={"ARN": SECRET_ARN, "Name": "otp-deployment", "SecretString": "s" * 64}),
        Canned(400, {"__type": "ResourceNotFoundException", "Message": "no such secret"}),
        Canned(400, {"__type": "AccessDeniedException", "Message": "not granted"}),
    ],
    ids=["ok", "not-found", "denied"],
)
def test_the_deployment_secret_is_read_the_same_with_the_trimmed_data(answer, trimmed_dir, monkeypatch):
    # Given the secret adapter's client factory, with the trimmed and with the full data
    (trimmed, trimmed_wire), (full, full_wire) = _pair(
        secretsmanager_client, lambda: lambda _: answer, trimmed_dir, monkeypatch
    )
    # When the secret is read / Then the same bytes (or the same error, never the value) and the same wire
    outcomes: list[tuple[object, ...]] = []
    for client in (trimmed, full):
        monkeypatch.setattr("otp.adapters.secret.secretsmanager_client", lambda c=client: c)
        try:
            outcomes.append(("returned", read_secret(SECRET_ARN)))
        except UpstreamError as exc:
            outcomes.append(("raised", exc.code, exc.message))
    assert outcomes[0] == outcomes[1]
    _assert_same_requests(trimmed_wire, full_wire)
    assert full_wire.sent[0]["headers"]["x-amz-target"] == "secretsmanager.GetSecretValue"


class _FrozenDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> _FrozenDatetime:
        return cls(2026, 1, 2, 3, 4, 5, tzinfo=tz)


@pytest.mark.parametrize(
    "errors", [(), (CONDITION_FAILED,)], ids=["ok", "already-exists-with-the-old-record"]
)
def test_powertools_idempotency_store_calls_the_same_with_the_trimmed_data(errors, trimmed_dir, monkeypatch):
    # Given Powertools' persistence layer on the store's client, trimmed and full (its clock frozen:
    # the claim's condition carries "now")
    monkeypatch.setattr(powertools_dynamodb, "dt", SimpleNamespace(datetime=_FrozenDatetime))
    item = {
        "pk": {"S": "idempotency#k"},
        "expiration": {"N": "1900000000"},
        "status": {"S": "COMPLETED"},
        "data": {"S": "{}"},
    }
    (trimmed, trimmed_wire), (full, full_wire) = _pair(
        dynamodb_client, lambda: _dynamodb_answers(*errors, item=item), trimmed_dir, monkeypatch
    )
    record = DataRecord(
        idempotency_key="idempotency#k",
        status="INPROGRESS",
        expiry_timestamp=1900000000,
        in_progress_expiry_timestamp=1900000000000,
    )

    def layer(client: BaseClient) -> DynamoDBPersistenceLayer:
        return DynamoDBPersistenceLayer(
            table_name="otp-protection",
            key_attr="pk",
            expiry_attr="expiration",
            boto3_client=client,  # type: ignore[arg-type]
        )

    # When it claims a key (PutItem), stores the answer (UpdateItem), reads it (GetItem), drops it
    # (DeleteItem)
    _same_outcome(lambda c: layer(c)._put_record(record), trimmed, full)
    completed = DataRecord(
        "idempotency#k", status="COMPLETED", expiry_timestamp=1900000000, response_data="{}"
    )
    _same_outcome(lambda c: layer(c)._update_record(completed), trimmed, full)
    _same_outcome(lambda c: vars(layer(c)._get_record("idempotency#k")), trimmed, full)
    _same_outcome(lambda c: layer(c)._delete_record(record), trimmed, full)

    # Then the four operations went out identically
    _assert_same_requests(trimmed_wire, full_wire)
    assert [r["operation"] for r in full_wire.sent] == ["PutItem", "UpdateItem", "GetItem", "DeleteItem"]


# -------------------------------------------------- every kept operation, every modeled error, generically


def _example(shape: Any, depth: int = 0) -> Any:
    """A valid parameter value for the shape (one member of a union, one item of a list)."""
    kind = shape.type_name
    if kind == "structure":
        members = shape.members.items()
        if shape.metadata.get("union"):
            members = list(members)[:1]
        elif depth > 3:
            members = [(n, m) for n, m in members if n in shape.required_members]
        return {name: _example(member, depth + 1) for name, member in members}
    if kind == "list":
        return [_example(shape.member, depth + 1)]
    if kind == "map":
        return {"k": _example(shape.value, depth + 1)}
    if kind == "string":
        enum = shape.enum
        return enum[0] if enum else "v" * max(1, shape.metadata.get("min", 1))
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind in ("float", "double"):
        return 1.5
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    if kind == "blob":
        return b"\x00\x01"
    raise AssertionError(f"shape type {kind}")


def _wire_example(shape: Any, depth: int = 0) -> Any:
    """The same, as the service would put it in a JSON body (wire names, epoch times, base64 blobs)."""
    kind = shape.type_name
    if kind == "structure":
        members = list(shape.members.items())
        if shape.metadata.get("union"):
            members = members[:1]
        elif depth > 3:
            members = []
        return {
            member.serialization.get("name", name): _wire_example(member, depth + 1)
            for name, member in members
            if "location" not in member.serialization
        }
    if kind == "list":
        return [_wire_example(shape.member, depth + 1)]
    if kind == "map":
        return {"k": _wire_example(shape.value, depth + 1)}
    if kind == "timestamp":
        return 1767323045
    if kind == "blob":
        return base64.b64encode(b"\x00\x01").decode()
    return _example(shape, depth)


def _success_body(operation: Any) -> Any:
    output = operation.output_shape
    if output is None:
        return {}
    payload = output.serialization.get("payload")
    return _wire_example(output.members[payload] if payload else output)


def _error_answer(service: str, error: Any) -> Canned:
    code = error.metadata.get("error", {}).get("code", error.name)
    status = error.metadata.get("error", {}).get("httpStatusCode", 400)
    body = {**_wire_example(error), "message": f"{code} happened"}
    if service == "dynamodb":  # awsJson1_0: the code in __type
        return Canned(status, {**body, "__type": f"com.amazonaws.dynamodb.v20120810#{code}"})
    if service in ("secretsmanager", "cognito-idp"):  # awsJson1_1: the code in __type too
        return Canned(status, {**body, "__type": f"com.amazonaws.{service}#{code}"})
    return Canned(status, body, {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/"})


NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


def _generic_clients(
    service: str, trimmed_dir: Path, answer: Callable[[str], Canned], full_session: boto3.session.Session
) -> tuple[Wire, Wire, BaseClient, BaseClient]:
    trimmed_wire, full_wire = Wire(answer), Wire(answer)
    trimmed = trimmed_wire.attach(aws_sdk.client(service, NO_RETRIES, data_dir=trimmed_dir))
    full = full_wire.attach(full_session.client(service, config=NO_RETRIES))  # type: ignore[call-overload]
    return trimmed_wire, full_wire, trimmed, full


@pytest.mark.parametrize(
    ("service", "operation"), [(s, o) for s in SERVICES for o in OPERATIONS[s]], ids="{0[0]}.{0[1]}".format
)
def test_every_kept_operation_serialises_and_parses_every_member_and_every_modeled_error_the_same(
    service, operation, trimmed_dir
):
    # Given an input with every member of the operation's input shape, and an answer with every member
    # of its output shape
    full_model = boto3.session.Session().client(service).meta.service_model
    op = full_model.operation_model(operation)
    params = _example(op.input_shape)
    errors = list(full_model.error_shapes)
    answers = [Canned(200, _success_body(op))] + [_error_answer(service, e) for e in errors]
    queue = list(answers)
    trimmed_wire, full_wire, trimmed, full = _generic_clients(
        service, trimmed_dir, lambda _: queue.pop(0), boto3.session.Session()
    )
    method = full_model.operation_model(operation)
    name = {v: k for k, v in full.meta.method_to_api_mapping.items()}[method.name]

    # When each client makes the call against the same answers: the success, then every error the
    # service models (for any operation: botocore looks error codes up across the whole model)
    results: dict[str, list[Any]] = {"trimmed": [], "full": []}
    for label, client in (("trimmed", trimmed), ("full", full)):
        queue[:] = answers
        for _ in answers:
            try:
                response = getattr(client, name)(**params)
                results[label].append(("returned", response))
            except ClientError as exc:
                modeled = type(exc) is not ClientError
                results[label].append(("raised", type(exc).__name__, modeled, exc.response))

    # Then the requests are identical, the answer parses to the same dict, and every error to the same
    # exception class (the modeled one) with the same parsed members
    _assert_same_requests(trimmed_wire, full_wire)
    assert results["trimmed"] == results["full"]
    assert results["full"][0][0] == "returned"
    assert len(errors) >= 4
    assert all(
        outcome[:3] == ("raised", e.name, True)
        for outcome, e in zip(results["full"][1:], errors, strict=True)
    )


# ------------------------------------------------------------------------------- endpoint resolution


def _regions() -> list[tuple[str, str]]:
    partitions = json.loads(
        (Path(boto3.__file__).parent.parent / "botocore/data/partitions.json").read_text()
    )
    return [(p["id"], region) for p in partitions["partitions"] for region in p["regions"]]


@pytest.mark.parametrize("service", SERVICES)
def test_every_region_of_every_partition_resolves_to_the_same_endpoint_and_signing_scope(
    service, trimmed_dir, monkeypatch
):
    # Given every region botocore knows, plain, FIPS and dual-stack
    variants = {
        "plain": {},
        "fips": {"AWS_USE_FIPS_ENDPOINT": "true"},
        "dualstack": {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
    }
    operation = OPERATIONS[service][0]
    full_session = boto3.session.Session()  # one loader: endpoints.json parsed once, not per region
    outcomes: dict[str, list[Any]] = {"trimmed": [], "full": []}
    for (partition, region), (variant, env) in [(r, v) for r in _regions() for v in variants.items()]:
        for name in ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_ACCOUNT_ID"):
            monkeypatch.delenv(name, raising=False)
        for name, value in {**env, "AWS_DEFAULT_REGION": region}.items():
            monkeypatch.setenv(name, value)
        # When each side builds a client there and makes one call
        wires = {"trimmed": Wire(lambda op: Canned(200, {})), "full": Wire(lambda op: Canned(200, {}))}
        makers: dict[str, Callable[[], BaseClient]] = {
            "trimmed": lambda: aws_sdk.client(service, NO_RETRIES, data_dir=trimmed_dir),
            "full": lambda: full_session.client(service, config=NO_RETRIES),
        }
        for label, make in makers.items():
            try:
                client = wires[label].attach(make())
                model = client.meta.service_model.operation_model(operation)
                method = {v: k for k, v in client.meta.method_to_api_mapping.items()}[operation]
                getattr(client, method)(**_example(model.input_shape))
                sent = wires[label].sent[-1]
                outcomes[label].append((partition, region, variant, sent["url"], sent["scope"]))
            except Exception as exc:
                outcomes[label].append((partition, region, variant, type(exc).__name__, str(exc)))

    # Then both resolve every one of them to the same URL and credential scope (or the same error)
    assert outcomes["trimmed"] == outcomes["full"]
    urls = {o[3] for o in outcomes["full"]}
    assert len(urls) > 50  # really different regions and variants, not one default


@pytest.mark.parametrize("region", ["eu-west-1", "us-gov-west-1", "cn-north-1"])
def test_dynamodb_account_based_endpoints_resolve_the_same(region, trimmed_dir, monkeypatch):
    # Given credentials that carry the account id, which DynamoDB's endpoint rules turn into an
    # account-based endpoint where the partition has them (botocore would not, were the trimmed
    # endpoints.json not treated as its own data: it would pass the legacy URL as a custom endpoint)
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    aws_sdk.reset()
    trimmed_wire, full_wire, trimmed, full = _generic_clients(
        "dynamodb", trimmed_dir, lambda op: Canned(200, {}), boto3.session.Session()
    )

    # When each gets an item
    for client in (trimmed, full):
        client.get_item(TableName="t", Key={"pk": {"S": "k"}})  # type: ignore[attr-defined]

    # Then both went to the same endpoint, the account's own in the commercial partition
    _assert_same_requests(trimmed_wire, full_wire)
    if region == "eu-west-1":
        assert full_wire.sent[0]["url"] == "https://123456789012.ddb.eu-west-1.amazonaws.com/"


# --------------------------------------------------------------------------- the data and its fallback


def test_the_data_holds_only_the_listed_operations_without_prose(trimmed_dir):
    # Given the written directory and its manifest
    manifest = json.loads((trimmed_dir / "manifest.json").read_text())
    assert set(manifest["services"]) == set(OPERATIONS)
    for service, entry in manifest["services"].items():
        model = json.loads((trimmed_dir / service / entry["apiVersion"] / "service-2.json").read_text())
        # Then each model has the listed operations (plus DynamoDB's endpoint-discovery operation,
        # which botocore looks for when it builds a client) and no documentation text
        extra = set(model["operations"]) - set(OPERATIONS[service])
        assert extra <= {"DescribeEndpoints"}
        assert '"documentation"' not in json.dumps(model)
    # and endpoints.json keeps every partition and region but only these services
    endpoints = json.loads((trimmed_dir / "endpoints.json").read_text())
    for partition in endpoints["partitions"]:
        assert set(partition["services"]) <= set(OPERATIONS)
        assert partition["regions"]


def test_an_unknown_operation_in_the_table_stops_the_build(tmp_path):
    with pytest.raises(botocore_data.BotocoreDataError, match="pinpoint has no operation SendSmokeSignal"):
        botocore_data.write_data(tmp_path, {"pinpoint": ("SendOTPMessage", "SendSmokeSignal")})


def _copy(trimmed_dir: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(trimmed_dir, target)
    return target


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda m: m.update(format=2), "manifest format 2"),
        (lambda m: m["formats"].update(endpoints=4), "endpoints format 4"),
        (lambda m: m["services"]["pinpoint"].update(protocol="smoke-signals"), "protocol 'smoke-signals'"),
        (lambda m: m["services"]["pinpoint"]["ruleFunctions"].append("aws_future"), "aws_future"),
        (lambda m: m["services"]["pinpoint"].update(operations=["SendOTPMessage"]), "VerifyOTPMessage"),
    ],
    ids=["manifest-format", "endpoints-format", "protocol", "rule-function", "missing-operation"],
)
def test_data_this_botocore_cannot_read_falls_back_to_its_own_data(
    damage, reason, trimmed_dir, tmp_path, caplog
):
    # Given trimmed data that needs something this botocore lacks (as an older Lambda runtime might)
    data = _copy(trimmed_dir, tmp_path / "data")
    manifest = json.loads((data / "manifest.json").read_text())
    damage(manifest)
    (data / "manifest.json").write_text(json.dumps(manifest))

    # When the adapter's client is made, Then it comes from botocore's full data, with a warning why
    client = aws_sdk.client("pinpoint", Config(), data_dir=data)
    assert len(client.meta.service_model.operation_names) > 100
    assert reason in caplog.text


def test_a_file_missing_from_the_data_falls_back_to_botocores_own(trimmed_dir, tmp_path, caplog):
    # Given trimmed data whose Pinpoint model is gone
    data = _copy(trimmed_dir, tmp_path / "data")
    (data / "pinpoint" / "2016-12-01" / "service-2.json").unlink()

    # When the adapter's client is made, Then it is the full one and the log says why
    client = aws_sdk.client("pinpoint", Config(), data_dir=data)
    assert "SendOTPMessage" in client.meta.service_model.operation_names
    assert len(client.meta.service_model.operation_names) > 100
    assert "DataNotFoundError" in caplog.text or "UnknownServiceError" in caplog.text


def test_without_the_directory_or_for_another_service_clients_are_botocores_own(trimmed_dir, tmp_path):
    # Given no trimmed data (the source tree: the sandbox and the tests), or a service not in it
    without = aws_sdk.client("pinpoint", Config(), data_dir=tmp_path / "none")
    other = aws_sdk.client("sts", Config(), data_dir=trimmed_dir)

    # Then both clients come from botocore's own data
    assert len(without.meta.service_model.operation_names) > 100
    assert "GetCallerIdentity" in other.meta.service_model.operation_names


def test_the_endpoint_url_override_still_applies_to_trimmed_clients(trimmed_dir, monkeypatch):
    # Given AWS_ENDPOINT_URL (how the sandbox and the tests point the functions at a local endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    wire = Wire(lambda op: Canned(200, {"Valid": False}))
    client = wire.attach(aws_sdk.client("pinpoint", Config(), data_dir=trimmed_dir))

    # When it calls, Then the call goes to that endpoint, signed for Pinpoint as usual
    client.verify_otp_message(  # type: ignore[attr-defined]
        ApplicationId=APP_ID,
        VerifyOTPMessageRequestParameters={"DestinationIdentity": "+1", "Otp": "1", "ReferenceId": "r"},
    )
    assert wire.sent[0]["url"] == f"http://127.0.0.1:4566/v1/apps/{APP_ID}/verify-otp"
    assert wire.sent[0]["scope"] == "eu-west-1/mobiletargeting/aws4_request"
