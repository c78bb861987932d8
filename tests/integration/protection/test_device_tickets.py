"""Device tickets and the reserve through the real handlers: the Cognito triggers (Cognito's event
shapes) and the HTTP API, real boto3 to the sandbox's engines and to moto's DynamoDB (a fresh protection
table per test), on both engines.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.handler_env import use_handler_env
from tests.integration.conftest import Invoke
from tests.integration.protection.conftest import Configure
from tests.lambda_events import LambdaContext
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT
from tests.telemetry import Telemetry, captured_output, parse_output
from tests.unit.test_cognito_triggers import (
    code_in,
    create_event,
    define_event,
    fresh_number,
    round_,
    user_attributes,
    verify_event,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture(params=[PINPOINT, END_USER_MESSAGING])
def handler_env(
    pinpoint_endpoint: Any, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The deployment's environment on each engine in turn (overrides tests/integration/conftest.py's)."""
    from otp import wiring

    yield use_handler_env(monkeypatch, pinpoint_endpoint, engine=request.param, OTP_ENGINE_READ_TIMEOUT="1")
    wiring.reset()


Trigger = Callable[[str, dict[str, Any]], dict[str, Any]]


@pytest.fixture
def printed() -> list[Telemetry]:
    """Everything the handlers printed in a test (logs and metrics)."""
    return []


@pytest.fixture
def trigger(protect: Configure, printed: list[Telemetry]) -> Trigger:
    """``trigger("create", event)``: a Cognito trigger handler run as Lambda would; output kept."""
    # No cooldown and 10 codes an hour, so a test can spend a day's open part without a clock.
    protect(OTP_SEND_COOLDOWN_SECONDS="0", OTP_SEND_LIMIT_PER_HOUR="10", OTP_SEND_RESERVE_PER_DAY="4")
    from otp.handlers import cognito

    handlers = {
        "define": cognito.define_auth_challenge,
        "create": cognito.create_auth_challenge,
        "verify": cognito.verify_auth_challenge,
    }

    def run(name: str, event: dict[str, Any]) -> dict[str, Any]:
        with captured_output() as output:
            returned = handlers[name](event, LambdaContext(function_name=f"otp-{name}"))
        printed.append(parse_output(output.getvalue()))
        response: dict[str, Any] = returned["response"]
        return response

    return run


def items(dynamodb: DynamoDBClient, table_name: str, prefix: str) -> list[dict[str, Any]]:
    scanned = dynamodb.scan(TableName=table_name)["Items"]
    return [item for item in scanned if item["pk"]["S"].startswith(prefix)]


def sign_in_once(trigger: Trigger, pinpoint_endpoint: Any, number: str) -> str:
    """A whole sign-in with the right code; returns the ticket the device keeps."""
    attributes = user_attributes(number)
    created = trigger("create", create_event(attributes))
    code = code_in(pinpoint_endpoint.outbox(destination=number)[-1])
    assert trigger("verify", verify_event(created["privateChallengeParameters"], code)) == {
        "answerCorrect": True
    }
    session = [round_(True, created["challengeMetadata"])]
    assert trigger("define", define_event(session))["issueTokens"] is True
    ticket: str = created["publicChallengeParameters"]["OTP_DEVICE_TICKET"]
    return ticket


def test_the_table_keeps_a_keyed_record_that_turns_valid_when_the_code_is_verified(
    trigger: Trigger, pinpoint_endpoint: Any, dynamodb: DynamoDBClient, table_name: str
) -> None:
    # Given a user whose sign-in just began
    number = fresh_number()
    created = trigger("create", create_event(user_attributes(number)))
    ticket = created["publicChallengeParameters"]["OTP_DEVICE_TICKET"]
    record = created["privateChallengeParameters"]["ticketRecord"]
    # Then the table holds a pending record under a key that names neither the ticket nor the number
    [pending] = items(dynamodb, table_name, "ticket#")
    assert pending["pk"]["S"] == record
    assert pending["state"]["S"] == "PENDING"
    assert abs(int(pending["until"]["N"]) - (time.time() + 7200)) < 60
    assert ticket not in json.dumps(pending)
    assert number.strip("+") not in json.dumps(pending)
    # When the right code comes
    code = code_in(pinpoint_endpoint.outbox(destination=number)[0])
    trigger("verify", verify_event(created["privateChallengeParameters"], code))
    # Then the record is valid for 90 days, and expires with it
    [valid] = items(dynamodb, table_name, "ticket#")
    assert valid["state"]["S"] == "VALID"
    assert abs(int(valid["until"]["N"]) - (time.time() + 90 * 86400)) < 60
    assert int(valid["expiration"]["N"]) > int(valid["until"]["N"])


