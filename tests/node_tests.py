"""Run a JavaScript test file with Node's test runner from pytest, failing with its report.

The npm packages the JS tests import (pinned in package.json / package-lock.json) are installed by
``make test`` (``npm ci`` through the Makefile's node stamp); a missing one is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")


def run_node_tests(script: Path, env: Mapping[str, str] | None = None, timeout: float = 150) -> str:
    """``node --test <script>``; the test fails with Node's TAP report when any JS test fails."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the JS client tests need Node.js 20 (see README, Set up)")
    if not (REPO_ROOT / "node_modules" / ".package-lock.json").exists():
        pytest.fail("node_modules is missing: run `npm ci` (make test does)")
    completed = subprocess.run(
        [node, "--test", "--test-reporter=tap", str(script)],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    report = completed.stdout + completed.stderr
    if completed.returncode != 0:
        pytest.fail(f"{script.name} failed (exit {completed.returncode}):\n{report[-12000:]}", pytrace=False)
    # A suite that ran nothing (a bad import path, a filter) must not pass silently.
    assert "# fail 0" in report, report
    assert "# pass 0" not in report, report
    return report


def chromium_path() -> str:
    """Debian's chromium (or $CHROMIUM_PATH). Missing: a failure in CI (CI=true), a skip elsewhere."""
    configured = os.environ.get("CHROMIUM_PATH")
    found = configured if configured and Path(configured).exists() else None
    for name in CHROMIUM_CANDIDATES:
        found = found or shutil.which(name)
    if found:
        return found
    reason = "no chromium browser: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; .ci/run installs it in CI", pytrace=False)
    pytest.skip(reason)
