"""The sandbox's own routes (outbox, calls, clock, LocalStack's code path, health) and the override hook."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from local.aws_endpoint import AwsEndpoint
from local.otp_emulator import OtpEmulator
from local.sandbox_control import ReadyInfo
from tests.sandbox.conftest import PHONE, Send, Verify, wrong_code_for
from tests.sandbox_harness import PinpointEndpoint, http_call


def test_the_localstack_path_shows_the_live_code_as_localstack_does(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a code sent with explicit limits, and one wrong guess
    send(ReferenceId="liftoff", CodeLength=7, AllowedAttempts=3, ValidityPeriod=10)
    [sms] = pinpoint_endpoint.emulator.outbox()
    verify(wrong_code_for(sms.code), reference_id="liftoff")
    # When the developer reads LocalStack's debug path
    answer = pinpoint_endpoint.localstack_view("liftoff")
    # Then it has LocalStack's fields, the code and the attempts spent
    assert answer.status == 200
    view = answer.body
    assert view["Code"] == sms.code
    assert view["Attempts"] == 1
    assert (view["AllowedAttempts"], view["CodeLength"], view["ValidityPeriod"]) == (3, 7, 10)
    assert (view["ReferenceId"], view["DestinationIdentity"]) == ("liftoff", PHONE)
    assert view["ApplicationId"] == pinpoint_endpoint.application_id
    assert view["BrandName"] == "Acme"
    assert view["CreatedTimestamp"].endswith("Z")
    assert view["Verified"] is False


def test_the_localstack_path_is_404_for_an_unknown_reference(pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given nothing sent under a reference
    # When its code is asked for
    answer = pinpoint_endpoint.localstack_view("nothing-here")
    # Then 404, and code_for says so
    assert answer.status == 404
    with pytest.raises(LookupError):
        pinpoint_endpoint.code_for("nothing-here")


def test_the_outbox_lists_newest_last_filters_and_clears(
    send: Send, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given three SMS to two numbers
    send(ReferenceId="a")
    send(ReferenceId="b", DestinationIdentity="+12065550111")
    send(ReferenceId="c")
    # When the outbox is read over HTTP
    everything = pinpoint_endpoint.outbox()
    # Then it is oldest first, filterable, and each entry carries what the phone got and where from
    assert [message["referenceId"] for message in everything] == ["a", "b", "c"]
    assert [m["referenceId"] for m in pinpoint_endpoint.outbox(destination=PHONE)] == ["a", "c"]
    assert [m["referenceId"] for m in pinpoint_endpoint.outbox(reference_id="b")] == ["b"]
    assert set(everything[0]) == {
        "channel",
        "engine",
        "destination",
        "origination",
        "body",
        "code",
        "language",
        "referenceId",
        "applicationId",
        "messageId",
        "time",
    }
    assert everything[0]["code"] in everything[0]["body"]
    assert (everything[0]["channel"], everything[0]["engine"]) == ("SMS", "pinpoint")
    # and DELETE empties it
    pinpoint_endpoint.clear_outbox()
    assert pinpoint_endpoint.outbox() == []


def test_the_call_log_counts_every_call_without_codes(
    send: Send, verify: Verify, pinpoint_endpoint: PinpointEndpoint
) -> None:
    # Given a send, a refused send and a verify
    send()
    with pytest.raises(Exception, match="BadRequest"):
        send(CodeLength=99)
    verify("123456")
    # When the call log is read
    calls = pinpoint_endpoint.calls()
    # Then each call is there in order, with reference and number but never a code
    assert [call["operation"] for call in calls] == ["SendOTPMessage", "SendOTPMessage", "VerifyOTPMessage"]
    assert all(call["destination"] == PHONE and call["referenceId"] == "ref-1" for call in calls)
    assert "123456" not in json.dumps(calls)
    pinpoint_endpoint.clear_calls()
    assert pinpoint_endpoint.calls() == []


def test_the_clock_moves_forward_on_request(pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given the sandbox clock
    before = http_call("GET", f"{pinpoint_endpoint.url}/_sandbox/clock").body["offsetSeconds"]
    # When it is advanced by 90 s
    answer = pinpoint_endpoint.advance_clock(90)
    # Then the offset grew by 90 s
    assert answer["offsetSeconds"] == before + 90
    assert answer["now"].endswith("Z")


@pytest.mark.parametrize(
    "body", [{"advanceSeconds": -1}, {"advanceSeconds": "60"}, {}, {"advanceSeconds": True}]
)
def test_the_clock_refuses_anything_but_a_forward_number_of_seconds(
    pinpoint_endpoint: PinpointEndpoint, body: dict[str, Any]
) -> None:
    # Given a bad clock request
    # When it is posted
    answer = http_call("POST", f"{pinpoint_endpoint.url}/_sandbox/clock", body)
    # Then 400 and the clock did not move
    assert answer.status == 400
    assert "advanceSeconds" in answer.body["message"]


def test_an_unknown_sandbox_route_is_404(pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given / When
    answer = http_call("GET", f"{pinpoint_endpoint.url}/_sandbox/nothing")
    # Then it is not passed on to moto
    assert answer.status == 404


def test_other_aws_requests_reach_moto(pinpoint_endpoint: PinpointEndpoint) -> None:
    # Given the endpoint
    # When a Pinpoint operation moto implements is called
    from tests.sandbox_harness import pinpoint_client

    apps = pinpoint_client(pinpoint_endpoint.url).get_apps()["ApplicationsResponse"]["Item"]
    # Then moto answers it with the applications created through the endpoint
    assert pinpoint_endpoint.application_id in [app["Id"] for app in apps]


def moto_stand_in(environ: Any, start_response: Any) -> Any:
    """Echoes what reached "moto", so a test can see a request went through untouched."""
    body = environ["wsgi.input"].read()
    response = Response(json.dumps({"moto": True, "body": body.decode()}), content_type="application/json")
    return response(environ, start_response)


def test_health_is_503_until_ready_then_reports_the_resources() -> None:
    # Given an endpoint that has not finished starting
    endpoint = AwsEndpoint(OtpEmulator(), fallback=moto_stand_in)
    client = Client(endpoint)
    assert client.get("/_sandbox/health").status_code == 503
    # When it is marked ready
    endpoint.status.mark_ready(ReadyInfo(application_id="app-1", user_pool_id="us-east-1_abc"))
    # Then health answers 200 with the ids
    answer = client.get("/_sandbox/health")
    assert answer.status_code == 200
    assert answer.json == {
        "status": "ready",
        "applicationId": "app-1",
        "userPoolId": "us-east-1_abc",
        "userPoolClientId": None,
        "engine": "pinpoint",
    }


def test_an_override_answers_before_moto_and_the_body_still_reaches_moto_when_it_passes() -> None:
    # Given an override that answers one X-Amz-Target, reading the body, and passes everything else
    seen: list[bytes] = []

    def custom_auth(request: Request) -> Response | None:
        seen.append(request.get_data())
        if request.headers.get("X-Amz-Target") != "AWSCognitoIdentityProviderService.InitiateAuth":
            return None
        return Response('{"ChallengeName": "CUSTOM_CHALLENGE"}', content_type="application/x-amz-json-1.1")

    endpoint = AwsEndpoint(OtpEmulator(), fallback=moto_stand_in)
    endpoint.add_override(custom_auth)
    client = Client(endpoint)
    # When a matching request and another one arrive
    claimed = client.post(
        "/",
        data=b'{"AuthFlow": "CUSTOM_AUTH"}',
        headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"},
    )
    passed = client.post(
        "/", data=b'{"TableName": "t"}', headers={"X-Amz-Target": "DynamoDB_20120810.GetItem"}
    )
    # Then the override answered the first, and moto got the second with its body intact
    assert json.loads(claimed.get_data()) == {"ChallengeName": "CUSTOM_CHALLENGE"}
    assert passed.json == {"moto": True, "body": '{"TableName": "t"}'}
    assert seen == [b'{"AuthFlow": "CUSTOM_AUTH"}', b'{"TableName": "t"}']


def test_an_override_can_forward_to_moto_and_adjust_the_answer() -> None:
    # Given an override that asks moto and adds a header
    endpoint = AwsEndpoint(OtpEmulator(), fallback=moto_stand_in)

    def decorate(request: Request) -> Response | None:
        response = endpoint.forward_to_moto(request)
        response.headers["x-decorated"] = "yes"
        return response

    endpoint.add_override(decorate, first=True)
    # When a request arrives
    answer = Client(endpoint).post("/anything", data=b"payload")
    # Then moto's answer comes back, adjusted
    assert answer.headers["x-decorated"] == "yes"
    assert answer.json == {"moto": True, "body": "payload"}


def test_a_failing_override_becomes_a_500_not_a_dropped_connection() -> None:
    # Given an override with a bug
    def broken(request: Request) -> Response | None:
        raise RuntimeError("bug")

    endpoint = AwsEndpoint(OtpEmulator(), fallback=moto_stand_in)
    endpoint.add_override(broken, first=True)
    # When a request arrives
    answer = Client(endpoint).get("/whatever")
    # Then the client gets an AWS-shaped 500
    assert answer.status_code == 500
    assert answer.headers["x-amzn-ErrorType"] == "InternalFailure"
