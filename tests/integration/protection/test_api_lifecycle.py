"""A verification's lifecycle through the real API handler, on both engines: GET and DELETE
/otp/{referenceId}, and why POST /otp/verify said no. Real boto3 to the sandbox's engines (one clock with
the service, so expiry is reached by moving it) and to moto's DynamoDB; each test has a fresh table.

Tested as an attacker would: a stranger (another API key) who knows the number and the reference learns
nothing from GET, DELETE or verify that an unknown reference would not tell, and no status read or
cancellation uses up any of the number's limits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest

from otp.adapters.end_user_messaging import end_user_messaging_reference
from tests.integration.conftest import ApiResult, Invoke
from tests.integration.protection.conftest import Configure
from tests.sandbox_harness import END_USER_MESSAGING

PHONE = "+12065550100"
OTHER_PHONE = "+12065550111"
STRANGER = {"apiKeyId": "stranger-key"}
OWNER = {"apiKeyId": "owner-key"}


@pytest.fixture
def lifecycle(protect: Configure, pinpoint_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Protection on, and the service on the engines' clock (as in the sandbox)."""
    from otp import wiring

    monkeypatch.setattr(wiring, "limits_clock", pinpoint_endpoint.clock.now)
    protect(OTP_SEND_COOLDOWN_SECONDS="0")
    return pinpoint_endpoint


def send(invoke: Invoke, reference: str, phone: str = PHONE, identity: dict[str, str] = OWNER) -> ApiResult:
    return invoke("POST", "/otp", {"phoneNumber": phone, "referenceId": reference}, identity=identity)


def code_of(endpoint: Any, reference: str) -> str:
    return str([sms for sms in endpoint.emulator.outbox() if sms.reference_id == reference][-1].code)


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def status(invoke: Invoke, reference: str, phone: str = PHONE, identity: dict[str, str] = OWNER) -> ApiResult:
    return invoke("GET", f"/otp/{reference}", query={"phoneNumber": [phone]}, identity=identity)


def cancel(invoke: Invoke, reference: str, phone: str = PHONE, identity: dict[str, str] = OWNER) -> ApiResult:
    return invoke("DELETE", f"/otp/{reference}", {"phoneNumber": phone}, identity=identity)


def verify(
    invoke: Invoke, reference: str, code: str, phone: str = PHONE, identity: dict[str, str] = OWNER
) -> ApiResult:
    body = {"phoneNumber": phone, "referenceId": reference, "code": code}
    return invoke("POST", "/otp/verify", body, identity=identity)


def engine_verifies(endpoint: Any, engine: str, reference: str, code: str) -> bool:
    """Ask the engine itself, with a stock boto3 client: what would it say now?"""
    if engine == END_USER_MESSAGING:
        answer = endpoint.end_user_messaging().validate_notify_code_verification(
            destinationIdentity=PHONE, referenceId=end_user_messaging_reference(reference), code=code
        )
        return bool(answer["status"] == "VALID")
    answer = endpoint.pinpoint().verify_otp_message(
        ApplicationId=endpoint.application_id,
        VerifyOTPMessageRequestParameters={
            "DestinationIdentity": PHONE,
            "Otp": code,
            "ReferenceId": reference,
        },
    )
    return bool(answer["VerificationResponse"]["Valid"])


def engine_calls(endpoint: Any) -> int:
    return len(endpoint.emulator.calls())


def assert_not_found(result: ApiResult) -> None:
    assert result.status == 404
    assert result.headers["Content-Type"] == "application/problem+json"
    assert result.body["type"] == "urn:otp:problem:verification-not-found"


# ----------------------------------------------------------------------------------- every status


def test_a_sent_code_is_pending_with_its_attempts_expiry_and_send(
    lifecycle: Any, invoke: Invoke, engine: str
) -> None:
    # Given a code sent under a reference
    sent = send(invoke, "ref-pending")
    assert sent.status == 202
    code = code_of(lifecycle, "ref-pending")
    # When its owner asks where it stands
    result = status(invoke, "ref-pending")
    # Then PENDING, with the engine's 3 attempts, the 202's expiry, the channel and the one send
    assert result.status == 200
    assert result.body == {
        "status": "PENDING",
        "attemptsRemaining": 3,
        "expiresAt": sent.body["expiresAt"],
        "channel": "SMS",
        "sends": [{"channel": "SMS", "deliveryStatus": "SUCCESSFUL", "at": result.body["sends"][0]["at"]}],
    }
    # and neither the code nor the number is in the answer or the logs
    for secret in (code, PHONE):
        assert secret not in str(result.body) + result.telemetry.raw


