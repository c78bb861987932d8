"""The stack's notify code configuration custom resource, run against the sandbox's End User Messaging.

The function (``otp.handlers.notify_code_configuration``) gets the events CloudFormation sends - every
property a string, as CloudFormation passes them - calls the sandbox through the adapter's boto3
client, and PUTs its answer to a local HTTP server standing in for the pre-signed ``ResponseURL``. What
it made is read back with a stock boto3 ``endusermessaging`` client. Each test works in a region of its
own, an empty account.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from otp import engine_rules
from tests.lambda_events import LambdaContext
from tests.sandbox_harness import DUMMY_KEY, PinpointEndpoint, end_user_messaging_client

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/SmsOtp/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
TAG = {"key": "cdk-sms-otp:stack", "value": STACK_ID}


@dataclass
class Answers:
    """What the function PUT to the response URL: (headers, JSON body), oldest first."""

    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    url: str = ""

    @property
    def last(self) -> dict[str, Any]:
        return self.received[-1][1]


@pytest.fixture
def answers() -> Iterator[Answers]:
    collected = Answers()

    class ResponseUrl(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            collected.received.append((dict(self.headers), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ResponseUrl)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    collected.url = f"http://127.0.0.1:{server.server_address[1]}/cloudformation-response?X-Amz-Signature=abc"
    yield collected
    server.shutdown()
    server.server_close()


@pytest.fixture
def region(pinpoint_endpoint: PinpointEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The function's environment, pointed at the sandbox, in a region no other test uses."""
    from otp.adapters.end_user_messaging import end_user_messaging_client as adapter_client
    from otp.handlers import notify_code_configuration

    name = f"xx-resource-{secrets.randbelow(10**9)}"
    for variable, value in {
        "AWS_ENDPOINT_URL": pinpoint_endpoint.url,
        "AWS_ACCESS_KEY_ID": DUMMY_KEY,
        "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
        "AWS_DEFAULT_REGION": name,
        "AWS_REGION": name,
        "POWERTOOLS_SERVICE_NAME": "otp",
    }.items():
        monkeypatch.setenv(variable, value)
    notify_code_configuration.configurations.cache_clear()
    adapter_client.cache_clear()
    yield name
    notify_code_configuration.configurations.cache_clear()
    adapter_client.cache_clear()


@pytest.fixture
def stock(pinpoint_endpoint: PinpointEndpoint, region: str) -> Any:
    return end_user_messaging_client(pinpoint_endpoint.url, region=region)


def configuration(**changes: Any) -> dict[str, Any]:
    """The properties the stack gives the resource (infra builds them with the same function)."""
    values: dict[str, Any] = {
        "name": "SmsOtp-otp",
        "brand": "Acme",
        "code_length": 6,
        "validity_minutes": 5,
        "allowed_attempts": 3,
        "channels": ("SMS", "VOICE"),
        "message_template": engine_rules.DEFAULT_MESSAGE_TEMPLATE,
        "voice_template": engine_rules.DEFAULT_VOICE_TEMPLATE,
        "voice_language": "en-US",
        "voice_id": "Joanna",
        "whatsapp_template_name": None,
        "whatsapp_language": "en-US",
    }
    values.update(changes)
    properties = engine_rules.notify_code_configuration(**values)
    properties["deletionProtectionEnabled"] = False
    properties["tags"] = [TAG]
    return properties


