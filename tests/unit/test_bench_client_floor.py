"""bench/client_floor.py times the warm rows with every AWS answer made in-process. No timing is checked
here (machines are noisy); this checks that it runs the real handler through both rows and reports what
one protected send asked DynamoDB for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_client_floor_runs_both_rows_through_the_real_handler() -> None:
    # Given no endpoint at all (every answer is made in-process)
    # When the tool runs a few calls per side
    run = subprocess.run(
        [sys.executable, "-m", "bench.client_floor", "--calls", "50"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then both rows print a ratio, and the protected send read and wrote the protection table
    assert run.returncode == 0, run.stderr
    ratios = re.findall(r"^(.+): \d+ us / \d+ us = ([0-9.]+)x$", run.stdout, re.MULTILINE)
    assert [name for name, _ in ratios] == [
        "warm POST /otp",
        "protection on (bare: + 1 TransactWriteItems)",
    ]
    assert all(float(value) > 0 for _, value in ratios)
    found = re.search(r"BatchGetItem of (\d+) keys, TransactWriteItems of (\d+) items", run.stdout)
    assert found is not None, run.stdout
    # the number's history, its range and country counters, the budget: several keys and items
    assert int(found.group(1)) > 1
    assert int(found.group(2)) > 1
