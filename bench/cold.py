"""Cold start: fresh interpreters, timed from spawn to exit, with their peak resident memory.

Both sides run the same interpreter with the same environment and search path (``-P``: the script's
own directory is not on it), alternately, so that a slow moment of the machine hits both. One warm-up
run of each comes first and is discarded: it writes the ``.pyc`` files, which would otherwise be
charged to whichever side ran first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import nopyc
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
    without_pyc: bool = False  # the asset as Lambda runs it: bench/nopyc.py


MODES = (
    Mode("handler"),
    Mode("baseline"),
    Mode("bare-call"),
    Mode("handler+protection", protection=True),
    Mode("handler-no-pyc", without_pyc=True),
)


def _args(mode: Mode, endpoint: Endpoint, numbers: Iterator[str]) -> Sequence[str]:
    if mode.name.startswith("handler"):
        return ("handler", next(numbers))
    if mode.name == "bare-call":
        return ("bare-call", next(numbers), endpoint.application_id)
    return ("baseline",)


def _environment(mode: Mode, endpoint: Endpoint, asset_without_pyc: Path) -> dict[str, str]:
    env = handler_environment(endpoint, protection=mode.protection)
    if mode.without_pyc:
        env.update(PYTHONPATH=str(asset_without_pyc), PYTHONDONTWRITEBYTECODE="1")
    return env


def measure(endpoint: Endpoint, numbers: Iterator[str], runs: int) -> dict[str, ColdSide]:
    """``runs`` cold starts of each mode, round-robin, after one discarded warm-up of each."""
    with tempfile.TemporaryDirectory(prefix="otp-asset-nopyc-") as temp:
        asset = nopyc.build(Path(temp))
        envs = {mode.name: _environment(mode, endpoint, asset) for mode in MODES}
        for mode in MODES:
            run_child(_args(mode, endpoint, numbers), envs[mode.name])
        sides: dict[str, list[Run]] = {mode.name: [] for mode in MODES}
        for _ in range(runs):
            for mode in MODES:
                sides[mode.name].append(run_child(_args(mode, endpoint, numbers), envs[mode.name]))
    return {name: ColdSide(name, found) for name, found in sides.items()}
