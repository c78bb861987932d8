"""Notify code configurations in the sandbox, through a stock boto3 ``endusermessaging`` client.

AWS's documented path (the user guide's "Notify code configurations" and the SDK examples) creates a
configuration and sends with ``notifyCodeConfiguration="ncc-..."``; these tests run that path unchanged,
then every rule of the five configuration operations the model and the guide state, answered on the wire
the way botocore parses AWS's answers. Clients that check nothing themselves (``parameter_validation=
False``) show that the bounds are the sandbox's.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.sandbox_harness import PinpointEndpoint, end_user_messaging_client, http_call, pinpoint_client

PHONE = "+12065550100"
# The SDK examples' origination identity: any identity of the account, here an ARN.
ORIGINATION = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/pn-abc123"
#: The operations the sandbox implements; every other one of the model is an unknown operation.
IMPLEMENTED = {
    "SendNotifyCodeVerification",
    "ValidateNotifyCodeVerification",
    "CreateNotifyCodeConfiguration",
    "GetNotifyCodeConfiguration",
    "ListNotifyCodeConfigurations",
    "UpdateNotifyCodeConfiguration",
    "DeleteNotifyCodeConfiguration",
    "ListTagsForResource",
    "TagResource",
    "UntagResource",
}


@pytest.fixture
def stock(pinpoint_endpoint: PinpointEndpoint) -> Any:
    """A client exactly as a new user builds it: only the endpoint and keys differ."""
    return end_user_messaging_client(pinpoint_endpoint.url)


@pytest.fixture
def eum(pinpoint_endpoint: PinpointEndpoint) -> Any:
    """A client that validates nothing itself and never retries: what is refused is refused by the server."""
    return end_user_messaging_client(
        pinpoint_endpoint.url, parameter_validation=False, retries={"total_max_attempts": 1}
    )


def fresh_region_client(pinpoint_endpoint: PinpointEndpoint) -> Any:
    """A client in a region no other test uses (configurations are per region): an empty account."""
    region = f"xx-test-{secrets.randbelow(10**9)}"
    return end_user_messaging_client(
        pinpoint_endpoint.url, region=region, parameter_validation=False, retries={"total_max_attempts": 1}
    )


def create(client: Any, **members: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "notifyCodeConfigurationName": "SignupOtp",
        "codeConfigurationParameters": {
            "codeType": "NUMERIC",
            "codeLength": 6,
            "validityPeriodMinutes": 10,
            "maxAttempts": 3,
        },
        "channelParameters": {"text": {"inlineTemplateBody": "Your verification code is {{code}}."}},
    }
    request.update(members)
    configuration: dict[str, Any] = client.create_notify_code_configuration(
        **{k: value for k, value in request.items() if value is not None}
    )["notifyCodeConfiguration"]
    return configuration


def send(client: Any, configuration_id: str, **members: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "channel": "TEXT",
        "destinationIdentity": PHONE,
        "originationIdentity": ORIGINATION,
        "notifyCodeConfiguration": configuration_id,
        "referenceId": "signup-flow-42",
    }
    request.update(members)
    answer: dict[str, Any] = client.send_notify_code_verification(
        **{k: value for k, value in request.items() if value is not None}
    )
    return answer


def validate(client: Any, code: str, reference_id: str = "signup-flow-42") -> str:
    status: str = client.validate_notify_code_verification(
        destinationIdentity=PHONE, code=code, referenceId=reference_id
    )["status"]
    return status


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return dict(caught.value.response)


def last_message(endpoint: PinpointEndpoint) -> dict[str, Any]:
    message: dict[str, Any] = endpoint.emulator.outbox()[-1].to_json()
    return message


def field_paths(error: dict[str, Any]) -> list[str]:
    return [entry["path"] for entry in error.get("fieldList", [])]


# ------------------------------------------------------------------------------ AWS's documented path


def test_aws_documented_example_runs_unchanged(stock, pinpoint_endpoint):
    # Given a configuration created as the SDK examples create one
    configuration = create(stock)
    configuration_id = configuration["notifyCodeConfigurationId"]

    # When a code is sent naming it (no template, no policy in the request) and validated
    answer = send(stock, configuration_id)
    message = last_message(pinpoint_endpoint)

    # Then the configuration's template and policy were used, and the code validates once
    assert answer["verificationId"]
    assert answer["messageId"] == message["messageId"]
    assert len(message["code"]) == 6
    assert message["code"].isdigit()
    assert message["body"] == f"Your verification code is {message['code']}."
    assert validate(stock, message["code"]) == "VALID"
    assert validate(stock, message["code"]) == "INVALID"


def test_a_send_may_name_the_configuration_by_its_arn(stock, pinpoint_endpoint):
    configuration = create(stock, codeConfigurationParameters={"codeLength": 8})
    send(stock, configuration["notifyCodeConfigurationArn"])
    assert len(last_message(pinpoint_endpoint)["code"]) == 8


def test_the_created_configuration_has_every_member_the_model_requires(stock):
    configuration = create(stock, deletionProtectionEnabled=True)
    try:
        assert configuration["notifyCodeConfigurationId"].startswith("ncc-")
        assert configuration["notifyCodeConfigurationArn"] == (
            "arn:aws:end-user-messaging:us-east-1:123456789012:notify-code-configuration/"
            + configuration["notifyCodeConfigurationId"]
        )
        assert configuration["notifyCodeConfigurationName"] == "SignupOtp"
        assert configuration["deletionProtectionEnabled"] is True
        assert isinstance(configuration["createdAt"], datetime)
        assert configuration["updatedAt"] == configuration["createdAt"]
        assert configuration["codeConfigurationParameters"] == {
            "codeType": "NUMERIC",
            "codeLength": 6,
            "validityPeriodMinutes": 10,
            "maxAttempts": 3,
        }
        assert configuration["channelParameters"] == {
            "text": {"inlineTemplateBody": "Your verification code is {{code}}."}
        }
    finally:
        stock.update_notify_code_configuration(
            notifyCodeConfigurationId=configuration["notifyCodeConfigurationId"],
            deletionProtectionEnabled=False,
        )


def test_policy_fields_left_blank_take_the_service_defaults_at_send_time(stock, pinpoint_endpoint):
    configuration = create(stock, codeConfigurationParameters=None)
    assert "codeConfigurationParameters" not in configuration
    send(stock, configuration["notifyCodeConfigurationId"])
    assert len(last_message(pinpoint_endpoint)["code"]) == 6  # the console's stated default


def test_a_sends_overrides_win_over_the_configuration_member_by_member(stock, pinpoint_endpoint):
    configuration = create(
        stock,
        channelParameters={
            "voice": {"inlineTemplateBody": "Code {{code}}.", "languageCode": "en-GB", "voiceId": "Amy"}
        },
    )
    send(
        stock,
        configuration["notifyCodeConfigurationId"],
        channel="VOICE",
        overrideCodeConfigurationParameters={"codeLength": 4},
        overrideChannelParameters={"voice": {"voiceId": "Brian"}},
    )
    message = last_message(pinpoint_endpoint)
    assert message["channel"] == "VOICE"
    assert len(message["code"]) == 4
    assert message["body"] == f"Code {message['code']}."  # the configuration's template
    assert (message["language"], message["voiceId"]) == ("en-GB", "Brian")


def test_a_channel_the_configuration_has_no_template_for_needs_one_in_the_request(eum):
    configuration = create(eum)  # text only
    error = error_of(lambda: send(eum, configuration["notifyCodeConfigurationId"], channel="VOICE"))
    assert error["Error"]["Code"] == "ValidationException"
    assert field_paths(error) == ["/overrideChannelParameters"]


def test_a_configuration_the_account_does_not_hold_is_not_found(eum):
    for identifier in (
        "ncc-doesnotexist00000",
        "arn:aws:end-user-messaging:us-east-1:123456789012:notify-code-configuration/ncc-doesnotexist00000",
    ):
        error = error_of(lambda identifier=identifier: send(eum, identifier))
        assert error["Error"]["Code"] == "ResourceNotFoundException"
        assert (error["resourceType"], error["resourceId"]) == ("NotifyCodeConfiguration", identifier)
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_configuration_of_another_region_or_account_is_not_found(eum, pinpoint_endpoint):
    configuration = create(eum)
    other_region = end_user_messaging_client(pinpoint_endpoint.url, region="eu-west-1")
    other_account = configuration["notifyCodeConfigurationArn"].replace("123456789012", "210987654321")
    for call in (
        lambda: other_region.get_notify_code_configuration(
            notifyCodeConfigurationId=configuration["notifyCodeConfigurationId"]
        ),
        lambda: eum.get_notify_code_configuration(notifyCodeConfigurationId=other_account),
    ):
        assert error_of(call)["Error"]["Code"] == "ResourceNotFoundException"


# -------------------------------------------------------------------------------- a send captures it


def test_a_code_keeps_the_policy_it_was_sent_with_after_an_update_and_a_delete(stock, pinpoint_endpoint):
    configuration = create(stock, codeConfigurationParameters={"codeLength": 6, "maxAttempts": 2})
    configuration_id = configuration["notifyCodeConfigurationId"]
    send(stock, configuration_id)
    first = last_message(pinpoint_endpoint)

    stock.update_notify_code_configuration(
        notifyCodeConfigurationId=configuration_id,
        codeConfigurationParameters={"codeLength": 8, "maxAttempts": 5},
        channelParameters={"text": {"inlineTemplateBody": "New wording {{code}}"}},
    )
    send(stock, configuration_id, referenceId="second")
    second = last_message(pinpoint_endpoint)
    assert len(second["code"]) == 8
    assert second["body"] == f"New wording {second['code']}"

    stock.delete_notify_code_configuration(notifyCodeConfigurationId=configuration_id)
    # The first code still has its own 2 attempts and 6 digits: one wrong answer, then the right one.
    wrong = "111111" if first["code"] != "111111" else "222222"
    assert validate(stock, wrong) == "INVALID"
    assert validate(stock, first["code"]) == "VALID"
    error = error_of(lambda: send(stock, configuration_id, referenceId="third"))
    assert error["Error"]["Code"] == "ResourceNotFoundException"


# ------------------------------------------------------------------------------------- create rules


@pytest.mark.parametrize(
    ("members", "path"),
    [
        ({"notifyCodeConfigurationName": None}, "/notifyCodeConfigurationName"),
        ({"notifyCodeConfigurationName": "x" * 65}, "/notifyCodeConfigurationName"),
        ({"notifyCodeConfigurationName": "   "}, "/notifyCodeConfigurationName"),
        ({"notifyCodeConfigurationName": "otp/signup"}, "/notifyCodeConfigurationName"),
        ({"codeConfigurationParameters": {"codeLength": 9}}, "/codeConfigurationParameters/codeLength"),
        ({"codeConfigurationParameters": {"codeLength": 3}}, "/codeConfigurationParameters/codeLength"),
        (
            {"codeConfigurationParameters": {"validityPeriodMinutes": 61}},
            "/codeConfigurationParameters/validityPeriodMinutes",
        ),
        ({"codeConfigurationParameters": {"maxAttempts": 0}}, "/codeConfigurationParameters/maxAttempts"),
        ({"codeConfigurationParameters": {"codeType": "HEX"}}, "/codeConfigurationParameters/codeType"),
        (
            {"channelParameters": {"text": {"inlineTemplateBody": "no placeholder"}}},
            "/channelParameters/text/inlineTemplateBody",
        ),
        (
            {"channelParameters": {"text": {"inlineTemplateBody": ""}}},
            "/channelParameters/text/inlineTemplateBody",
        ),
        (
            {"channelParameters": {"text": {"inlineTemplateBody": "{{code}}" + "x" * 5993}}},
            "/channelParameters/text/inlineTemplateBody",
        ),
        (
            {"channelParameters": {"voice": {"inlineTemplateBody": "{{code}}", "voiceId": "Amy-2"}}},
            "/channelParameters/voice/voiceId",
        ),
        (
            {"channelParameters": {"voice": {"inlineTemplateBody": "{{code}}", "languageCode": "e"}}},
            "/channelParameters/voice/languageCode",
        ),
        (
            {"channelParameters": {"voice": {"voiceMessageBodyTextType": "XML"}}},
            "/channelParameters/voice/voiceMessageBodyTextType",
        ),
        (
            {"channelParameters": {"text": {"destinationCountryParameters": {}}}},
            "/channelParameters/text/destinationCountryParameters",
        ),
        (
            {"channelParameters": {"whatsApp": {"whatsAppTemplateName": "Otp-Code"}}},
            "/channelParameters/whatsApp/whatsAppTemplateName",
        ),
        ({"deletionProtectionEnabled": "yes"}, "/deletionProtectionEnabled"),
        ({"clientToken": "a b"}, "/clientToken"),
        ({"tags": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}, "/tags/1"),
        ({"tags": [{"key": "", "value": "1"}]}, "/tags/0/key"),
        ({"tags": [{"key": f"k{i}", "value": ""} for i in range(51)]}, "/tags"),
    ],
)
def test_create_refuses_what_the_model_does_not_allow(eum, members, path):
    error = error_of(lambda: create(eum, **members))
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert field_paths(error) == [path]


def test_names_need_not_be_unique(eum):
    first, second = (
        create(eum, notifyCodeConfigurationName="Same"),
        create(eum, notifyCodeConfigurationName="Same"),
    )
    assert first["notifyCodeConfigurationId"] != second["notifyCodeConfigurationId"]


def test_a_client_token_makes_create_idempotent_and_refuses_other_parameters(eum):
    token = secrets.token_hex(16)
    first = create(eum, clientToken=token)
    again = create(eum, clientToken=token)
    assert again == first
    error = error_of(lambda: create(eum, clientToken=token, notifyCodeConfigurationName="Other"))
    assert error["Error"]["Code"] == "ConflictException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert error["resourceId"] == first["notifyCodeConfigurationId"]


# --------------------------------------------------------------------------------------- list rules


def test_list_pages_oldest_first_and_the_stock_paginator_reads_every_page(pinpoint_endpoint):
    client = fresh_region_client(pinpoint_endpoint)
    assert client.list_notify_code_configurations()["notifyCodeConfigurations"] == []
    created = [
        create(client, notifyCodeConfigurationName=f"c{i}")["notifyCodeConfigurationId"] for i in range(7)
    ]

    page = client.list_notify_code_configurations(maxResults=3)
    assert [c["notifyCodeConfigurationId"] for c in page["notifyCodeConfigurations"]] == created[:3]
    pages = list(
        client.get_paginator("list_notify_code_configurations").paginate(PaginationConfig={"PageSize": 3})
    )
    assert [len(p["notifyCodeConfigurations"]) for p in pages] == [3, 3, 1]
    assert [c["notifyCodeConfigurationId"] for p in pages for c in p["notifyCodeConfigurations"]] == created
    assert "nextToken" not in pages[-1]


def test_a_page_token_survives_deletes_between_pages(pinpoint_endpoint):
    client = fresh_region_client(pinpoint_endpoint)
    created = [
        create(client, notifyCodeConfigurationName=f"c{i}")["notifyCodeConfigurationId"] for i in range(4)
    ]
    first = client.list_notify_code_configurations(maxResults=2)
    client.delete_notify_code_configuration(notifyCodeConfigurationId=created[2])
    rest = client.list_notify_code_configurations(maxResults=2, nextToken=first["nextToken"])
    assert [c["notifyCodeConfigurationId"] for c in rest["notifyCodeConfigurations"]] == [created[3]]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"maxResults": 0}, "/maxResults"),
        ({"maxResults": 101}, "/maxResults"),
        ({"nextToken": "bogus"}, "/nextToken"),
    ],
)
def test_list_refuses_bad_paging(eum, query, path):
    error = error_of(lambda: eum.list_notify_code_configurations(**query))
    assert (error["Error"]["Code"], field_paths(error)) == ("ValidationException", [path])


# ------------------------------------------------------------------------------------- update rules


def test_update_changes_only_what_it_is_given(stock):
    configuration = create(
        stock,
        channelParameters={
            "text": {
                "inlineTemplateBody": "Text {{code}}",
                "destinationCountryParameters": {"IN_ENTITY_ID": "1001", "IN_TEMPLATE_ID": "2002"},
            },
            "voice": {"inlineTemplateBody": "Voice {{code}}", "languageCode": "en-US", "voiceId": "Joanna"},
        },
    )
    updated = stock.update_notify_code_configuration(
        notifyCodeConfigurationId=configuration["notifyCodeConfigurationId"],
        codeConfigurationParameters={"maxAttempts": 5},
        channelParameters={"voice": {"voiceId": ""}, "text": {"destinationCountryParameters": {}}},
    )["notifyCodeConfiguration"]

    assert updated["notifyCodeConfigurationName"] == "SignupOtp"
    assert updated["codeConfigurationParameters"] == {
        **configuration["codeConfigurationParameters"],
        "maxAttempts": 5,
    }
    assert updated["channelParameters"] == {
        "text": {"inlineTemplateBody": "Text {{code}}"},
        "voice": {"inlineTemplateBody": "Voice {{code}}", "languageCode": "en-US"},
    }
    assert updated["updatedAt"] >= configuration["updatedAt"]
    assert updated["createdAt"] == configuration["createdAt"]
    fetched = stock.get_notify_code_configuration(
        notifyCodeConfigurationId=configuration["notifyCodeConfigurationArn"]
    )
    assert fetched["notifyCodeConfiguration"] == updated


def test_clearing_every_member_of_a_channel_drops_the_channel(stock):
    configuration = create(stock)
    updated = stock.update_notify_code_configuration(
        notifyCodeConfigurationId=configuration["notifyCodeConfigurationId"],
        channelParameters={"text": {"inlineTemplateBody": ""}},
    )["notifyCodeConfiguration"]
    assert "channelParameters" not in updated


@pytest.mark.parametrize(
    ("members", "path"),
    [
        (
            {"channelParameters": {"text": {"inlineTemplateBody": "no placeholder"}}},
            "/channelParameters/text/inlineTemplateBody",
        ),
        ({"channelParameters": {"voice": {"languageCode": "e"}}}, "/channelParameters/voice/languageCode"),
        ({"codeConfigurationParameters": {"codeLength": 10}}, "/codeConfigurationParameters/codeLength"),
        ({"notifyCodeConfigurationName": ""}, "/notifyCodeConfigurationName"),
    ],
)
def test_update_refuses_what_the_model_does_not_allow(eum, members, path):
    configuration = create(eum)
    error = error_of(
        lambda: eum.update_notify_code_configuration(
            notifyCodeConfigurationId=configuration["notifyCodeConfigurationId"], **members
        )
    )
    assert (error["Error"]["Code"], field_paths(error)) == ("ValidationException", [path])


def test_get_update_and_delete_of_an_unknown_or_malformed_id(eum):
    for call in (
        eum.get_notify_code_configuration,
        eum.update_notify_code_configuration,
        eum.delete_notify_code_configuration,
    ):
        assert error_of(lambda call=call: call(notifyCodeConfigurationId="ncc-unknown"))["Error"]["Code"] == (
            "ResourceNotFoundException"
        )
        assert error_of(lambda call=call: call(notifyCodeConfigurationId="ncc unknown"))["Error"]["Code"] == (
            "ValidationException"
        )


# ------------------------------------------------------------------------------------- delete rules


def test_deletion_protection_refuses_a_delete_until_it_is_turned_off(stock):
    configuration = create(stock, deletionProtectionEnabled=True)
    configuration_id = configuration["notifyCodeConfigurationId"]

    error = error_of(
        lambda: stock.delete_notify_code_configuration(notifyCodeConfigurationId=configuration_id)
    )
    assert error["Error"]["Code"] == "ConflictException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert (error["resourceType"], error["resourceId"]) == ("NotifyCodeConfiguration", configuration_id)
    assert stock.get_notify_code_configuration(notifyCodeConfigurationId=configuration_id)

    stock.update_notify_code_configuration(
        notifyCodeConfigurationId=configuration_id, deletionProtectionEnabled=False
    )
    assert (
        stock.delete_notify_code_configuration(notifyCodeConfigurationId=configuration_id)[
            "ResponseMetadata"
        ]["HTTPStatusCode"]
        == 200
    )
    error = error_of(lambda: stock.get_notify_code_configuration(notifyCodeConfigurationId=configuration_id))
    assert error["Error"]["Code"] == "ResourceNotFoundException"


# --------------------------------------------------------------------------------------------- tags


def test_tags_given_at_create_are_listed_and_can_be_changed(stock):
    configuration = create(stock, tags=[{"key": "cdk-sms-otp:stack", "value": "SmsOtp"}])
    arn = configuration["notifyCodeConfigurationArn"]
    assert stock.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "cdk-sms-otp:stack", "value": "SmsOtp"}
    ]
    stock.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "identity"}])
    stock.untag_resource(resourceArn=arn, tagKeys=["cdk-sms-otp:stack"])
    assert stock.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "identity"}]


def test_pinpoint_tags_still_reach_pinpoint(pinpoint_endpoint):
    pinpoint = pinpoint_client(pinpoint_endpoint.url)
    arn = pinpoint.get_app(ApplicationId=pinpoint_endpoint.application_id)["ApplicationResponse"]["Arn"]
    assert pinpoint.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {}


# ----------------------------------------------------------------------------- unknown operations


def _placeholder(shape: Any) -> Any:
    """The smallest value a request can carry for a member of this shape (the client checks nothing)."""
    kind = shape.type_name
    if kind == "structure":
        return {name: _placeholder(shape.members[name]) for name in shape.required_members}
    return {"string": "abc123", "integer": 1, "long": 1, "boolean": False, "list": [], "map": {}}.get(
        kind, "x"
    )


def _unimplemented() -> list[str]:
    model = botocore.session.get_session().get_service_model("endusermessaging")
    return sorted(set(model.operation_names) - IMPLEMENTED)


@pytest.mark.parametrize("operation", _unimplemented())
def test_an_operation_the_sandbox_does_not_implement_answers_as_aws_answers_an_unknown_one(eum, operation):
    model = botocore.session.get_session().get_service_model("endusermessaging").operation_model(operation)
    parameters = _placeholder(model.input_shape) if model.input_shape is not None else {}
    error = error_of(lambda: eum._make_api_call(operation, parameters))
    assert error["Error"]["Code"] == "UnknownOperationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_an_unsigned_request_on_the_services_paths_gets_json_not_html(pinpoint_endpoint):
    answer = http_call("GET", f"{pinpoint_endpoint.url}/v1/brand-profiles")
    assert answer.status == 404
    assert answer.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert isinstance(answer.body, dict)
    assert answer.body["message"]
