"""``OTP_ENGINE=endusermessaging make run``: the sandbox subprocess on the new engine, over real sockets.

The README's quick start and the Cognito sign-in (docs/cognito.md) work unchanged; a stock boto3
endusermessaging client on the same endpoint places a voice call that lands in the outbox.
"""

from __future__ import annotations

import uuid

import pytest

from local.cognito_users import create_sign_in_user
from tests.sandbox_harness import aws_client

pytestmark = pytest.mark.slow


def fresh_number() -> str:
    return f"+1206555{uuid.uuid4().int % 9000 + 1000:04d}"


def test_health_and_ready_file_name_the_engine(sandbox_end_user_messaging):
    assert sandbox_end_user_messaging.health().body["engine"] == "endusermessaging"
    assert sandbox_end_user_messaging.ready["engine"] == "endusermessaging"


def test_the_sandbox_holds_the_deployments_notify_code_configuration_and_every_send_names_it(
    sandbox_end_user_messaging,
):
    sandbox = sandbox_end_user_messaging
    configuration_id = sandbox.ready["notifyCodeConfigurationId"]
    assert sandbox.health().body["notifyCodeConfigurationId"] == configuration_id
    client = sandbox.end_user_messaging()
    held = client.get_notify_code_configuration(notifyCodeConfigurationId=configuration_id)[
        "notifyCodeConfiguration"
    ]
    # The deployment's policy and templates, as the stack's custom resource would have created them
    assert held["codeConfigurationParameters"] == {
        "codeType": "NUMERIC",
        "codeLength": 6,
        "validityPeriodMinutes": 5,
        "maxAttempts": 3,
    }
    assert held["channelParameters"]["text"] == {
        "inlineTemplateBody": "This is your One Time Password: {{code}} from Sandbox"
    }
    # When the configuration's wording changes, the service's next code is worded that way: the send
    # named the configuration and carried no template of its own
    client.update_notify_code_configuration(
        notifyCodeConfigurationId=configuration_id,
        channelParameters={"text": {"inlineTemplateBody": "Sandbox code: {{code}}"}},
    )
    try:
        phone = fresh_number()
        assert sandbox.api("POST", "/v1/otp", {"phoneNumber": phone}).status == 202
        [sms] = sandbox.outbox(destination=phone)
        assert sms["body"] == f"Sandbox code: {sms['code']}"
    finally:
        client.update_notify_code_configuration(
            notifyCodeConfigurationId=configuration_id,
            channelParameters={
                "text": {"inlineTemplateBody": held["channelParameters"]["text"]["inlineTemplateBody"]}
            },
        )


def test_the_quick_start_works_unchanged(sandbox_end_user_messaging):
    sandbox = sandbox_end_user_messaging
    phone = fresh_number()
    reference = f"quickstart-{uuid.uuid4().hex[:8]}"
    sent = sandbox.api("POST", "/v1/otp", {"phoneNumber": phone, "referenceId": reference})
    assert sent.status == 202
    assert sent.body["referenceId"] == reference
    [sms] = sandbox.outbox(destination=phone, reference_id=reference)
    assert (sms["channel"], sms["engine"]) == ("SMS", "endusermessaging")
    assert sms["body"] == f"This is your One Time Password: {sms['code']} from Sandbox"
    verified = sandbox.api(
        "POST", "/v1/otp/verify", {"phoneNumber": phone, "referenceId": reference, "code": sms["code"]}
    )
    assert (verified.status, verified.body) == (200, {"valid": True})
    # and the code is on the sandbox's console (the phone), not in the service's own log lines
    console = sandbox.console()
    assert f"[sandbox] SMS to {phone} (reference {reference}): {sms['body']}" in console
    assert sum(sms["code"] in line for line in console.splitlines()) == 1


def test_a_voice_send_is_a_call_in_the_outbox(sandbox_end_user_messaging):
    sandbox = sandbox_end_user_messaging
    phone = fresh_number()
    client = sandbox.end_user_messaging()
    client.send_notify_code_verification(
        channel="VOICE",
        destinationIdentity=phone,
        originationIdentity="+12065550199",
        overrideChannelParameters={
            "voice": {"inlineTemplateBody": "Your code is {{code}}", "voiceId": "Joanna"}
        },
        configurationSetName="otp-sandbox",
        referenceId="voice-1",
    )
    [call] = sandbox.outbox(destination=phone)
    assert call["channel"] == "VOICE"
    assert call["body"] == f"Your code is {call['code']}"
    assert sandbox.outbox(destination=phone) == [
        m for m in sandbox.outbox() if m["destination"] == phone and m["channel"] == "VOICE"
    ]
    assert f"[sandbox] Voice call to {phone}" in sandbox.console()


def test_the_cognito_sign_in_works_on_the_new_engine(sandbox_end_user_messaging):
    sandbox = sandbox_end_user_messaging
    cognito = aws_client("cognito-idp", sandbox.aws_url)
    health = sandbox.health().body
    pool_id, client_id = health["userPoolId"], health["userPoolClientId"]
    phone = fresh_number()
    create_sign_in_user(cognito, pool_id, phone)
    challenge = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": phone}
    )
    [sms] = sandbox.outbox(destination=phone)
    assert sms["engine"] == "endusermessaging"
    result = cognito.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": phone, "ANSWER": sms["code"]},
    )
    assert "AccessToken" in result["AuthenticationResult"]
    operations = [c["operation"] for c in sandbox.calls() if c["destination"] == phone]
    assert operations == ["SendNotifyCodeVerification", "ValidateNotifyCodeVerification"]
