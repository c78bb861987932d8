"""The three Cognito custom-auth triggers, with Cognito's event shapes and a real OtpService.

The service talks to the sandbox's engine emulators over a real socket (``pinpoint_endpoint``), so
every code a trigger sends lands in the sandbox outbox and every verification is the engine's answer.
Every test runs on both engines (``engine``): the triggers must behave the same whichever sends.
Events follow the canonical samples in powertools-lambda-python's tests/events/ (cognito*Event.json).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.handler_env import use_handler_env
from tests.lambda_events import LambdaContext
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT
from tests.telemetry import Telemetry, captured_output, parse_output

PHONE = "+12065550100"
MASKED = "+1********00"
PUBLIC_KEYS = {
    "CODE_DELIVERY_DELIVERY_MEDIUM",
    "CODE_DELIVERY_DESTINATION",
    "CODE_LENGTH",
    "CODE_DELIVERY_ALTERNATIVES",
    "OTP_DEVICE_TICKET",
    "OTP_ATTEMPTS_REMAINING",
}
#: What a first round offers to switch to: ENGINE_ENV enables every channel of End User Messaging.
FIRST_ALTERNATIVES = {PINPOINT: "", END_USER_MESSAGING: "VOICE,WHATSAPP"}
POOL_ID = "us-east-1_example"
CLIENT_ID = "3n4b5urk1ft4fl3mg5e62d9ado"
_CODE = re.compile(r"\b(\d{6})\b")


# --- events, shaped as Cognito sends them ------------------------------------------------------


def _event(trigger_source: str, user_name: str, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": POOL_ID,
        "userName": user_name,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": CLIENT_ID},
        "triggerSource": trigger_source,
        "request": request,
        "response": {},
    }


def user_attributes(phone: str | None = PHONE, *, verified: bool = True) -> dict[str, str]:
    attributes = {"sub": str(uuid.uuid4()), "cognito:user_status": "CONFIRMED"}
    if phone is not None:
        attributes["phone_number"] = phone
        attributes["phone_number_verified"] = "true" if verified else "false"
    return attributes


def round_(result: bool, metadata: str | None, name: str = "CUSTOM_CHALLENGE") -> dict[str, Any]:
    return {"challengeName": name, "challengeResult": result, "challengeMetadata": metadata}


def _with_metadata(request: dict[str, Any], client_metadata: dict[str, str] | None) -> dict[str, Any]:
    # Cognito sends clientMetadata only when the caller gave some (RespondToAuthChallenge's ClientMetadata).
    if client_metadata is not None:
        request["clientMetadata"] = client_metadata
    return request


def define_event(
    session: list[dict[str, Any]],
    *,
    user_not_found: bool = False,
    user_name: str = "alice",
    client_metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    attributes = {} if user_not_found else user_attributes()
    request = {"userAttributes": attributes, "session": session, "userNotFound": user_not_found}
    return _event("DefineAuthChallenge_Authentication", user_name, _with_metadata(request, client_metadata))


def create_event(
    attributes: dict[str, str],
    session: list[dict[str, Any]] | None = None,
    *,
    user_not_found: bool = False,
    user_name: str = "alice",
    client_metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    request = {
        "userAttributes": attributes,
        "challengeName": "CUSTOM_CHALLENGE",
        "session": session or [],
        "userNotFound": user_not_found,
    }
    return _event("CreateAuthChallenge_Authentication", user_name, _with_metadata(request, client_metadata))


def verify_event(
    private: dict[str, str],
    answer: Any,
    *,
    user_not_found: bool = False,
    user_name: str = "alice",
    client_metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    request = {
        "userAttributes": {} if user_not_found else user_attributes(),
        "privateChallengeParameters": private,
        "challengeAnswer": answer,
        "userNotFound": user_not_found,
    }
    return _event(
        "VerifyAuthChallengeResponse_Authentication", user_name, _with_metadata(request, client_metadata)
    )


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(params=[PINPOINT, END_USER_MESSAGING])
def engine(request: pytest.FixtureRequest) -> str:
    """The engine the triggers send through: every test of this file runs on both."""
    engine: str = request.param
    return engine


@pytest.fixture
def trigger_env(pinpoint_endpoint: Any, engine: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The triggers' deployment environment, pointing at the sandbox's endpoint; caches reset."""
    from otp import wiring

    use_handler_env(
        monkeypatch,
        pinpoint_endpoint,
        engine=engine,
        OTP_ALLOWED_COUNTRIES="US,CA,GB",
        OTP_ENGINE_READ_TIMEOUT="1",
        OTP_ENGINE_MAX_ATTEMPTS="1",
    )
    yield pinpoint_endpoint
    wiring.reset()


Invoke = Callable[[dict[str, Any]], tuple[dict[str, Any], Telemetry]]


