"""The JSON log lines: Powertools' formatter made lighter, and the per-request event line written
without a ``LogRecord``.

Both write what Powertools' ``LambdaPowertoolsFormatter`` writes, byte for byte (tests/unit/
test_log_lines.py compares them with Powertools' own lines). ``event_line`` follows the formatter's
steps for a record without arguments or an exception: the formatter's keys (``level``, ``location``,
``timestamp`` filled from their templates), the thread's keys, the record's extras, the message, then
``xray_trace_id``; keys whose value is None dropped; the formatter's own serialiser. What it does not
reproduce (another formatter or serialiser set-up it cannot see through, a key template other than
Powertools' three, a message that might be JSON, extras a ``LogRecord`` refuses, another
``LogRecord`` factory, any error) it leaves to the standard path by answering None.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from aws_lambda_powertools.logging.formatter import (
    RESERVED_LOG_ATTRS,
    LambdaPowertoolsFormatter,
    _get_context,
)
from aws_lambda_powertools.shared.constants import XRAY_TRACE_ID_ENV

# Characters a JSON text can start with (RFC 8259 values, whitespace, and Python's NaN/Infinity).
_JSON_START = frozenset('{["-0123456789tfnNI \t\n\r')

# Powertools keeps these in a tuple: a set makes each membership test one hash lookup.
_RESERVED = frozenset(RESERVED_LOG_ATTRS)


class PlainMessageFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log formatter, minus a failed ``json.loads`` per line and half its key work.

    Powertools tries to decode every text message as JSON (so that ``logger.info('{"a": 1}')`` logs an
    object); for this service's messages ("otp sent") that attempt always fails, and raising and catching
    the decode error is a measurable part of each log line. A message that cannot be JSON, because of
    its first character, is kept as text without the attempt. The keys are gathered as Powertools does,
    testing each record attribute against a set instead of a 24-item tuple (9 -> 4 µs a line). The output
    is the same, key for key and in the same order (tests/unit/test_observability.py).
    """

    def _extract_log_keys(self, log_record: logging.LogRecord) -> dict[str, Any]:
        record_dict = log_record.__dict__.copy()
        record_dict["asctime"] = self.formatTime(record=log_record)
        formatted: dict[str, Any] = {}
        # The formatter's keys, then the thread's own keys, then the record's extras, as Powertools does.
        for keys in (self.log_format, _get_context().get()):
            for key, value in keys.items():
                if value and key in _RESERVED:
                    if not isinstance(value, str):
                        raise ValueError(
                            "Logging keys that override reserved log attributes need to be type 'str', "
                            f"instead got '{type(value).__name__}'"
                        )
                    formatted[key] = value % record_dict
                else:
                    formatted[key] = value
        for key, value in record_dict.items():
            if key not in _RESERVED:
                formatted[key] = value
        return formatted

    def _extract_log_message(self, log_record: logging.LogRecord) -> Any:
        message = log_record.msg
        if isinstance(message, str) and not log_record.args and message[:1] not in _JSON_START:
            return message
        return super()._extract_log_message(log_record)


# What a LogRecord holds: an extra with one of these names makes ``makeRecord`` raise. Those of its
# attributes that Powertools does not reserve are written as extras: ``taskName`` (Python 3.12+), None
# outside an asyncio task. On a Python whose records hold anything else, every line takes the standard
# path.
_SAMPLE = logging.LogRecord("", logging.INFO, "", 0, "", (), None)
_RECORD_KEYS = frozenset(_SAMPLE.__dict__) | {"message", "asctime"}
_RECORD_EXTRAS = tuple(key for key in _SAMPLE.__dict__ if key not in _RESERVED)
_SUPPORTED = _RECORD_EXTRAS in ((), ("taskName",))
del _SAMPLE

# Powertools' three key templates, and what fills each.
_LEVEL, _LOCATION, _ASCTIME = 0, 1, 2
_TEMPLATES = {"%(levelname)s": _LEVEL, "%(funcName)s:%(lineno)d": _LOCATION, "%(asctime)s": _ASCTIME}
_TIME_FORMAT = LambdaPowertoolsFormatter.default_time_format  # "%Y-%m-%d %H:%M:%S,%F%z"
# json.dumps' options that it passes on to JSONEncoder as they are.
_DUMPS_OPTIONS = frozenset(
    {
        "skipkeys",
        "ensure_ascii",
        "check_circular",
        "allow_nan",
        "indent",
        "separators",
        "default",
        "sort_keys",
    }
)

if sys.version_info >= (3, 13):

    def now() -> tuple[float, int]:
        """``LogRecord.created`` and its whole milliseconds, as this Python's ``LogRecord`` computes them."""
        ct = time.time_ns()
        created = ct / 1e9
        msecs = (ct % 1_000_000_000) // 1_000_000
        if msecs == 999 and int(created) != ct // 1_000_000_000:
            msecs = 0  # the float second rounded up
        return created, msecs

else:

    def now() -> tuple[float, int]:
        """``LogRecord.created`` and its whole milliseconds, as this Python's ``LogRecord`` computes them."""
        ct = time.time()
        return ct, int((ct - int(ct)) * 1000)


class _Moment:
    """What Powertools' ``formatTime`` reads of a record."""

    __slots__ = ("created", "msecs")

    def __init__(self, created: float, msecs: int) -> None:
        self.created = created
        self.msecs = float(msecs)


