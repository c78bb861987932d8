"""The built asset as Lambda runs it, made runnable on this machine, and the environment the stack sets.

The deployed asset is ``infra.bundling.LocalPipBundling``'s output: the dependencies, ``otp``, the
trimmed botocore data (``otp/_botocore_data``) and a ``.pyc`` for every module, hash-based and
unchecked, for the runtime's Python (3.14). Its aarch64 wheels and 3.14 bytecode cannot run here, so
this builds the same tree from this virtual environment's copies of the same pinned distributions and
compiles it the same way (unchecked-hash) for the Python running the benchmark. Then, as on Lambda:
every file gets the zip's mtime (1980-01-01, as the CDK CLI writes them) and the tree is made read-only
(``/var/task`` is; the benchmark also sets PYTHONDONTWRITEBYTECODE because root ignores permissions).

The environment is read from the synthesized stack (the API function's variables, its tracing mode)
plus what Lambda itself sets for a function, so a variable the stack adds, or tracing, is measured.
"""

from __future__ import annotations

import compileall
import importlib.metadata
import json
import os
import py_compile
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from bench.endpoint import LAMBDA_DIR, PROTECTION_TABLE, ROOT, Endpoint

ZIP_EPOCH: Final = 315532800  # 1980-01-01T00:00:00Z
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")
#: The trace header Lambda gives a sampled invocation (X-Ray's documented example ids).
TRACE_HEADER: Final = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
#: The API reads the secret only with the first request carrying an Idempotency-Key, which the benchmark
#: never sends; Create reads it at init (bench/triggers.py creates a real one for it).
UNREAD_SECRET_ARN: Final = "arn:aws:secretsmanager:us-east-1:123456789012:secret:otp-bench-unread"


def _distributions() -> list[str]:
    names = []
    for line in (LAMBDA_DIR / "requirements.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==", line.strip())
        if match:
            names.append(match.group(1))
    return names


def build(
    target: Path, *, bytecode: bool = True, botocore_data: bool = True, dependencies: bool = True
) -> Path:
    """The asset's tree in ``target``: each requirement's packages (from this environment, unless
    ``dependencies`` is false), ``otp``, optionally the trimmed botocore data and the unchecked-hash
    bytecode. Returns ``target``."""
    from cdk_sms_otp import botocore_data as data
    from cdk_sms_otp.bytecode import remove_bytecode

    for name in _distributions() if dependencies else ():
        files = importlib.metadata.files(name) or []
        tops = {file.parts[0] for file in files if not file.parts[0].endswith(".dist-info")}
        for top in sorted(tops - {"__pycache__", "..", "bin"}):
            source = Path(str(importlib.metadata.distribution(name).locate_file(top)))
            if source.is_dir():
                shutil.copytree(source, target / top, ignore=_IGNORED, dirs_exist_ok=True)
            elif source.suffix == ".py":
                shutil.copy2(source, target / top)
    shutil.copytree(LAMBDA_DIR / "otp", target / "otp", ignore=_IGNORED, dirs_exist_ok=True)
    if botocore_data:
        data.write_data(target / data.BUNDLE_PATH)
    remove_bytecode(target)
    if bytecode:
        ok = compileall.compile_dir(
            target, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH, workers=1
        )
        if not ok:
            raise RuntimeError(f"some modules of {target} did not compile")
    return target


@contextmanager
def as_lambda_sees_it(tree: Path) -> Iterator[Path]:
    """The tree with the zip's mtimes and read-only, for the duration; writable again afterwards (so
    that it can be deleted by a user who is not root)."""
    paths = sorted(tree.rglob("*"), key=lambda p: -len(p.parts))
    for path in paths:
        os.utime(path, (ZIP_EPOCH, ZIP_EPOCH), follow_symlinks=False)
        path.chmod(0o555 if path.is_dir() else 0o444)
    tree.chmod(0o555)
    try:
        yield tree
    finally:
        tree.chmod(0o755)
        for path in reversed(paths):
            path.chmod(0o755 if path.is_dir() else 0o644)


