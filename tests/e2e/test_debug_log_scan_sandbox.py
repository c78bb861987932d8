"""A DEBUG run leaks nothing (issue 20): no code, device ticket or full number in any log line.

A sandbox of each engine runs with ``POWERTOOLS_LOG_LEVEL=DEBUG`` and is driven through both doors,
success and failure paths alike:

- the HTTP API: a code sent and verified (a wrong code, a malformed one, the right one), its status read,
  a second send refused by the cooldown, an invalid number, a body that is not JSON, an engine failure
  (the sandbox's ``+12065550150``), a verification cancelled;
- Cognito's ``InitiateAuth`` / ``RespondToAuthChallenge``: a sign-in with a wrong code, a malformed
  answer and the right one (its device ticket becomes valid); a later sign-in whose resend draws on the
  reserve with that ticket; a round refused by the limits; an unknown number's decoy; on End User
  Messaging, a switch to a voice call.

Then the DEBUG lines are there (one per AWS call, from the API and from the triggers: see
``otp.adapters.call_log``), and no line of the console but the sandbox's fake phone (``[sandbox] SMS
to ...``, where codes are meant to be read) holds any code that was sent, any ticket that was shown, or
any number used, with or without its ``+`` and country code.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local.cognito_users import create_sign_in_user
from tests.sandbox_harness import (
    END_USER_MESSAGING,
    ENGINE_ENV,
    PINPOINT,
    RunningSandbox,
    aws_client,
    running_sandbox,
)

pytestmark = pytest.mark.slow

ENGINE_FAILURE = "+12065550150"  # the sandbox's test number whose send fails with the engine's 500
FAKE_PHONE = re.compile(r"^\[sandbox\] (SMS|Voice call|WhatsApp message) to ")
COOLDOWN = 31  # seconds: past the default sendCooldownSeconds


@pytest.fixture(scope="module", params=[PINPOINT, END_USER_MESSAGING])
def debug_sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    with running_sandbox({**ENGINE_ENV[request.param], "POWERTOOLS_LOG_LEVEL": "DEBUG"}) as sandbox:
        yield sandbox


def fresh_number() -> str:
    value = uuid.uuid4().int
    exchange = 200 + value % 799
    exchange += exchange >= 555
    return f"+1206{exchange}{value // 799 % 10000:04d}"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


class Run:
    """Drives one sandbox and remembers every secret it saw: codes, tickets, numbers."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.sandbox = sandbox
        self.cognito = aws_client("cognito-idp", sandbox.aws_url)
        health = sandbox.health().body
        self.pool_id, self.client_id = health["userPoolId"], health["userPoolClientId"]
        self.numbers: set[str] = {ENGINE_FAILURE}
        self.tickets: set[str] = set()

    def number(self, *, registered: bool = False) -> str:
        phone = fresh_number()
        self.numbers.add(phone)
        if registered:
            create_sign_in_user(self.cognito, self.pool_id, phone)
        return phone

    def latest_code(self, phone: str) -> str:
        code: str = self.sandbox.outbox(destination=phone)[-1]["code"]
        return code

    def start(self, phone: str) -> dict[str, Any]:
        challenge: dict[str, Any] = self.cognito.initiate_auth(
            ClientId=self.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": phone}
        )
        self.tickets.add(challenge["ChallengeParameters"]["OTP_DEVICE_TICKET"])
        return challenge

    def answer(
        self, phone: str, challenge: dict[str, Any], text: str, metadata: dict[str, str] | None = None
    ) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self.cognito.respond_to_auth_challenge(
                ClientId=self.client_id,
                ChallengeName="CUSTOM_CHALLENGE",
                Session=challenge["Session"],
                ChallengeResponses={"USERNAME": phone, "ANSWER": text},
                **({"ClientMetadata": metadata} if metadata else {}),
            )
        except self.cognito.exceptions.NotAuthorizedException:
            return {}
        if "ChallengeParameters" in result and "OTP_DEVICE_TICKET" in result["ChallengeParameters"]:
            self.tickets.add(result["ChallengeParameters"]["OTP_DEVICE_TICKET"])
        return result


