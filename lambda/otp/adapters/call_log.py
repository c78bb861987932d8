"""DEBUG lines for the adapters' AWS calls: which operation, how it ended, how long it took.

With ``POWERTOOLS_LOG_LEVEL=DEBUG`` (``logLevel``), every call a client of ``otp.adapters.aws_sdk`` makes
logs one ``aws call`` line once botocore is done with it, its retries included: ``awsService``,
``awsOperation``, ``httpStatus``, ``errorCode`` (or ``exception``, the type of a failure with no answer,
such as a timeout), ``retryAttempts`` and ``elapsedMs``. That is what an operator needs to see where a
slow or failed request spent its time, table by engine call.

Never the request's parameters or the answer's body: the destination number, the code being checked,
device-ticket records and keys travel there. botocore's own DEBUG output prints both whole, which is
why nothing here turns it on (the sandbox keeps its ``botocore`` logger at WARNING).

The lines go to the service's logger (``otp``, Powertools' JSON lines with the invocation's keys).
Nothing is registered unless that logger takes DEBUG lines when the client is created, so at INFO a
call costs nothing more.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final, TypeVar

from botocore.client import BaseClient

_logger: Final = logging.getLogger("otp")  # otp.observability's Powertools logger, by its name
_STARTED: Final = "otp_call_started"

C = TypeVar("C", bound=BaseClient)


def log_calls(client: C) -> C:
    """``client``, with one DEBUG line per call when the service logger takes DEBUG lines."""
    if _logger.isEnabledFor(logging.DEBUG):
        client.meta.events.register("before-parameter-build", _started)
        client.meta.events.register("after-call", _answered)
        client.meta.events.register("after-call-error", _failed)
    return client


def _started(context: dict[str, Any], **_: Any) -> None:
    context[_STARTED] = time.perf_counter()


def _answered(
    http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
) -> None:
    metadata = parsed.get("ResponseMetadata") or {}
    _line(
        model,
        context,
        httpStatus=getattr(http_response, "status_code", None),
        errorCode=(parsed.get("Error") or {}).get("Code"),
        retryAttempts=metadata.get("RetryAttempts"),
    )


def _failed(exception: BaseException, context: dict[str, Any], event_name: str = "", **_: Any) -> None:
    # after-call-error carries no model: the operation is the event name's last part.
    _line(None, context, operation=event_name.rsplit(".", 1)[-1], exception=type(exception).__name__)


def _line(model: Any, context: dict[str, Any], *, operation: str | None = None, **fields: Any) -> None:
    started = context.get(_STARTED)
    service = model.service_model.service_name if model is not None else None
    _logger.debug(
        "aws call",
        extra={
            "awsService": service,
            "awsOperation": model.name if model is not None else operation,
            **fields,
            "elapsedMs": round((time.perf_counter() - started) * 1000, 1) if started else None,
        },
    )
