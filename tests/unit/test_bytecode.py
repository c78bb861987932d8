"""infra.bytecode: .pyc for the Lambda runtime's Python (3.14), compiled by the pinned Pyodide under Node.

The compiler runs for real (Node + node_modules/pyodide, installed by `npm ci`); each call loads the
WebAssembly runtime once, so the module keeps to three calls.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cdk_sms_otp import bytecode
from cdk_sms_otp.bundling import LocalPipBundling
from cdk_sms_otp.functions import ARCHITECTURE, ASSET_DIR, RUNTIME

REPO = Path(__file__).resolve().parents[2]

# CPython 3.14's magic number: 3627 ("Python 3.14rc3 3627", the last change before 3.14.0 in
# Include/internal/pycore_magic_number.h), little-endian, then b"\r\n".
MAGIC_3_14 = (3627).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH = 0b01  # PEP 552 flags: bit 0 hash-based, bit 1 check_source (clear: never checked)
ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the mtime the CDK CLI gives every file of an asset

pytestmark = pytest.mark.slow


def _tree(root: Path) -> Path:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("VALUE = 'compiled'\n")
    (root / "pkg" / "sub" / "__init__.py").write_text("")
    (root / "pkg" / "sub" / "deep.py").write_text("def f(x: int) -> int:\n    return x + 1\n")
    (root / "top.py").write_text("import pkg\n")
    # Bytecode of another Python, as a wheel might ship it: must not survive into the asset
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"stale")
    (root / "pkg" / "legacy.pyc").write_bytes(b"stale")
    return root


def _header(pyc: Path) -> tuple[bytes, int]:
    data = pyc.read_bytes()
    return data[:4], int.from_bytes(data[4:8], "little")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> tuple[Path, bytecode.CompiledTree]:
    root = _tree(tmp_path_factory.mktemp("tree"))
    return root, bytecode.compile_tree(root, python_version="3.14")


def test_every_module_gets_unchecked_hash_bytecode_of_python_3_14_and_nothing_else(compiled):
    # Given a package tree with stray bytecode of another Python, compiled for the runtime's 3.14
    root, result = compiled

    # Then the compiler was CPython 3.14 and says so
    assert (result.python_version, result.magic, result.cache_tag) == ("3.14", MAGIC_3_14, "cpython-314")
    sources = sorted(p.relative_to(root) for p in root.rglob("*.py"))
    assert result.files == len(sources) == 4
    # and every module has its .pyc where the import system looks: 3.14's magic number, hash-based and
    # unchecked, so the runtime never compares it with the source (whose zip mtime is 1980)
    for source in sources:
        pyc = root / source.parent / "__pycache__" / f"{source.stem}.cpython-314.pyc"
        assert _header(pyc) == (MAGIC_3_14, UNCHECKED_HASH), source
    # and nothing else is bytecode: the other Python's .pyc and the stray one are gone
    every_pyc = sorted(p.relative_to(root) for p in root.rglob("*.pyc"))
    assert every_pyc == sorted(s.parent / "__pycache__" / f"{s.stem}.cpython-314.pyc" for s in sources)


def test_python_3_14_loads_the_bytecode_without_looking_at_the_source(compiled, tmp_path):
    # Given the compiled tree as Lambda gets it: read-only files with the zip's 1980 mtime, and the
    # source then changed behind the bytecode's back (the runtime must not even read it)
    root, _ = compiled
    task = tmp_path / "task"
    shutil.copytree(root, task)
    (task / "pkg" / "__init__.py").write_text("VALUE = 'recompiled from source'\n")
    for path in task.rglob("*"):
        os.utime(path, (ZIP_EPOCH, ZIP_EPOCH))

    # When CPython 3.14 (the same Pyodide) imports the package with bytecode writing off
    script = f"""
