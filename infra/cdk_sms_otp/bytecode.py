"""Bytecode for the Lambda runtime's Python, compiled on a build host that does not have that Python.

Lambda runs the asset from a read-only ``/var/task``: a module without a usable ``.pyc`` is compiled from
source on every cold start (for this asset: most of its start-up time). ``.pyc`` files are specific to a
Python minor version, and the build host's Python is not the runtime's (3.11 here, 3.14 on Lambda), so
they are compiled by Pyodide, the npm package that is CPython built for WebAssembly, pinned in
package.json (a Pyodide release is one CPython version: 314.x is 3.14). Bytecode does not depend on the
CPU, and WebAssembly runs the same compiler code: on 3.12, where both exist, Pyodide 0.26.4 and native
CPython 3.12.1 wrote byte-identical ``.pyc`` for this asset's modules.

The ``.pyc`` are hash-based and unchecked (PEP 552): the runtime loads them without reading the source's
timestamp, which matters because the CDK CLI zips every file with the mtime 1980-01-01 (timestamp-checked
``.pyc`` would be stale, and recompiled on every cold start). Unchecked is safe because the asset never
changes after it is built.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

COMPILER: Final = Path(__file__).with_name("bytecode.mjs")
#: The Pyodide release whose CPython is the Lambda runtime's (package.json pins the same; a test checks).
PYODIDE_VERSION: Final = "314.0.7"
#: Where to look for Pyodide besides node_modules of the working directory and its parents (the CDK app's
#: project), e.g. a shared installation: the directory of its package.json.
PYODIDE_DIR_VARIABLE: Final = "CDK_SMS_OTP_PYODIDE_DIR"
#: Generous: the whole asset compiles in seconds; this only stops a hung Node process.
TIMEOUT_SECONDS: Final = 600


class BytecodeError(RuntimeError):
    """The asset's bytecode could not be compiled; the message says what to do."""


@dataclass(frozen=True)
class CompiledTree:
    python_version: str  # "3.14"
    magic: bytes  # importlib.util.MAGIC_NUMBER of that Python
    cache_tag: str  # "cpython-314": the .pyc names are <module>.<cache_tag>.pyc
    files: int


def pinned_pyodide_version() -> str:
    """The Pyodide version the bytecode is compiled with (exact, so that the bytecode is reproducible)."""
    return PYODIDE_VERSION


def fingerprint() -> str:
    """What decides the bytecode: part of the asset hash, so that a new compiler rebuilds the asset."""
    digest = hashlib.sha256(COMPILER.read_bytes() + Path(__file__).read_bytes()).hexdigest()[:16]
    return f"pyodide {pinned_pyodide_version()}, unchecked-hash, compiler {digest}"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise BytecodeError(
            "Node.js (20 or newer) is needed to compile the Lambda asset's bytecode: it runs Pyodide, the "
            "runtime's CPython in WebAssembly. Install Node.js (the CDK CLI needs it too), then `npm ci`."
        )
    return node


def _candidates() -> list[Path]:
    configured = os.environ.get(PYODIDE_DIR_VARIABLE)
    here = Path.cwd().resolve()
    found = [Path(configured)] if configured else []
    found += [directory / "node_modules" / "pyodide" for directory in (here, *here.parents)]
    # The repository's own, when the package runs from a checkout (infra/cdk_sms_otp -> repository).
    found.append(Path(__file__).resolve().parents[2] / "node_modules" / "pyodide")
    return found


def find_pyodide() -> Path:
    """The directory of the pinned Pyodide release: $CDK_SMS_OTP_PYODIDE_DIR, else node_modules/pyodide in
    the working directory or one of its parents (the CDK app's project), else the repository's."""
    seen = []
    for candidate in _candidates():
        manifest = candidate / "package.json"
        if manifest.is_file():
            version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
            if version == PYODIDE_VERSION:
                return candidate
            seen.append(f"{candidate} ({version})")
    found = f" (found {', '.join(seen)})" if seen else ""
    raise BytecodeError(
        f"Pyodide {PYODIDE_VERSION} is needed to compile the Lambda asset's bytecode{found}: run "
        f"`npm install --save-dev pyodide@{PYODIDE_VERSION}` in your CDK app's directory, or set "
        f"{PYODIDE_DIR_VARIABLE} to the directory of that release"
    )


def remove_bytecode(root: Path) -> None:
    """Delete every ``__pycache__`` and stray ``.pyc``/``.pyo`` (a wheel may ship some for another Python)."""
    for cache in sorted(root.rglob("__pycache__"), key=lambda p: -len(p.parts)):
        if cache.is_dir():
            shutil.rmtree(cache)
    for stray in [*root.rglob("*.pyc"), *root.rglob("*.pyo")]:
        stray.unlink()


def compile_tree(root: Path, *, python_version: str) -> CompiledTree:
    """Compile every ``.py`` under ``root`` for CPython ``python_version`` ("3.14"), in place.

    Raises :class:`BytecodeError` when Node or the pinned Pyodide is missing, when that Pyodide is not
    the requested Python, or when a module does not compile (it would fail on Lambda too).
    """
    node = _node()
    pyodide = find_pyodide()
    remove_bytecode(root)
    command = [node, str(COMPILER), str(root.resolve()), python_version, str(pyodide)]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False, cwd=pyodide
        )
    except subprocess.TimeoutExpired as exc:
        raise BytecodeError(f"compiling bytecode took longer than {TIMEOUT_SECONDS} s: {command}") from exc
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise BytecodeError(
            f"compiling bytecode failed ({' '.join(command)}, exit {result.returncode}):\n{result.stderr}"
        )
    report = json.loads(lines[-1])
    if report["version"] != python_version:
        raise BytecodeError(
            f"pyodide {pinned_pyodide_version()} is CPython {report['version']}, but the Lambda runtime is "
            f"Python {python_version}: PYODIDE_VERSION must be the Pyodide release of that Python"
        )
    if report["optimize"] != 0:
        raise BytecodeError(f"Pyodide ran with optimization level {report['optimize']}; Lambda runs with 0")
    if report["failed"]:
        shown = "\n  ".join(report["failed"])
        raise BytecodeError(f"these modules do not compile with Python {python_version}:\n  {shown}")
    return CompiledTree(
        python_version=report["version"],
        magic=bytes.fromhex(report["magic"]),
        cache_tag=report["cache_tag"],
        files=report["compiled"],
    )
