"""No OTP code and no full phone number in anything the service outputs: HTTP answers, log lines and
metrics, across every path a request can take (in-process and through the sandbox), at INFO and DEBUG,
on both engines.

The codes looked for are every code the sandbox delivered during the flows (its outbox); the numbers,
every number the flows used. The sandbox's own console lines are left out: showing codes is its job.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local.cognito_users import create_sign_in_user
from local.test_numbers import SCRIPTED_API_ERRORS, SCRIPTED_DELIVERIES, SLOW_NUMBER
from tests.integration.conftest import ApiResult, Invoke
from tests.reliability.leaks import Recorder
from tests.sandbox_harness import HttpAnswer, RunningSandbox, aws_client

SCRIPTED = [*SCRIPTED_DELIVERIES, *SCRIPTED_API_ERRORS, SLOW_NUMBER]
REFUSED = ["+33612345678", "+18005550100", "+19005550100", "+1206555010", "+12065550100x", "12065550100"]


def fresh_number() -> str:
    return f"+1206555{uuid.uuid4().int % 9000 + 1000:04d}"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


@pytest.fixture(params=["INFO", "DEBUG"])
def log_level(request: pytest.FixtureRequest) -> Iterator[str]:
    """The service's logger at the deployed level and at its most verbose."""
    from otp.observability import logger

    previous = logger.log_level
    logger.setLevel(request.param)
    yield str(request.param)
    logger.setLevel(previous)


def test_no_code_or_number_leaks_from_the_handler(
    invoke: Invoke, pinpoint_endpoint: Any, monkeypatch: pytest.MonkeyPatch, log_level: str
) -> None:
    recorder, used = Recorder(), set[str]()

    def call(path: str, body: Any, label: str = "") -> ApiResult:
        if isinstance(body, dict) and isinstance(body.get("phoneNumber"), str):
            used.add(body["phoneNumber"])
        result = invoke("POST", path, body)
        where = f"{path}{label} {result.status}"
        recorder.add(f"{where} answer", json.dumps(result.body) + json.dumps(result.headers))
        recorder.add(f"{where} output", result.telemetry.raw)
        return result

    # Given every path of a send and a verification: success, each scripted failure, refusals
    phone = fresh_number()
    sent = call("/otp", {"phoneNumber": phone, "referenceId": "leak-1", "language": "es-419"})
    assert sent.status == 202
    code = pinpoint_endpoint.emulator.outbox()[-1].code
    for channel in ("VOICE", "WHATSAPP", "EMAIL"):  # a call and a WhatsApp message, or refused channels
        call("/otp", {"phoneNumber": phone, "referenceId": f"leak-{channel}", "channel": channel})
    for attempt in (wrong(code), f"{code[:-1]}x", code, code):  # wrong, malformed, right, used up
        call("/otp/verify", {"phoneNumber": phone, "referenceId": "leak-1", "code": attempt})
    call("/otp/verify", {"phoneNumber": phone, "referenceId": "leak-1", "code": code, "extra": code})
    call("/otp", {"phoneNumber": phone, "note": phone})
    # a code given as the reference: references are echoed and logged on purpose (looked at below)
    call("/otp", {"phoneNumber": phone, "referenceId": code}, label=" (code as reference)")
    for number in SCRIPTED + REFUSED:
        call("/otp", {"phoneNumber": number})
        call("/otp/verify", {"phoneNumber": number, "referenceId": "leak-2", "code": code})
    call("/otp", f'{{"phoneNumber": "{phone}"')  # truncated JSON
    # and the Pinpoint endpoint down
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    from otp import wiring

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed}")
    wiring.reset()
    call("/otp", {"phoneNumber": phone})
    call("/otp/verify", {"phoneNumber": phone, "referenceId": "leak-1", "code": code})
    # When everything the service answered and printed is searched
    codes = {sms.code for sms in pinpoint_endpoint.emulator.outbox()} - {code}
    # Then no delivered code and no full number appears anywhere (the reference the caller chose
    # is the one value echoed on purpose, so that code is looked for only outside that answer)
    assert recorder.find(codes, used) == []
    assert [leak for leak in recorder.find({code}, ()) if "(code as reference)" not in leak] == []
    # (and the search had something to search: the service's log lines and metrics were recorded)
    printed = "".join(text for where, text in recorder.outputs if where.endswith("output"))
    assert '"message":"otp sent"' in printed
    assert '"message":"otp verified"' in printed
    assert '"OtpDelivery"' in printed