@pytest.fixture
def invoke(trigger_env: Any) -> Callable[[str], Invoke]:
    """``invoke("define")(event)`` -> (the returned event, what the handler printed)."""
    from otp.handlers import cognito

    handlers = {
        "define": cognito.define_auth_challenge,
        "create": cognito.create_auth_challenge,
        "verify": cognito.verify_auth_challenge,
    }

    def for_trigger(name: str) -> Invoke:
        def _invoke(event: dict[str, Any]) -> tuple[dict[str, Any], Telemetry]:
            with captured_output() as output:
                returned = handlers[name](event, LambdaContext(function_name=f"otp-{name}-auth-challenge"))
            return returned, parse_output(output.getvalue())

        return _invoke

    return for_trigger


@pytest.fixture
def outbox(trigger_env: Any) -> Callable[..., list[dict[str, Any]]]:
    """The SMS the sandbox delivered in this test, optionally to one destination."""

    def _outbox(destination: str | None = None) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = trigger_env.outbox(destination=destination)
        return messages

    return _outbox


def code_in(sms: dict[str, Any]) -> str:
    match = _CODE.search(sms["body"])
    assert match, sms
    return match.group(1)


def fresh_number() -> str:
    """A valid US number no other test uses, so outbox counts are per test even in parallel runs."""
    return f"+1206555{uuid.uuid4().int % 9000 + 1000:04d}"


def metric_dimensions(telemetry: Telemetry, name: str, dimension: str) -> list[str]:
    return [str(found["dimensions"][dimension]) for found in telemetry.metric_values(name)]


# --- Define Auth Challenge ---------------------------------------------------------------------


def test_define_issues_a_custom_challenge_for_a_fresh_session(invoke):
    # Given a sign-in that has not answered anything yet
    event = define_event([])

    # When Define runs
    returned, _ = invoke("define")(event)

    # Then Cognito is told to present our custom challenge
    assert returned["response"] == {
        "challengeName": "CUSTOM_CHALLENGE",
        "issueTokens": False,
        "failAuthentication": False,
    }


def test_define_issues_tokens_after_a_correct_answer(invoke):
    # Given a session whose last round was answered correctly (after one wrong answer)
    event = define_event([round_(False, "OTP-ref1"), round_(True, "OTP-ref1")])

    # When Define runs
    returned, telemetry = invoke("define")(event)

    # Then tokens are issued, and the log line carries the sign-in's reference as correlation id
    assert returned["response"]["issueTokens"] is True
    assert returned["response"]["failAuthentication"] is False
    assert "challengeName" not in returned["response"]
    assert telemetry.logs_with("sign-in step decided")[0]["correlation_id"] == "ref1"


def test_define_rechallenges_while_attempts_remain(invoke):
    # Given two wrong answers out of the three allowed
    event = define_event([round_(False, "OTP-ref1"), round_(False, "OTP-ref1")])

    # When Define runs
    returned, _ = invoke("define")(event)

    # Then the user is asked again
    assert returned["response"]["challengeName"] == "CUSTOM_CHALLENGE"
    assert returned["response"]["failAuthentication"] is False


@pytest.mark.parametrize("allowed_attempts", [1, 3, 5])
def test_define_fails_after_allowed_attempts_wrong_answers(invoke, monkeypatch, allowed_attempts):
    # Given a deployment with this many attempts, and as many wrong answers
    from otp import wiring

    monkeypatch.setenv("OTP_ALLOWED_ATTEMPTS", str(allowed_attempts))
    wiring.reset()
    session = [round_(False, "OTP-ref1") for _ in range(allowed_attempts)]

    # When Define runs
    returned, telemetry = invoke("define")(define_event(session))

    # Then the session fails, with no tokens
    assert returned["response"]["failAuthentication"] is True
    assert returned["response"]["issueTokens"] is False
    assert telemetry.logs_with("sign-in step decided")[0]["wrongAnswers"] == allowed_attempts


def test_define_fails_a_session_with_the_canonical_password_verifier_rounds(invoke):
    # Given Powertools' canonical Define event: two PASSWORD_VERIFIER rounds, userNotFound true
    event = _event(
        "DefineAuthChallenge_Authentication",
        "UserName",
        {
            "userAttributes": {"sub": "4A709A36-7D63-4785-829D-4198EF10EBDA", "email_verified": "true"},
            "session": [
                {"challengeName": "PASSWORD_VERIFIER", "challengeResult": True},
                {
                    "challengeName": "PASSWORD_VERIFIER",
                    "challengeResult": True,
                    "challengeMetadata": "CAPTCHA_CHALLENGE",
                },
            ],
            "userNotFound": True,
        },
    )

    # When Define runs
    returned, _ = invoke("define")(event)

    # Then a session that is not our custom challenge fails, even with "successful" rounds
    assert returned["response"]["failAuthentication"] is True
    assert returned["response"]["issueTokens"] is False


