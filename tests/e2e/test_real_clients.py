"""Real client libraries and a real browser against the sandbox subprocess.

Each JS file under ``tests/e2e/js`` is a Node test suite pointed at this worker's sandbox through
``SANDBOX_AWS_URL``: AWS Amplify JS v6, amazon-cognito-identity-js, the AWS SDK for JavaScript v3 with
aws-jwt-verify, and the web sign-in page driven in headless Chromium by playwright-core. The channel
switch and the page run against a sandbox on End User Messaging with SMS and VOICE, so "call me
instead" really calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.node_tests import chromium_path, run_node_tests

pytestmark = pytest.mark.slow

JS = Path(__file__).resolve().parent / "js"


@pytest.mark.parametrize(
    "script",
    ["amplify.test.mjs", "cognito_identity_js.test.mjs", "sdk_v3_jwt_verify.test.mjs"],
)
def test_client_library_signs_in_refreshes_and_signs_out(sandbox: Any, script: str) -> None:
    run_node_tests(JS / script, {"SANDBOX_AWS_URL": sandbox.aws_url})


def test_client_libraries_present_a_device_ticket(sandbox: Any) -> None:
    run_node_tests(JS / "device_ticket.test.mjs", {"SANDBOX_AWS_URL": sandbox.aws_url})


def test_client_libraries_switch_to_a_voice_call(sandbox_sms_voice: Any) -> None:
    run_node_tests(JS / "channel_switch.test.mjs", {"SANDBOX_AWS_URL": sandbox_sms_voice.aws_url})


def test_sign_in_page_in_headless_chromium(sandbox_sms_voice: Any) -> None:
    browser = chromium_path()
    run_node_tests(
        JS / "sign_in_page.browser.test.mjs",
        {"SANDBOX_AWS_URL": sandbox_sms_voice.aws_url, "CHROMIUM_PATH": browser},
    )
