"""Logger, tracer and the metric/log reporting shared by every entry point.

Metrics are CloudWatch embedded metric format (EMF) documents printed to stdout, one per event. Every
metric of an event is its own metric directive with its own dimension set, ``service`` + the metric's
own dimension (``OtpDelivery`` by ``DeliveryStatus``, ``OtpSentByCountry`` by ``Country``...), exactly
what the dashboards and alarms select (infra/monitoring.py). One document per event, written here
rather than through Powertools' ``single_metric`` (one document per metric, each with its own
validation and serialisation), costs a send about a third of what two ``single_metric`` did.

The tracer is Powertools' only when tracing is on: Powertools' ``Tracer`` imports the X-Ray SDK even
when it is disabled, and the SDK's recorder builds two boto3 X-Ray clients on import, which costs a
cold start ~150 ms and ~20 MiB for nothing.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.filters import SuppressFilter
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.shared.constants import METRICS_DISABLED_ENV, POWERTOOLS_DEV_ENV

from otp import metric_names as names
from otp.domain.models import DeliveryStatus, PhoneNumber, SendOutcome
from otp.domain.ports import RangeBlock
from otp.log_lines import PlainMessageFormatter as PlainMessageFormatter
from otp.log_lines import event_line, now


class HandlerTracer(Protocol):
    """The part of Powertools' Tracer the entry points use."""

    def capture_lambda_handler(
        self,
        lambda_handler: Callable[..., Any] | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Callable[..., Any]: ...


class TracingOff:
    """Stands in for Powertools' Tracer when tracing is off: the handler is returned undecorated."""

    def capture_lambda_handler(
        self,
        lambda_handler: Callable[..., Any] | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Callable[..., Any]:
        if lambda_handler is None:
            return lambda handler: handler
        return lambda_handler


def tracing_disabled() -> bool:
    """Powertools' own rule: POWERTOOLS_TRACE_DISABLED, or not running in Lambda (SAM, Chalice, local)."""
    return bool(Tracer._is_tracer_disabled())


logger = Logger(service=names.SERVICE, logger_formatter=PlainMessageFormatter())


def log_event(level: int, message: str, fields: dict[str, Any]) -> None:
    """``logger.info(message, extra=fields)`` (or warning, error) for the per-request event lines: the
    same line, written without the standard library's per-call path.

    Between real network calls, Powertools' wrapper, ``findCaller``'s frame walk and the handler
    chain cost a warm ``POST /otp`` about as much as formatting the line (bench: warm p50 ratio -0.02
    to -0.08). Only when the line would reach this logger's handler alone (handlers up the hierarchy,
    such as the Lambda runtime's on the root logger, carry Powertools' filter that drops it); with any
    other set-up (a filter, another handler such as pytest's, Powertools' log buffer) the line goes
    through Powertools' method. The line itself is built without a ``LogRecord`` (log_lines.event_line:
    the same text, half the time); where that declines, the handler formats a record as before.
    """
    inner = logger._logger
    if not inner.isEnabledFor(level):
        return
    handler = _sole_handler(inner)
    if handler is None:
        by_level = {logging.INFO: logger.info, logging.WARNING: logger.warning, logging.ERROR: logger.error}
        by_level[level](message, extra=fields, stacklevel=3)  # 3: the location is log_event's caller
        return
    caller = sys._getframe(1)  # the location Powertools writes: the function that logs, and its line
    code = caller.f_code

    def record() -> logging.LogRecord:
        return inner.makeRecord(
            inner.name, level, code.co_filename, caller.f_lineno, message, (), None, code.co_name, fields
        )

    text = None
    if (
        logging.getLogRecordFactory() is logging.LogRecord
        and type(inner).makeRecord is logging.Logger.makeRecord
        and type(handler).format is logging.Handler.format
    ):
        # Powertools' line for the record makeRecord would make, written without making it (log_lines.py).
        created, msecs = now()
        text = event_line(
            handler.formatter, level, code.co_name, caller.f_lineno, message, fields, created, msecs
        )
    made = record() if text is None else None  # raises, as makeRecord does, on an extra it refuses
    handler.acquire()
    try:
        if made is not None:
            text = handler.format(made)
        handler.stream.write(f"{text}{handler.terminator}")
        handler.flush()
    except Exception:  # as logging does: a broken line is reported on stderr, never raised
        handler.handleError(made or record())
    finally:
        handler.release()


def _sole_handler(inner: logging.Logger) -> logging.StreamHandler[Any] | None:
    """This logger's one stream handler, when it is the only handler that would write its records."""
    handlers = inner.handlers
    handler = handlers[0] if len(handlers) == 1 else None
    if not isinstance(handler, logging.StreamHandler) or handler.filters or inner.filters:
        return None
    if logger._buffer_config:
        return None
    ancestor = inner.parent if inner.propagate else None
    while ancestor is not None:
        for other in ancestor.handlers:
            if not any(isinstance(f, SuppressFilter) and f.logger in inner.name for f in other.filters):
                return None
        ancestor = ancestor.parent if ancestor.propagate else None
    return handler


_QUOTA_ENGINES = {
    c: engine for engine, codes in names.ENGINE_QUOTA_ERROR_CODES_BY_ENGINE.items() for c in codes
}
_DEPLOYMENT_FAULTS = frozenset(
    c for codes in names.DEPLOYMENT_FAULT_ERROR_CODES_BY_ENGINE.values() for c in codes
) | frozenset(_QUOTA_ENGINES)
tracer: HandlerTracer = TracingOff() if tracing_disabled() else Tracer(service=names.SERVICE)


def emf_document(
    counts: tuple[tuple[str, str, str], ...], timestamp_ms: int, *, unit: str = "Count", value: float = 1
) -> dict[str, Any]:
    """One EMF document with one data point (1 Count unless said) of each ``(metric, dimension, value)``,
    each metric selectable by ``service`` + its own dimension. The dimensions of one document must be
    distinct."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": names.NAMESPACE,
                    "Dimensions": [[names.DIM_SERVICE, dimension]],
                    "Metrics": [{"Name": metric, "Unit": unit}],
                }
                for metric, dimension, _ in counts
            ],
        },
        names.DIM_SERVICE: names.SERVICE,
    }
    for metric, dimension, dimension_value in counts:
        # CloudWatch drops a data point whose dimension value is empty.
        document[dimension] = dimension_value or "unknown"
        document[metric] = [float(value)]  # a list of values, as Powertools writes them
    return document


@lru_cache(maxsize=512)
def _emf_line(counts: tuple[tuple[str, str, str], ...]) -> str:
    """The serialised ``emf_document`` of these counts, with ``%d`` for its timestamp: a send then costs
    one ``%`` instead of building and encoding the whole document. The documents written are a few
    hundred at most (statuses, reasons and error codes, countries), so the cache keeps them."""
    text = json.dumps(emf_document(counts, 0), separators=(",", ":")).replace("%", "%%")
    return text.replace('"Timestamp":0,', '"Timestamp":%d,', 1)


# (POWERTOOLS_DEV, POWERTOOLS_METRICS_DISABLED) as last read, and what Powertools made of them.
_metrics_switch: tuple[tuple[str | None, str | None] | None, bool] = (None, False)


def _metrics_disabled() -> bool:
    """``is_metrics_disabled()``, read again only when one of the two variables it reads has changed."""
    global _metrics_switch
    values = (os.environ.get(POWERTOOLS_DEV_ENV), os.environ.get(METRICS_DISABLED_ENV))
    if values != _metrics_switch[0]:
        _metrics_switch = (values, is_metrics_disabled())
    return _metrics_switch[1]


def _count(*counts: tuple[str, str, str]) -> None:
    if _metrics_disabled():  # POWERTOOLS_METRICS_DISABLED, as Powertools' own metrics honour it
        return
    # stdout, one line: what Lambda ships to CloudWatch Logs, where the metrics are extracted.
    print(_emf_line(counts) % int(time.time() * 1000))


# Pinpoint's StatusMessage is free text from the carrier path: it may name the destination or quote
# the message. Logged bounded, on one line, with every run of 4+ digits (separators allowed) masked.
STATUS_MESSAGE_MAX = 200
_DIGIT_RUN = re.compile(r"\+?[0-9](?:[\s().-]{0,2}[0-9]){3,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def sanitised_status_message(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = _DIGIT_RUN.sub("***", _CONTROL.sub(" ", text[: STATUS_MESSAGE_MAX * 5]))
    if len(cleaned) > STATUS_MESSAGE_MAX:
        cleaned = cleaned[: STATUS_MESSAGE_MAX - 1] + "…"
    return cleaned


def _gauge(metric: str, dimension: str, value: str, amount: float) -> None:
    """One data point of a percentage (a budget's use), in a document of its own."""
    if _metrics_disabled():
        return
    document = emf_document(
        ((metric, dimension, value),), int(time.time() * 1000), unit="Percent", value=amount
    )
    print(json.dumps(document, separators=(",", ":")))


class PowertoolsObserver:
    """The domain's OtpObserver: one structured log line and one metric per event, never the code."""

    def delivery(self, outcome: SendOutcome) -> None:
        report = outcome.report
        status = outcome.status
        _count(
            (names.OTP_DELIVERY, names.DIM_DELIVERY_STATUS, status.value),
            (names.OTP_SENT_BY_COUNTRY, names.DIM_COUNTRY, outcome.destination.region),
        )
        fields = {
            "phoneNumber": outcome.destination.masked,
            "country": outcome.destination.region,
            "channel": outcome.channel.value,
            "referenceId": outcome.reference_id,
            "deliveryStatus": status.value,
            "statusCode": report.status_code,
            "statusMessage": sanitised_status_message(report.status_message),
            "messageId": report.message_id,
            "pinpointRequestId": report.request_id,
        }
        if report.raw_status != status.value:
            fields["rawDeliveryStatus"] = report.raw_status
        if status is DeliveryStatus.SUCCESSFUL:
            log_event(logging.INFO, "otp sent", fields)
        else:
            log_event(logging.WARNING, "otp not delivered", fields)

    def verification(
        self, destination: PhoneNumber, reference_id: str, *, valid: bool, reason: str | None = None
    ) -> None:
        result = "VALID" if valid else "INVALID"
        if valid:
            _count(
                (names.OTP_VERIFICATION, names.DIM_RESULT, result),
                (names.OTP_VERIFIED_BY_COUNTRY, names.DIM_COUNTRY, destination.region),
            )
        else:
            _count((names.OTP_VERIFICATION, names.DIM_RESULT, result))
        fields = {"phoneNumber": destination.masked, "referenceId": reference_id, "result": result}
        if reason is not None:
            fields["reason"] = reason
        log_event(logging.INFO, "otp verified", fields)

    def rejected(self, reason: str, *, destination: PhoneNumber | None = None) -> None:
        _count((names.OTP_REJECTED, names.DIM_REASON, reason))
        extra = {"reason": reason}
        if destination is not None:
            extra["phoneNumber"] = destination.masked
        log_event(logging.INFO, "otp request rejected", extra)

    def range_blocked(self, block: RangeBlock, country: str) -> None:
        """The adaptive defence blocked a range: its prefix (a range, never a number) and its evidence."""
        _count((names.OTP_RANGE_BLOCKED, names.DIM_COUNTRY, country))
        log_event(
            logging.WARNING,
            "number range blocked",
            {
                "range": block.prefix,
                "country": country,
                "sends": block.sends,
                "verified": block.verified,
                # Not "level": Powertools reserves it for the line's level and drops an extra so named.
                "blockLevel": block.level,
                "offences": block.offences,
                "since": block.since_ms,
                "until": block.until_ms,
            },
        )

    def budget_usage(self, scope: str, percent: int) -> None:
        """How full a send budget is (ALL or a country), after a send was charged to it."""
        _gauge(names.OTP_SEND_BUDGET_USED, names.DIM_BUDGET, scope, percent)

    def upstream_error(self, code: str, operation: str, *, maybe_sent: bool) -> None:
        engine = _QUOTA_ENGINES.get(code)
        if engine is not None:
            _count(
                (names.OTP_UPSTREAM_ERROR, names.DIM_ERROR_CODE, code),
                (names.OTP_ENGINE_QUOTA_EXCEEDED, names.DIM_ENGINE, engine),
            )
        else:
            _count((names.OTP_UPSTREAM_ERROR, names.DIM_ERROR_CODE, code))
        # Whichever engine or store failed: the operation names it. A BadRequest means this service built
        # a wrong request: that is our bug, so it is an error.
        log_event(
            logging.ERROR if code in _DEPLOYMENT_FAULTS else logging.WARNING,
            "upstream call failed",
            {"errorCode": code, "operation": operation, "maybeSent": maybe_sent},
        )
