"""bench/asset.py builds what the cold_asset row measures: the asset's tree, its bytecode, Lambda's view
of it and the stack's environment. No timing here (``make bench`` measures); this checks that the row
measures what it says."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import asset
from bench.endpoint import PROTECTION_TABLE, Endpoint
from tests.unit.test_bytecode import UNCHECKED_HASH, ZIP_EPOCH

ENDPOINT = Endpoint(url="http://127.0.0.1:1", application_id="0123456789abcdef0123456789abcdef")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return asset.build(tmp_path_factory.mktemp("asset") / "task")


@pytest.mark.slow
def test_the_tree_has_unchecked_bytecode_for_this_python_and_the_trimmed_data(tree):
    # Then every module has a .pyc for the interpreter running the benchmark, hash-based and unchecked
    # (this Python cannot load the asset's 3.14 bytecode; the same kind is compiled for it)
    tag = sys.implementation.cache_tag
    sources = list(tree.rglob("*.py"))
    assert len(sources) > 100
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        data = pyc.read_bytes()
        assert data[:4] == importlib.util.MAGIC_NUMBER, pyc
        assert int.from_bytes(data[4:8], "little") == UNCHECKED_HASH, pyc
    # and the bundle's trimmed botocore data is where otp.adapters.aws_sdk looks for it
    assert (tree / "otp" / "_botocore_data" / "manifest.json").is_file()


@pytest.mark.slow
def test_as_lambda_sees_it_the_tree_is_read_only_with_zip_times_then_writable_again(tree):
    # When the tree is viewed as Lambda sees it
    with asset.as_lambda_sees_it(tree):
        # Then nothing in it is writable and every file has the zip's 1980 mtime
        assert asset.read_only_check(tree)
        assert {int(p.stat().st_mtime) for p in tree.rglob("*.py")} == {ZIP_EPOCH}
        # and a fresh interpreter imports the adapters from its bytecode, builds its clients from the
        # trimmed data, and writes nothing
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(tree),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        code = (
            "import json, otp.adapters.aws_sdk as sdk, botocore.config as c;"
            "client = sdk.client('pinpoint', c.Config());"
            "ops = client.meta.service_model.operation_names;"
            "print(json.dumps([sdk.__cached__, sdk.__file__, len(ops)]))"
        )
        result = subprocess.run(
            [sys.executable, "-P", "-c", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        cached, source, operations = json.loads(result.stdout)
        assert cached.startswith(str(tree))
        assert source.startswith(str(tree))
        assert operations == 2
    # and afterwards it can be deleted again by its owner
    assert not asset.read_only_check(tree)


def test_the_environment_is_the_stacks_with_lambdas_own_and_xray_when_tracing_is_active(tmp_path):
    # Given the API function's variables as the template has them (two are references) and tracing
    deployed: dict[str, Any] = {
        "variables": {
            "PINPOINT_APPLICATION_ID": {"Ref": "MessagingApp"},
            "OTP_TABLE_NAME": {"Ref": "ProtectionTable"},
            "OTP_BRAND_NAME": "Acme",
        },
        "tracing": "Active",
    }
    base = {"AWS_ENDPOINT_URL": ENDPOINT.url, "POWERTOOLS_TRACE_DISABLED": "true", "OTP_BRAND_NAME": "Bench"}

    # When the benchmark's environment is derived from it
    env = asset.lambda_environment(deployed, ENDPOINT, tmp_path, base)

    # Then the references point at the sandbox's application and table, the stack's values win, the
    # benchmark's tracing switch is gone, and Lambda's and X-Ray's variables are set
    assert env["PINPOINT_APPLICATION_ID"] == ENDPOINT.application_id
    assert env["OTP_TABLE_NAME"] == PROTECTION_TABLE
    assert env["OTP_BRAND_NAME"] == "Acme"
    assert env["AWS_ENDPOINT_URL"] == ENDPOINT.url
    assert "POWERTOOLS_TRACE_DISABLED" not in env
    assert env["LAMBDA_TASK_ROOT"] == env["PYTHONPATH"] == str(tmp_path)
    assert env["_X_AMZN_TRACE_ID"].endswith("Sampled=1")
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"

    # and without active tracing there is no trace header; with a stack that disables tracing, that wins
    passthrough = {"variables": {"POWERTOOLS_TRACE_DISABLED": "true"}, "tracing": "PassThrough"}
    env = asset.lambda_environment(passthrough, ENDPOINT, tmp_path, base)
    assert "_X_AMZN_TRACE_ID" not in env
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"


def test_an_unknown_reference_in_the_stack_stops_the_benchmark(tmp_path):
    deployed = {"variables": {"OTP_SOMETHING_NEW": {"Ref": "NewThing"}}, "tracing": "Active"}
    with pytest.raises(RuntimeError, match="OTP_SOMETHING_NEW"):
        asset.lambda_environment(deployed, ENDPOINT, tmp_path, {})