def test_a_verified_code_is_verified_and_a_second_verify_finds_nothing_waiting(
    lifecycle: Any, invoke: Invoke
) -> None:
    # Given a code verified by its owner
    send(invoke, "ref-ok")
    code = code_of(lifecycle, "ref-ok")
    assert verify(invoke, "ref-ok", code).body == {"valid": True}
    calls = engine_calls(lifecycle)
    # When it is verified again, and its status is asked
    again = verify(invoke, "ref-ok", code)
    result = status(invoke, "ref-ok")
    # Then nothing waits under the reference any more (the engine was not asked), and it is VERIFIED
    assert again.body == {"valid": False, "reason": "NOT_FOUND"}
    assert engine_calls(lifecycle) == calls
    assert (result.body["status"], result.body["attemptsRemaining"]) == ("VERIFIED", 0)


def test_a_code_past_its_validity_is_expired_as_the_engine_says(
    lifecycle: Any, invoke: Invoke, engine: str
) -> None:
    # Given two codes valid for 5 minutes (the deployment's default)
    send(invoke, "ref-late")
    send(invoke, "ref-edge")
    late, edge = code_of(lifecycle, "ref-late"), code_of(lifecycle, "ref-edge")
    # When a second less than the validity has passed, then the whole of it
    lifecycle.clock.advance(5 * 60 - 1)
    assert status(invoke, "ref-edge").body["status"] == "PENDING"
    assert verify(invoke, "ref-edge", edge).body == {"valid": True}
    lifecycle.clock.advance(1)
    result = status(invoke, "ref-late")
    calls = engine_calls(lifecycle)
    answer = verify(invoke, "ref-late", late)
    # Then EXPIRED, and a verify says so without asking the engine, which refuses the code too
    assert (result.body["status"], result.body["attemptsRemaining"]) == ("EXPIRED", 0)
    assert answer.body == {"valid": False, "reason": "EXPIRED"}
    assert engine_calls(lifecycle) == calls
    assert engine_verifies(lifecycle, engine, "ref-late", late) is False


def test_a_code_out_of_attempts_is_locked_as_the_engine_says(
    lifecycle: Any, invoke: Invoke, engine: str
) -> None:
    # Given a code the engine allows 3 attempts at
    send(invoke, "ref-guess")
    code = code_of(lifecycle, "ref-guess")
    # When three wrong codes are tried, the attempts left going down each time
    answers = [verify(invoke, "ref-guess", wrong(code)).body for _ in range(3)]
    left = [status(invoke, "ref-guess").body["attemptsRemaining"]]
    result = status(invoke, "ref-guess")
    calls = engine_calls(lifecycle)
    right = verify(invoke, "ref-guess", code)
    # Then each was a wrong code, the code is LOCKED, and even the right one is refused without the engine
    assert answers == [{"valid": False, "reason": "WRONG_CODE"}] * 3
    assert left == [0]
    assert (result.body["status"], result.body["attemptsRemaining"]) == ("LOCKED", 0)
    assert right.body == {"valid": False, "reason": "ATTEMPTS_EXHAUSTED"}
    assert engine_calls(lifecycle) == calls
    # which the engine agrees with
    assert engine_verifies(lifecycle, engine, "ref-guess", code) is False


def test_attempts_remaining_counts_down(lifecycle: Any, invoke: Invoke) -> None:
    send(invoke, "ref-count")
    code = code_of(lifecycle, "ref-count")
    remaining = []
    for _ in range(3):
        remaining.append(status(invoke, "ref-count").body["attemptsRemaining"])
        verify(invoke, "ref-count", wrong(code))
    assert remaining == [3, 2, 1]


def test_a_cancelled_verification_refuses_even_the_right_code(
    lifecycle: Any, invoke: Invoke, engine: str
) -> None:
    # Given a code sent and not yet verified
    send(invoke, "ref-cancel")
    code = code_of(lifecycle, "ref-cancel")
    # When its owner cancels it
    cancelled = cancel(invoke, "ref-cancel")
    calls = engine_calls(lifecycle)
    answer = verify(invoke, "ref-cancel", code)
    # Then the cancellation answers the verification, CANCELLED, and the right code is refused as
    # CANCELLED without asking the engine
    assert cancelled.status == 200
    assert (cancelled.body["status"], cancelled.body["attemptsRemaining"]) == ("CANCELLED", 0)
    assert answer.body == {"valid": False, "reason": "CANCELLED"}
    assert engine_calls(lifecycle) == calls
    assert status(invoke, "ref-cancel").body["status"] == "CANCELLED"
    # and cancelling again answers the same
    assert cancel(invoke, "ref-cancel").body == cancelled.body