def stack_environment(function: str = "Api") -> dict[str, Any]:
    """The function's variables and tracing mode in the synthesized stack (cdk.json's context, bundling
    skipped), as ``{"variables": {...}, "tracing": "Active" | "PassThrough"}``."""
    return stack_environments([function])[function]


def stack_environments(functions: Sequence[str]) -> dict[str, dict[str, Any]]:
    """:func:`stack_environment` of each function, from one synthesis. Synthesizing loads the CDK (jsii,
    Node), so it runs in its own process."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.asset", *functions],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"synthesizing the stack for its environment failed:\n{result.stderr}")
    found: dict[str, dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def lambda_environment(
    deployed: dict[str, Any],
    endpoint: Endpoint,
    task_root: Path,
    base: dict[str, str],
    *,
    function_name: str = "otp-api",
    handler: str = "otp.handlers.api.lambda_handler",
    secret_arn: str = UNREAD_SECRET_ARN,
) -> dict[str, str]:
    """What the function's process gets on Lambda: the stack's variables (references resolved to the
    sandbox's application, table and ``secret_arn``), Lambda's own, and X-Ray's when tracing is active.
    ``base`` is the benchmark's environment (credentials, endpoint), kept underneath."""
    variables = dict(deployed["variables"])
    references = {
        "PINPOINT_APPLICATION_ID": endpoint.application_id,
        "OTP_TABLE_NAME": PROTECTION_TABLE,
        "OTP_SECRET_ARN": secret_arn,
    }
    for name, value in list(variables.items()):
        if not isinstance(value, str):
            if name not in references:
                raise RuntimeError(f"the stack sets {name} to {value!r}: tell bench/asset.py what it is")
            variables[name] = references[name]
    env = {key: value for key, value in base.items() if key not in variables}
    env.update(variables)
    env.update(
        {
            "PYTHONPATH": str(task_root),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
            "AWS_REGION": base.get("AWS_DEFAULT_REGION", "us-east-1"),
            "_HANDLER": handler,
        }
    )
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # the bench's default; the stack decides here
    if "POWERTOOLS_TRACE_DISABLED" in variables:
        env["POWERTOOLS_TRACE_DISABLED"] = variables["POWERTOOLS_TRACE_DISABLED"]
    if deployed["tracing"] == "Active":
        # Lambda's X-Ray integration: the daemon's address (nothing listens here: segments are UDP
        # datagrams, sent and forgotten) and a sampled trace header for the invocation.
        env.update(
            {
                "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                "_X_AMZN_TRACE_ID": TRACE_HEADER,
            }
        )
    return env


def _synthesized(functions: Sequence[str]) -> dict[str, dict[str, Any]]:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    sys.path[:0] = [str(ROOT), str(LAMBDA_DIR)]  # tests.infra.support reads otp.settings too
    from tests.infra.support import REAL_IDENTITY, synth

    synthesized = synth(REAL_IDENTITY)
    found = {}
    for function in functions:
        logical_id = synthesized.logical_id(getattr(synthesized.service.functions, _attribute(function)))
        properties = synthesized.json["Resources"][logical_id]["Properties"]
        found[function] = {
            "variables": properties.get("Environment", {}).get("Variables", {}),
            "tracing": properties.get("TracingConfig", {}).get("Mode", "PassThrough"),
        }
    return found


def _attribute(function: str) -> str:
    return {"Api": "api"}.get(function) or re.sub(r"(?<!^)([A-Z])", r"_\1", function).lower()


def read_only_check(tree: Path) -> bool:
    """True when the tree's files carry no write bit (what as_lambda_sees_it sets)."""
    return not any(p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) for p in tree.rglob("*"))


if __name__ == "__main__":
    print(json.dumps(_synthesized(sys.argv[1:] or ["Api"])))
