"""The Lambda code's own dependency-free modules, loaded by file path into the CDK app.

Several facts have one source in ``lambda/otp`` (metric names, API schemas, engine rules, the AWS
operations called) so that synthesis can never disagree with the functions. They are loaded by path:
``lambda`` is a Python keyword, and ``otp`` is not on the CDK app's import path.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Final

#: The deployed asset root: ``lambda/`` of the repository, shipped inside the wheel as ``_lambda``
#: (in the repository ``_lambda`` is a symbolic link to it, so both paths are the same).
LAMBDA_ROOT: Final = Path(__file__).resolve().parent / "_lambda"
OTP_PACKAGE: Final = LAMBDA_ROOT / "otp"


def load_module(path: Path, name: str) -> ModuleType:
    """Execute the file at ``path`` as a fresh module called ``name`` (not added to sys.modules)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
