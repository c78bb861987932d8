"""What the observer writes: Pinpoint's free-text StatusMessage reaches the logs bounded and with anything
that looks like a phone number or a code masked; the lighter log formatter writes what Powertools' does; the
EMF line printed from its cached text is ``emf_document`` serialised, byte for byte."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


EVENT_FIELDS = {"phoneNumber": "+1********00", "referenceId": "ref-1", "statusCode": 200, "nothing": None}


@contextlib.contextmanager
def root_as_in_lambda() -> Iterator[logging.StreamHandler[io.StringIO]]:
    """The root logger as the Lambda runtime leaves it: one handler, which Powertools' filter tells to
    drop this service's records (pytest's capturing handlers, added for each test phase, are set aside
    meanwhile, so this must run inside the test itself)."""
    from aws_lambda_powertools.logging.filters import SuppressFilter

    runtime = logging.StreamHandler(io.StringIO())
    runtime.addFilter(SuppressFilter("otp"))
    previous = logging.root.handlers
    logging.root.handlers = [runtime]
    try:
        yield runtime
    finally:
        logging.root.handlers = previous


def _emit(fast: bool, level: int = logging.INFO) -> None:
    from otp.observability import log_event, logger

    # One line for both, so that both name the same location.
    log_event(level, "otp sent", dict(EVENT_FIELDS)) if fast else logger.info("otp sent", extra=dict(EVENT_FIELDS))  # fmt: skip  # noqa: E501


def test_event_lines_take_the_short_path_only_where_the_loggers_handler_alone_writes() -> None:
    from otp.observability import _sole_handler, logger

    with root_as_in_lambda() as runtime:
        # As in Lambda: the short path
        assert _sole_handler(logger._logger) is logger.registered_handler
        # A handler up the hierarchy that would write the record too: the standard path
        logging.root.handlers = [runtime, logging.NullHandler()]
        assert _sole_handler(logger._logger) is None


def test_an_event_line_is_the_line_powertools_writes_from_the_same_place() -> None:
    # Given a logger carrying an invocation's keys, as the entry points set them
    from otp.observability import logger

    logger.append_keys(function_request_id="req-1", cold_start=False)
    logger.set_correlation_id("corr-1")
    logger.thread_safe_append_keys(thread_key="t-1")
    try:
        lines = []
        with root_as_in_lambda() as runtime:
            for fast in (True, False):
                with captured_output() as output:
                    _emit(fast)
                lines.append(output.getvalue())
    finally:
        logger.remove_keys(["function_request_id", "cold_start"])
        logger.set_correlation_id(None)
        logger.thread_safe_clear_keys()
    # Then both are one line, equal key for key and in the same order (the millisecond may differ)
    fast_line, powertools_line = (json.loads(line) for line in lines)
    assert all(line.count("\n") == 1 for line in lines)
    assert list(fast_line) == list(powertools_line)
    fast_line.pop("timestamp"), powertools_line.pop("timestamp")
    assert fast_line == powertools_line
    assert fast_line["location"].startswith("_emit:")
    assert fast_line["correlation_id"] == "corr-1"
    assert fast_line["thread_key"] == "t-1"
    # and the runtime's handler on the root logger wrote neither
    assert runtime.stream.getvalue() == ""


def test_an_event_line_below_the_loggers_level_is_not_written() -> None:
    from otp.observability import logger

    previous = logger.log_level
    logger.setLevel(logging.WARNING)
    try:
        with root_as_in_lambda(), captured_output() as output:
            _emit(fast=True)
            _emit(fast=True, level=logging.WARNING)
    finally:
        logger.setLevel(previous)
    assert [line["level"] for line in parse_output(output.getvalue()).logs] == ["WARNING"]


def test_a_filter_on_the_logger_still_sees_every_event_line_and_its_callers_location() -> None:
    # Given a filter that drops lines and records where each came from
    from otp.observability import logger

    seen: list[str] = []

    def drop(record: logging.LogRecord) -> bool:
        seen.append(record.funcName)
        return False

    logger.addFilter(drop)
    try:
        with root_as_in_lambda(), captured_output() as output:
            _emit(fast=True)
    finally:
        logger.removeFilter(drop)
    # Then the line went through the filter, which saw the function that logged, and was dropped
    assert seen == ["_emit"]
    assert parse_output(output.getvalue()).logs == []


def test_an_event_line_still_reaches_a_handler_that_does_not_drop_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given pytest's capturing handler on the root logger (any handler without Powertools' filter)
    with caplog.at_level(logging.INFO), captured_output() as output:
        _emit(fast=True)
    # Then the line is written by the logger's handler and reaches that handler too, from its caller
    assert [line["message"] for line in parse_output(output.getvalue()).logs] == ["otp sent"]
    assert [(record.getMessage(), record.funcName) for record in caplog.records] == [("otp sent", "_emit")]


def test_a_line_that_cannot_be_written_is_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    from otp.observability import log_event

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    # When a field cannot be serialised
    with root_as_in_lambda(), captured_output() as output:
        log_event(logging.INFO, "otp sent", {"field": Unprintable()})
    # Then the caller goes on, nothing half-written reaches the log, and logging reports it on stderr
    assert output.getvalue() == ""
    assert "RuntimeError: no text" in capsys.readouterr().err


def test_a_right_code_counts_for_its_country_and_a_wrong_one_does_not() -> None:
    from otp import metric_names as names
    from otp.domain.models import PhoneNumber
    from otp.observability import PowertoolsObserver

    number = PhoneNumber("+447700900123", "GB", 44, "MOBILE")
    with captured_output() as output:
        PowertoolsObserver().verification(number, "ref-1", valid=True)
        PowertoolsObserver().verification(number, "ref-2", valid=False, reason="WRONG_CODE")
    right, wrong = parse_output(output.getvalue()).metrics
    assert (right[names.OTP_VERIFIED_BY_COUNTRY], right[names.DIM_COUNTRY]) == ([1.0], "GB")
    assert names.OTP_VERIFIED_BY_COUNTRY not in wrong


def test_a_block_is_counted_by_country_and_logged_with_its_range_never_a_number() -> None:
    from otp import metric_names as names
    from otp.domain.ports import RangeBlock
    from otp.observability import PowertoolsObserver

    block = RangeBlock("+4477009", until_ms=2_000, since_ms=1_000, sends=20, verified=1, level=2, offences=3)
    with captured_output() as output:
        PowertoolsObserver().range_blocked(block, "GB")
    parsed = parse_output(output.getvalue())
    [metric] = parsed.metrics
    assert (metric[names.OTP_RANGE_BLOCKED], metric[names.DIM_COUNTRY]) == ([1.0], "GB")
    # The line holds the whole evidence, each under its own key (none dropped as a reserved name)
    [line] = parsed.logs
    assert (line["level"], line["message"]) == ("WARNING", "number range blocked")
    evidence = {key: line[key] for key in ("range", "country", "sends", "verified", "blockLevel", "offences")}
    assert evidence == {
        "range": "+4477009",
        "country": "GB",
        "sends": 20,
        "verified": 1,
        "blockLevel": 2,
        "offences": 3,
    }
    assert (line["since"], line["until"]) == (1_000, 2_000)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.text() | st.sampled_from(["", "%d", "%%", '"', "\\", "ünï", "\u2028"]), min_size=1, max_size=2
    ),
    millis=st.integers(0, 2**42),
)
def test_the_printed_emf_line_is_emf_document_serialised(values: list[str], millis: int) -> None:
    from otp import metric_names as names
    from otp.observability import _count, emf_document

    counts = tuple(
        zip(
            (names.OTP_DELIVERY, names.OTP_SENT_BY_COUNTRY),
            (names.DIM_DELIVERY_STATUS, names.DIM_COUNTRY),
            values,
            strict=False,
        )
    )
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setattr(time, "time", lambda: millis / 1000)
        _count(*counts)
    expected = json.dumps(emf_document(counts, int(millis / 1000 * 1000)), separators=(",", ":"))
    assert printed.getvalue() == expected + "\n"


def test_metrics_follow_the_switch_as_it_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    from otp import metric_names as names
    from otp.observability import _count

    count = (names.OTP_REJECTED, names.DIM_REASON, "INVALID_PHONE")
    printed = []
    for disabled in ("true", "false", "1", None):
        if disabled is None:
            monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
        else:
            monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", disabled)
        with contextlib.redirect_stdout(io.StringIO()) as out:
            _count(count)
        printed.append(bool(out.getvalue()))
    assert printed == [False, True, False, True]
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "maybe")
    with pytest.raises(ValueError, match="invalid truth value"):  # as Powertools' own check
        _count(count)
