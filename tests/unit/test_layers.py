"""The layers `make lint` enforces (pyproject.toml's import-linter contracts and ruff's banned imports):
the tree keeps them, and a forbidden import written into a copy of the tree breaks them.

The domain imports no AWS SDK, no Powertools, no handler, adapter or wiring; the Lambda code imports
neither the sandbox nor the infrastructure; the infrastructure imports no handler, not even through the
asset's link (``cdk_sms_otp._lambda``, which import-linter cannot see: ruff bans its handlers, adapters
and wiring; the configuration schema is what the infra imports through it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LINT_IMPORTS = [str(BIN / "lint-imports"), "--no-cache"]
PYTHONPATH = "lambda:infra"  # as `make lint` sets it

#: (file of the copy, the import written into it, what import-linter reports as broken)
FORBIDDEN = [
    ("lambda/otp/domain/limits.py", "import boto3", "otp.domain.limits -> boto3"),
    ("lambda/otp/domain/phone.py", "import botocore.exceptions", "otp.domain.phone -> botocore"),
    (
        "lambda/otp/domain/budget.py",
        "from aws_lambda_powertools import Logger",
        "otp.domain.budget -> aws_lambda_powertools",
    ),
    ("lambda/otp/domain/rules.py", "from otp.handlers import problems", "otp.domain.rules -> otp.handlers"),
    ("lambda/otp/domain/pacing.py", "from otp.adapters import store", "otp.domain.pacing -> otp.adapters"),
    ("lambda/otp/domain/screening.py", "import otp.wiring", "otp.domain.screening -> otp.wiring"),
    ("lambda/otp/settings.py", "import local.sandbox", "otp.settings -> local.sandbox"),
    ("lambda/otp/observability.py", "from cdk_sms_otp import stack", "otp.observability -> cdk_sms_otp"),
    (
        "infra/cdk_sms_otp/monitoring.py",
        "import otp.handlers.api",
        "cdk_sms_otp.monitoring -> otp.handlers.api",
    ),
]


def _copy_tree(tmp_path: Path) -> Path:
    """What lint-imports reads: the three packages and pyproject.toml (the asset link kept as a link)."""
    tree = tmp_path / "tree"
    for part in ("lambda/otp", "local", "infra/cdk_sms_otp"):
        shutil.copytree(ROOT / part, tree / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def _add_import(tree: Path, relative: str, statement: str) -> None:
    path = tree / relative
    text = path.read_text(encoding="utf-8")
    # After `from __future__ import annotations`, which must stay first: a top-level import like any other.
    marker = "from __future__ import annotations\n"
    assert marker in text, relative
    path.write_text(text.replace(marker, f"{marker}{statement}\n", 1), encoding="utf-8")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH before site-packages: the copy's cdk_sms_otp, not the editable install of the checkout.
    env = {**os.environ, "PYTHONPATH": PYTHONPATH, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        LINT_IMPORTS, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_make_lint_runs_import_linter_on_the_lambda_code_the_sandbox_and_the_infra():
    dry_run = subprocess.run(
        ["make", "-n", "lint"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert f"PYTHONPATH={PYTHONPATH} .venv/bin/lint-imports --no-cache" in dry_run


def test_the_tree_keeps_every_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.slow
def test_a_copy_of_the_tree_keeps_them_too(tmp_path):
    # The copy is faithful: without a forbidden import, the same run passes there (so the failures below
    # come from the imports written into it, and the copy's own packages are the ones analysed).
    tree = _copy_tree(tmp_path)
    result = _lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("relative", "statement", "broken"), [FORBIDDEN[0], FORBIDDEN[6], FORBIDDEN[8]])
def test_one_forbidden_import_fails_lint_imports(tmp_path, relative, statement, broken):
    tree = _copy_tree(tmp_path)
    _add_import(tree, relative, statement)
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout
    assert "1 broken" in result.stdout


@pytest.mark.slow
def test_every_forbidden_import_is_reported(tmp_path):
    tree = _copy_tree(tmp_path)
    for relative, statement, _ in FORBIDDEN:
        _add_import(tree, relative, statement)
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    for _, _, broken in FORBIDDEN:
        assert broken in result.stdout, broken
    assert "0 kept, 3 broken" in result.stdout


@pytest.mark.slow
def test_a_forbidden_import_under_type_checking_fails_too(tmp_path):
    tree = _copy_tree(tmp_path)
    _add_import(
        tree,
        "lambda/otp/domain/limits.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from otp.adapters.store import LimitStore",
    )
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "otp.domain.limits -> otp.adapters.store" in result.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "from cdk_sms_otp._lambda.otp.handlers import api",
        "import cdk_sms_otp._lambda.otp.handlers.cognito",
        "from cdk_sms_otp._lambda.otp import handlers",
    ],
)
def test_ruff_bans_the_handlers_through_the_asset_link(tmp_path, statement):
    # import-linter does not see cdk_sms_otp._lambda (no __init__.py: the asset, not a package); ruff's
    # banned-api (TID251) does, with pyproject.toml's configuration.
    tree = _copy_tree(tmp_path)
    _add_import(tree, "infra/cdk_sms_otp/monitoring.py", f"{statement}  # noqa: F401")
    result = subprocess.run(
        [str(BIN / "ruff"), "check", "--select", "TID251", "--output-format", "concise", "infra"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "monitoring.py" in result.stdout
    assert "TID251 `cdk_sms_otp._lambda.otp.handlers` is banned" in result.stdout


def test_ruff_passes_the_infra_as_it_is():
    result = subprocess.run(
        [str(BIN / "ruff"), "check", "--select", "TID251", "infra"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