@pytest.mark.parametrize("other", ["SRP_A", "PASSWORD_VERIFIER", "SMS_MFA"])
def test_define_fails_any_other_challenge_type_before_ours(invoke, other):
    # Given a session that went through another challenge before a correct custom answer
    event = define_event([round_(True, None, name=other), round_(True, "OTP-ref1")])

    # When Define runs
    returned, _ = invoke("define")(event)

    # Then it fails rather than mixing flows
    assert returned["response"]["failAuthentication"] is True


def test_define_treats_an_unknown_user_like_a_known_one(invoke):
    # Given a fresh session for a username that does not exist
    event = define_event([], user_not_found=True, user_name="nobody")

    # When Define runs
    returned, _ = invoke("define")(event)

    # Then the answer is the same as for a real user: a custom challenge
    assert returned["response"]["challengeName"] == "CUSTOM_CHALLENGE"


def test_define_fails_closed_on_a_malformed_event(invoke):
    # Given an event whose session is missing
    event = define_event([])
    del event["request"]["session"]

    # When Define runs
    returned, telemetry = invoke("define")(event)

    # Then nothing is raised to Cognito and the session fails
    assert returned["response"]["failAuthentication"] is True
    assert telemetry.logs_with("define auth challenge failed; failing the session")


# --- Create Auth Challenge ---------------------------------------------------------------------


