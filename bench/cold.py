"""Cold start: fresh interpreters, timed from spawn to exit, with their peak resident memory.

Both sides run the same interpreter with the same environment and search path (``-P``: the script's
own directory is not on it), alternately, so that a slow moment of the machine hits both. One warm-up
run of each comes first and is discarded: it writes the ``.pyc`` files of the source tree, which would
otherwise be charged to whichever side ran first.

The ``asset`` modes run the built asset as Lambda does (bench/asset.py: read-only, 1980 mtimes, the
bytecode it ships compiled for this interpreter, the stack's environment with tracing); the other asset
modes each take one build lever away, so the table shows what each is worth.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import asset
from bench.endpoint import Endpoint, handler_environment
from bench.stats import median

CHILD = Path(__file__).resolve().parent / "cold_child.py"


@dataclass(frozen=True)
class Run:
    seconds: float  # spawn to first response (baseline: to client created)
    exit_seconds: float  # spawn to exit: adds interpreter shutdown, which Lambda never waits for
    max_rss_kib: int


@dataclass(frozen=True)
class ColdSide:
    name: str
    runs: list[Run]

    @property
    def median_seconds(self) -> float:
        return median([run.seconds for run in self.runs])

    @property
    def median_exit_seconds(self) -> float:
        return median([run.exit_seconds for run in self.runs])

    @property
    def median_rss_mib(self) -> float:
        return median([run.max_rss_kib for run in self.runs]) / 1024


def run_child(args: Sequence[str], env: dict[str, str]) -> Run:
    """Spawn one interpreter and wait for it; it reports when it was done and its peak RSS (KiB).

    CLOCK_MONOTONIC is system-wide, so the child's "done" timestamp compares with the spawn time here.
    """
    started = time.monotonic_ns()
    process = subprocess.Popen(
        [sys.executable, "-P", str(CHILD), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    _, status = os.waitpid(process.pid, 0)
    exited = time.monotonic_ns()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"cold start child {args[0]} failed ({process.returncode}):\n{stderr}")
    done, peak_rss_kib = (int(field) for field in stderr.strip().splitlines()[-1].split())
    return Run(
        seconds=(done - started) / 1e9, exit_seconds=(exited - started) / 1e9, max_rss_kib=peak_rss_kib
    )


@dataclass(frozen=True)
class Mode:
    name: str
    protection: bool = False
    #: Run the built asset (bench/asset.py) with the stack's environment: which levers it has.
    asset: tuple[bool, bool] | None = None  # (bytecode, trimmed botocore data)


MODES = (
    Mode("handler"),
    Mode("baseline"),
    Mode("bare-call"),
    Mode("handler+protection", protection=True),
    Mode("asset", asset=(True, True)),
    Mode("asset-no-pyc", asset=(False, True)),
    Mode("asset-no-trimmed-data", asset=(True, False)),
)


def _args(mode: Mode, endpoint: Endpoint, numbers: Iterator[str]) -> Sequence[str]:
    if mode.name.startswith(("handler", "asset")):
        return ("handler", next(numbers))
    if mode.name == "bare-call":
        return ("bare-call", next(numbers), endpoint.application_id)
    return ("baseline",)


def measure(endpoint: Endpoint, numbers: Iterator[str], runs: int) -> dict[str, ColdSide]:
    """``runs`` cold starts of each mode, round-robin, after one discarded warm-up of each."""
    deployed = asset.stack_environment("Api")
    with tempfile.TemporaryDirectory(prefix="otp-asset-") as temp, contextlib.ExitStack() as trees:
        envs: dict[str, dict[str, str]] = {}
        for mode in MODES:
            env = handler_environment(endpoint, protection=mode.protection)
            if mode.asset is not None:
                bytecode, trimmed = mode.asset
                tree = asset.build(Path(temp) / mode.name, bytecode=bytecode, botocore_data=trimmed)
                tree = trees.enter_context(asset.as_lambda_sees_it(tree))
                env = asset.lambda_environment(deployed, endpoint, tree, env)
            envs[mode.name] = env
        for mode in MODES:
            run_child(_args(mode, endpoint, numbers), envs[mode.name])
        sides: dict[str, list[Run]] = {mode.name: [] for mode in MODES}
        for _ in range(runs):
            for mode in MODES:
                sides[mode.name].append(run_child(_args(mode, endpoint, numbers), envs[mode.name]))
    return {name: ColdSide(name, found) for name, found in sides.items()}
