"""``python -m local`` as a developer runs it, and the AWS CLI against the endpoint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import PHONE, send_parameters
from tests.sandbox_harness import (
    REPO_ROOT,
    PinpointEndpoint,
    RunningSandbox,
    running_sandbox,
    stop_process,
)


def test_the_sandbox_is_ready_with_what_it_created(sandbox: RunningSandbox) -> None:
    # Given the sandbox started on free ports
    # When its health is read
    health = sandbox.health()
    # Then it is ready and names the Pinpoint application it created, as the ready file does
    assert health.status == 200
    assert health.body["status"] == "ready"
    assert health.body["applicationId"] == sandbox.application_id == sandbox.ready["applicationId"]
    assert sandbox.ready["awsPort"] not in (4566, 3000)
    assert sandbox.ready["apiPort"] not in (4566, 3000)
    # and that application and the protection table exist in moto, reachable with stock boto3
    import boto3

    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    app = session.client("pinpoint", endpoint_url=sandbox.aws_url).get_app(
        ApplicationId=sandbox.application_id
    )
    assert app["ApplicationResponse"]["Id"] == sandbox.application_id
    table = session.client("dynamodb", endpoint_url=sandbox.aws_url).describe_table(TableName="otp-sandbox")
    assert table["Table"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_a_stock_client_sends_and_verifies_against_the_running_sandbox(sandbox: RunningSandbox) -> None:
    # Given the running sandbox and a stock client pointed at it
    client = sandbox.pinpoint()
    # When a code is sent and read back where LocalStack serves it
    client.send_otp_message(
        ApplicationId=sandbox.application_id,
        SendOTPMessageRequestParameters=send_parameters(ReferenceId="process-1"),
    )
    code = sandbox.code_for("process-1")
    # Then it verifies, and the sandbox console showed the SMS (one of the three places a code may appear)
    response = client.verify_otp_message(
        ApplicationId=sandbox.application_id,
        VerifyOTPMessageRequestParameters={
            "DestinationIdentity": PHONE,
            "Otp": code,
            "ReferenceId": "process-1",
        },
    )
    assert response["VerificationResponse"]["Valid"] is True
    assert f"[sandbox] SMS to {PHONE} (reference process-1): This is your One Time Password: {code}" in (
        sandbox.console()
    )


def test_exported_settings_win_and_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    # Given a developer who exported a brand name and a short slow-number delay
    env = {"OTP_BRAND_NAME": "Acme Local", "SANDBOX_SLOW_SECONDS": "0.5"}
    with running_sandbox(env, directory=tmp_path) as running:
        # When a code is requested through the HTTP API
        answer = running.api("POST", "/v1/otp", {"phoneNumber": "+12065550100"})
        # Then the SMS carries the exported brand
        assert answer.status == 202, answer
        [sms] = running.outbox()
        assert sms["body"].endswith("from Acme Local")
        # and the slow number honours SANDBOX_SLOW_SECONDS
        slow = running.pinpoint().send_otp_message(
            ApplicationId=running.application_id,
            SendOTPMessageRequestParameters=send_parameters(DestinationIdentity="+12065550198"),
        )
        assert slow["MessageResponse"]["Result"]["+12065550198"]["DeliveryStatus"] == "SUCCESSFUL"
        # When the developer presses Ctrl-C
        returncode = stop_process(running.process)
    # Then it exits with 0, says so, and removes its ready file
    assert returncode == 0
    assert "[sandbox] stopping" in (tmp_path / "console.log").read_text()
    assert not (tmp_path / "ready.json").exists()


def test_a_bad_setting_stops_start_up_with_a_message_naming_it() -> None:
    # Given an exported code length Pinpoint does not allow
    # When the sandbox starts
    with pytest.raises(RuntimeError) as excinfo, running_sandbox({"OTP_CODE_LENGTH": "99"}):
        pass
    # Then it exits non-zero, naming the variable
    assert "start-up failed" in str(excinfo.value)
    assert "OTP_CODE_LENGTH" in str(excinfo.value)


def test_a_port_in_use_is_reported_not_a_traceback(sandbox: RunningSandbox) -> None:
    # Given a port the running sandbox already holds
    port = str(sandbox.ready["awsPort"])
    # When a second sandbox is started on it
    result = subprocess.run(
        [sys.executable, "-m", "local", "--aws-port", port, "--api-port", "0"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then it exits 1 with a sentence saying why
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def aws_cli(endpoint: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The system AWS CLI with dummy credentials and no user configuration."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    return subprocess.run(
        ["aws", "pinpoint", *arguments, "--endpoint-url", endpoint, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_sends_and_verifies_with_endpoint_url(pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given the AWS CLI pointed at the endpoint with --endpoint-url
    parameters: dict[str, Any] = send_parameters(BrandName="Cli", ReferenceId="cli-1")
    # When it sends a code
    sent = aws_cli(
        pinpoint_endpoint.url,
        "send-otp-message",
        "--application-id",
        pinpoint_endpoint.application_id,
        "--send-otp-message-request-parameters",
        json.dumps(parameters),
    )
    # Then it parses the MessageResponse
    assert sent.returncode == 0, sent.stderr
    result = json.loads(sent.stdout)["MessageResponse"]["Result"][PHONE]
    assert result["DeliveryStatus"] == "SUCCESSFUL"
    # and verifying the delivered code says it is valid
    code = pinpoint_endpoint.code_for("cli-1")
    verified = aws_cli(
        pinpoint_endpoint.url,
        "verify-otp-message",
        "--application-id",
        pinpoint_endpoint.application_id,
        "--verify-otp-message-request-parameters",
        json.dumps({"DestinationIdentity": PHONE, "Otp": code, "ReferenceId": "cli-1"}),
    )
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout) == {"VerificationResponse": {"Valid": True}}


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_reports_pinpoints_errors(pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given the AWS CLI and a request past a bound
    # When it is sent
    failed = aws_cli(
        pinpoint_endpoint.url,
        "send-otp-message",
        "--application-id",
        pinpoint_endpoint.application_id,
        "--send-otp-message-request-parameters",
        json.dumps(send_parameters(CodeLength=9)),
    )
    # Then the CLI fails with Pinpoint's error type and message
    assert failed.returncode != 0
    assert "(BadRequestException)" in failed.stderr
    assert "CodeLength must be between 5 and 8" in failed.stderr
