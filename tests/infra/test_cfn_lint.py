"""cfn-lint on the synthesized templates: clean, and the two silenced warnings are silenced narrowly."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.support import REAL_IDENTITY, VARIANT, synth

CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")  # the one `make cfn-lint` runs
VARIANTS: dict[str, dict[str, Any]] = {"default": REAL_IDENTITY, "apiKey+alarms+senderId": VARIANT}


def _lint(template: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    path.write_text(json.dumps(template), encoding="utf-8")
    result = subprocess.run(
        [CFN_LINT, "--format", "json", "--", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode in (0, 2, 4, 6, 8, 10, 12, 14), result.stderr  # odd codes: cfn-lint failed
    matches: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return matches


@pytest.mark.parametrize("variant", VARIANTS)
def test_template_is_clean(variant, tmp_path):
    # Given the synthesized template of a variant
    template = synth(VARIANTS[variant]).json

    # When cfn-lint checks it (as `make cfn-lint` does)
    matches = _lint(template, tmp_path / "template.json")

    # Then it reports nothing at all
    assert matches == []


def test_only_the_explained_warnings_are_silenced_and_only_where_explained(tmp_path):
    # Given the default template without the cfn-lint metadata the constructs add
    template = copy.deepcopy(synth(REAL_IDENTITY).json)
    silenced = {}
    for logical_id, resource in template["Resources"].items():
        metadata = resource.get("Metadata", {})
        if "cfn-lint" in metadata:
            silenced[logical_id] = metadata.pop("cfn-lint")["config"]["ignore_checks"]

    # When cfn-lint checks it
    matches = _lint(template, tmp_path / "unsilenced.json")

    # Then the only findings are warnings: W3696 (Pinpoint end of support, acknowledged because the OTP
    # APIs continue under AWS End User Messaging) on the two Pinpoint resources, and W3005 (CDK's own
    # DependsOn on the role next to its GetAtt) on the functions; nothing else was silenced
    found = {(m["Rule"]["Id"], m["Location"]["Path"][1]) for m in matches}
    assert all(m["Level"] == "Warning" for m in matches)
    types = {lid: template["Resources"][lid]["Type"] for _, lid in found}
    assert {(rule, types[lid]) for rule, lid in found} == {
        ("W3696", "AWS::Pinpoint::App"),
        ("W3696", "AWS::Pinpoint::SMSChannel"),
        ("W3005", "AWS::Lambda::Function"),
    }
    assert silenced == {lid: [rule] for rule, lid in found}
