"""``python -m local`` stops within 2 s of SIGINT or SIGTERM, every time, under load (issue 20 item 3).

Each run starts the sandbox, keeps it busy (sends, sign-ins, health reads from several threads, and a
process burning CPU next to it), and signals it: most runs once it is ready, some during start-up. The
suite runs a few (``SANDBOX_STOP_RUNS``, default 4); ``make stop-test`` runs 50 and prints every time.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.sandbox_harness import REPO_ROOT, _sandbox_env, http_call

STOP_WITHIN = 2.0
RUNS = int(os.environ.get("SANDBOX_STOP_RUNS", "4"))

pytestmark = pytest.mark.slow


@contextmanager
def _cpu_burner() -> Iterator[None]:
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        burner.kill()
        burner.wait()


def _load(aws: str, api: str, stop: threading.Event, worker: int) -> None:
    """Requests of every kind the sandbox serves, as fast as they come back, until ``stop``."""
    count = 0
    while not stop.is_set():
        count += 1
        number = f"+1206555{worker:02d}{count % 100:02d}"
        try:
            if count % 3 == 0:
                http_call("GET", f"{aws}/_sandbox/health", timeout=3)
            else:
                http_call("POST", f"{api}/v1/otp", {"phoneNumber": number}, timeout=3)
        except OSError:
            time.sleep(0.01)  # the sandbox is going away


def _start(workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    ready = workdir / "ready.json"
    ready.unlink(missing_ok=True)
    console = (workdir / "console.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--aws-port", "0", "--api-port", "0", "--ready-file", str(ready)],
        cwd=REPO_ROOT,
        env=_sandbox_env({}),
        stdout=console,
        stderr=subprocess.STDOUT,
    )
    console.close()
    return process, ready


def _wait_ready(process: subprocess.Popen[bytes], ready: Path, timeout: float = 90) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            console = (ready.parent / "console.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"the sandbox exited with {process.returncode} before ready:\n{console}")
        if ready.exists():
            try:
                return dict(json.loads(ready.read_text(encoding="utf-8")))
            except json.JSONDecodeError:
                pass
        time.sleep(0.02)
    raise TimeoutError("the sandbox was not ready")


def _stop_time(process: subprocess.Popen[bytes], signum: signal.Signals) -> float:
    sent = time.monotonic()
    process.send_signal(signum)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return float("inf")
    return time.monotonic() - sent


def test_the_sandbox_stops_within_two_seconds_of_every_signal_under_load(tmp_path: Path) -> None:
    rng = random.Random(20)
    times: list[tuple[int, str, str, float]] = []
    with _cpu_burner():
        for run in range(RUNS):
            signum = signal.SIGINT if run % 2 == 0 else signal.SIGTERM
            process, ready_file = _start(tmp_path)
            # Given a sandbox starting (every fifth run) or ready and busy
            if run % 5 == 4:
                time.sleep(rng.uniform(0.2, 2.0))
                phase = "start-up"
                elapsed = _stop_time(process, signum)
            else:
                ready = _wait_ready(process, ready_file)
                stop = threading.Event()
                workers = [
                    threading.Thread(target=_load, args=(ready["awsEndpoint"], ready["apiEndpoint"], stop, w))
                    for w in range(4)
                ]
                for worker in workers:
                    worker.start()
                time.sleep(rng.uniform(0.3, 1.5))
                phase = "ready"
                # When it gets the signal in the middle of that
                elapsed = _stop_time(process, signum)
                stop.set()
                for worker in workers:
                    worker.join()
            times.append((run, signum.name, phase, elapsed))
            print(f"stop {run + 1:2d}/{RUNS} {signum.name:7s} {phase:8s} {elapsed:.3f} s", flush=True)
    # Then every run ended within 2 s of its signal
    slow = [entry for entry in times if entry[3] >= STOP_WITHIN]
    worst = max(entry[3] for entry in times)
    print(f"{RUNS} stops, slowest {worst:.3f} s", flush=True)
    assert not slow, slow
