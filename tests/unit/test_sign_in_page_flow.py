"""The web sign-in page's logic (web/sign-in/flow.js), in Node against a stubbed Cognito."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import node_tests
from tests.node_tests import run_node_tests


def test_sign_in_flow_js() -> None:
    run_node_tests(Path(__file__).resolve().parent / "js" / "sign_in_flow.test.mjs")


def test_a_missing_browser_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a machine without chromium
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr("tests.node_tests.shutil.which", lambda name: None)

    # When the browser test looks for it in CI, then locally
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"\.ci/run installs it"):
        node_tests.chromium_path()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        node_tests.chromium_path()
