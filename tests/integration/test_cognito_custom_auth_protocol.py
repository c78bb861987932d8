"""The sandbox's Cognito CUSTOM_AUTH emulation: Cognito's protocol, errors and trigger events.

A stock boto3 cognito-idp client talks to the in-process AWS endpoint; the override invokes the
project's real trigger handlers, wrapped only to record the events Cognito would send them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.cognito_custom_auth import CognitoCustomAuth
from local.cognito_pools import create_sign_in_pool
from local.cognito_triggers import CREATE, DEFINE, VERIFY, project_trigger_functions, trigger_arns
from local.cognito_users import create_sign_in_user
from tests.handler_env import use_handler_env
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT, REGION, aws_client

_CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(params=[PINPOINT, END_USER_MESSAGING])
def engine(request: pytest.FixtureRequest) -> str:
    """The protocol is Cognito's whichever engine sends: every test runs on both."""
    engine: str = request.param
    return engine


@pytest.fixture
def sandbox_env(pinpoint_endpoint: Any, engine: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The triggers' environment (as the sandbox sets it), pointing at this test's endpoint."""
    from otp import wiring

    use_handler_env(monkeypatch, pinpoint_endpoint, engine=engine, OTP_BRAND_NAME="Sandbox")
    yield pinpoint_endpoint
    wiring.reset()


class Recorder:
    """The real handlers behind the sandbox ARNs, keeping a copy of every event they receive."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def wrap(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]]) -> Any:
        def recorded(event: dict[str, Any], context: Any) -> dict[str, Any]:
            self.events.append(
                {**event, "request": dict(event["request"]), "response": dict(event["response"])}
            )
            return handler(event, context)

        return recorded

    def of(self, trigger_source: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["triggerSource"] == trigger_source]


@pytest.fixture
def emulation(sandbox_env: Any) -> Iterator[tuple[CognitoCustomAuth, Recorder]]:
    recorder = Recorder()
    override = CognitoCustomAuth(clock=sandbox_env.clock.now, region=REGION)
    for arn, handler in project_trigger_functions(override.trigger_arns).items():
        override.register(arn, recorder.wrap(handler))
    sandbox_env.endpoint.add_override(override)
    yield override, recorder
    sandbox_env.endpoint.overrides.remove(override)


@pytest.fixture
def cognito(sandbox_env: Any) -> Any:
    return aws_client("cognito-idp", sandbox_env.url)


@pytest.fixture
def pool(cognito: Any, emulation: tuple[CognitoCustomAuth, Recorder]) -> dict[str, str]:
    created = create_sign_in_pool(cognito, emulation[0].trigger_arns)
    return {"userPoolId": created.user_pool_id, "clientId": created.client_id}


def fresh_number() -> str:
    return f"+1206555{uuid.uuid4().int % 9000 + 1000:04d}"


def custom_auth(cognito: Any, client_id: str, phone: str, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": phone, **extra}
    )
    return response


def respond(
    cognito: Any, client_id: str, session: str, phone: str, code: str, **extra: Any
) -> dict[str, Any]:
    response: dict[str, Any] = cognito.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=session,
        ChallengeResponses={"USERNAME": phone, "ANSWER": code, **extra},
    )
    return response


def code_for(endpoint: Any, phone: str) -> str:
    (sms,) = endpoint.outbox(destination=phone)
    match = _CODE.search(sms["body"])
    assert match, sms
    return match.group(1)


