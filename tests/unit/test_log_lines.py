"""The event line written without a LogRecord is the line Powertools' formatter writes for the same record,
byte for byte (timestamp included), whatever the extras, the appended keys, the thread's keys, the trace
header and the formatter's time options; where it cannot be, it declines and the standard path writes it."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import logging
import os
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from otp.log_lines import _JSON_START, _RECORD_KEYS, PlainMessageFormatter, event_line, now


class Opaque:
    """Not JSON: Powertools writes its str()."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return f"Opaque<{self.text}>"


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.text(alphabet='"\\\x00\x1f\u2028é😀%')
)
NOT_JSON = st.builds(Opaque, st.text()) | st.datetimes() | st.decimals(allow_nan=False)
VALUES = st.recursive(
    SCALARS | NOT_JSON,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
# Keys that collide with something: Powertools' reserved names (dropped as extras), the formatter's keys
# (replaced in their place), the keys Powertools sets after the extras, and a record's own attributes
# (makeRecord refuses those).
KEYS = st.text(max_size=12) | st.sampled_from(
    [
        "level",
        "location",
        "timestamp",
        "service",
        "sampling_rate",
        "cold_start",
        "function_name",
        "correlation_id",
        "xray_trace_id",
        "stack_trace",
        "exception",
        "exception_name",
        "exception_notes",
        "message",
        "asctime",
        "msg",
        "name",
        "taskName",
        "phoneNumber",
    ]
)
FIELDS = st.dictionaries(KEYS, VALUES, max_size=8)
MESSAGES = st.sampled_from(["otp sent", "otp not delivered", "upstream call failed"]) | st.text(max_size=20)
TRACE_HEADERS = st.sampled_from(
    [
        None,
        "",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "Root=1-abc",
        "Parent=53995c3f42cd8ad8",
        "nonsense;Root=x",
    ]
)
# What the entry points append: inject_lambda_context's keys, a correlation id, cognito's keys, and others.
APPENDED = st.fixed_dictionaries(
    {},
    optional={
        "cold_start": st.booleans(),
        "function_name": st.text(max_size=10),
        "function_memory_size": st.integers(0, 10_240),
        "function_arn": st.just("arn:aws:lambda:us-east-1:123456789012:function:otp-api"),
        "function_request_id": st.uuids().map(str),
        "correlation_id": st.none() | st.text(max_size=10),
        "userNotFound": st.booleans(),
        "trigger": st.none() | st.text(max_size=10),
        "xray_trace_id": st.none() | st.just("placeholder"),
        "sampling_rate": st.none() | st.just("0.1"),
        "stack_trace": st.none() | st.just("kept?"),
        "exception": st.none() | st.just("an appended exception"),
    },
)
CONTEXT = st.dictionaries(
    st.sampled_from(["thread_key", "service", "cold_start", "location"]), SCALARS, max_size=2
)
FORMATTER_OPTIONS = st.sampled_from(
    [
        {},
        {"utc": True},
        {"datefmt": "%H:%M:%S.%F"},
        {"use_rfc3339": True},
        {"use_rfc3339": True, "utc": True},
        {"datefmt": "%Y %F %z", "use_datetime_directive": True},
        {"log_record_order": ["message", "level"]},
        {"log_record_order": ["timestamp", "service", "level", "location", "message"]},
        {"serialize_stacktrace": False},
        {"json_serializer": partial(json.dumps, sort_keys=True, default=repr)},
        {"json_default": repr},
        {"json_serializer": lambda log: json.dumps(log, indent=1, default=str)},
    ]
)
LEVELS = st.sampled_from([logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, 25])


@contextlib.contextmanager
def trace_header(value: str | None) -> Iterator[None]:
    previous = os.environ.pop("_X_AMZN_TRACE_ID", None)
    if value is not None:
        os.environ["_X_AMZN_TRACE_ID"] = value
    try:
        yield
    finally:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
        if previous is not None:
            os.environ["_X_AMZN_TRACE_ID"] = previous


@contextlib.contextmanager
def thread_keys(keys: dict[str, Any]) -> Iterator[None]:
    from aws_lambda_powertools.logging.formatter import clear_context_keys, set_context_keys

    set_context_keys(**keys)
    try:
        yield
    finally:
        clear_context_keys()


def formatters(options: dict[str, Any], appended: dict[str, Any]) -> list[LambdaPowertoolsFormatter]:
    """Powertools' formatter and ours, each with the keys a Logger(service="otp") and then the entry
    points give it."""
    made: list[LambdaPowertoolsFormatter] = []
    for kind in (LambdaPowertoolsFormatter, PlainMessageFormatter):
        formatter = kind(**options)
        formatter.append_keys(service="otp", sampling_rate=None)
        formatter.append_keys(**appended)
        made.append(formatter)
    return made


def record_for(level: int, message: str, fields: dict[str, Any], func: str, lineno: int) -> logging.LogRecord:
    return logging.getLogger("otp").makeRecord("otp", level, "x.py", lineno, message, (), None, func, fields)


def direct(formatter: logging.Formatter, record: logging.LogRecord, fields: dict[str, Any]) -> str | None:
    assert isinstance(record.funcName, str)
    return event_line(
        formatter,
        record.levelno,
        record.funcName,
        record.lineno,
        record.msg,
        fields,
        record.created,
        int(record.msecs),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=FIELDS,
    message=MESSAGES,
    appended=APPENDED,
    context=CONTEXT,
    header=TRACE_HEADERS,
    options=FORMATTER_OPTIONS,
    level=LEVELS,
    func=st.sampled_from(["delivery", "verification", "_emit", "<module>", "naïve_λ"]),
    lineno=st.integers(1, 100_000),
)
def test_the_direct_line_is_the_line_powertools_writes(
    fields: dict[str, Any],
    message: str,
    appended: dict[str, Any],
    context: dict[str, Any],
    header: str | None,
    options: dict[str, Any],
    level: int,
    func: str,
    lineno: int,
) -> None:
    powertools, ours = formatters(options, appended)
    with trace_header(header), thread_keys(context):
        try:
            record = record_for(level, message, fields, func, lineno)
        except KeyError:
            # makeRecord refuses an extra named as one of its attributes: the direct line declines, so
            # that the standard path raises as it does
            assert not fields.keys().isdisjoint(_RECORD_KEYS)
            assert event_line(ours, level, func, lineno, message, fields, time.time(), 0) is None
            return
        line = direct(ours, record, fields)
        try:
            expected = powertools.format(record)
        except (TypeError, ValueError, KeyError):
            expected = None  # a thread key "location" that is not a template: Powertools refuses it
        if expected is not None:
            assert ours.format(record) == expected
    if message[:1] in _JSON_START or context.get("location"):
        # A message that might be JSON (Powertools' decoding attempt decides), or a reserved key with a
        # value that is not one of Powertools' templates: the standard path writes it (or reports it)
        assert line is None
    else:
        assert line == expected


@settings(max_examples=150, deadline=None)
@given(fields=FIELDS, appended=APPENDED, header=TRACE_HEADERS, cold_start=st.booleans())
def test_the_direct_line_of_an_invocation_as_the_entry_points_set_it_up(
    fields: dict[str, Any], appended: dict[str, Any], header: str | None, cold_start: bool
) -> None:
    # Given the keys the entry points append (no thread keys, the default formatter) and an event's
    # extras that are not the record's own attributes
    assume(fields.keys().isdisjoint(_RECORD_KEYS))
    powertools, ours = formatters({}, {**appended, "cold_start": cold_start, "correlation_id": "corr-1"})
    with trace_header(header):
        record = record_for(logging.INFO, "otp sent", fields, "delivery", 321)
        # Then the line is always written directly, and is Powertools' line
        assert direct(ours, record, fields) == powertools.format(record)


def test_a_line_names_its_place_time_level_and_keys_in_powertools_order() -> None:
    # Given a known instant, trace header and keys (a literal line: a reordered key, a lost millisecond or
    # zone, an extra None, fails here even if Powertools itself changed)
    _, ours = formatters({"utc": True}, {"cold_start": True, "function_request_id": "req-1"})
    ours.append_keys(correlation_id="corr-1")
    created = dt.datetime(2026, 12, 7, 5, 4, 3, 21_000, tzinfo=dt.UTC).timestamp()
    fields = {"phoneNumber": "+1********00", "statusCode": 200, "statusMessage": None, "note": 'a "q" é'}
    with trace_header("Root=1-abc;Parent=2;Sampled=1"):
        line = event_line(ours, logging.WARNING, "delivery", 42, "otp not delivered", fields, created, 21)
    assert line == (
        '{"level":"WARNING","location":"delivery:42","message":"otp not delivered",'
        '"timestamp":"2026-12-07 05:04:03,021+0000","service":"otp","cold_start":true,'
        '"function_request_id":"req-1","correlation_id":"corr-1","phoneNumber":"+1********00",'
        '"statusCode":200,"note":"a \\"q\\" é","xray_trace_id":"1-abc"}'
    )


@pytest.mark.parametrize(
    "set_up",
    [
        pytest.param(
            lambda f: f.append_keys(location="%(module)s"), id="a template Powertools fills from elsewhere"
        ),
        pytest.param(
            lambda f: f.append_keys(level=5), id="a reserved key that is not text (Powertools raises)"
        ),
        pytest.param(lambda f: setattr(f, "json_serializer", lambda _: 1 / 0), id="a serialiser that fails"),
    ],
)
def test_what_it_cannot_write_as_powertools_would_it_leaves_to_the_standard_path(set_up: Any) -> None:
    _, ours = formatters({}, {})
    set_up(ours)
    assert event_line(ours, logging.INFO, "f", 1, "otp sent", {}, time.time(), 0) is None


def test_only_its_own_formatter_is_written_directly() -> None:
    # Powertools' formatter (or any other) may be subclassed or configured in ways this cannot see
    for formatter in (LambdaPowertoolsFormatter(), logging.Formatter(), None):
        assert event_line(formatter, logging.INFO, "f", 1, "otp sent", {}, time.time(), 0) is None


@pytest.mark.parametrize(
    "instant_ns",
    [
        1_796_616_243_000_000_000,
        1_796_616_243_999_000_000,
        1_796_616_243_999_999_999,
        1_796_616_243_999_999_900,
        1_796_616_243_000_999_999,
        1_796_616_243_123_456_789,
    ],
)
def test_the_time_is_the_records_time(monkeypatch: pytest.MonkeyPatch, instant_ns: int) -> None:
    # Given the clock stopped (at edges where the float second rounds up)
    monkeypatch.setattr(time, "time_ns", lambda: instant_ns)
    monkeypatch.setattr(time, "time", lambda: instant_ns / 1e9)
    record = logging.LogRecord("otp", logging.INFO, "x.py", 1, "m", (), None)
    # Then the direct line's time is the record's, to the millisecond
    assert now() == (record.created, int(record.msecs))


def test_through_log_event_the_line_is_powertools_line_to_the_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a stopped clock, the keys of an invocation, and the root logger as in Lambda
    from otp.observability import log_event, logger
    from tests.telemetry import captured_output
    from tests.unit.test_observability import root_as_in_lambda

    monkeypatch.setattr(time, "time_ns", lambda: 1_796_616_243_456_789_012)
    monkeypatch.setattr(time, "time", lambda: 1_796_616_243.456789)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    logger.append_keys(cold_start=True, function_request_id="req-1")
    logger.set_correlation_id("corr-1")
    fields = {"phoneNumber": "+1********00", "statusMessage": None, "sends": 3, "level": 2}
    lines = []
    try:
        with root_as_in_lambda():
            for fast in (True, False):
                with captured_output() as output:
                    # One line for both, so that both name the same location.
                    log_event(logging.WARNING, "number range blocked", fields) if fast else logger.warning("number range blocked", extra=fields)  # fmt: skip  # noqa: E501
                lines.append(output.getvalue())
    finally:
        logger.remove_keys(["cold_start", "function_request_id"])
        logger.set_correlation_id(None)
    # Then the lines are the same text, timestamp included; the extra named "level" is dropped by both
    assert lines[0] == lines[1]
    assert json.loads(lines[0])["level"] == "WARNING"
    assert json.loads(lines[0])["timestamp"][16:23] == ":03,456"  # the seconds, whatever the zone


def test_a_record_factory_sees_every_event_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a LogRecord factory (which may add attributes Powertools would write)
    from otp.observability import log_event
    from tests.telemetry import captured_output
    from tests.unit.test_observability import root_as_in_lambda

    base = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        record.tenant = "t-1"
        return record

    monkeypatch.setattr(logging, "_logRecordFactory", factory)
    with root_as_in_lambda(), captured_output() as output:
        log_event(logging.INFO, "otp sent", {"phoneNumber": "+1********00"})
    # Then the line went through it
    assert json.loads(output.getvalue())["tenant"] == "t-1"


def test_non_json_values_are_written_as_their_text() -> None:
    powertools, ours = formatters({}, {})
    fields = {"when": dt.datetime(2026, 1, 2), "amount": decimal.Decimal("1.50"), "what": Opaque("x")}
    record = record_for(logging.INFO, "otp sent", fields, "f", 1)
    line = direct(ours, record, fields)
    assert line == powertools.format(record)
    assert '"amount":"1.50"' in str(line)
    assert '"what":"Opaque<x>"' in str(line)


@contextlib.contextmanager
def time_zone(name: str) -> Iterator[None]:
    previous = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()


# Berlin's clocks went forward at 2026-03-29 01:00:00 UTC: the zone changes between these two seconds.
BERLIN_SPRING = dt.datetime(2026, 3, 29, 1, 0, 0, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize("utc", [False, True])
def test_the_timestamp_is_powertools_in_any_zone_and_across_a_zone_change(utc: bool) -> None:
    # Given the same instants logged in zones with odd offsets, across a summer-time change, and a zone
    # changed within one second (the date and time are reused for a second, never across zones)
    instants = [BERLIN_SPRING - 1 + 0.999, BERLIN_SPRING, BERLIN_SPRING + 0.5, 1_796_616_243.25]
    compared = 0
    for instant in instants:
        for zone in ("Asia/Kolkata", "America/St_Johns", "Europe/Berlin", "UTC", "Asia/Kolkata"):
            with time_zone(zone):
                powertools, ours = formatters({"utc": utc}, {})
                record = record_for(logging.INFO, "otp sent", {}, "f", 1)
                record.created, record.msecs = instant, float(int((instant - int(instant)) * 1000))
                # Then the line is Powertools' line, zone and all
                assert direct(ours, record, {}) == powertools.format(record)
                compared += 1
    assert compared == 20
