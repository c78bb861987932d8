"""Read what a handler printed: EMF metric documents and structured log records."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Telemetry:
    metrics: list[dict[str, Any]]
    logs: list[dict[str, Any]]
    raw: str

    def metric_values(self, name: str) -> list[dict[str, Any]]:
        """Every EMF document that carries the metric ``name``, with its dimension values."""
        found = []
        for doc in self.metrics:
            for directive in doc["_aws"]["CloudWatchMetrics"]:
                if any(metric["Name"] == name for metric in directive["Metrics"]):
                    dimensions = {dim: doc[dim] for group in directive["Dimensions"] for dim in group}
                    found.append(
                        {"namespace": directive["Namespace"], "dimensions": dimensions, "value": doc[name]}
                    )
        return found

    def logs_with(self, message: str) -> list[dict[str, Any]]:
        return [record for record in self.logs if record.get("message") == message]


def parse_output(output: str) -> Telemetry:
    metrics, logs = [], []
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "_aws" in doc:
            metrics.append(doc)
        elif "level" in doc:
            logs.append(doc)
    return Telemetry(metrics=metrics, logs=logs, raw=output)


@contextlib.contextmanager
def captured_output() -> Iterator[io.StringIO]:
    """Collect the Powertools log lines and the EMF documents (printed to stdout) of one invocation.

    The logger's handler keeps the stream it was created with, so it is pointed at the buffer too.
    """
    from otp.observability import logger

    buffer = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        with contextlib.redirect_stdout(buffer):
            yield buffer
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