def test_create_sends_one_code_in_the_first_round(invoke, outbox, engine):
    # Given a user with a verified phone number and a fresh session
    number = fresh_number()
    event = create_event(user_attributes(number))

    # When Create runs
    returned, telemetry = invoke("create")(event)

    # Then exactly one SMS went to the number, under the reference kept in the private parameters
    response = returned["response"]
    private, public = response["privateChallengeParameters"], response["publicChallengeParameters"]
    messages = outbox(number)
    assert len(messages) == 1
    assert messages[0]["referenceId"] == private["referenceId"]
    assert messages[0]["channel"] == "SMS"
    reference = private["referenceId"]
    # (protection is off here: no table, so no ticket record; tests/integration/protection has them)
    assert private == {
        "referenceId": reference,
        "destination": number,
        "sessionReference": reference,
        "ticketRecord": "",
    }
    assert re.fullmatch(rf"OTP-{re.escape(reference)}/SMS/F/\d{{13}}", response["challengeMetadata"])
    # And the client sees only the masked number, the medium, the code length and the channels it may
    # switch to - never the code
    assert set(public) == PUBLIC_KEYS
    assert public["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    assert public["CODE_DELIVERY_DESTINATION"] == f"+1********{number[-2:]}"
    assert public["CODE_LENGTH"] == "6"
    assert public["CODE_DELIVERY_ALTERNATIVES"] == FIRST_ALTERNATIVES[engine]
    code = code_in(messages[0])
    assert code not in str(response)
    # And the logs carry the masked number and the reference, never the code or the full number
    assert metric_dimensions(telemetry, "OtpDelivery", "DeliveryStatus") == ["SUCCESSFUL"]
    created = telemetry.logs_with("sign-in challenge created")[0]
    assert created["sendResult"] == "SENT"
    assert created["correlation_id"] == private["referenceId"]
    assert code not in telemetry.raw
    assert number not in telemetry.raw


def test_create_reuses_the_first_rounds_code_after_a_wrong_answer(invoke, outbox):
    # Given a session whose first round sent a code and was answered wrongly
    number = fresh_number()
    attributes = user_attributes(number)
    first, _ = invoke("create")(create_event(attributes))
    metadata = first["response"]["challengeMetadata"]

    # When Create runs for the second round
    second, telemetry = invoke("create")(create_event(attributes, [round_(False, metadata)]))

    # Then no second SMS is sent and the challenge is the same one (the round's origin and the
    # attempts left aside: the wrong answer spent one)
    assert len(outbox(number)) == 1
    assert second["response"]["privateChallengeParameters"] == first["response"]["privateChallengeParameters"]
    public = dict(second["response"]["publicChallengeParameters"])
    assert first["response"]["publicChallengeParameters"]["OTP_ATTEMPTS_REMAINING"] == "3"
    assert public["OTP_ATTEMPTS_REMAINING"] == "2"
    assert public | {"OTP_ATTEMPTS_REMAINING": "3"} == first["response"]["publicChallengeParameters"]
    assert second["response"]["challengeMetadata"] == metadata.replace("/F/", "/A/")
    assert telemetry.logs_with("sign-in challenge created")[0]["sendResult"] == "REUSED"
    assert telemetry.metric_values("OtpDelivery") == []


def test_create_for_an_unknown_user_looks_like_a_real_challenge_and_sends_nothing(invoke, outbox, engine):
    # Given a username that does not exist (prevent-user-existence-errors on)
    before = len(outbox())

    # When Create runs twice for it, as two separate sign-in attempts
    first, telemetry = invoke("create")(create_event({}, user_not_found=True, user_name="mallory"))
    again, _ = invoke("create")(create_event({}, user_not_found=True, user_name="mallory"))

    # Then the challenge has the real shape, a plausible masked number that stays the same across
    # attempts, a new reference per session, and no SMS went anywhere
    public = first["response"]["publicChallengeParameters"]
    assert set(public) == PUBLIC_KEYS
    assert re.fullmatch(r"\+\d{1,3}\*+\d\d", public["CODE_DELIVERY_DESTINATION"])
    assert public["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    assert public["CODE_DELIVERY_ALTERNATIVES"] == FIRST_ALTERNATIVES[engine]
    shown_again = dict(again["response"]["publicChallengeParameters"])
    # (each session shows its own device ticket, as a real user's sessions do)
    assert shown_again.pop("OTP_DEVICE_TICKET") != public["OTP_DEVICE_TICKET"]
    assert shown_again == {k: v for k, v in public.items() if k != "OTP_DEVICE_TICKET"}
    assert (
        again["response"]["privateChallengeParameters"]["referenceId"]
        != (first["response"]["privateChallengeParameters"]["referenceId"])
    )
    assert first["response"]["privateChallengeParameters"]["destination"] == ""
    assert first["response"]["challengeMetadata"].startswith("OTP-")
    assert len(outbox()) == before
    assert telemetry.logs_with("sign-in challenge created")[0]["decoy"] is True


def test_create_masks_a_phone_number_username_as_a_real_user_would_see_it(invoke, outbox):
    # Given a pool where users sign in with their phone number, and a number nobody registered
    number = fresh_number()

    # When Create runs for it
    returned, _ = invoke("create")(create_event({}, user_not_found=True, user_name=number))

    # Then the decoy shows that very number masked, as a registered user's challenge would
    public = returned["response"]["publicChallengeParameters"]
    assert public["CODE_DELIVERY_DESTINATION"] == f"+1********{number[-2:]}"
    assert outbox(number) == []


def test_create_for_a_user_without_a_verified_number_sends_nothing(invoke, outbox):
    # Given a user whose phone number is not verified
    number = fresh_number()

    # When Create runs
    returned, telemetry = invoke("create")(create_event(user_attributes(number, verified=False)))

    # Then the challenge has the usual shape and masked number, but no SMS was sent
    response = returned["response"]
    assert set(response["publicChallengeParameters"]) == PUBLIC_KEYS
    assert response["publicChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == f"+1********{number[-2:]}"
    assert response["privateChallengeParameters"]["destination"] == ""
    assert outbox(number) == []
    assert telemetry.logs_with("sign-in challenge created")[0]["sendResult"] == "NO_DESTINATION"


def test_create_for_a_user_without_a_phone_number_sends_nothing(invoke, outbox):
    # Given a user with no phone number at all
    before = len(outbox())

    # When Create runs
    returned, _ = invoke("create")(create_event(user_attributes(None)))

    # Then the challenge still has the usual shape, and nothing was sent
    assert set(returned["response"]["publicChallengeParameters"]) == PUBLIC_KEYS
    assert len(outbox()) == before


def test_create_does_not_text_a_country_outside_the_allowed_list(invoke, outbox):
    # Given a verified number in a country this deployment does not send to (Germany)
    number = "+4915123456789"

    # When Create runs
    returned, telemetry = invoke("create")(create_event(user_attributes(number)))

    # Then the challenge looks normal, nothing is sent, and the refusal is counted
    assert set(returned["response"]["publicChallengeParameters"]) == PUBLIC_KEYS
    assert outbox(number) == []
    assert metric_dimensions(telemetry, "OtpRejected", "Reason") == ["COUNTRY_NOT_ALLOWED"]


# What each engine answers for the sandbox's failing test numbers, and what Create makes of it.
FAILED_SENDS = {
    PINPOINT: [
        ("+12065550103", "NOT_DELIVERED", "OtpDelivery", "DeliveryStatus", "PERMANENT_FAILURE"),
        ("+12065550105", "NOT_DELIVERED", "OtpDelivery", "DeliveryStatus", "OPT_OUT"),
        ("+12065550129", "UPSTREAM_ERROR", "OtpUpstreamError", "ErrorCode", "TooManyRequestsException"),
        ("+12065550150", "UPSTREAM_ERROR", "OtpUpstreamError", "ErrorCode", "InternalServerErrorException"),
    ],
    END_USER_MESSAGING: [
        # Accepted, never delivered: the engine reports delivery later, as events.
        ("+12065550103", "SENT", "OtpDelivery", "DeliveryStatus", "SUCCESSFUL"),
        ("+12065550105", "UPSTREAM_ERROR", "OtpUpstreamError", "ErrorCode", "ConflictException"),
        ("+12065550129", "UPSTREAM_ERROR", "OtpUpstreamError", "ErrorCode", "ThrottlingException"),
        ("+12065550150", "MAYBE_SENT", "OtpUpstreamError", "ErrorCode", "InternalServerException"),
    ],
}


@pytest.mark.parametrize("case", range(4))
def test_create_answers_a_normal_challenge_when_the_send_fails(invoke, engine, case):
    # Given a verified number whose code the engine will not deliver
    number, send_result, metric, dimension, value = FAILED_SENDS[engine][case]
    event = create_event(user_attributes(number))

    # When Create runs
    returned, telemetry = invoke("create")(event)

    # Then the client gets the same shape as after a successful send (nothing to tell users apart),
    # the failure is counted under the API's own metric, and the reference is kept for Verify
    response = returned["response"]
    assert set(response["publicChallengeParameters"]) == PUBLIC_KEYS
    assert response["publicChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == f"+1********{number[-2:]}"
    assert response["privateChallengeParameters"]["destination"] == number
    assert metric_dimensions(telemetry, metric, dimension) == [value]
    assert telemetry.logs_with("sign-in challenge created")[0]["sendResult"] == send_result


def test_create_answers_a_decoy_when_the_event_is_malformed(invoke):
    # Given an event whose session entries lack their challenge name
    event = create_event(user_attributes(fresh_number()), [{"challengeResult": False}])

    # When Create runs
    returned, telemetry = invoke("create")(event)

    # Then nothing is raised to Cognito: the answer is a challenge of the usual shape
    assert set(returned["response"]["publicChallengeParameters"]) == PUBLIC_KEYS
    assert returned["response"]["privateChallengeParameters"]["destination"] == ""
    assert telemetry.logs_with("create auth challenge failed; answering with a decoy")


# --- Verify Auth Challenge Response ------------------------------------------------------------


def _challenge_for(invoke, outbox, number: str) -> tuple[dict[str, str], str]:
    created, _ = invoke("create")(create_event(user_attributes(number)))
    private = created["response"]["privateChallengeParameters"]
    (sms,) = outbox(number)
    return private, code_in(sms)


def test_verify_accepts_the_code_that_was_sent(invoke, outbox):
    # Given a challenge whose code reached the user
    private, code = _challenge_for(invoke, outbox, fresh_number())

    # When the user answers with it
    returned, telemetry = invoke("verify")(verify_event(private, code))

    # Then the answer is correct, counted as VALID, logged under the sign-in's reference
    assert returned["response"] == {"answerCorrect": True}
    assert metric_dimensions(telemetry, "OtpVerification", "Result") == ["VALID"]
    assert telemetry.logs_with("sign-in answer checked")[0]["correlation_id"] == private["referenceId"]
    assert code not in telemetry.raw


def test_verify_accepts_a_code_typed_with_surrounding_spaces(invoke, outbox):
    # Given a challenge whose code reached the user
    private, code = _challenge_for(invoke, outbox, fresh_number())

    # When the user pastes it with spaces around it
    returned, _ = invoke("verify")(verify_event(private, f" {code} "))

    # Then it is accepted
    assert returned["response"]["answerCorrect"] is True


def test_verify_rejects_a_wrong_code(invoke, outbox):
    # Given a challenge
    private, code = _challenge_for(invoke, outbox, fresh_number())
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    # When the user answers with another code
    returned, telemetry = invoke("verify")(verify_event(private, wrong))

    # Then the answer is wrong and counted as INVALID
    assert returned["response"] == {"answerCorrect": False}
    assert metric_dimensions(telemetry, "OtpVerification", "Result") == ["INVALID"]


@pytest.mark.parametrize(
    "answer", ["", "abc123", "12345", "1234567", "\uff11\uff12\uff13\uff14\uff15\uff16", None, 123456]
)
def test_verify_rejects_a_malformed_answer_without_asking_pinpoint(invoke, outbox, answer):
    # Given a challenge
    private, _ = _challenge_for(invoke, outbox, fresh_number())

    # When the answer is not six ASCII digits (or not text at all)
    returned, telemetry = invoke("verify")(verify_event(private, answer))

    # Then it is wrong, and no verification reached Pinpoint
    assert returned["response"] == {"answerCorrect": False}
    assert telemetry.metric_values("OtpVerification") == []


def test_verify_rejects_a_code_after_it_expired(invoke, outbox, trigger_env):
    # Given a challenge whose code is five minutes and one second old
    private, code = _challenge_for(invoke, outbox, fresh_number())
    trigger_env.advance_clock(301)

    # When the user answers with it
    returned, _ = invoke("verify")(verify_event(private, code))

    # Then Pinpoint no longer accepts it
    assert returned["response"]["answerCorrect"] is False


def test_verify_rejects_every_answer_to_a_decoy(invoke):
    # Given the private parameters of a decoy challenge (unknown user)
    created, _ = invoke("create")(create_event({}, user_not_found=True, user_name="mallory"))
    private = created["response"]["privateChallengeParameters"]

    # When an answer comes in
    returned, telemetry = invoke("verify")(verify_event(private, "123456", user_not_found=True))

    # Then it is wrong, without a verification call
    assert returned["response"] == {"answerCorrect": False}
    assert telemetry.metric_values("OtpVerification") == []


def test_verify_answers_wrong_when_the_engine_fails(invoke, engine):
    # Given private parameters for a number on which Pinpoint answers InternalServerErrorException
    private = {"referenceId": "ref-pinpoint-down", "destination": "+12065550150"}

    # When an answer comes in
    returned, telemetry = invoke("verify")(verify_event(private, "123456"))

    # Then the error is counted and logged, and Cognito hears only "wrong"
    assert returned["response"] == {"answerCorrect": False}
    assert metric_dimensions(telemetry, "OtpUpstreamError", "ErrorCode") == [
        {PINPOINT: "InternalServerErrorException", END_USER_MESSAGING: "InternalServerException"}[engine]
    ]


def test_verify_answers_wrong_when_the_private_parameters_are_missing(invoke):
    # Given an event without privateChallengeParameters
    event = verify_event({}, "123456")
    del event["request"]["privateChallengeParameters"]

    # When Verify runs
    returned, _ = invoke("verify")(event)

    # Then the answer is wrong and nothing is raised
    assert returned["response"] == {"answerCorrect": False}


# --- the three together ------------------------------------------------------------------------


def test_a_whole_sign_in_with_one_wrong_answer_sends_one_sms(invoke, outbox):
    # Given a user with a verified number
    number = fresh_number()
    attributes = user_attributes(number)
    session: list[dict[str, Any]] = []

    # When the triggers run as Cognito chains them: a wrong answer, then the right one
    assert invoke("define")(define_event(session))[0]["response"]["challengeName"] == "CUSTOM_CHALLENGE"
    created = invoke("create")(create_event(attributes, session))[0]["response"]
    code = code_in(outbox(number)[0])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    verified = invoke("verify")(verify_event(created["privateChallengeParameters"], wrong))[0]["response"]
    session.append(round_(verified["answerCorrect"], created["challengeMetadata"]))
    assert invoke("define")(define_event(session))[0]["response"]["challengeName"] == "CUSTOM_CHALLENGE"
    created = invoke("create")(create_event(attributes, session))[0]["response"]
    verified = invoke("verify")(verify_event(created["privateChallengeParameters"], code))[0]["response"]
    session.append(round_(verified["answerCorrect"], created["challengeMetadata"]))
    final = invoke("define")(define_event(session))[0]["response"]

    # Then tokens are issued, and the user received exactly one SMS
    assert final["issueTokens"] is True
    assert len(outbox(number)) == 1


# --- switching channels (contracts.md) ---------------------------------------------------------

VOICE = {"otpChannel": "VOICE"}


def first_round(invoke: Callable[[str], Invoke], number: str) -> dict[str, Any]:
    created, _ = invoke("create")(create_event(user_attributes(number)))
    response: dict[str, Any] = created["response"]
    return response


def test_define_does_not_count_a_switch_to_an_offered_channel(invoke, monkeypatch, engine):
    # Given a deployment that allows a single attempt, and a first round answered with a switch to VOICE
    from otp import wiring

    monkeypatch.setenv("OTP_ALLOWED_ATTEMPTS", "1")
    wiring.reset()
    session = [round_(False, "OTP-ref1/SMS/F/1800000000000")]

    # When Define runs with the answer's ClientMetadata
    returned, telemetry = invoke("define")(define_event(session, client_metadata=VOICE))

    # Then where VOICE is offered the switch spends no attempt: the user is challenged again; where it
    # is not (Pinpoint), the answer was a wrong one, and the only attempt is gone
    decided = telemetry.logs_with("sign-in step decided")[0]
    if engine == END_USER_MESSAGING:
        assert returned["response"]["challengeName"] == "CUSTOM_CHALLENGE"
        assert (decided["reason"], decided["wrongAnswers"]) == ("channel switch", 0)
    else:
        assert returned["response"]["failAuthentication"] is True
        assert decided["wrongAnswers"] == 1


@pytest.mark.parametrize(
    ("metadata", "client_metadata", "wrong"),
    [
        # A switch recorded in the round that followed it is not a wrong answer, later too.
        (["OTP-r1/SMS/F/1", "OTP-r2/VOICE/S/2", "OTP-r2/VOICE/A/2"], None, 2),
        (["OTP-r1/SMS/F/1", "OTP-r2/VOICE/S/2"], None, 1),
        # A second switch, a switch to the channel in force, an unknown channel: wrong answers.
        (["OTP-r1/SMS/F/1", "OTP-r2/VOICE/S/2"], {"otpChannel": "WHATSAPP"}, 1),
        (["OTP-r1/SMS/F/1"], {"otpChannel": "SMS"}, 1),
        (["OTP-r1/SMS/F/1"], {"otpChannel": "PIGEON"}, 1),
        (["OTP-r1/SMS/F/1"], {"otpChannel": "voice"}, 1),
        # Sessions begun before channels existed: their rounds are first rounds on SMS.
        (["OTP-r1", "OTP-r1"], None, 2),
    ],
)
def test_define_counts_only_guesses(invoke, engine, metadata, client_metadata, wrong):
    # Given a session whose every round was answered without success
    session = [round_(False, m) for m in metadata]

    # When Define runs
    _, telemetry = invoke("define")(define_event(session, client_metadata=client_metadata))

    # Then wrong answers are the rounds that were guesses (End User Messaging offers VOICE; Pinpoint
    # does not, so there nothing but an SMS can have been in force and no switch is recorded)
    assert telemetry.logs_with("sign-in step decided")[0]["wrongAnswers"] == wrong


@pytest.mark.parametrize("user_not_found", [False, True])
@pytest.mark.parametrize(
    ("metadata", "client_metadata"),
    [
        ([], None),
        (["OTP-r1/SMS/F/1"], None),
        (["OTP-r1/SMS/F/1", "OTP-r1/SMS/A/1"], None),
        (["OTP-r1/SMS/F/1", "OTP-r2/VOICE/S/2"], None),
        (["OTP-r1/SMS/F/1", "OTP-r2/VOICE/S/2"], {"otpChannel": "WHATSAPP"}),
        (["OTP-r1/SMS/F/1"], {"otpChannel": "SMS"}),
        (["OTP-r1/SMS/F/1"], {"otpChannel": "PIGEON"}),
    ],
)
def test_create_shows_the_attempts_define_leaves(invoke, engine, metadata, client_metadata, user_not_found):
    # Given a session Define lets go on (every round answered without success)
    session = [round_(False, m) for m in metadata]
    number = fresh_number()
    _, decided = invoke("define")(
        define_event(session, client_metadata=client_metadata, user_not_found=user_not_found)
    )
    wrong = decided.logs_with("sign-in step decided")[0]["wrongAnswers"]

    # When Create makes the next round, for a real user or an unknown one
    attributes = {} if user_not_found else user_attributes(number)
    created, _ = invoke("create")(
        create_event(
            attributes,
            session,
            user_not_found=user_not_found,
            user_name=number,
            client_metadata=client_metadata,
        )
    )

    # Then the challenge shows what Define's count leaves of the 3 allowed, whoever the user is
    assert created["response"]["publicChallengeParameters"]["OTP_ATTEMPTS_REMAINING"] == str(3 - wrong)


def test_a_switch_sends_a_new_code_on_the_requested_channel_under_a_new_reference(invoke, outbox, engine):
    # Given a first round whose SMS went out
    number = fresh_number()
    first = first_round(invoke, number)
    session = [round_(False, first["challengeMetadata"])]

    # When the client answers with a switch to VOICE and Create runs for the next round
    created, telemetry = invoke("create")(
        create_event(user_attributes(number), session, client_metadata=VOICE)
    )

    # Then (End User Messaging) a call carries a new code under a new reference, the challenge says
    # VOICE and offers nothing more; (Pinpoint) the request is a wrong answer: the same code, no call
    response = created["response"]
    public, private = response["publicChallengeParameters"], response["privateChallengeParameters"]
    messages = outbox(number)
    assert set(public) == PUBLIC_KEYS
    if engine == PINPOINT:
        assert [m["channel"] for m in messages] == ["SMS"]
        assert public == first["publicChallengeParameters"] | {"OTP_ATTEMPTS_REMAINING": "2"}
        assert private == first["privateChallengeParameters"]
        return
    assert [m["channel"] for m in messages] == ["SMS", "VOICE"]
    assert public["OTP_ATTEMPTS_REMAINING"] == "3"
    assert public["CODE_DELIVERY_DELIVERY_MEDIUM"] == "VOICE"
    assert public["CODE_DELIVERY_ALTERNATIVES"] == ""
    assert (
        public["CODE_DELIVERY_DESTINATION"] == first["publicChallengeParameters"]["CODE_DELIVERY_DESTINATION"]
    )
    first_reference = first["privateChallengeParameters"]["referenceId"]
    assert private["referenceId"] != first_reference
    assert messages[1]["referenceId"] == private["referenceId"]
    assert private["sessionReference"] == first_reference
    assert re.fullmatch(
        rf"OTP-{re.escape(private['referenceId'])}/VOICE/S/\d{{13}}", response["challengeMetadata"]
    )
    created_log = telemetry.logs_with("sign-in challenge created")[0]
    assert (created_log["channel"], created_log["origin"], created_log["sendResult"]) == (
        "VOICE",
        "SWITCH",
        "SENT",
    )
    assert created_log["correlation_id"] == first_reference
    assert code_in(messages[1]) not in telemetry.raw


def test_verify_answers_a_switch_wrong_without_asking_the_engine(invoke, outbox, trigger_env):
    # Given a first round whose code reached the user
    number = fresh_number()
    first = first_round(invoke, number)
    code = code_in(outbox(number)[0])
    trigger_env.clear_calls()

    # When the answer is the right code, but sent as a switch request
    returned, telemetry = invoke("verify")(
        verify_event(first["privateChallengeParameters"], code, client_metadata=VOICE)
    )

    # Then it is not accepted, and no verification reached the engine: no attempt was spent
    assert returned["response"] == {"answerCorrect": False}
    assert telemetry.metric_values("OtpVerification") == []
    assert [c for c in trigger_env.calls() if "Verif" in c["operation"] or "Validate" in c["operation"]] == []
    assert telemetry.logs_with("sign-in answer checked")[0]["deliveryRequest"] is True
    # And the code still verifies afterwards, as it would have before
    again, _ = invoke("verify")(verify_event(first["privateChallengeParameters"], code))
    assert again["response"] == {"answerCorrect": True}


def test_a_decoy_switches_as_a_real_user_does_and_sends_nothing(invoke, outbox, engine):
    # Given an unknown user's first round (the username is a phone number nobody registered)
    number = fresh_number()
    first, _ = invoke("create")(create_event({}, user_not_found=True, user_name=number))
    session = [round_(False, first["response"]["challengeMetadata"])]

    # When the client asks for a call
    switched, telemetry = invoke("create")(
        create_event({}, session, user_not_found=True, user_name=number, client_metadata=VOICE)
    )

    # Then the challenge changes exactly as a real user's would, and nothing goes anywhere
    public = switched["response"]["publicChallengeParameters"]
    expected_medium = {PINPOINT: "SMS", END_USER_MESSAGING: "VOICE"}[engine]
    expected_alternatives = {PINPOINT: "", END_USER_MESSAGING: ""}[engine]
    assert set(public) == PUBLIC_KEYS
    assert public["CODE_DELIVERY_DELIVERY_MEDIUM"] == expected_medium
    assert public["CODE_DELIVERY_ALTERNATIVES"] == expected_alternatives
    assert public["CODE_DELIVERY_DESTINATION"] == f"+1********{number[-2:]}"
    assert outbox(number) == []
    assert telemetry.logs_with("sign-in challenge created")[0]["decoy"] is True


def test_a_whole_sign_in_with_a_switch_accepts_only_the_new_code(invoke, outbox, engine):
    # Given a user who received an SMS code
    number = fresh_number()
    attributes = user_attributes(number)
    session: list[dict[str, Any]] = []
    invoke("define")(define_event(session))
    created = invoke("create")(create_event(attributes, session))[0]["response"]
    sms_code = code_in(outbox(number)[0])

    def answer(value: str, client_metadata: dict[str, str] | None = None) -> dict[str, Any]:
        nonlocal created
        verified = invoke("verify")(
            verify_event(created["privateChallengeParameters"], value, client_metadata=client_metadata)
        )[0]["response"]
        session.append(round_(verified["answerCorrect"], created["challengeMetadata"]))
        decided: dict[str, Any] = invoke("define")(define_event(session, client_metadata=client_metadata))[0][
            "response"
        ]
        if decided.get("challengeName"):
            created = invoke("create")(create_event(attributes, session, client_metadata=client_metadata))[0][
                "response"
            ]
        return decided

    # When the user asks for a call, then answers with the texted code, then with the spoken one
    assert answer("VOICE", VOICE)["challengeName"] == "CUSTOM_CHALLENGE"
    if engine == PINPOINT:
        # (Pinpoint offers no call: the request was a wrong answer and the texted code still applies)
        assert len(outbox(number)) == 1
        assert answer(sms_code)["issueTokens"] is True
        return
    voice_code = code_in(outbox(number)[1])
    stale = answer(sms_code)
    final = answer(voice_code)

    # Then the texted code no longer signs in, the spoken one does, and two messages went out
    assert stale["challengeName"] == "CUSTOM_CHALLENGE"
    assert final["issueTokens"] is True
    assert [m["channel"] for m in outbox(number)] == ["SMS", "VOICE"]


def test_a_sign_in_with_a_switch_still_fails_after_allowed_attempts_guesses(invoke, outbox, engine):
    # Given a user who switched to a call in the first round
    number = fresh_number()
    attributes = user_attributes(number)
    first = first_round(invoke, number)
    session = [round_(False, first["challengeMetadata"])]
    created = invoke("create")(create_event(attributes, session, client_metadata=VOICE))[0]["response"]

    # When they (or someone) answer wrongly until the sign-in ends
    guesses = 0
    while True:
        wrong = invoke("verify")(verify_event(created["privateChallengeParameters"], "000000"))[0]
        guesses += 1
        session.append(round_(wrong["response"]["answerCorrect"], created["challengeMetadata"]))
        decided = invoke("define")(define_event(session))[0]["response"]
        if decided["failAuthentication"]:
            break
        created = invoke("create")(create_event(attributes, session))[0]["response"]

    # Then the third guess ends it (on Pinpoint the refused switch was the first wrong answer, so the
    # second guess does): guesses never exceed allowedAttempts, switch or not
    assert guesses == {PINPOINT: 2, END_USER_MESSAGING: 3}[engine]