def test_the_number_can_be_given_in_the_query_to_cancel(lifecycle: Any, invoke: Invoke) -> None:
    send(invoke, "ref-query")
    result = invoke("DELETE", "/otp/ref-query", query={"phoneNumber": [PHONE]}, identity=OWNER)
    assert (result.status, result.body["status"]) == (200, "CANCELLED")


def test_a_verified_verification_cannot_be_cancelled(lifecycle: Any, invoke: Invoke) -> None:
    send(invoke, "ref-done")
    assert verify(invoke, "ref-done", code_of(lifecycle, "ref-done")).body == {"valid": True}
    result = cancel(invoke, "ref-done")
    assert result.status == 409
    assert result.body["type"] == "urn:otp:problem:verification-verified"
    assert status(invoke, "ref-done").body["status"] == "VERIFIED"


def test_a_new_code_under_a_cancelled_reference_starts_a_new_verification(
    lifecycle: Any, invoke: Invoke
) -> None:
    send(invoke, "ref-again")
    cancel(invoke, "ref-again")
    send(invoke, "ref-again")
    result = status(invoke, "ref-again")
    assert (result.body["status"], len(result.body["sends"])) == ("PENDING", 1)
    assert verify(invoke, "ref-again", code_of(lifecycle, "ref-again")).body == {"valid": True}


def test_a_send_the_engine_refused_shows_what_it_said(lifecycle: Any, invoke: Invoke, engine: str) -> None:
    # Given a number that has opted out (Pinpoint reports OPT_OUT; End User Messaging refuses the call)
    opted_out = "+12065550105"
    refused = send(invoke, "ref-optout", phone=opted_out)
    assert refused.status == 409
    # When the verification is looked at
    result = status(invoke, "ref-optout", phone=opted_out)
    # Then its one send shows what the engine said
    expected = "UNKNOWN_FAILURE" if engine == END_USER_MESSAGING else "OPT_OUT"
    assert [send_["deliveryStatus"] for send_ in result.body["sends"]] == [expected]


# ----------------------------------------------------------------------------------- strangers


def test_a_stranger_who_knows_the_number_and_reference_learns_nothing(lifecycle: Any, invoke: Invoke) -> None:
    # Given the owner's code, and a stranger (another API key) who knows the number and the reference
    send(invoke, "ref-victim")
    code = code_of(lifecycle, "ref-victim")
    # When the stranger asks its status, cancels it, and guesses at it
    looked = status(invoke, "ref-victim", identity=STRANGER)
    cancelled = cancel(invoke, "ref-victim", identity=STRANGER)
    guessed = verify(invoke, "ref-victim", wrong(code), identity=STRANGER)
    # Then each answer is the one an unknown reference gets (no status, no reason but NOT_FOUND)
    unknown = status(invoke, "ref-unknown", identity=STRANGER)
    for result in (looked, cancelled, unknown):
        assert_not_found(result)
        assert {k: v for k, v in result.body.items() if k != "requestId"} == {
            k: v for k, v in unknown.body.items() if k != "requestId"
        }
    assert guessed.body == {"valid": False, "reason": "NOT_FOUND"}
    # and nothing changed: not cancelled, not one attempt spent, and the owner verifies it
    owners_view = status(invoke, "ref-victim").body
    assert (owners_view["status"], owners_view["attemptsRemaining"]) == ("PENDING", 3)
    assert verify(invoke, "ref-victim", code).body == {"valid": True}


def test_a_stranger_cannot_verify_the_owners_code_even_knowing_it(lifecycle: Any, invoke: Invoke) -> None:
    # Given the owner's code, known to a stranger (another API key) with the number and the reference
    send(invoke, "ref-stolen")
    code = code_of(lifecycle, "ref-stolen")
    calls = engine_calls(lifecycle)
    # When the stranger verifies it
    answer = verify(invoke, "ref-stolen", code, identity=STRANGER)
    # Then it does not exist for them (the engine is not asked), and it stays the owner's to verify
    assert answer.body == {"valid": False, "reason": "NOT_FOUND"}
    assert engine_calls(lifecycle) == calls
    assert verify(invoke, "ref-stolen", code).body == {"valid": True}