def test_no_code_or_number_leaks_through_the_sandbox(reliability_sandbox: RunningSandbox) -> None:
    sandbox, recorder, used = reliability_sandbox, Recorder(), set[str]()
    console_start = len(sandbox.console())

    def call(path: str, body: Any, headers: dict[str, str] | None = None) -> HttpAnswer:
        if isinstance(body, dict) and isinstance(body.get("phoneNumber"), str):
            used.add(body["phoneNumber"])
        answer = sandbox.api("POST", f"/v1{path}", body, headers)
        recorder.add(
            f"HTTP {path} {answer.status}", json.dumps(answer.body) + json.dumps(dict(answer.headers))
        )
        return answer

    # Given the HTTP paths with abuse protection on: success, limits, Idempotency-Key, failures
    sandbox.advance_clock(86_400)
    phone = fresh_number()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert call("/otp", {"phoneNumber": phone}, key).status == 202
    [delivered] = sandbox.outbox(destination=phone)
    reference, code = delivered["referenceId"], delivered["code"]
    call("/otp", {"phoneNumber": phone}, key)  # replayed
    call("/otp", {"phoneNumber": phone, "language": "de-DE"}, key)  # same key, other body: 422
    call("/otp", {"phoneNumber": phone})  # cooldown: 429
    for _ in range(6):  # wrong codes until the per-reference cap answers 429
        call("/otp/verify", {"phoneNumber": phone, "referenceId": reference, "code": wrong(code)})
    for number in SCRIPTED:
        call("/otp", {"phoneNumber": number})
    # and a passwordless sign-in through Cognito, whose username is the phone number itself
    cognito = aws_client("cognito-idp", sandbox.aws_url)
    health = sandbox.health().body
    pool, client = health["userPoolId"], health["userPoolClientId"]
    user = fresh_number()
    used.add(user)
    create_sign_in_user(cognito, pool, user, [{"Name": "phone_number", "Value": user}])
    for username in (user, fresh_number()):  # a real user, then one that does not exist
        used.add(username)
        challenge = cognito.initiate_auth(
            ClientId=client, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": username}
        )
        public = {
            name: value for name, value in challenge["ChallengeParameters"].items() if name != "USERNAME"
        }
        recorder.add("Cognito challenge", json.dumps(public))
        sms = sandbox.outbox(destination=username)
        guess = wrong(sms[-1]["code"]) if sms else "000000"
        for answer in (guess, sms[-1]["code"] if sms else "111111"):
            try:
                challenge = cognito.respond_to_auth_challenge(
                    ClientId=client,
                    ChallengeName="CUSTOM_CHALLENGE",
                    Session=challenge["Session"],
                    ChallengeResponses={"USERNAME": username, "ANSWER": answer},
                )
            except cognito.exceptions.NotAuthorizedException:
                break
            public = {k: v for k, v in challenge.get("ChallengeParameters", {}).items() if k != "USERNAME"}
            recorder.add("Cognito answer", json.dumps(public))
            if "AuthenticationResult" in challenge:
                break
    # When the answers and the console lines the service printed are searched
    recorder.add_console("sandbox console", sandbox.console()[console_start:])
    codes = {sms["code"] for sms in sandbox.outbox()}
    # Then no delivered code and no full number appears in any of them
    assert recorder.find(codes, used) == []
    # (and the console did carry the service's log lines and metrics)
    console = "".join(text for where, text in recorder.outputs if where == "sandbox console")
    assert '"message":"otp sent"' in console
    assert '"OtpDelivery"' in console


def test_the_leak_search_finds_codes_and_numbers_in_any_form() -> None:
    # Given outputs that contain a code and a number in each form a careless log line could use
    recorder = Recorder()
    recorder.add("log", '{"message": "verifying", "otp": "482913"}')
    recorder.add("body", '{"detail": "bad number 2065550123"}')
    recorder.add("metric", '{"Destination": "12065550123"}')
    recorder.add("masked", '{"phoneNumber": "+1********23", "messageId": "ab482913cd", "ts": 14829130}')
    # When the three are searched for the code and the number
    found = recorder.find({"482913"}, {"+12065550123"})
    # Then every form is found, and the masked number and the code inside longer tokens are not
    assert sorted(where.rsplit(" in ", 1)[1] for where in found) == ["body", "log", "metric"]
