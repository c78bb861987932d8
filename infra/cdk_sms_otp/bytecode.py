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
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[2]
COMPILER: Final = Path(__file__).with_name("bytecode.mjs")
PACKAGE_JSON: Final = REPO / "package.json"
INSTALLED_PYODIDE: Final = REPO / "node_modules" / "pyodide" / "package.json"
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


def pinned_pyodide_version(package_json: Path = PACKAGE_JSON) -> str:
    """The Pyodide version package.json pins (an exact version, so that the bytecode is reproducible)."""
    pins = json.loads(package_json.read_text(encoding="utf-8")).get("devDependencies", {})
    version = pins.get("pyodide")
    if not isinstance(version, str) or not version[:1].isdigit():
        raise BytecodeError(f"{package_json} must pin pyodide to an exact version (devDependencies)")
    return version


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


def _check_installed_pyodide() -> None:
    pinned = pinned_pyodide_version()
    if not INSTALLED_PYODIDE.is_file():
        raise BytecodeError(
            f"node_modules/pyodide is missing (package.json pins {pinned}): run `npm ci` in {REPO} "
            "(every make target that synthesizes does it)"
        )
    installed = json.loads(INSTALLED_PYODIDE.read_text(encoding="utf-8")).get("version")
    if installed != pinned:
        raise BytecodeError(
            f"node_modules has pyodide {installed} but package.json pins {pinned}: run `npm ci` in {REPO}"
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
    _check_installed_pyodide()
    remove_bytecode(root)
    command = [node, str(COMPILER), str(root.resolve()), python_version]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False, cwd=REPO
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
            f"Python {python_version}: pin the Pyodide release of that Python in package.json"
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
