"""The table and the last line of ``make bench``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    label: str
    measured: str
    baseline: str
    ratio: float | None
    target: float | None

    @property
    def verdict(self) -> str:
        if self.ratio is None or self.target is None:
            return ""
        return "ok" if self.ratio <= self.target else "MISSED"


def render_table(rows: Sequence[Row]) -> str:
    header = ("benchmark", "handler", "baseline", "ratio", "target", "")
    cells = [header] + [
        (
            row.label,
            row.measured,
            row.baseline,
            f"{row.ratio:.2f}x" if row.ratio is not None else "",
            f"<= {row.target}x" if row.target is not None else "",
            row.verdict,
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


#: The figures of the last line, in order; one not measured (yet) prints ``n/a``.
SUMMARY_KEYS = (
    "cold_time",
    "cold_rss",
    "cold_asset",
    "warm_p50",
    "warm_p99",
    "trigger_cold",
    "trigger_warm_p50",
    "protected_p50",
)


def summary_line(results: Mapping[str, float]) -> str:
    return "bench: " + " ".join(
        f"{key}={results[key]:.2f}" if key in results else f"{key}=n/a" for key in SUMMARY_KEYS
    )
