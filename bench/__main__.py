"""``make bench``: cold start, warm request and package size, each against a bare-boto3 baseline.

Prints a table, then last a single line
``bench: cold_time=<x> cold_rss=<x> cold_asset=<x> warm_p50=<x> warm_p99=<x> trigger_cold=<x>
trigger_warm_p50=<x> protected_p50=<x>`` (ratios handler / baseline; ``n/a`` for a figure not measured),
and writes the same figures to bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench import cold, package, triggers, warm
from bench.endpoint import LAMBDA_DIR, sandbox_endpoint
from bench.phones import destinations
from bench.report import Row, render_table, summary_line
from bench.stats import ratio

RESULTS = Path(__file__).resolve().parent / "results.json"
TARGETS = {
    "cold_time": 1.0,
    "cold_rss": 1.05,
    "cold_asset": 1.0,
    "warm_p50": 1.10,
    "warm_p99": 1.25,
    "trigger_cold": 1.0,
    "protected_p50": 1.3,
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--cold-runs", type=int, default=21, help="fresh interpreters per side (>= 15)")
    parser.add_argument("--warm-calls", type=int, default=2000, help="timed calls per side (>= 2000)")
    parser.add_argument("--trigger-calls", type=int, default=300, help="warm calls per trigger and side")
    parser.add_argument("--no-package", action="store_true", help="skip building the asset (needs PyPI)")
    return parser.parse_args(argv)


def _ms(seconds: float, digits: int = 0) -> str:
    return f"{seconds * 1000:.{digits}f} ms"


def cold_rows(
    sides: dict[str, cold.ColdSide], results: dict[str, float], details: dict[str, Any]
) -> list[Row]:
    handler, baseline = sides["handler"], sides["baseline"]
    bare, protected = sides["bare-call"], sides["handler+protection"]
    built, no_pyc, no_trim = sides["asset"], sides["asset-no-pyc"], sides["asset-no-trimmed-data"]
    results["cold_time"] = ratio(handler.median_seconds, baseline.median_seconds)
    results["cold_rss"] = ratio(handler.median_rss_mib, baseline.median_rss_mib)
    results["cold_asset"] = ratio(built.median_seconds, baseline.median_seconds)
    for side in sides.values():
        key = side.name.replace("+", "_").replace("-", "_")
        details[f"cold_{key}_ms"] = round(side.median_seconds * 1000, 1)
        details[f"cold_{key}_to_exit_ms"] = round(side.median_exit_seconds * 1000, 1)
        details[f"cold_{key}_rss_mib"] = round(side.median_rss_mib, 1)
        details[f"cold_{key}_runs_ms"] = [round(run.seconds * 1000, 1) for run in side.runs]
    return [
        Row(
            "cold start, time to first response",
            _ms(handler.median_seconds),
            _ms(baseline.median_seconds),
            results["cold_time"],
            TARGETS["cold_time"],
        ),
        Row(
            "cold start, peak RSS",
            f"{handler.median_rss_mib:.1f} MiB",
            f"{baseline.median_rss_mib:.1f} MiB",
            results["cold_rss"],
            TARGETS["cold_rss"],
        ),
        Row(
            "  time including interpreter exit",
            _ms(handler.median_exit_seconds),
            _ms(baseline.median_exit_seconds),
            ratio(handler.median_exit_seconds, baseline.median_exit_seconds),
            None,
        ),
        Row(
            "  bare boto3 + its first send (time, RSS)",
            _ms(bare.median_seconds),
            f"{bare.median_rss_mib:.1f} MiB",
            None,
            None,
        ),
        Row(
            "  handler, protection on (time, RSS; ratio of time)",
            _ms(protected.median_seconds),
            f"{protected.median_rss_mib:.1f} MiB",
            ratio(protected.median_seconds, baseline.median_seconds),
            None,
        ),
        Row(
            "cold start of the built asset as Lambda runs it",
            _ms(built.median_seconds),
            _ms(baseline.median_seconds),
            results["cold_asset"],
            TARGETS["cold_asset"],
        ),
        Row(
            "  the built asset, peak RSS",
            f"{built.median_rss_mib:.1f} MiB",
            f"{baseline.median_rss_mib:.1f} MiB",
            ratio(built.median_rss_mib, baseline.median_rss_mib),
            None,
        ),
        Row(
            "  the asset without its .pyc (time, RSS; ratio of time)",
            _ms(no_pyc.median_seconds),
            f"{no_pyc.median_rss_mib:.1f} MiB",
            ratio(no_pyc.median_seconds, baseline.median_seconds),
            None,
        ),
        Row(
            "  the asset without trimmed botocore data (time, RSS; ratio)",
            _ms(no_trim.median_seconds),
            f"{no_trim.median_rss_mib:.1f} MiB",
            ratio(no_trim.median_seconds, baseline.median_seconds),
            None,
        ),
    ]


def trigger_cold_rows(
    sides: dict[str, cold.ColdSide], results: dict[str, float], details: dict[str, Any], floor_ms: int
) -> list[Row]:
    """Each trigger's cold start against the same baseline; ``trigger_cold`` is the worst of the three.
    The deployed sign-in floor (``floor_ms``, 0 in the benchmark's runs) is stated on a row of its own."""
    baseline = sides["baseline"]
    rows = []
    ratios = {}
    for trigger in triggers.TRIGGERS:
        side = sides[f"trigger-{trigger.name}"]
        ratios[trigger.name] = ratio(side.median_seconds, baseline.median_seconds)
        rows.append(
            Row(
                f"  {trigger.function} trigger cold (time; RSS {side.median_rss_mib:.1f} MiB)",
                _ms(side.median_seconds),
                _ms(baseline.median_seconds),
                ratios[trigger.name],
                TARGETS["trigger_cold"],
            )
        )
    results["trigger_cold"] = max(ratios.values())
    details["trigger_cold_ratios"] = ratios
    details["sign_in_floor_ms"] = floor_ms
    rows.append(
        Row(
            "  not in these rows: the deployed sign-in floor, each Create/Verify round",
            f"{floor_ms} ms + 0-4 ms",
            "",
            None,
            None,
        )
    )
    worst = max(ratios, key=lambda name: ratios[name])
    return [
        Row(
            f"Cognito triggers cold, the worst ({worst})",
            "",
            "",
            results["trigger_cold"],
            TARGETS["trigger_cold"],
        ),
        *rows,
    ]


def trigger_warm_rows(
    warm_triggers: dict[str, triggers.WarmTrigger], results: dict[str, float], details: dict[str, Any]
) -> list[Row]:
    steps = triggers.warm_step_ratios(warm_triggers)
    results["trigger_warm_p50"] = round(max(steps.values()), 2)
    define, create, verify = (warm_triggers[name] for name in ("define", "create", "verify"))
    for found in warm_triggers.values():
        details[f"trigger_warm_{found.name}_p50_ms"] = round(found.p50 * 1000, 3)
        details[f"trigger_warm_{found.name}_p99_ms"] = round(found.p99 * 1000, 3)
        if found.bare_seconds:
            details[f"trigger_warm_{found.name}_bare_p50_ms"] = round(found.bare_p50 * 1000, 3)
    details["trigger_warm_steps"] = {name: round(value, 2) for name, value in steps.items()}
    return [
        Row(
            "Cognito sign-in warm p50, the worse step",
            "",
            "",
            results["trigger_warm_p50"],
            None,
        ),
        Row(
            "  InitiateAuth: Define + Create / bare send",
            _ms(define.p50 + create.p50, 2),
            _ms(create.bare_p50, 2),
            round(steps["initiate_auth"], 2),
            None,
        ),
        Row(
            "  RespondToAuthChallenge: Verify + Define / bare verify",
            _ms(verify.p50 + define.p50, 2),
            _ms(verify.bare_p50, 2),
            round(steps["respond_to_auth_challenge"], 2),
            None,
        ),
    ]


def warm_rows(
    sides: dict[str, warm.WarmSide], results: dict[str, float], details: dict[str, Any]
) -> list[Row]:
    handler, bare, protected = sides["handler"], sides["bare boto3"], sides["handler+protection"]
    transact = sides["bare boto3+transaction"]
    results["warm_p50"] = ratio(handler.p50, bare.p50)
    results["warm_p99"] = ratio(handler.p99, bare.p99)
    results["protected_p50"] = ratio(protected.p50, transact.p50)
    for side in sides.values():
        key = side.name.replace("+", "_").replace(" ", "_")
        details[f"warm_{key}_p50_ms"] = round(side.p50 * 1000, 3)
        details[f"warm_{key}_p99_ms"] = round(side.p99 * 1000, 3)
        details[f"warm_{key}_calls"] = len(side.seconds)
    return [
        Row(
            "warm POST /otp, p50",
            _ms(handler.p50, 2),
            _ms(bare.p50, 2),
            results["warm_p50"],
            TARGETS["warm_p50"],
        ),
        Row(
            "warm POST /otp, p99",
            _ms(handler.p99, 2),
            _ms(bare.p99, 2),
            results["warm_p99"],
            TARGETS["warm_p99"],
        ),
        Row(
            "warm POST /otp, protection on, p50 (bare: + 1 TransactWriteItems)",
            _ms(protected.p50, 2),
            _ms(transact.p50, 2),
            results["protected_p50"],
            TARGETS["protected_p50"],
        ),
        Row(
            "  protection on, p99",
            _ms(protected.p99, 2),
            _ms(transact.p99, 2),
            ratio(protected.p99, transact.p99),
            None,
        ),
    ]


def package_rows(details: dict[str, Any]) -> list[Row]:
    size = package.measure()
    details.update(
        package_zipped_bytes=size.zipped_bytes,
        package_unzipped_bytes=size.unzipped_bytes,
        package_files=size.files,
        package_largest_bytes=dict(size.largest),
    )
    rows = [
        Row("package, zipped", f"{size.zipped_bytes / 2**20:.1f} MiB", "", None, None),
        Row("package, files", f"{size.files}", "", None, None),
        Row("package, unzipped", f"{size.unzipped_bytes / 2**20:.1f} MiB", "", None, None),
    ]
    rows += [
        Row(f"  {name}", f"{nbytes / 2**20:.1f} MiB", "", None, None) for name, nbytes in size.largest[:4]
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    sys.path.insert(0, str(LAMBDA_DIR))
    numbers = destinations()
    results: dict[str, float] = {}
    details: dict[str, Any] = {"cold_runs": args.cold_runs, "warm_calls": args.warm_calls}
    rows: list[Row] = []
    with sandbox_endpoint() as endpoint, cold.environments(endpoint) as envs:
        print(f"cold start: {args.cold_runs} fresh interpreters per side ...", file=sys.stderr)
        sides = cold.measure(envs, numbers, args.cold_runs)
        rows += cold_rows(sides, results, details)
        rows += trigger_cold_rows(sides, results, details, envs.sign_in_floor_ms)
        print(f"warm requests: {args.warm_calls} calls per side ...", file=sys.stderr)
        rows += warm_rows(warm.measure(endpoint, numbers, args.warm_calls), results, details)
        print(f"warm triggers: {args.trigger_calls} calls per trigger and side ...", file=sys.stderr)
        warm_triggers = triggers.measure_warm(envs.triggers, numbers, args.trigger_calls)
        rows += trigger_warm_rows(warm_triggers, results, details)
    if not args.no_package:
        print("package: building the asset as cdk synth does ...", file=sys.stderr)
        rows += package_rows(details)
    print(render_table(rows))
    RESULTS.write_text(json.dumps({**results, "targets": TARGETS, "details": details}, indent=2) + "\n")
    print(summary_line(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