def error_of(raised: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_triggers_receive_the_events_cognito_sends(sandbox_env, emulation, cognito, pool):
    # Given a user with a verified phone number
    _, recorder = emulation
    phone = fresh_number()
    create_sign_in_user(cognito, pool["userPoolId"], phone)

    # When they sign in with one wrong answer and then the right one
    challenge = custom_auth(cognito, pool["clientId"], phone)
    code = code_for(sandbox_env, phone)
    retry = respond(
        cognito, pool["clientId"], challenge["Session"], phone, "000000" if code != "000000" else "111111"
    )
    respond(cognito, pool["clientId"], retry["Session"], phone, code)

    # Then each trigger got Cognito's event: the common fields, and the request of its trigger
    define, create, verify = (
        recorder.of("DefineAuthChallenge_Authentication"),
        recorder.of("CreateAuthChallenge_Authentication"),
        recorder.of("VerifyAuthChallengeResponse_Authentication"),
    )
    assert (len(define), len(create), len(verify)) == (3, 2, 2)
    for event in recorder.events:
        assert set(event) == {
            "version",
            "region",
            "userPoolId",
            "userName",
            "callerContext",
            "triggerSource",
            "request",
            "response",
        }
        assert event["version"] == "1"
        assert event["region"] == REGION
        assert event["userPoolId"] == pool["userPoolId"]
        assert event["callerContext"] == {
            "awsSdkVersion": "aws-sdk-unknown-unknown",
            "clientId": pool["clientId"],
        }
        assert event["response"] == {}
        # The pool's usernames are the numbers themselves: userName and USERNAME are what was typed
        assert event["userName"] == challenge["ChallengeParameters"]["USERNAME"] == phone
        assert event["request"]["userNotFound"] is False
        attributes = event["request"]["userAttributes"]
        assert attributes["phone_number"] == phone
        assert attributes["phone_number_verified"] == "true"
        assert attributes["cognito:user_status"] == "CONFIRMED"
    assert define[0]["request"]["session"] == []
    assert create[0]["request"]["challengeName"] == "CUSTOM_CHALLENGE"
    first, second = (event["request"]["session"] for event in define[1:])
    metadata = create[1]["request"]["session"][0]["challengeMetadata"]
    assert first == [
        {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": False, "challengeMetadata": metadata}
    ]
    assert second[0] == first[0]
    assert second[1]["challengeResult"] is True
    assert second[1]["challengeMetadata"] == metadata.replace("/F/", "/A/")
    assert verify[1]["request"]["challengeAnswer"] == code
    assert set(verify[1]["request"]["privateChallengeParameters"]) == {
        "referenceId",
        "destination",
        "sessionReference",
        "ticketRecord",
    }
    # No client metadata was given, so none reached the triggers
    assert all("clientMetadata" not in event["request"] for event in recorder.events)


def test_an_unknown_user_is_an_error_only_without_prevent_user_existence_errors(cognito, pool, emulation):
    # Given an app client with the API's default (LEGACY) user-existence errors
    legacy = cognito.create_user_pool_client(
        UserPoolId=pool["userPoolId"],
        ClientName="legacy",
        ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]

    # When an unknown number signs in through it, and through the sandbox's client
    with pytest.raises(cognito.exceptions.UserNotFoundException) as raised:
        custom_auth(cognito, legacy, fresh_number())
    decoy = custom_auth(cognito, pool["clientId"], fresh_number())

    # Then only the legacy client tells; the other runs the triggers with userNotFound
    assert error_of(raised) == ("UserNotFoundException", "User does not exist.")
    assert decoy["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert emulation[1].events[-1]["request"]["userNotFound"] is True


@pytest.mark.parametrize(
    ("setup", "code", "message"),
    [
        ("no_username", "InvalidParameterException", "Missing required parameter USERNAME"),
        ("flow_not_allowed", "InvalidParameterException", "CUSTOM_AUTH is not enabled for the client."),
        (
            "no_triggers",
            "InvalidParameterException",
            "Custom auth lambda trigger is not configured for the user pool.",
        ),
        ("disabled_user", "NotAuthorizedException", "User is disabled."),
        ("unconfirmed_user", "UserNotConfirmedException", "User is not confirmed."),
        ("unknown_client", "ResourceNotFoundException", "User pool client nope does not exist."),
    ],
)
def test_initiate_auth_refuses_as_cognito_does(cognito, pool, setup, code, message):
    # Given one of the situations Cognito refuses before any trigger runs
    phone, client_id = fresh_number(), pool["clientId"]
    if setup == "flow_not_allowed":
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool["userPoolId"],
            ClientName="srp",
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
    elif setup == "no_triggers":
        bare = cognito.create_user_pool(PoolName="no-triggers")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(UserPoolId=bare, ClientName="c")["UserPoolClient"][
            "ClientId"
        ]
    elif setup == "disabled_user":
        create_sign_in_user(cognito, pool["userPoolId"], phone)
        cognito.admin_disable_user(UserPoolId=pool["userPoolId"], Username=phone)
    elif setup == "unconfirmed_user":
        cognito.sign_up(ClientId=client_id, Username=phone, Password=f"Aa1!{secrets.token_urlsafe(16)}")
    elif setup == "unknown_client":
        client_id = "nope"

    # When a CUSTOM_AUTH sign-in starts
    with pytest.raises(cognito.exceptions.ClientError) as raised:
        cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="CUSTOM_AUTH",
            AuthParameters={} if setup == "no_username" else {"USERNAME": phone},
        )

    # Then the error is Cognito's, in the wire format botocore parses
    assert error_of(raised) == (code, message)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_session_answers_only_once(sandbox_env, cognito, pool):
    # Given a sign-in that was answered once (wrongly)
    phone = fresh_number()
    create_sign_in_user(cognito, pool["userPoolId"], phone)
    challenge = custom_auth(cognito, pool["clientId"], phone)
    code = code_for(sandbox_env, phone)
    respond(
        cognito, pool["clientId"], challenge["Session"], phone, "000000" if code != "000000" else "111111"
    )

    # When the same session is replayed, even with the right code
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as raised:
        respond(cognito, pool["clientId"], challenge["Session"], phone, code)

    # Then it is refused
    assert error_of(raised) == ("NotAuthorizedException", "Invalid session for the user.")


def test_a_client_with_a_secret_needs_the_secret_hash(sandbox_env, cognito, pool):
    # Given an app client with a secret, and a user
    client = cognito.create_user_pool_client(
        UserPoolId=pool["userPoolId"],
        ClientName="confidential",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]
    phone = fresh_number()
    create_sign_in_user(cognito, pool["userPoolId"], phone)
    digest = hmac.new(client["ClientSecret"].encode(), (phone + client["ClientId"]).encode(), hashlib.sha256)
    secret_hash = base64.b64encode(digest.digest()).decode()

    # When a sign-in comes without SECRET_HASH, and then with it
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        custom_auth(cognito, client["ClientId"], phone)
    challenge = custom_auth(cognito, client["ClientId"], phone, SECRET_HASH=secret_hash)
    result = respond(
        cognito,
        client["ClientId"],
        challenge["Session"],
        phone,
        code_for(sandbox_env, phone),
        SECRET_HASH=secret_hash,
    )

    # Then only the second signs in
    assert "AccessToken" in result["AuthenticationResult"]


def test_admin_initiate_auth_passes_client_metadata_to_the_triggers(sandbox_env, emulation, cognito, pool):
    # Given a user
    phone = fresh_number()
    create_sign_in_user(cognito, pool["userPoolId"], phone)

    # When a backend starts the sign-in with AdminInitiateAuth and ClientMetadata
    challenge = cognito.admin_initiate_auth(
        UserPoolId=pool["userPoolId"],
        ClientId=pool["clientId"],
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={"USERNAME": phone},
        ClientMetadata={"channel": "web"},
    )

    # Then Define and Create receive it, as Cognito passes it from AdminInitiateAuth (not InitiateAuth)
    assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert [event["request"].get("clientMetadata") for event in emulation[1].events] == [
        {"channel": "web"},
        {"channel": "web"},
    ]


def test_a_session_that_starts_with_srp_is_failed_by_define(cognito, pool):
    # Given a user
    phone = fresh_number()
    create_sign_in_user(cognito, pool["userPoolId"], phone)

    # When a client starts CUSTOM_AUTH with an SRP_A value (password verification first)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as raised:
        custom_auth(cognito, pool["clientId"], phone, SRP_A="abc123")

    # Then the project's Define refuses to mix flows
    assert error_of(raised) == ("NotAuthorizedException", "Incorrect username or password.")


def test_a_trigger_that_raises_becomes_user_lambda_validation_exception(sandbox_env, cognito):
    # Given a pool whose Define trigger is a function that fails
    arns = trigger_arns(REGION, prefix="broken")

    def failing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    override = CognitoCustomAuth({arns[DEFINE]: failing, arns[CREATE]: failing, arns[VERIFY]: failing})
    sandbox_env.endpoint.add_override(override)
    try:
        broken = create_sign_in_pool(cognito, arns)

        # When a sign-in starts
        with pytest.raises(cognito.exceptions.ClientError) as raised:
            custom_auth(cognito, broken.client_id, fresh_number())
    finally:
        sandbox_env.endpoint.overrides.remove(override)

    # Then Cognito's error names the trigger
    assert error_of(raised) == (
        "UserLambdaValidationException",
        "DefineAuthChallenge failed with error boom.",
    )


def test_a_switch_round_reaches_all_three_triggers_with_its_client_metadata(
    sandbox_env, emulation, cognito, pool, engine
):
    # Given a user who received the first code by SMS
    _, recorder = emulation
    phone = fresh_number()
    create_sign_in_user(cognito, pool["userPoolId"], phone)
    challenge = custom_auth(cognito, pool["clientId"], phone)
    sms_code = code_for(sandbox_env, phone)
    first_private = recorder.of("CreateAuthChallenge_Authentication")[0]
    recorder.events.clear()

    # When the client asks for a call as contracts.md says: any ANSWER, ClientMetadata otpChannel=VOICE
    switched = cognito.respond_to_auth_challenge(
        ClientId=pool["clientId"],
        ChallengeName="CUSTOM_CHALLENGE",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": phone, "ANSWER": "VOICE"},
        ClientMetadata={"otpChannel": "VOICE"},
    )

    # Then Verify, Define and Create each received the metadata, in Cognito's order
    assert [(e["triggerSource"], e["request"].get("clientMetadata")) for e in recorder.events] == [
        ("VerifyAuthChallengeResponse_Authentication", {"otpChannel": "VOICE"}),
        ("DefineAuthChallenge_Authentication", {"otpChannel": "VOICE"}),
        ("CreateAuthChallenge_Authentication", {"otpChannel": "VOICE"}),
    ]
    assert first_private["response"] == {}
    parameters = switched["ChallengeParameters"]
    assert switched["ChallengeName"] == "CUSTOM_CHALLENGE"
    if engine == PINPOINT:
        # Pinpoint offers no call: a wrong answer, the SMS code still in force
        assert parameters["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
        assert [m["channel"] for m in sandbox_env.outbox(destination=phone)] == ["SMS"]
        final = respond(cognito, pool["clientId"], switched["Session"], phone, sms_code)
    else:
        assert (parameters["CODE_DELIVERY_DELIVERY_MEDIUM"], parameters["CODE_DELIVERY_ALTERNATIVES"]) == (
            "VOICE",
            "",
        )
        messages = sandbox_env.outbox(destination=phone)
        assert [m["channel"] for m in messages] == ["SMS", "VOICE"]
        voice_code = _CODE.search(messages[1]["body"])
        assert voice_code
        final = respond(cognito, pool["clientId"], switched["Session"], phone, voice_code.group(1))
    assert "AccessToken" in final["AuthenticationResult"]