def test_another_number_or_reference_is_not_found(lifecycle: Any, invoke: Invoke) -> None:
    send(invoke, "ref-mine")
    assert_not_found(status(invoke, "ref-mine", phone=OTHER_PHONE))
    assert_not_found(status(invoke, "ref-other"))
    assert_not_found(cancel(invoke, "ref-mine", phone=OTHER_PHONE))
    assert status(invoke, "ref-mine").body["status"] == "PENDING"


def test_codes_sent_without_an_owner_are_seen_by_no_api_caller(lifecycle: Any, invoke: Invoke) -> None:
    # Given a code sent by the Cognito sign-in (no API caller owns it), under a reference someone learnt
    from otp import wiring
    from otp.domain.models import Door, RequestSource

    sign_in = wiring.otp_service().with_source(RequestSource(Door.SIGN_IN, "app-client-id"))
    sign_in.send(PHONE, reference_id="ref-sign-in")
    # When an API caller (the sandbox's anonymous one included) asks for it or cancels it
    answers = [status(invoke, "ref-sign-in", identity=who) for who in (OWNER, {})]
    answers += [cancel(invoke, "ref-sign-in", identity=who) for who in (OWNER, {})]
    answers_verify = [
        verify(invoke, "ref-sign-in", code_of(lifecycle, "ref-sign-in"), identity=who) for who in (OWNER, {})
    ]
    # Then it does not exist for them, and its code cannot be used through the API
    for answer in answers:
        assert_not_found(answer)
    assert [answer.body for answer in answers_verify] == [{"valid": False, "reason": "NOT_FOUND"}] * 2
    assert wiring.otp_service().verify(
        PHONE, reference_id="ref-sign-in", code=code_of(lifecycle, "ref-sign-in")
    )


def test_status_reads_and_cancellations_use_up_no_limit(
    lifecycle: Any, invoke: Invoke, protect: Configure
) -> None:
    # Given a cap of 2 codes a day for the number and 5 verify calls per reference
    protect(OTP_SEND_COOLDOWN_SECONDS="0", OTP_SEND_LIMIT_PER_HOUR="2", OTP_SEND_LIMIT_PER_DAY="2")
    send(invoke, "ref-limits")
    # When status is asked and the stranger cancels, fifty times each
    for _ in range(50):
        status(invoke, "ref-limits")
        cancel(invoke, "ref-limits", identity=STRANGER)
    # Then the owner still has every attempt, and the number its second code
    assert status(invoke, "ref-limits").body["attemptsRemaining"] == 3
    assert send(invoke, "ref-limits-2").status == 202
    assert verify(invoke, "ref-limits-2", code_of(lifecycle, "ref-limits-2")).body == {"valid": True}


def test_cancelling_does_not_give_back_the_sends(lifecycle: Any, invoke: Invoke, protect: Configure) -> None:
    # Given a cap of 2 codes a day, both sent
    protect(OTP_SEND_COOLDOWN_SECONDS="0", OTP_SEND_LIMIT_PER_HOUR="2", OTP_SEND_LIMIT_PER_DAY="2")
    send(invoke, "ref-a")
    send(invoke, "ref-b")
    # When both are cancelled
    cancel(invoke, "ref-a")
    cancel(invoke, "ref-b")
    # Then a third code is still refused: cancel-and-resend cannot dodge the cap
    assert send(invoke, "ref-c").status == 429


# ----------------------------------------------------------------------------------- bounded input


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/otp/ref-x", None, "phoneNumber: Field required"),
        ("/otp/ref-x", {"phoneNumber": [" 12065550100"]}, "sent as %2B"),
        ("/otp/ref-x", {"phoneNumber": [PHONE, OTHER_PHONE]}, "phoneNumber: must be given once"),
        ("/otp/ref-x", {"phoneNumber": [PHONE], "code": ["123456"]}, "query: parameters other than"),
        ("/otp/" + "r" * 49, {"phoneNumber": [PHONE]}, "referenceId: String should match pattern"),
        ("/otp/ref%20x", {"phoneNumber": [PHONE]}, "referenceId: String should match pattern"),
    ],
)
def test_a_malformed_status_request_is_a_400_that_echoes_nothing(
    lifecycle: Any, invoke: Invoke, path: str, query: dict[str, list[str]] | None, expected: str
) -> None:
    result = invoke("GET", path, query=query, identity=OWNER)
    assert result.status == 400
    assert expected in result.body["detail"]
    for value in (PHONE.removeprefix("+"), OTHER_PHONE, "123456", "r" * 49):
        assert value not in result.body["detail"]


