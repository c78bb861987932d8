"""The sandbox's End User Messaging code verification, through a stock boto3 ``endusermessaging`` client.

The client validates nothing itself (``parameter_validation=False``), so every bound tested here is the
sandbox's, answered on the wire the way botocore parses AWS's answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.faults import NOTIFY_ERROR_STATUS, OPERATION_ERRORS
from local.test_numbers import SCRIPTED_NOTIFY_OUTCOMES, SLOW_NUMBER
from tests.sandbox_harness import PinpointEndpoint, end_user_messaging_client, http_call, pinpoint_client

PHONE = "+12065550100"
ORIGINATION = "+12065550199"
TEMPLATE = "Your Acme code is {{code}}"


@pytest.fixture
def eum(pinpoint_endpoint: PinpointEndpoint) -> Any:
    return end_user_messaging_client(
        pinpoint_endpoint.url, parameter_validation=False, retries={"total_max_attempts": 1}
    )


def send(eum: Any, **overrides: Any) -> dict[str, Any]:
    """A valid TEXT send; an override of None removes the member."""
    request: dict[str, Any] = {
        "channel": "TEXT",
        "destinationIdentity": PHONE,
        "originationIdentity": ORIGINATION,
        "overrideChannelParameters": {"text": {"inlineTemplateBody": TEMPLATE}},
        "referenceId": "ref-1",
        "configurationSetName": "otp-sandbox",
    }
    request.update(overrides)
    result: dict[str, Any] = eum.send_notify_code_verification(
        **{k: v for k, v in request.items() if v is not None}
    )
    return result


def validate(eum: Any, code: str, *, reference_id: str | None = "ref-1", destination: str = PHONE) -> str:
    request = {"destinationIdentity": destination, "code": code, "referenceId": reference_id}
    status: str = eum.validate_notify_code_verification(
        **{k: v for k, v in request.items() if v is not None}
    )["status"]
    return status


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return dict(caught.value.response)


def last_message(endpoint: PinpointEndpoint) -> dict[str, Any]:
    message: dict[str, Any] = endpoint.emulator.outbox()[-1].to_json()
    return message


# --------------------------------------------------------------------------------------------- send


def test_a_text_send_lands_in_the_outbox_with_the_rendered_template(eum, pinpoint_endpoint):
    # When a code is sent on the TEXT channel with an inline template
    answer = send(eum, overrideCodeConfigurationParameters={"codeLength": 4})

    # Then the answer has the two ids, and the phone got the template with a 4-digit code in it
    assert answer["verificationId"].startswith("vrf-")
    assert answer["messageId"]
    message = last_message(pinpoint_endpoint)
    assert message["channel"] == "SMS"
    assert message["engine"] == "endusermessaging"
    assert len(message["code"]) == 4
    assert message["code"].isdigit()
    assert message["body"] == f"Your Acme code is {message['code']}"
    assert (message["destination"], message["origination"]) == (PHONE, ORIGINATION)
    assert message["messageId"] == answer["messageId"]


def test_a_voice_send_is_a_call_that_speaks_the_code(eum, pinpoint_endpoint):
    send(
        eum,
        channel="VOICE",
        overrideChannelParameters={
            "voice": {
                "inlineTemplateBody": "Your code is {{code}}.",
                "languageCode": "en-GB",
                "voiceId": "Amy",
            }
        },
    )
    message = last_message(pinpoint_endpoint)
    assert message["channel"] == "VOICE"
    assert message["body"] == f"Your code is {message['code']}."
    assert (message["language"], message["voiceId"]) == ("en-GB", "Amy")


def test_a_whatsapp_send_uses_the_authentication_template(eum, pinpoint_endpoint):
    send(
        eum,
        channel="WHATSAPP",
        originationIdentity="phone-number-id-0123456789abcdef0123456789abcdef",
        overrideChannelParameters={"whatsApp": {"whatsAppTemplateName": "otp_code", "languageCode": "en_US"}},
    )
    message = last_message(pinpoint_endpoint)
    assert message["channel"] == "WHATSAPP"
    assert message["body"].startswith(message["code"])


@pytest.mark.parametrize(
    ("code_type", "alphabet"),
    [("NUMERIC", set("0123456789")), ("ALPHA", set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")), ("ALPHANUMERIC", None)],
)
def test_the_code_type_picks_the_alphabet(eum, pinpoint_endpoint, code_type, alphabet):
    send(eum, overrideCodeConfigurationParameters={"codeType": code_type, "codeLength": 8})
    code = last_message(pinpoint_endpoint)["code"]
    assert len(code) == 8
    assert code.isalnum()
    assert code == code.upper()
    if alphabet is not None:
        assert set(code) <= alphabet


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"channel": None}, "/channel"),
        ({"channel": "SMS"}, "/channel"),
        ({"destinationIdentity": None}, "/destinationIdentity"),
        ({"destinationIdentity": "+1206555010000000000000"}, "/destinationIdentity"),
        ({"destinationIdentity": "12065550100"}, "/destinationIdentity"),
        ({"originationIdentity": None}, "/originationIdentity"),
        ({"originationIdentity": "Acme Co"}, "/originationIdentity"),
        ({"referenceId": "has.dot"}, "/referenceId"),
        ({"referenceId": "x" * 257}, "/referenceId"),
        (
            {"overrideCodeConfigurationParameters": {"codeLength": 3}},
            "/overrideCodeConfigurationParameters/codeLength",
        ),
        (
            {"overrideCodeConfigurationParameters": {"codeLength": 9}},
            "/overrideCodeConfigurationParameters/codeLength",
        ),
        (
            {"overrideCodeConfigurationParameters": {"validityPeriodMinutes": 0}},
            "/overrideCodeConfigurationParameters/validityPeriodMinutes",
        ),
        (
            {"overrideCodeConfigurationParameters": {"validityPeriodMinutes": 61}},
            "/overrideCodeConfigurationParameters/validityPeriodMinutes",
        ),
        (
            {"overrideCodeConfigurationParameters": {"maxAttempts": 6}},
            "/overrideCodeConfigurationParameters/maxAttempts",
        ),
        (
            {"overrideCodeConfigurationParameters": {"maxAttempts": 0}},
            "/overrideCodeConfigurationParameters/maxAttempts",
        ),
        (
            {"overrideCodeConfigurationParameters": {"codeType": "HEX"}},
            "/overrideCodeConfigurationParameters/codeType",
        ),
        (
            {"overrideChannelParameters": {"text": {"inlineTemplateBody": "no placeholder"}}},
            "/overrideChannelParameters/text/inlineTemplateBody",
        ),
        (
            {"overrideChannelParameters": {"text": {"inlineTemplateBody": "{{code}}" + "x" * 5995}}},
            "/overrideChannelParameters/text/inlineTemplateBody",
        ),
        ({"overrideChannelParameters": None}, "/overrideChannelParameters"),
        ({"context": {f"k{i}": "v" for i in range(6)}}, "/context"),
        ({"context": {"k": " padded"}}, "/context/k"),
        ({"configurationSetName": "bad name"}, "/configurationSetName"),
        (
            {
                "channel": "WHATSAPP",
                "overrideChannelParameters": {"whatsApp": {"whatsAppTemplateName": "otp_code"}},
            },
            "/overrideChannelParameters/whatsApp/languageCode",
        ),
        (
            {
                "channel": "WHATSAPP",
                "overrideChannelParameters": {
                    "whatsApp": {"whatsAppTemplateName": "OTP-Code", "languageCode": "en"}
                },
            },
            "/overrideChannelParameters/whatsApp/whatsAppTemplateName",
        ),
        (
            {
                "channel": "VOICE",
                "overrideChannelParameters": {"voice": {"inlineTemplateBody": "{{code}}", "voiceId": "J-1"}},
            },
            "/overrideChannelParameters/voice/voiceId",
        ),
    ],
)
def test_out_of_bounds_sends_are_validation_exceptions_naming_the_field(
    eum, pinpoint_endpoint, overrides, path
):
    # When a send breaks one rule of the model
    response = error_of(lambda: send(eum, **overrides))

    # Then botocore parses a 400 ValidationException whose fieldList names the member; nothing was sent
    assert response["Error"]["Code"] == "ValidationException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["fieldList"][0]["path"] == path
    assert response["Error"]["Message"]
    assert pinpoint_endpoint.emulator.outbox() == []


def test_a_notify_code_configuration_the_sandbox_does_not_hold_is_not_found(eum):
    response = error_of(lambda: send(eum, notifyCodeConfiguration="ncc-abc123"))
    assert response["Error"]["Code"] == "ResourceNotFoundException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert (response["resourceType"], response["resourceId"]) == ("NotifyCodeConfiguration", "ncc-abc123")


def test_an_unknown_configuration_set_is_not_found(eum, pinpoint_endpoint):
    response = error_of(lambda: send(eum, configurationSetName="someone-elses"))
    assert response["Error"]["Code"] == "ResourceNotFoundException"
    assert response["resourceType"] == "ConfigurationSet"
    # Given the set exists, the same send goes through
    pinpoint_endpoint.notify_codes.configuration_sets.add("someone-elses")
    assert send(eum, configurationSetName="someone-elses")["messageId"]


# ----------------------------------------------------------------------------------------- validate


def test_only_the_code_sent_for_the_reference_and_number_is_valid_once(eum, pinpoint_endpoint):
    send(eum)
    code = last_message(pinpoint_endpoint)["code"]
    assert validate(eum, code, reference_id="ref-2") == "INVALID"
    assert validate(eum, code, destination="+12065550111") == "INVALID"
    assert validate(eum, code, reference_id=None) == "INVALID"
    assert validate(eum, code) == "VALID"
    assert validate(eum, code) == "INVALID"  # consumed


def test_attempts_run_out_even_for_the_right_code(eum, pinpoint_endpoint):
    send(eum, overrideCodeConfigurationParameters={"maxAttempts": 2})
    code = last_message(pinpoint_endpoint)["code"]
    wrong = "".join(str((int(c) + 1) % 10) for c in code)
    assert [validate(eum, wrong), validate(eum, wrong)] == ["INVALID", "INVALID"]
    assert validate(eum, code) == "INVALID"


def test_a_code_expires_after_its_validity_period(eum, pinpoint_endpoint):
    send(eum, overrideCodeConfigurationParameters={"validityPeriodMinutes": 1})
    code = last_message(pinpoint_endpoint)["code"]
    pinpoint_endpoint.clock.advance(60)
    assert validate(eum, code) == "INVALID"


def test_the_default_policy_is_six_digits_ten_minutes_three_attempts(eum, pinpoint_endpoint):
    send(eum, overrideCodeConfigurationParameters=None)
    code = last_message(pinpoint_endpoint)["code"]
    assert len(code) == 6
    pinpoint_endpoint.clock.advance(9 * 60)
    held = pinpoint_endpoint.notify_codes.live_verification(PHONE, "ref-1")
    assert held is not None
    assert held.request.max_attempts == 3
    pinpoint_endpoint.clock.advance(60)
    assert pinpoint_endpoint.notify_codes.live_verification(PHONE, "ref-1") is None


def test_a_new_send_replaces_the_live_code(eum, pinpoint_endpoint):
    send(eum)
    first = last_message(pinpoint_endpoint)["code"]
    send(eum)
    second = last_message(pinpoint_endpoint)["code"]
    if first != second:
        assert validate(eum, first) == "INVALID"
    assert validate(eum, second) == "VALID"


@pytest.mark.parametrize("code", ["123", "123456789", "12 45", None])
def test_a_malformed_code_is_a_validation_exception(eum, code):
    request = {"destinationIdentity": PHONE, "referenceId": "ref-1", "code": code}
    response = error_of(
        lambda: eum.validate_notify_code_verification(**{k: v for k, v in request.items() if v is not None})
    )
    assert response["Error"]["Code"] == "ValidationException"
    assert response["fieldList"][0]["path"] == "/code"


# ------------------------------------------------------------------------------ test numbers, faults


@pytest.mark.parametrize("number", sorted(SCRIPTED_NOTIFY_OUTCOMES))
def test_test_numbers_answer_as_scripted_and_send_nothing(eum, pinpoint_endpoint, number):
    scripted = SCRIPTED_NOTIFY_OUTCOMES[number]
    if scripted.error_type is None:
        # Accepted: ids come back, but the phone never gets the code
        assert send(eum, destinationIdentity=number)["verificationId"]
    else:
        response = error_of(lambda: send(eum, destinationIdentity=number))
        assert response["Error"]["Code"] == scripted.error_type
        assert response["ResponseMetadata"]["HTTPStatusCode"] == NOTIFY_ERROR_STATUS[scripted.error_type]
    assert pinpoint_endpoint.emulator.outbox() == []


def test_the_slow_number_delivers_at_once_and_answers_late(pinpoint_endpoint):
    pinpoint_endpoint.emulator.slow_seconds = 1.0
    client = end_user_messaging_client(
        pinpoint_endpoint.url, read_timeout=0.3, retries={"total_max_attempts": 1}
    )
    with pytest.raises(Exception, match="Read timeout"):
        send(client, destinationIdentity=SLOW_NUMBER)
    assert [m.channel for m in pinpoint_endpoint.emulator.outbox()] == ["SMS"]


@pytest.mark.parametrize(("error_type", "status"), sorted(NOTIFY_ERROR_STATUS.items()))
def test_every_error_can_be_injected_and_parses_as_botocore_expects(
    eum, pinpoint_endpoint, error_type, status
):
    # Given a fault queued for the next send
    answer = pinpoint_endpoint.inject_fault(error_type, operation="SendNotifyCodeVerification")
    assert answer.status == 200, answer.body

    # When a valid send is made, then it fails with that error, and the next one goes through
    response = error_of(lambda: send(eum))
    assert response["Error"]["Code"] == error_type
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert getattr(eum.exceptions, error_type)  # a modeled exception of the service
    assert send(eum)["messageId"]


def test_faults_only_hit_operations_whose_model_lists_them(eum, pinpoint_endpoint):
    # A validation cannot answer ConflictException: asking for it on validate is refused...
    refused = pinpoint_endpoint.inject_fault("ConflictException", operation="ValidateNotifyCodeVerification")
    assert refused.status == 400
    # ...and queued for any operation it skips validate and Pinpoint, and hits the next send
    pinpoint_endpoint.inject_fault("ConflictException")
    assert validate(eum, "123456") == "INVALID"
    pinpoint = pinpoint_client(pinpoint_endpoint.url, retries={"total_max_attempts": 1})
    pinpoint.verify_otp_message(
        ApplicationId=pinpoint_endpoint.application_id,
        VerifyOTPMessageRequestParameters={"DestinationIdentity": PHONE, "Otp": "123456", "ReferenceId": "r"},
    )
    assert error_of(lambda: send(eum))["Error"]["Code"] == "ConflictException"
    # A Pinpoint error never reaches End User Messaging
    pinpoint_endpoint.inject_fault("ForbiddenException")
    assert send(eum)["messageId"]
    assert set(OPERATION_ERRORS["ValidateNotifyCodeVerification"]) < set(NOTIFY_ERROR_STATUS)


def test_an_unknown_route_is_an_unknown_operation(pinpoint_endpoint):
    answer = http_call("GET", f"{pinpoint_endpoint.url}/v1/notify-code-verifications/send")
    assert answer.status == 404
    assert answer.headers["x-amzn-ErrorType"] == "UnknownOperationException"


def test_calls_are_logged_with_the_callers_reference_never_the_code(eum, pinpoint_endpoint):
    # Given a send whose context carries the caller's own reference (as the service's adapter does)
    send(eum, referenceId="a__b", context={"referenceId": "a_b"})
    code = last_message(pinpoint_endpoint)["code"]
    validate(eum, code, reference_id="a__b")

    # Then both calls show the caller's reference, and no call shows the code
    calls = [c.to_json() for c in pinpoint_endpoint.emulator.calls()]
    assert [(c["operation"], c["referenceId"]) for c in calls] == [
        ("SendNotifyCodeVerification", "a_b"),
        ("ValidateNotifyCodeVerification", "a_b"),
    ]
    assert code not in str(calls)
    assert last_message(pinpoint_endpoint)["referenceId"] == "a_b"


def test_the_outbox_filters_by_channel(eum, pinpoint_endpoint):
    send(eum)
    send(eum, channel="VOICE", overrideChannelParameters={"voice": {"inlineTemplateBody": "Code {{code}}"}})
    answer = http_call("GET", f"{pinpoint_endpoint.url}/_sandbox/messages?channel=VOICE")
    assert [m["channel"] for m in answer.body["messages"]] == ["VOICE"]
    assert len(http_call("GET", f"{pinpoint_endpoint.url}/_sandbox/messages").body["messages"]) == 2
