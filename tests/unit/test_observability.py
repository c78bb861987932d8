"""What the observer writes: Pinpoint's free-text StatusMessage reaches the logs bounded and with anything
that looks like a phone number or a code masked; the lighter log formatter writes what Powertools' does."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from otp.domain.models import DeliveryReport, PhoneNumber, SendOutcome
from otp.observability import PowertoolsObserver
from tests.telemetry import captured_output, parse_output

DESTINATION = PhoneNumber(e164="+12065550100", region="US", country_code=1)


def logged_status_message(status_message: str, raw_status: str = "PERMANENT_FAILURE") -> str:
    outcome = SendOutcome(
        destination=DESTINATION,
        reference_id="ref-1",
        report=DeliveryReport(raw_status, "m-1", 400, status_message, "req-1"),
        expires_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    with captured_output() as output:
        PowertoolsObserver().delivery(outcome)
    [line] = [log for log in parse_output(output.getvalue()).logs if "statusMessage" in log]
    return str(line["statusMessage"])


@pytest.mark.parametrize(
    "number",
    [
        "+12065550100",
        "12065550100",
        "+1 (206) 555-0100",
        "206.555.0100",
        "+44 7700 900123",
        "0044 7700900123",
    ],
)
def test_numbers_in_the_status_message_are_masked(number: str) -> None:
    # Given Pinpoint (or a carrier behind it) names the destination in its free-text status
    # When the send is logged
    logged = logged_status_message(f"Destination {number} is unreachable")
    # Then the message keeps its words, and none of the number's digits runs survive
    assert logged.startswith("Destination ")
    assert logged.endswith(" is unreachable")
    for run in ("2065550100", "5550100", "0100", "7700900123", "900123"):
        assert run not in logged.replace(" ", "").replace("-", "").replace(".", "")


def test_a_code_in_the_status_message_is_masked() -> None:
    logged = logged_status_message("Rejected message body: your code is 482913 from Acme")
    assert "482913" not in logged
    assert "your code is" in logged


def test_the_status_message_is_bounded_and_single_line() -> None:
    # Given an enormous status message with control characters
    logged = logged_status_message("carrier said:\n\r\t" + "x" * 100_000 + "\x1b[31m")
    # Then the log keeps a short, single-line prefix of it
    assert len(logged) <= 256
    assert logged.startswith("carrier said:")
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in logged)


def test_an_ordinary_status_message_is_kept_as_it_is() -> None:
    assert logged_status_message("Phone number is opted out", "OPT_OUT") == "Phone number is opted out"


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ("otp sent", ()),
        ("", ()),
        ("123", ()),
        ('{"a": 1}', ()),
        ("[1, 2]", ()),
        ("true", ()),
        (" 7", ()),
        ("NaN", ()),
        ('"quoted"', ()),
        ("sent %s codes", (3,)),
        ({"already": "a dict"}, ()),
    ],
)
def test_the_lean_formatter_writes_what_powertools_writes(message: Any, args: tuple[Any, ...]) -> None:
    # Given the same record, with extra keys and a correlation id, through both formatters
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    from otp.observability import PlainMessageFormatter

    record = logging.LogRecord("otp", logging.INFO, "x.py", 7, message, args, None, func="delivery")
    record.phoneNumber = "+1********00"
    record.statusCode = 200
    record.nothing = None
    record.service = "from-extra"  # an extra overrides a formatter key, in its place
    outputs = []
    for formatter in (LambdaPowertoolsFormatter(), PlainMessageFormatter()):
        formatter.append_keys(service="otp", correlation_id="c-1", level="%(levelname)s!")
        formatter.thread_safe_append_keys(thread_key="t-1", location="%(module)s")
        try:
            outputs.append(formatter.format(record))
        finally:
            formatter.thread_safe_clear_keys()
    # Then the lines are identical, key for key and in the same order
    assert outputs[0] == outputs[1]
    assert list(json.loads(outputs[1]))[:4] == ["level", "location", "message", "timestamp"]
    assert json.loads(outputs[1])["service"] == "from-extra"


def test_a_reserved_key_that_is_not_text_is_refused_as_powertools_refuses_it() -> None:
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    from otp.observability import PlainMessageFormatter

    record = logging.LogRecord("otp", logging.INFO, "x.py", 7, "otp sent", (), None)
    for formatter in (LambdaPowertoolsFormatter(), PlainMessageFormatter()):
        formatter.append_keys(level=5)
        with pytest.raises(ValueError, match="need to be type 'str', instead got 'int'"):
            formatter.format(record)


def test_an_exception_is_formatted_as_powertools_does() -> None:
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    from otp.observability import PlainMessageFormatter

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("otp", logging.ERROR, "x.py", 7, "failed", (), sys.exc_info())
    assert LambdaPowertoolsFormatter().format(record) == PlainMessageFormatter().format(record)


@pytest.mark.parametrize(
    "values",
    [("SUCCESSFUL", "US"), ('quote " and 100%s', ""), ("ünïcödé \u2028", "%d%%"), ("\\", "{}")],
)
def test_the_printed_emf_document_is_the_documented_one_whatever_the_values(values: tuple[str, str]) -> None:
    # Given dimension values with JSON and %-format specials (the printed text comes from a template)
    from otp import metric_names as names
    from otp.observability import _count, emf_document

    counts = (
        (names.OTP_DELIVERY, names.DIM_DELIVERY_STATUS, values[0]),
        (names.OTP_SENT_BY_COUNTRY, names.DIM_COUNTRY, values[1]),
    )
    with captured_output() as output:
        _count(*counts)
    # Then the line is exactly emf_document's content, an empty value counted as "unknown"
    [printed] = parse_output(output.getvalue()).metrics
    assert printed == emf_document(counts, printed["_aws"]["Timestamp"])
    assert printed[names.DIM_COUNTRY] == (values[1] or "unknown")