# The date and time to the second, and the zone, change once a second (or when time.tzset() changes the
# zone, and time.tzname with it): (converter, second, tzname, date and time, zone).
_second: tuple[Callable[..., Any] | None, int, object, str, str] = (None, -1, None, "", "")


def _asctime(formatter: PlainMessageFormatter, created: float, msecs: int) -> str:
    """``formatter.formatTime`` of a record created then."""
    converter = formatter.converter
    if (
        formatter.datefmt is not None
        or formatter.use_rfc3339_iso8601
        or formatter.default_time_format != _TIME_FORMAT
        or formatter.custom_ms_time_directive != "%F"
        or (converter is not time.localtime and converter is not time.gmtime)
    ):
        return formatter.formatTime(_Moment(created, msecs))  # type: ignore[arg-type]
    global _second
    second = int(created)
    if _second[0] is not converter or _second[1] != second or _second[2] is not time.tzname:
        moment = converter(created)
        head, zone = time.strftime("%Y-%m-%d %H:%M:%S,", moment), time.strftime("%z", moment)
        _second = (converter, second, time.tzname, head, zone)
    return f"{_second[3]}{msecs:03d}{_second[4]}"


# The formatter's serialiser, and the encoder that writes the same text without json.dumps' per-call set-up.
_serialiser: tuple[Callable[..., str] | None, Callable[[Any], str]] = (None, json.dumps)


def _encoder(serialiser: Callable[..., str]) -> Callable[[Any], str]:
    global _serialiser
    if _serialiser[0] is not serialiser:
        encode: Callable[[Any], str] = serialiser
        if (
            isinstance(serialiser, partial)
            and serialiser.func is json.dumps
            and not serialiser.args
            and _DUMPS_OPTIONS.issuperset(serialiser.keywords)
        ):
            # json.dumps(obj, **options) is JSONEncoder(**options).encode(obj)
            encode = json.JSONEncoder(**serialiser.keywords).encode
        _serialiser = (serialiser, encode)
    return _serialiser[1]


def _task_name() -> Any:
    """``LogRecord.taskName``: the running asyncio task's name, if logging records it."""
    if not getattr(logging, "logAsyncioTasks", False):
        return None
    asyncio = sys.modules.get("asyncio")
    if asyncio:
        try:
            return asyncio.current_task().get_name()
        except Exception:  # as LogRecord: no running loop, no task
            return None
    return None


def _fill(
    line: dict[Any, Any],
    keys: dict[str, Any],
    formatter: PlainMessageFormatter,
    level: int,
    func: str,
    lineno: int,
    created: float,
    msecs: int,
) -> bool:
    """Fill the reserved ``keys`` that have a template as Powertools does; False for a template (or a value
    that is not text, which Powertools refuses) other than its three."""
    for key in _RESERVED.intersection(keys):
        value = keys[key]
        if not value:
            continue
        template = _TEMPLATES.get(value) if type(value) is str else None
        if template is None:
            return False
        if template == _LEVEL:
            line[key] = logging.getLevelName(level)
        elif template == _LOCATION:
            line[key] = f"{func}:{lineno:d}"
        else:
            line[key] = _asctime(formatter, created, msecs)
    return True


def event_line(
    formatter: logging.Formatter | None,
    level: int,
    func: str,
    lineno: int,
    message: str,
    fields: dict[str, Any],
    created: float,
    msecs: int,
) -> str | None:
    """The line ``formatter.format`` writes for ``logger.log(level, message, extra=fields)`` called from
    ``func`` at ``lineno`` at ``created`` (``msecs`` its milliseconds), or None when it may not be."""
    if (
        not _SUPPORTED
        or type(formatter) is not PlainMessageFormatter
        or type(message) is not str
        or message[:1] in _JSON_START
        or not fields.keys().isdisjoint(_RECORD_KEYS)
    ):
        return None
    try:
        log_format = formatter.log_format
        line: dict[Any, Any] = dict(log_format)
        # The formatter's keys, then the thread's, each reserved one filled from its template in its place.
        if not _fill(line, log_format, formatter, level, func, lineno, created, msecs):
            return None
        context = _get_context().get()
        if context:
            line.update(context)
            if not _fill(line, context, formatter, level, func, lineno, created, msecs):
                return None
        if _RECORD_EXTRAS:
            line["taskName"] = _task_name()
        if fields.keys().isdisjoint(_RESERVED):
            line.update(fields)
        else:  # an extra with a reserved name is not written
            line.update({key: value for key, value in fields.items() if key not in _RESERVED})
        line["message"] = message
        # Powertools then sets exception, exception_name and exception_notes to what they were, or None (no
        # exception): nothing written changes. It sets stack_trace to None (no exception): not written.
        if formatter.serialize_stacktrace:
            line.pop("stack_trace", None)
        trace = None
        if log_format.get("xray_trace_id", "") is not None:
            header = os.environ.get(XRAY_TRACE_ID_ENV)
            trace = header.split(";")[0].replace("Root=", "") if header else None
        line["xray_trace_id"] = trace
        return _encoder(formatter.json_serializer)({k: v for k, v in line.items() if v is not None})
    except Exception:  # the standard path writes it, or reports it as it does
        return None
