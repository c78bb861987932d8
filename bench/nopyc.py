"""The asset as Lambda runs it: the bundled dependencies and ``otp`` without any ``.pyc``.

The bundle is built with ``pip --no-compile`` (infra/bundling.py: the build host's Python is not the
runtime's) and ``/var/task`` is read-only, so on Lambda every cold start compiles the bundled
modules from source; boto3 comes precompiled with the runtime. This copies the distributions of
lambda/requirements.txt from this virtual environment, without their ``__pycache__``, so that a cold
start can be measured the way Lambda pays for it (with PYTHONDONTWRITEBYTECODE, nothing is cached).
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from pathlib import Path

from bench.endpoint import LAMBDA_DIR

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def _distributions() -> list[str]:
    names = []
    for line in (LAMBDA_DIR / "requirements.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==", line.strip())
        if match:
            names.append(match.group(1))
    return names


def build(target: Path) -> Path:
    """Copy each requirement's top-level packages and modules into ``target``; return ``target``."""
    for name in _distributions():
        files = importlib.metadata.files(name) or []
        tops = {file.parts[0] for file in files if not file.parts[0].endswith(".dist-info")}
        for top in sorted(tops - {"__pycache__", "..", "bin"}):
            source = Path(str(importlib.metadata.distribution(name).locate_file(top)))
            if source.is_dir():
                shutil.copytree(source, target / top, ignore=_IGNORED, dirs_exist_ok=True)
            elif source.suffix == ".py":
                shutil.copy2(source, target / top)
    shutil.copytree(LAMBDA_DIR / "otp", target / "otp", ignore=_IGNORED, dirs_exist_ok=True)
    return target
