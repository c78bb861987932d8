"""`npx cdk synth` end to end: pinned CLI, no AWS credentials, local bundling for Lambda's platform.

The one test that bundles: it pip-installs lambda/requirements.txt (from PyPI or pip's cache) exactly as
a deploy would, compiles the bytecode with the pinned Pyodide, and inspects the asset that would be
uploaded. Then `make synth CDK_ARGS="-c otp.engine=endusermessaging"` into the same output directory
(the asset is reused, not bundled again) must give the End User Messaging stack.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cdk_sms_otp.bundling import RUNTIME_PROVIDED
from otp.adapters.aws_operations import OPERATIONS
from tests.infra.support import REPO
from tests.unit.test_bytecode import MAGIC_3_14, UNCHECKED_HASH

EM_AARCH64 = 183  # ELF e_machine of 64-bit ARM
MAKE_WITHOUT_INSTALLING = ["make", "-o", ".venv/.installed-stamp", "-o", "node_modules/.installed-stamp"]


def _clean_environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",  # cdk.json: python3
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DISABLE_VERSION_CHECK": "1",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        }
    )
    return env


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def _run_cli_synth(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    if not (REPO / "node_modules" / ".bin" / "cdk").exists():
        pytest.fail("node_modules is missing: run `npm ci` (make does it) to install the pinned CDK CLI")
    npx = shutil.which("npx")
    assert npx, "Node.js/npx is needed for the CDK CLI"
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        [npx, "--no-install", "cdk", "synth", "--quiet", "--output", str(outdir)],
        cwd=REPO,
        env=_clean_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result, outdir


def _make_synth(tmp_path: Path, cdk_args: str) -> subprocess.CompletedProcess[str]:
    """`make synth CDK_ARGS=...` as a developer types it (the stamps taken as they are: no install)."""
    return subprocess.run(
        [*MAKE_WITHOUT_INSTALLING, "synth", f"CDK_ARGS={cdk_args}"],
        cwd=REPO,
        env=_clean_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _types(template: dict[str, Any]) -> set[str]:
    return {resource["Type"] for resource in template["Resources"].values()}


def _function_variables(template: dict[str, Any]) -> list[dict[str, str]]:
    return [
        resource["Properties"].get("Environment", {}).get("Variables", {})
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    ]


# One test, so that parallel workers never bundle twice. Pip, then Pyodide compiling ~1,200 modules: on a
# busy 2-core machine this can take minutes.
@pytest.mark.slow
@pytest.mark.timeout(720)
def test_npx_cdk_synth_without_credentials_bundles_aarch64_python_3_14_builds_and_bytecode(tmp_path):
    # Given a shell with no AWS credentials, profile or instance metadata
    # When `npx cdk synth` runs (the pinned CLI from package.json, the app from cdk.json)
    result, outdir = _run_cli_synth(tmp_path)

    # Then it succeeds and writes the stack's template, which a CLI that reads this assembly accepted
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((outdir / "SmsOtp.template.json").read_text(encoding="utf-8"))
    keys = {
        f["Properties"]["Code"]["S3Key"]
        for f in template["Resources"].values()
        if f["Type"] == "AWS::Lambda::Function"
    }
    # and one asset is shared by the four functions
    assert len(keys) == 1
    asset = outdir / f"asset.{keys.pop().removesuffix('.zip')}"
    assert asset.is_dir()
    shared_objects = list(asset.rglob("*.so"))

    # and its compiled dependencies are the CPython 3.14 builds for Linux on 64-bit ARM ...
    assert list(asset.glob("wrapt/_wrappers.cpython-314-aarch64-linux-gnu.so"))
    assert shared_objects
    assert {_elf_machine(so) for so in shared_objects} == {EM_AARCH64}
    assert not [so for so in shared_objects if "x86_64" in so.name or "cpython-311" in so.name]
    # ... every pinned requirement is installed at its pinned version ...
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", (REPO / "lambda/requirements.txt").read_text(), re.M)
    assert pins
    for name, version in pins:
        assert (asset / f"{name.replace('-', '_')}-{version}.dist-info").is_dir(), name
    # ... the SDK the runtime provides is not (aws-xray-sdk would otherwise pull in botocore) ...
    installed = {p.name.rsplit("-", 1)[0].lower().replace("_", "-") for p in asset.glob("*.dist-info")}
    assert not installed & RUNTIME_PROVIDED
    assert not (asset / "boto3").exists()
    assert not (asset / "botocore").exists()
    # ... and the handlers are there
    for module in ("otp/handlers/api.py", "otp/handlers/cognito.py", "otp/metric_names.py"):
        assert (asset / module).is_file(), module

    # and every module it ships has bytecode Python 3.14 loads without checking the source: 3.14's magic
    # number, hash-based and unchecked (the zip's 1980 mtimes would make timestamp .pyc stale) ...
    sources = sorted(asset.rglob("*.py"))
    assert len(sources) > 100
    expected = {source.parent / "__pycache__" / f"{source.stem}.cpython-314.pyc" for source in sources}
    for pyc in expected:
        header = pyc.read_bytes()[:8]
        assert header[:4] == MAGIC_3_14, pyc
        assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH, pyc
    # ... and no other bytecode: none of another Python, none outside __pycache__, no orphan
    assert set(asset.rglob("*.pyc")) == expected
    assert not list(asset.rglob("*.pyo"))

    # and the trimmed botocore data the adapters' clients load holds every service they call
    manifest = json.loads((asset / "otp/_botocore_data/manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["services"]) == set(OPERATIONS)
    for service, operations in OPERATIONS.items():
        entry = manifest["services"][service]
        assert set(operations) <= set(entry["operations"])
        assert (asset / "otp/_botocore_data" / service / entry["apiVersion"] / "service-2.json").is_file()

    # and that template is the default engine's: a Pinpoint application, no End User Messaging resources
    assert {"AWS::Pinpoint::App", "AWS::Pinpoint::SMSChannel"} <= _types(template)
    assert not {t for t in _types(template) if t.startswith("AWS::SMSVOICE::")}
    assert "Custom::NotifyCodeConfiguration" not in _types(template)

    # When `make synth CDK_ARGS="-c otp.engine=endusermessaging --output ..."` runs (as `make deploy` and
    # `make diff` do, make passes CDK_ARGS to the CLI)
    assets = sorted(p.name for p in outdir.glob("asset.*"))
    made = _make_synth(tmp_path, f"-c otp.engine=endusermessaging --output {outdir}")

    # Then the template is End User Messaging's: its protect configuration, configuration set and notify
    # code configuration, no Pinpoint application, and functions that send through that engine
    assert made.returncode == 0, made.stdout + made.stderr
    eum = json.loads((outdir / "SmsOtp.template.json").read_text(encoding="utf-8"))
    assert {
        "AWS::SMSVOICE::ProtectConfiguration",
        "AWS::SMSVOICE::ConfigurationSet",
        "Custom::NotifyCodeConfiguration",
    } <= _types(eum)
    assert not {t for t in _types(eum) if t.startswith("AWS::Pinpoint::")}
    senders = [v for v in _function_variables(eum) if "OTP_ENGINE" in v]
    assert senders
    assert {v["OTP_ENGINE"] for v in senders} == {"endusermessaging"}
    assert all(v.get("OTP_NOTIFY_CODE_CONFIGURATION") for v in senders)
    # and the asset was not bundled a second time
    assert "Bundling asset" not in made.stdout + made.stderr
    assert sorted(p.name for p in outdir.glob("asset.*")) == assets