def test_a_wrong_code_leaves_the_ticket_pending(
    trigger: Trigger, pinpoint_endpoint: Any, dynamodb: DynamoDBClient, table_name: str
) -> None:
    number = fresh_number()
    created = trigger("create", create_event(user_attributes(number)))
    code = code_in(pinpoint_endpoint.outbox(destination=number)[0])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert trigger("verify", verify_event(created["privateChallengeParameters"], wrong)) == {
        "answerCorrect": False
    }
    [pending] = items(dynamodb, table_name, "ticket#")
    assert pending["state"]["S"] == "PENDING"


def test_a_returning_device_draws_on_the_reserve_once_strangers_spent_the_open_part(
    trigger: Trigger, pinpoint_endpoint: Any, printed: list[Telemetry]
) -> None:
    # Given a device that signed in (one code), and strangers' sign-ins that spent the open part (6)
    number = fresh_number()
    attributes = user_attributes(number)
    ticket = sign_in_once(trigger, pinpoint_endpoint, number)
    for _ in range(5):
        trigger("create", create_event(attributes))
    assert len(pinpoint_endpoint.outbox(destination=number)) == 6
    # When the device signs in again: its first round brings nothing
    first = trigger("create", create_event(attributes))
    assert len(pinpoint_endpoint.outbox(destination=number)) == 6
    refusal = printed[-1].metric_values("OtpRejected")
    assert [doc["dimensions"]["Reason"] for doc in refusal] == ["SEND_LIMIT_DAILY_OPEN"]
    # ... so it answers with its ticket and the channel it was shown
    metadata = {
        "otpChannel": first["publicChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"],
        "otpDeviceTicket": ticket,
    }
    session = [round_(False, first["challengeMetadata"])]
    verified = trigger(
        "verify", verify_event(first["privateChallengeParameters"], "SMS", client_metadata=metadata)
    )
    decided = trigger("define", define_event(session, client_metadata=metadata))
    resent = trigger("create", create_event(attributes, session, client_metadata=metadata))
    # Then that answer was no guess, and the code came from the reserve and signs the device in
    assert verified == {"answerCorrect": False}
    assert decided["challengeName"] == "CUSTOM_CHALLENGE"
    assert printed[-2].logs_with("sign-in step decided")[0]["wrongAnswers"] == 0
    messages = pinpoint_endpoint.outbox(destination=number)
    assert len(messages) == 7
    assert messages[-1]["referenceId"] == resent["privateChallengeParameters"]["referenceId"]
    final = trigger("verify", verify_event(resent["privateChallengeParameters"], code_in(messages[-1])))
    assert final == {"answerCorrect": True}
    # And no ticket ever reached a log line or a metric
    for output in printed:
        assert ticket not in output.raw


def test_the_http_api_draws_on_the_open_part_only(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given 10 codes a day per number, 4 of them reserved, no cooldown
    protect(OTP_SEND_COOLDOWN_SECONDS="0", OTP_SEND_LIMIT_PER_HOUR="10", OTP_SEND_RESERVE_PER_DAY="4")
    number = fresh_number()
    # When the API asks for a seventh code
    statuses = [invoke("POST", "/otp", {"phoneNumber": number}).status for _ in range(6)]
    seventh = invoke("POST", "/otp", {"phoneNumber": number})
    # Then six went out and the seventh is refused, saying why, with nothing sent
    assert statuses == [202] * 6
    assert seventh.status == 429
    assert seventh.body["type"] == "urn:otp:problem:rate-limited"
    assert "the other 4 are kept for devices that signed in on it before" in seventh.body["detail"]
    assert [d["dimensions"]["Reason"] for d in seventh.telemetry.metric_values("OtpRejected")] == [
        "SEND_LIMIT_DAILY_OPEN"
    ]
    assert len(pinpoint_endpoint.outbox(destination=number)) == 6
