"""SendOTPMessage through a stock boto3 client: Pinpoint's validation rules, defaults and answer shape."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.conftest import ORIGINATION, PHONE, Send, Verify, only_code, send_parameters
from tests.sandbox_harness import PinpointEndpoint, http_call, pinpoint_client


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response: Any = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_a_send_answers_a_message_response_and_delivers_the_documented_text(
    send: Send, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a valid request
    # When it is sent
    response = send()
    # Then the MessageResponse has the documented shape, keyed by the destination
    assert response["ApplicationId"] == pinpoint_endpoint.application_id
    assert re.fullmatch(r"[0-9a-f-]{36}", response["RequestId"])
    result = response["Result"][PHONE]
    assert result["DeliveryStatus"] == "SUCCESSFUL"
    assert result["StatusCode"] == 200
    assert result["StatusMessage"] == f"MessageId: {result['MessageId']}"
    # and exactly one SMS went out, worded as Pinpoint words it, under the same message id
    [sms] = pinpoint_endpoint.emulator.outbox()
    assert sms.body == f"This is your One Time Password: {sms.code} from Acme"
    assert (sms.destination, sms.origination, sms.reference_id) == (PHONE, ORIGINATION, "ref-1")
    assert sms.message_id == result["MessageId"]
    assert sms.application_id == pinpoint_endpoint.application_id


def test_the_defaults_are_a_6_digit_code_5_attempts_and_5_minutes(
    send: Send, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a request without CodeLength, AllowedAttempts or ValidityPeriod
    # When it is sent
    send()
    # Then the code has 6 digits, 5 attempts, and lives 5 minutes
    issued = pinpoint_endpoint.emulator.current_code(pinpoint_endpoint.application_id, "ref-1")
    assert issued is not None
    assert re.fullmatch(r"[0-9]{6}", issued.code)
    assert issued.parameters.allowed_attempts == 5
    assert issued.expires_at - issued.created_at == 5 * 60


@pytest.mark.parametrize(
    "missing", ["BrandName", "Channel", "DestinationIdentity", "OriginationIdentity", "ReferenceId"]
)
def test_each_required_member_is_required(
    send: Send, pinpoint_endpoint: PinpointEndpoint, missing: str
) -> None:
    # Given a request without one required member
    # When it is sent
    with pytest.raises(ClientError) as excinfo:
        send(**{missing: None})
    # Then Pinpoint refuses it with a BadRequestException naming the member, and nothing is sent
    code, status, message = error_of(excinfo)
    assert (code, status) == ("BadRequestException", 400)
    assert missing in message
    assert pinpoint_endpoint.emulator.outbox() == []


@pytest.mark.parametrize("member", ["BrandName", "ReferenceId", "DestinationIdentity"])
def test_an_empty_required_string_is_refused(send: Send, member: str) -> None:
    # Given a required member that is present but empty
    # When
    with pytest.raises(ClientError) as excinfo:
        send(**{member: ""})
    # Then
    assert error_of(excinfo)[:2] == ("BadRequestException", 400)


@pytest.mark.parametrize(
    ("overrides", "accepted"),
    [
        ({"BrandName": "B" * 20}, True),
        ({"BrandName": "B" * 21}, False),
        ({"CodeLength": 4}, False),
        ({"CodeLength": 5}, True),
        ({"CodeLength": 8}, True),
        ({"CodeLength": 9}, False),
        ({"ValidityPeriod": 4}, False),
        ({"ValidityPeriod": 5}, True),
        ({"ValidityPeriod": 60}, True),
        ({"ValidityPeriod": 61}, False),
        ({"AllowedAttempts": 0}, False),
        ({"AllowedAttempts": 1}, True),
        ({"AllowedAttempts": 5}, True),
        ({"AllowedAttempts": 6}, False),
        ({"ReferenceId": "r" * 48}, True),
        ({"ReferenceId": "r" * 49}, False),
        ({"Channel": "SMS"}, True),
        ({"Channel": "sms"}, False),
        ({"Channel": "EMAIL"}, False),
        ({"Channel": "VOICE"}, False),
        ({"Language": "de-DE"}, True),
        ({"Language": "es-US"}, False),
        ({"Language": "english"}, False),
        ({"DestinationIdentity": "2065550100"}, False),
        ({"DestinationIdentity": "+1 206 555 0100"}, False),
        ({"DestinationIdentity": "+02065550100"}, False),
        ({"DestinationIdentity": "+1206555010012345"}, False),
        ({"DestinationIdentity": "+447700900123"}, True),
        ({"CodeLength": "6"}, False),
        ({"CodeLength": True}, False),
    ],
)
def test_each_bound_is_pinpoints(
    send: Send, pinpoint_endpoint: PinpointEndpoint, overrides: dict[str, Any], accepted: bool
) -> None:
    # Given a request with one member at or just past its documented bound
    # When it is sent
    if accepted:
        response = send(**overrides)
        # Then inside the bound it is delivered
        destination = overrides.get("DestinationIdentity", PHONE)
        assert response["Result"][destination]["DeliveryStatus"] == "SUCCESSFUL"
        assert len(pinpoint_endpoint.emulator.outbox()) == 1
    else:
        with pytest.raises(ClientError) as excinfo:
            send(**overrides)
        # and past it Pinpoint answers 400 BadRequestException naming the member, sending nothing
        code, status, message = error_of(excinfo)
        assert (code, status) == ("BadRequestException", 400)
        assert next(iter(overrides)) in message
        assert pinpoint_endpoint.emulator.outbox() == []


@pytest.mark.parametrize("length", [5, 6, 7, 8])
def test_the_code_has_the_requested_number_of_digits(
    send: Send, pinpoint_endpoint: PinpointEndpoint, length: int
) -> None:
    # Given a CodeLength
    # When a code is sent
    send(CodeLength=length)
    # Then the SMS carries a numeric code of exactly that length
    assert re.fullmatch(rf"[0-9]{{{length}}}", only_code(pinpoint_endpoint))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en-US", "This is your One Time Password: {code} from Acme"),
        ("en-GB", "This is your One Time Password: {code} from Acme"),
        ("de-DE", "Dies ist Ihr Einmalpasswort: {code} von Acme"),
        ("fr-FR", "Voici votre mot de passe à usage unique : {code} de Acme"),
    ],
)
def test_the_message_follows_the_language(
    send: Send, pinpoint_endpoint: PinpointEndpoint, language: str, expected: str
) -> None:
    # Given a Language Pinpoint supports
    # When a code is sent
    send(Language=language)
    # Then the SMS is worded in it
    [sms] = pinpoint_endpoint.emulator.outbox()
    assert sms.body == expected.format(code=sms.code)
    assert sms.language == language


def test_an_unknown_application_is_not_found(send: Send, pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given an application id moto's Pinpoint has never created
    # When a code is sent to it
    with pytest.raises(ClientError) as excinfo:
        send(application_id="0123456789abcdef0123456789abcdef")
    # Then NotFoundException (404), and nothing is sent
    assert error_of(excinfo)[:2] == ("NotFoundException", 404)
    assert pinpoint_endpoint.emulator.outbox() == []


def test_an_application_of_another_region_is_not_found(pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given an application that exists in us-east-1
    # When a client in eu-west-1 uses it
    client = pinpoint_client(pinpoint_endpoint.url, region="eu-west-1")
    with pytest.raises(ClientError) as excinfo:
        client.send_otp_message(
            ApplicationId=pinpoint_endpoint.application_id, SendOTPMessageRequestParameters=send_parameters()
        )
    # Then it does not exist there, as in AWS
    assert error_of(excinfo)[:2] == ("NotFoundException", 404)


def test_an_application_created_through_the_endpoint_can_send(pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given an application created with a stock client's create_app (moto)
    client = pinpoint_client(pinpoint_endpoint.url)
    application_id = client.create_app(CreateApplicationRequest={"Name": "another"})["ApplicationResponse"][
        "Id"
    ]
    # When a code is sent through it
    response = client.send_otp_message(
        ApplicationId=application_id, SendOTPMessageRequestParameters=send_parameters()
    )
    # Then it is delivered for that application
    assert response["MessageResponse"]["ApplicationId"] == application_id
    assert pinpoint_endpoint.emulator.outbox()[-1].application_id == application_id


def test_errors_use_pinpoints_wire_shape(pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given a raw HTTP client (what botocore and the CLI parse)
    url = f"{pinpoint_endpoint.url}/v1/apps/{pinpoint_endpoint.application_id}/otp"
    # When a request breaks a rule
    answer = http_call("POST", url, send_parameters(CodeLength=9))
    # Then the type is in x-amzn-ErrorType and the body is {"Message", "RequestID"}
    assert answer.status == 400
    assert answer.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert set(answer.body) == {"Message", "RequestID"}
    assert answer.body["RequestID"] == answer.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(("body", "status"), [(b"{not json", 400), (b"[1, 2]", 400), (b"", 400)])
def test_a_body_that_is_not_a_json_object_is_a_bad_request(
    pinpoint_endpoint: PinpointEndpoint, body: bytes, status: int
) -> None:
    # Given a body that is not a JSON object (an empty one lacks every required member)
    url = f"{pinpoint_endpoint.url}/v1/apps/{pinpoint_endpoint.application_id}/otp"
    # When it is posted
    answer = http_call("POST", url, body)
    # Then BadRequestException
    assert answer.status == status
    assert answer.headers["x-amzn-ErrorType"] == "BadRequestException"


def test_other_methods_on_the_otp_resource_are_not_allowed(pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given the OTP resource
    url = f"{pinpoint_endpoint.url}/v1/apps/{pinpoint_endpoint.application_id}/otp"
    # When it is read with GET
    answer = http_call("GET", url)
    # Then MethodNotAllowedException
    assert answer.status == 405
    assert answer.headers["x-amzn-ErrorType"] == "MethodNotAllowedException"


def test_a_new_send_for_the_same_reference_replaces_the_code(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a code sent for a reference and number
    send()
    first = pinpoint_endpoint.emulator.outbox()[-1].code
    # When a second code is sent for the same reference and number
    send()
    second = pinpoint_endpoint.emulator.outbox()[-1].code
    # Then two SMS went out, and only the newest code is valid
    assert len(pinpoint_endpoint.emulator.outbox()) == 2
    if first != second:  # one chance in a million they coincide; then the old one cannot be told apart
        assert verify(first) is False
    assert verify(second) is True
