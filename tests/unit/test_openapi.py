"""docs/openapi.json is generated from otp/api_schema.py; a stale copy fails here (fix: `make openapi`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def generated_document() -> str:
    # A fresh interpreter: the document must not depend on what other tests imported or configured.
    return subprocess.run(
        [sys.executable, "-m", "otp.openapi"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "lambda"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_committed_openapi_document_matches_the_handler() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == generated_document(), "docs/openapi.json is stale: run `make openapi`"


def test_openapi_documents_every_mapped_status_as_problem_json() -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    send = document["paths"]["/otp"]["post"]["responses"]
    verify = document["paths"]["/otp/verify"]["post"]["responses"]
    assert set(send) >= {"202", "400", "409", "413", "422", "429", "500", "502", "503", "504"}
    assert set(verify) >= {"200", "400", "429", "500", "502", "503", "504"}
    for status, response in [*send.items(), *verify.items()]:
        if status.startswith(("4", "5")):
            assert list(response["content"]) == ["application/problem+json"], status