import {{ loadPyodide }} from "pyodide";
const py = await loadPyodide();
py.FS.mkdirTree("/var/task");
py.FS.mount(py.FS.filesystems.NODEFS, {{ root: {json.dumps(str(task))} }}, "/var/task");
console.log(py.runPython(`
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, "/var/task")
import pkg, pkg.sub.deep
pkg.VALUE + " " + pkg.__spec__.cached + " " + str(pkg.sub.deep.f(1))
`));
"""
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # Then the module came from the shipped bytecode, not from the (changed) source
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["compiled", "/var/task/pkg/__pycache__/__init__.cpython-314.pyc", "2"]


def test_a_module_that_does_not_compile_on_the_runtime_stops_the_build(tmp_path):
    # Given a module valid on some Python but not on 3.14 (print statement)
    (tmp_path / "ok.py").write_text("X = 1\n")
    (tmp_path / "old.py").write_text("print 'hello'\n")

    # When the tree is compiled, Then the build fails naming the file
    with pytest.raises(bytecode.BytecodeError, match=r"do not compile with Python 3\.14:\n  old\.py"):
        bytecode.compile_tree(tmp_path, python_version="3.14")


def test_without_node_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(bytecode.BytecodeError, match=r"Node\.js \(20 or newer\) is needed"):
        bytecode.compile_tree(tmp_path, python_version="3.14")


def test_without_the_pinned_pyodide_the_error_says_what_to_install(tmp_path, monkeypatch):
    # Given no Pyodide where the CDK app runs (nor in the package's checkout)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bytecode, "_candidates", lambda: [tmp_path / "node_modules" / "pyodide"])
    with pytest.raises(bytecode.BytecodeError, match=r"npm install --save-dev pyodide@314\."):
        bytecode.compile_tree(tmp_path, python_version="3.14")

    # Given node_modules with another release than the pinned one: it is named, and refused
    other = tmp_path / "node_modules" / "pyodide"
    other.mkdir(parents=True)
    (other / "package.json").write_text(json.dumps({"name": "pyodide", "version": "0.26.4"}))
    with pytest.raises(bytecode.BytecodeError, match=r"found .*pyodide \(0\.26\.4\)"):
        bytecode.compile_tree(tmp_path, python_version="3.14")


def test_pyodide_is_found_from_the_cdk_app_directory_or_the_variable(tmp_path, monkeypatch):
    # Given the pinned release in the repository's node_modules (npm ci), and a CDK app in a subdirectory
    app = tmp_path / "app" / "deep"
    app.mkdir(parents=True)
    release = REPO / "node_modules" / "pyodide"
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "pyodide").symlink_to(release)
    monkeypatch.chdir(app)
    monkeypatch.delenv(bytecode.PYODIDE_DIR_VARIABLE, raising=False)

    # Then it is found in a parent's node_modules first
    assert bytecode.find_pyodide() == tmp_path / "node_modules" / "pyodide"
    # and the variable wins over everything
    monkeypatch.setenv(bytecode.PYODIDE_DIR_VARIABLE, str(release))
    assert bytecode.find_pyodide() == release


def test_a_pyodide_of_another_python_is_refused(compiled, tmp_path):
    # Given the runtime were Python 3.13 while the pinned Pyodide is CPython 3.14
    (tmp_path / "m.py").write_text("X = 1\n")

    # When the tree is compiled for 3.13, Then the build fails instead of shipping unusable bytecode
    with pytest.raises(
        bytecode.BytecodeError, match=r"is CPython 3\.14, but the Lambda runtime is Python 3\.13"
    ):
        bytecode.compile_tree(tmp_path, python_version="3.13")
    assert not list(tmp_path.rglob("*.pyc"))


def test_pyodide_is_pinned_and_the_asset_hash_follows_the_compiler_and_botocore(monkeypatch):
    # Given the pin in package.json (the npm lock installs exactly it)
    pinned = bytecode.pinned_pyodide_version()
    lock = json.loads((REPO / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/pyodide"]["version"] == pinned
    assert (
        json.loads((REPO / "package.json").read_text(encoding="utf-8"))["devDependencies"]["pyodide"]
        == pinned
    )
    assert pinned.startswith("314.")  # Pyodide 314.x is CPython 3.14: the runtime's Python

    # When the compiler changes (another Pyodide), Then the asset's hash (its S3 key) changes, so the
    # next deploy uploads bytecode from the new compiler instead of reusing the old asset
    before = _asset_key()
    assert _asset_key() == before
    monkeypatch.setattr(bytecode, "pinned_pyodide_version", lambda *_: "314.9.9")
    new_compiler = _asset_key()
    assert new_compiler != before
    # and so does a new botocore (the trimmed data the bundle carries comes from it)
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.9.9")
    assert _asset_key() not in {before, new_compiler}


def _asset_key() -> str:
    from aws_cdk import App, Stack
    from aws_cdk import aws_lambda as lambda_

    from cdk_sms_otp.bundling import bundling_options

    stack = Stack(App(context={"aws:cdk:bundling-stacks": []}), "AssetHash")
    bundling = LocalPipBundling(ASSET_DIR, packages=["otp"], runtime=RUNTIME, architecture=ARCHITECTURE)
    code = lambda_.Code.from_asset(str(ASSET_DIR), bundling=bundling_options(bundling, RUNTIME))
    location = code.bind(stack).s3_location
    assert location is not None
    return str(location.object_key)