def as_cloudformation_passes(value: Any) -> Any:
    """CloudFormation hands a custom resource every number and boolean as a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {k: as_cloudformation_passes(item) for k, item in value.items()}
    if isinstance(value, list):
        return [as_cloudformation_passes(item) for item in value]
    return value


def event(
    kind: str,
    answers: Answers,
    properties: dict[str, Any] | None = None,
    *,
    physical_id: str | None = None,
    request_id: str | None = None,
    old: dict[str, Any] | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:SmsOtp-NotifyCodeConfiguration",
        "ResponseURL": answers.url,
        "StackId": STACK_ID,
        "RequestId": request_id or str(uuid.uuid4()),
        "LogicalResourceId": "EndUserMessagingNotifyCodeConfigurationResource1A2B3C4D",
        "ResourceType": "Custom::NotifyCodeConfiguration",
        "ResourceProperties": as_cloudformation_passes(
            {"ServiceToken": "arn:aws:lambda:...", **(properties or configuration())}
        ),
    }
    if physical_id is not None:
        document["PhysicalResourceId"] = physical_id
    if old is not None:
        document["OldResourceProperties"] = as_cloudformation_passes(old)
    return document


def invoke(document: dict[str, Any], answers: Answers) -> dict[str, Any]:
    from otp.handlers.notify_code_configuration import handler

    before = len(answers.received)
    handler(document, LambdaContext(function_name="notify-code-configuration"))
    assert len(answers.received) == before + 1, "exactly one answer per event"
    return answers.last


def stored(stock: Any, configuration_id: str) -> dict[str, Any]:
    found: dict[str, Any] = stock.get_notify_code_configuration(notifyCodeConfigurationId=configuration_id)[
        "notifyCodeConfiguration"
    ]
    return found


def ids_in_account(stock: Any) -> list[str]:
    pages = stock.get_paginator("list_notify_code_configurations").paginate()
    return [c["notifyCodeConfigurationId"] for page in pages for c in page["notifyCodeConfigurations"]]


# ------------------------------------------------------------------------------------------- create


def test_create_makes_the_configuration_the_properties_describe(answers, stock):
    created = invoke(event("Create", answers), answers)

    assert created["Status"] == "SUCCESS"
    configuration_id = created["PhysicalResourceId"]
    assert created["Data"] == {
        "Id": configuration_id,
        "Arn": stored(stock, configuration_id)["notifyCodeConfigurationArn"],
    }
    found = stored(stock, configuration_id)
    expected = configuration()
    assert found["notifyCodeConfigurationName"] == "SmsOtp-otp"
    assert found["codeConfigurationParameters"] == expected["codeConfigurationParameters"]
    assert found["channelParameters"] == {
        "text": {"inlineTemplateBody": "This is your One Time Password: {{code}} from Acme"},
        "voice": {
            "inlineTemplateBody": "Your Acme verification code is {{code}}. Again, your code is {{code}}.",
            "languageCode": "en-US",
            "voiceId": "Joanna",
            "voiceMessageBodyTextType": "TEXT",
        },
    }
    assert found["deletionProtectionEnabled"] is False
    assert stock.list_tags_for_resource(resourceArn=found["notifyCodeConfigurationArn"])["tags"] == [TAG]


def test_the_answer_carries_the_events_ids_and_an_empty_content_type(answers, stock):
    document = event("Create", answers)
    invoke(document, answers)
    headers, body = answers.received[-1]
    assert headers.get("Content-Type") == ""  # what the pre-signed URL is signed for
    for member in ("StackId", "RequestId", "LogicalResourceId"):
        assert body[member] == document[member]


def test_a_repeated_create_event_returns_the_same_configuration(answers, stock):
    document = event("Create", answers)
    first = invoke(document, answers)
    again = invoke(document, answers)
    assert again["PhysicalResourceId"] == first["PhysicalResourceId"]
    assert ids_in_account(stock) == [first["PhysicalResourceId"]]


def test_a_create_the_service_refuses_fails_with_its_words_and_its_rollback_succeeds(answers, stock):
    failed = invoke(event("Create", answers, configuration(message_template="no placeholder here")), answers)
    assert failed["Status"] == "FAILED"
    assert "ValidationException" in failed["Reason"]
    assert "inlineTemplateBody" in failed["Reason"]
    assert ids_in_account(stock) == []
    rolled_back = invoke(event("Delete", answers, physical_id=failed["PhysicalResourceId"]), answers)
    assert rolled_back["Status"] == "SUCCESS"


@pytest.mark.parametrize(
    ("breakage", "words"),
    [
        (lambda p: p["codeConfigurationParameters"].update(codeLength="six"), "codeLength"),
        (lambda p: p.update(deletionProtectionEnabled="maybe"), "deletionProtectionEnabled"),
        (lambda p: p.update(surprise="1"), "surprise"),
        (lambda p: p["channelParameters"].update(fax={"number": "1"}), "fax"),
    ],
)
def test_properties_that_are_no_configuration_fail_without_calling_the_service(
    answers, stock, breakage, words
):
    properties = configuration()
    breakage(properties)
    failed = invoke(event("Create", answers, properties), answers)
    assert failed["Status"] == "FAILED"
    assert failed["Reason"].startswith("invalid properties")
    assert words in failed["Reason"]
    assert ids_in_account(stock) == []


# ------------------------------------------------------------------------------------------- update


def test_update_makes_the_configuration_exactly_the_new_properties(answers, stock):
    created = invoke(event("Create", answers), answers)
    configuration_id = created["PhysicalResourceId"]
    new = configuration(
        channels=("SMS",),
        code_length=8,
        message_template="{{brand}}: your code is {{code}}",
        entity_id="1101234567890123456",
        template_id="1107890123456789012",
    )
    new["deletionProtectionEnabled"] = True
    update = event("Update", answers, new, physical_id=configuration_id, old=configuration())

    updated = invoke(update, answers)
    again = invoke(update, answers)

    for answer in (updated, again):
        assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", configuration_id)
    found = stored(stock, configuration_id)
    assert found["codeConfigurationParameters"]["codeLength"] == 8
    assert found["deletionProtectionEnabled"] is True
    assert found["channelParameters"]["text"] == {
        "inlineTemplateBody": "Acme: your code is {{code}}",
        "destinationCountryParameters": {
            "IN_ENTITY_ID": "1101234567890123456",
            "IN_TEMPLATE_ID": "1107890123456789012",
        },
    }
    # The voice channel the properties no longer hold has no template left to send with.
    assert "inlineTemplateBody" not in found["channelParameters"].get("voice", {})
    stock.update_notify_code_configuration(
        notifyCodeConfigurationId=configuration_id, deletionProtectionEnabled=False
    )


def test_update_puts_back_what_was_changed_by_hand(answers, stock):
    configuration_id = invoke(event("Create", answers), answers)["PhysicalResourceId"]
    stock.update_notify_code_configuration(
        notifyCodeConfigurationId=configuration_id,
        codeConfigurationParameters={"maxAttempts": 5},
        channelParameters={"voice": {"voiceId": "Brian"}, "notify": {"notifyTemplateId": "otp-template-1"}},
    )
    invoke(event("Update", answers, physical_id=configuration_id, old=configuration()), answers)
    found = stored(stock, configuration_id)
    expected = configuration()
    assert found["codeConfigurationParameters"] == expected["codeConfigurationParameters"]
    assert found["channelParameters"] == expected["channelParameters"]


def test_update_of_a_configuration_deleted_by_hand_creates_it_again(answers, stock):
    configuration_id = invoke(event("Create", answers), answers)["PhysicalResourceId"]
    stock.delete_notify_code_configuration(notifyCodeConfigurationId=configuration_id)

    updated = invoke(event("Update", answers, physical_id=configuration_id, old=configuration()), answers)

    assert updated["Status"] == "SUCCESS"
    assert updated["PhysicalResourceId"] != configuration_id
    assert ids_in_account(stock) == [updated["PhysicalResourceId"]]
    # CloudFormation then deletes the old physical id, which is already gone.
    assert invoke(event("Delete", answers, physical_id=configuration_id), answers)["Status"] == "SUCCESS"


# ------------------------------------------------------------------------------------------- delete


def test_delete_removes_it_and_a_repeated_delete_succeeds(answers, stock):
    configuration_id = invoke(event("Create", answers), answers)["PhysicalResourceId"]
    delete = event("Delete", answers, physical_id=configuration_id)
    assert invoke(delete, answers)["Status"] == "SUCCESS"
    assert ids_in_account(stock) == []
    assert invoke(delete, answers)["Status"] == "SUCCESS"


def test_deletion_protection_keeps_it_and_says_how_to_proceed(answers, stock):
    protected = configuration()
    protected["deletionProtectionEnabled"] = True
    configuration_id = invoke(event("Create", answers, protected), answers)["PhysicalResourceId"]

    refused = invoke(event("Delete", answers, protected, physical_id=configuration_id), answers)

    assert refused["Status"] == "FAILED"
    assert "deletion protection" in refused["Reason"]
    assert "notifyCodeDeletionProtection=false" in refused["Reason"]
    assert ids_in_account(stock) == [configuration_id]
    stock.update_notify_code_configuration(
        notifyCodeConfigurationId=configuration_id, deletionProtectionEnabled=False
    )