@pytest.mark.parametrize(
    ("body", "query", "expected"),
    [
        (None, None, "phoneNumber: Field required (in the body or in the query)"),
        ({"phoneNumber": PHONE}, {"phoneNumber": [PHONE]}, "not both"),
        ({"phoneNumber": PHONE, "code": "123456"}, None, "members other than phoneNumber"),
        ({"phoneNumber": "12065550100"}, None, "phoneNumber: String should match pattern"),
    ],
)
def test_a_malformed_cancellation_is_a_400(
    lifecycle: Any, invoke: Invoke, body: Any, query: dict[str, list[str]] | None, expected: str
) -> None:
    send(invoke, "ref-keep")
    result = invoke("DELETE", "/otp/ref-keep", body, query=query, identity=OWNER)
    assert result.status == 400
    assert expected in result.body["detail"]
    assert status(invoke, "ref-keep").body["status"] == "PENDING"


def test_a_number_of_a_country_not_allowed_is_refused_as_for_a_send(lifecycle: Any, invoke: Invoke) -> None:
    result = status(invoke, "ref-x", phone="+33612345678")
    assert result.status == 400
    assert result.body["field"] == "phoneNumber"


def test_a_query_string_plus_must_be_percent_encoded(lifecycle: Any, invoke: Invoke) -> None:
    # What a query string's "+" becomes once decoded, and what %2B does
    send(invoke, "ref-plus")
    assert quote(PHONE, safe="") == "%2B12065550100"
    assert status(invoke, "ref-plus", phone=PHONE).status == 200
    assert status(invoke, "ref-plus", phone=" " + PHONE[1:]).status == 400


# ------------------------------------------------------------------------------ DynamoDB calls per request


class CountingDynamoDb:
    """WSGI middleware in front of moto: the DynamoDB operations each request made, in order."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self.operations: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target.startswith("DynamoDB_"):
            self.operations.append(target.split(".", 1)[-1])
        return self._app(environ, start_response)


@pytest.fixture
def counted(lifecycle: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingDynamoDb]:
    """The handler's DynamoDB behind a counter (a moto server of its own, DynamoDB made atomic)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from local.protection_table import atomic_dynamodb, create_protection_table
    from otp import wiring
    from tests.sandbox_harness import aws_client

    counter = CountingDynamoDb(atomic_dynamodb(DomainDispatcherApplication(create_backend_app)))
    server = make_server("127.0.0.1", 0, counter, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    table = create_protection_table(aws_client("dynamodb", url), "otp-counted")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", url)
    monkeypatch.setenv("OTP_TABLE_NAME", table)
    wiring.reset()
    counter.operations.clear()
    yield counter
    server.shutdown()
    thread.join(timeout=5)


def calls_of(counter: CountingDynamoDb, request: Callable[[], ApiResult]) -> list[str]:
    counter.operations.clear()
    request()
    return list(counter.operations)


def test_the_lifecycle_adds_no_dynamodb_call_to_a_send_and_takes_one_for_a_status(
    counted: CountingDynamoDb, invoke: Invoke, lifecycle: Any
) -> None:
    # A send: one read of every limit, then one transaction that records the verification with them
    sent = calls_of(counted, lambda: send(invoke, "ref-calls"))
    assert sent == ["BatchGetItem", "TransactWriteItems"]
    code = code_of(lifecycle, "ref-calls")
    # A wrong code: one conditional UpdateItem checks the verification and counts the attempt
    assert calls_of(counted, lambda: verify(invoke, "ref-calls", wrong(code))) == ["UpdateItem"]
    # A status: one read; a cancellation: one conditional write
    assert calls_of(counted, lambda: status(invoke, "ref-calls")) == ["GetItem"]
    # The right code: the attempt, then the verified mark
    assert calls_of(counted, lambda: verify(invoke, "ref-calls", code)) == ["UpdateItem", "UpdateItem"]
    # A verify of a closed verification, or a stranger's: the one refused UpdateItem, no engine call
    assert calls_of(counted, lambda: verify(invoke, "ref-calls", code)) == ["UpdateItem"]
    assert calls_of(counted, lambda: cancel(invoke, "ref-calls")) == ["UpdateItem"]
