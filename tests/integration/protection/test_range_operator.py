"""The operators' command (otp.operator, ``make ranges``) against moto's DynamoDB: list a block with its
evidence, lift, pin, allow; what the functions then do; every change logged without a number, counted."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pytest

from otp.adapters.adaptive_store import DynamoDbBlockBook
from otp.domain.adaptive import AdaptiveDefence, AdaptivePolicy, RangeSuspended
from otp.domain.models import PhoneNumber
from otp.domain.ports import RangeBlock
from otp.operator import OperatorError, RangeOperator, main, range_prefix
from tests.integration.protection.conftest import FakeClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NUMBER = PhoneNumber("+447700900123", "GB", 44, "MOBILE")


@pytest.fixture
def book(dynamodb: DynamoDBClient, table_name: str) -> DynamoDbBlockBook:
    return DynamoDbBlockBook(dynamodb, table_name)


@pytest.fixture
def seen() -> dict[str, list[Any]]:
    return {"log": [], "count": []}


@pytest.fixture
def operator(book: DynamoDbBlockBook, clock: FakeClock, seen: dict[str, list[Any]]) -> RangeOperator:
    return RangeOperator(book, count=seen["count"].append, log=seen["log"].append, clock=clock)


def blocked_now(book: DynamoDbBlockBook, clock: FakeClock) -> bool:
    """Whether a fresh container's defence refuses NUMBER, reading the table as a function does."""
    defence = AdaptiveDefence(AdaptivePolicy(), book, clock=clock)
    now_ms = int(clock() * 1000)
    items = {f"block#{b.prefix}": b.numbers() for b in book.blocks()}
    try:
        defence.check(NUMBER, items, now_ms)
    except RangeSuspended:
        return True
    return False


def test_a_block_is_listed_with_its_evidence_and_lifted(
    operator: RangeOperator, book: DynamoDbBlockBook, clock: FakeClock, seen: dict[str, list[Any]]
) -> None:
    # Given a block the defence imposed
    now_ms = int(clock() * 1000)
    imposed = RangeBlock("+4477009", until_ms=now_ms + 3_600_000, since_ms=now_ms, sends=20, offences=1)
    assert book.impose(imposed, previous_until_ms=0, now_ms=now_ms)
    # Then it is listed with its evidence
    [row] = operator.list()
    assert row == {
        "range": "+4477009",
        "state": "blocked",
        "sends": 20,
        "verified": 0,
        "offences": 1,
        "since": row["since"],
        "until": row["until"],
    }
    assert blocked_now(book, clock)
    # When it is lifted, the next send goes, the change is logged without a number and counted
    operator.lift("+4477009")
    assert not blocked_now(book, clock)
    assert operator.list() == []
    assert [row["state"] for row in operator.list(everything=True)] == ["ended"]
    assert seen["count"] == ["LIFT"]
    assert "+447700900123" not in json.dumps(seen["log"])
    assert seen["log"][0]["range"] == "+4477009"
    # And a lifted range keeps its offences: a re-offence gets the next length
    assert RangeBlock.from_counters("+4477009", book.blocks()[0].numbers()).offences == 1


def test_pin_blocks_until_lifted_and_allow_wins_over_everything(
    operator: RangeOperator, book: DynamoDbBlockBook, clock: FakeClock, seen: dict[str, list[Any]]
) -> None:
    operator.pin("+44770")
    clock.advance(365 * 86_400)
    assert blocked_now(book, clock)
    operator.lift("+44770")
    assert not blocked_now(book, clock)
    operator.pin("+4477009", hours=2)
    assert blocked_now(book, clock)
    clock.advance(2 * 3600 + 1)
    assert not blocked_now(book, clock)
    operator.allow("+4477009")
    # An allowed range is never blocked automatically: the defence cannot impose on it
    now_ms = int(clock() * 1000)
    current = next(b for b in book.blocks() if b.prefix == "+4477009")
    imposed = RangeBlock("+4477009", until_ms=now_ms + 3_600_000, since_ms=now_ms)
    assert not book.impose(imposed, previous_until_ms=current.until_ms, now_ms=now_ms)
    operator.disallow("+4477009")
    assert seen["count"] == ["PIN", "LIFT", "PIN", "ALLOW", "DISALLOW"]


@pytest.mark.parametrize("text", ["+44", "+4477", "+447700900123", "4477009", "+99912345", "+44770x"])
def test_only_ranges_the_defence_keeps_are_taken(text: str) -> None:
    with pytest.raises(OperatorError):
        range_prefix(text)


def test_lifting_what_is_not_blocked_is_an_error(operator: RangeOperator) -> None:
    with pytest.raises(OperatorError, match="not blocked"):
        operator.lift("+4477009")


def test_the_command_line(
    dynamodb_url: str, table_name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", dynamodb_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    out = io.StringIO()
    assert main(["--table", table_name, "pin", "+4477009", "--hours", "3"], out=out) == 0
    out = io.StringIO()
    assert main(["--table", table_name, "list"], out=out) == 0
    assert [row["range"] for row in json.loads(out.getvalue())] == ["+4477009"]
    assert main(["--table", table_name, "lift", "+44"], out=io.StringIO()) == 2
    assert "not a range" in capsys.readouterr().err
