"""Cold start: fresh interpreters, timed from spawn to exit, with their peak resident memory.

Both sides run the same interpreter with the same environment and search path (``-P``: the script's
own directory is not on it), alternately, so that a slow moment of the machine hits both. One warm-up
run of each comes first and is discarded: it writes the ``.pyc`` files of the source tree, which would
otherwise be charged to whichever side ran first.

The ``asset`` modes run the built asset as Lambda does (bench/asset.py: read-only, 1980 mtimes, the
bytecode it ships compiled for this interpreter, the stack's environment with tracing); the other asset
modes each take one build lever away, so the table shows what each is worth.

The ``handler`` modes run a copy of the source tree's ``otp`` (its bytecode written by the warm-up run,
as in a checkout) with the trimmed botocore data the bundle ships beside it (``otp/_botocore_data``,
written at build time, so absent from the checkout): without it the function's clients would be built
from botocore's full data, which no deployed function does. The dependencies are this environment's.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import asset, triggers
from bench.endpoint import Endpoint, handler_environment
from bench.stats import median
from bench.triggers import Trigger

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


def run_child(args: Sequence[str], env: dict[str, str], child: Path = CHILD) -> Run:
    """Spawn one interpreter and wait for it; it reports when it was done and its peak RSS (KiB).

    CLOCK_MONOTONIC is system-wide, so the child's "done" timestamp compares with the spawn time here.
    """
    started = time.monotonic_ns()
    process = subprocess.Popen(
        [sys.executable, "-P", str(child), *args],
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
    #: A Cognito trigger of the built asset, with its own function's environment (bench/triggers.py).
    trigger: Trigger | None = None


MODES = (
    Mode("handler"),
    Mode("baseline"),
    Mode("bare-call"),
    Mode("handler+protection", protection=True),
    Mode("asset", asset=(True, True)),
    Mode("asset-no-pyc", asset=(False, True)),
    Mode("asset-no-trimmed-data", asset=(True, False)),
    *(Mode(f"trigger-{t.name}", asset=(True, True), trigger=t) for t in triggers.TRIGGERS),
)


class _Arguments:
    """Each run's arguments: a fresh number for every send, a fresh challenge for every Verify."""

    def __init__(self, endpoint: Endpoint, numbers: Iterator[str], challenges: Iterator[dict[str, Any]]):
        self._endpoint, self._numbers, self._challenges = endpoint, numbers, challenges

    def __call__(self, mode: Mode) -> Sequence[str]:
        if mode.trigger is not None:
            if mode.trigger.name == "create":
                return ("cold", "create", next(self._numbers))
            if mode.trigger.name == "verify":
                return ("cold", "verify", json.dumps(next(self._challenges)))
            return ("cold", mode.trigger.name)
        if mode.name.startswith(("handler", "asset")):
            return ("handler", next(self._numbers))
        if mode.name == "bare-call":
            return ("bare-call", next(self._numbers), self._endpoint.application_id)
        return ("baseline",)


def trigger_environments(
    endpoint: Endpoint, tree: Path, deployed: dict[str, dict[str, Any]], secret_arn: str
) -> dict[str, dict[str, str]]:
    """Each trigger's process environment on Lambda, its function's variables from the stack."""
    envs = {}
    for trigger in triggers.TRIGGERS:
        env = asset.lambda_environment(
            deployed[trigger.function],
            endpoint,
            tree,
            handler_environment(endpoint),
            function_name=f"otp-{trigger.function}",
            handler=trigger.handler,
            secret_arn=secret_arn,
        )
        envs[trigger.name] = {**env, **triggers.BENCH_OVERRIDES}
    return envs


@dataclass(frozen=True)
class Environments:
    endpoint: Endpoint
    modes: Sequence[Mode]
    by_mode: dict[str, dict[str, str]]
    #: Each trigger's process environment (``define``, ``create``, ``verify``), for the warm triggers too.
    triggers: dict[str, dict[str, str]]
    #: The sign-in floor of the stack's Create and Verify, which the benchmark sets to 0 (bench.triggers).
    sign_in_floor_ms: int = 0


@contextlib.contextmanager
def environments(endpoint: Endpoint, modes: Sequence[Mode] = MODES) -> Iterator[Environments]:
    """Each mode's process environment; the built asset's trees exist for the duration."""
    functions = ["Api", *(t.function for t in triggers.TRIGGERS)]
    deployed = asset.stack_environments(functions)
    secret_arn = triggers.create_secret(endpoint)
    with tempfile.TemporaryDirectory(prefix="otp-asset-") as temp, contextlib.ExitStack() as trees:
        envs: dict[str, dict[str, str]] = {}
        built: dict[tuple[bool, bool], Path] = {}
        trigger_envs: dict[str, dict[str, str]] = {}
        source: Path | None = None
        for mode in modes:
            env = handler_environment(endpoint, protection=mode.protection)
            if mode.asset is None and mode.name.startswith("handler"):
                if source is None:  # otp with the bundle's botocore data; the dependencies are the venv's
                    source = asset.build(Path(temp) / "source", bytecode=False, dependencies=False)
                env["PYTHONPATH"] = str(source)
            if mode.asset is not None:
                if mode.asset not in built:
                    bytecode, trimmed = mode.asset
                    tree = asset.build(Path(temp) / mode.name, bytecode=bytecode, botocore_data=trimmed)
                    built[mode.asset] = trees.enter_context(asset.as_lambda_sees_it(tree))
                tree = built[mode.asset]
                if mode.trigger is not None:
                    trigger_envs = trigger_environments(endpoint, tree, deployed, secret_arn)
                    env = trigger_envs[mode.trigger.name]
                else:
                    # the stack's variables, with the benchmark's few changes (bench.triggers.BENCH_OVERRIDES)
                    env = {
                        **asset.lambda_environment(deployed["Api"], endpoint, tree, env),
                        **triggers.BENCH_OVERRIDES,
                    }
            envs[mode.name] = env
        floor_ms = triggers.deployed_floor_ms(deployed["CreateAuthChallenge"]["variables"])
        yield Environments(endpoint, modes, envs, trigger_envs, floor_ms)


def measure(envs: Environments, numbers: Iterator[str], runs: int) -> dict[str, ColdSide]:
    """``runs`` cold starts of each mode, round-robin, after one discarded warm-up of each."""
    modes = envs.modes
    verifying = any(mode.trigger is not None and mode.trigger.name == "verify" for mode in modes)
    challenges = triggers.prepare_challenges(envs.triggers["create"], numbers, runs + 1) if verifying else []
    arguments = _Arguments(envs.endpoint, numbers, iter(challenges))
    sides: dict[str, list[Run]] = {mode.name: [] for mode in modes}
    for warmup in (True, *(False,) * runs):
        for mode in modes:
            child = triggers.CHILD if mode.trigger is not None else CHILD
            run = run_child(arguments(mode), envs.by_mode[mode.name], child)
            if not warmup:
                sides[mode.name].append(run)
    return {name: ColdSide(name, found) for name, found in sides.items()}
