"""SnapStart restores many environments from one snapshot: ``random`` must be reseeded in each.

A fork is what a restore looks like from inside the process: two children resume the parent's memory,
``random`` state included (``random`` reseeds itself in a forked child, which a snapshot restore does
not do, so each child first puts back the state the parent had). Each scenario runs in a fresh
interpreter that imports the entry points the way Lambda's initialisation does, then forks two "restored
environments" that run the after-restore hooks registered with ``snapshot_restore_py`` (the runtime's
library) and draw a number.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox_harness import DUMMY_KEY, REGION

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"

RESTORE_TWICE = """
import json, os, random, sys
import otp.handlers.api, otp.handlers.cognito  # the entry points, as the runtime imports them at init
import snapshot_restore_py

random.seed(1234)  # whatever state the initialisation left in the snapshot
snapshot = random.getstate()

def restored_environment():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        random.setstate(snapshot)  # undo random's own at-fork reseed: a restore brings back the memory
        for function, args, kwargs in snapshot_restore_py.get_after_restore():
            function(*args, **kwargs)
        os.write(write, repr(random.random()).encode())
        os._exit(0)
    os.close(write)
    drawn = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    return drawn

hooks = [f"{f.__module__}.{f.__qualname__}" for f, _, _ in snapshot_restore_py.get_after_restore()]
print(json.dumps({"hooks": hooks, "draws": [restored_environment(), restored_environment()]}))
"""


def _restore_twice(initialization_type: str) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(LAMBDA_DIR),
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
        "AWS_ACCESS_KEY_ID": DUMMY_KEY,
        "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "PINPOINT_APPLICATION_ID": "0123456789abcdef0123456789abcdef",
        "OTP_BRAND_NAME": "Acme",
        "OTP_ORIGINATION_IDENTITY": "+12065550199",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", RESTORE_TWICE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to stand in for a snapshot restore")
def test_without_the_hook_restored_environments_would_draw_the_same_numbers():
    # Given an initialisation that is not a SnapStart one (no hook is registered)
    # When two environments resume from the same memory
    found = _restore_twice("on-demand")

    # Then nothing was registered, and they draw the same "random" number: the hazard is real
    assert found["hooks"] == []
    first, second = found["draws"]
    assert first == second


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to stand in for a snapshot restore")
def test_after_a_snapstart_restore_each_environment_reseeds_random():
    # Given a SnapStart initialisation (Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE=snap-start)
    # When two environments resume from the snapshot and the runtime runs the after-restore hooks
    found = _restore_twice("snap-start")

    # Then importing the entry points registered the reseed exactly once, and the draws differ
    assert found["hooks"] == ["otp.snapstart.reseed"]
    first, second = found["draws"]
    assert first != second