def drive_the_api(run: Run) -> None:
    sandbox = run.sandbox
    phone = run.number()
    sent = sandbox.api("POST", "/v1/otp", {"phoneNumber": phone})
    assert sent.status == 202, sent
    reference, code = sent.body["referenceId"], run.latest_code(phone)
    check = {"phoneNumber": phone, "referenceId": reference}
    assert sandbox.api("POST", "/v1/otp/verify", {**check, "code": wrong(code)}).body["valid"] is False
    assert sandbox.api("POST", "/v1/otp/verify", {**check, "code": "12ab"}).status == 400
    assert sandbox.api("GET", f"/v1/otp/{reference}?phoneNumber=%2B{phone[1:]}").status == 200
    assert sandbox.api("POST", "/v1/otp/verify", {**check, "code": code}).body == {"valid": True}
    assert sandbox.api("POST", "/v1/otp", {"phoneNumber": phone}).status == 429  # the cooldown
    assert sandbox.api("POST", "/v1/otp", {"phoneNumber": phone[:-4]}).status == 400
    json_type = {"Content-Type": "application/json"}
    assert sandbox.api("POST", "/v1/otp", b"{not json", json_type).status == 400
    assert sandbox.api("POST", "/v1/otp", {"phoneNumber": ENGINE_FAILURE}).status >= 500
    other = run.number()
    sent = sandbox.api("POST", "/v1/otp", {"phoneNumber": other})
    cancelled = sandbox.api("DELETE", f"/v1/otp/{sent.body['referenceId']}", {"phoneNumber": other})
    assert cancelled.status == 200, cancelled


def drive_the_sign_in(run: Run, engine: str) -> None:
    sandbox = run.sandbox
    # A sign-in: a wrong code, a malformed answer, then the right one (the ticket becomes valid)
    phone = run.number(registered=True)
    challenge = run.start(phone)
    ticket = challenge["ChallengeParameters"]["OTP_DEVICE_TICKET"]
    code = run.latest_code(phone)
    challenge = run.answer(phone, challenge, wrong(code))
    challenge = run.answer(phone, challenge, "abcdef")
    assert "AuthenticationResult" in run.answer(phone, challenge, code)
    # A later sign-in on the same device: its resend draws on the reserve with the ticket
    sandbox.advance_clock(COOLDOWN)
    challenge = run.start(phone)
    sandbox.advance_clock(COOLDOWN)
    challenge = run.answer(phone, challenge, "SMS", {"otpChannel": "SMS", "otpDeviceTicket": ticket})
    resent = run.latest_code(phone)
    assert resent != code
    assert "AuthenticationResult" in run.answer(phone, challenge, resent)
    # A round the limits refuse (the cooldown), and an unknown number's decoy
    run.start(phone)
    stranger = run.number()
    decoy = run.start(stranger)
    assert (
        run.answer(stranger, run.answer(stranger, decoy, "123456"), "abcdef").get("AuthenticationResult")
        is None
    )
    if engine == END_USER_MESSAGING:
        # "Call me instead"
        caller = run.number(registered=True)
        challenge = run.answer(caller, run.start(caller), "VOICE", {"otpChannel": "VOICE"})
        assert "AuthenticationResult" in run.answer(caller, challenge, run.latest_code(caller))


def spellings(phone: str) -> set[str]:
    """A full number as it could be written: E.164, without the +, and the national number."""
    return {phone, phone[1:], phone[2:]}


def test_a_debug_run_logs_debug_lines_and_no_code_ticket_or_number(debug_sandbox: RunningSandbox) -> None:
    engine = debug_sandbox.ready.get("engine", PINPOINT)
    run = Run(debug_sandbox)
    # Given both doors driven down their success and failure paths
    drive_the_api(run)
    drive_the_sign_in(run, engine)
    codes = {message["code"] for message in debug_sandbox.outbox()}
    assert len(codes) >= 4
    assert len(run.tickets) >= 3

    lines = debug_sandbox.console().splitlines()
    records = [json.loads(line) for line in lines if line.startswith('{"level"')]
    # Then DEBUG lines were written, by the API and by the triggers
    debug = [record for record in records if record["level"] == "DEBUG"]
    assert {record.get("function_name") for record in debug} >= {
        "otp-api",
        "otp-sandbox-create-auth-challenge",
        "otp-sandbox-verify-auth-challenge",
    }
    assert {record["awsService"] for record in debug} >= {"dynamodb", engine}
    # and no line but the fake phone's holds a code, a ticket or a full number
    secrets = codes | run.tickets | {spelling for phone in run.numbers for spelling in spellings(phone)}
    pattern = re.compile(
        "|".join(rf"(?<![0-9A-Za-z_-]){re.escape(secret)}(?![0-9A-Za-z_-])" for secret in secrets)
    )
    leaks = [line for line in lines if not FAKE_PHONE.match(line) and pattern.search(line)]
    assert leaks == []
    # (and the scan can find one: the fake phone's own lines hold both numbers and codes)
    assert any(pattern.search(line) for line in lines if FAKE_PHONE.match(line))
