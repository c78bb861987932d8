"""The stack's notify code configuration (``Custom::NotifyCodeConfiguration``): what it holds, the function
behind it and its IAM, deletion protection, and what the sending functions are told."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_sms_otp.config import ConfigError, load_config
from cdk_sms_otp.end_user_messaging import (
    CREATE_CONFIGURATION,
    DELETE_CONFIGURATION,
    HANDLER,
    STACK_TAG_KEY,
    TAG_RESOURCE,
    UPDATE_CONFIGURATION,
)
from otp import engine_rules
from tests.infra.support import REAL_IDENTITY, Synth, cdk_context, synth

EUM: dict[str, Any] = {**REAL_IDENTITY, "otp.engine": "endusermessaging"}
ALL_CHANNELS: dict[str, Any] = {
    **EUM,
    "otp.channels": ["SMS", "VOICE", "WHATSAPP"],
    "otp.codeLength": 8,
    "otp.validityMinutes": 12,
    "otp.allowedAttempts": 2,
    "otp.voiceId": "Joanna",
    "otp.voiceLanguage": "en-GB",
    "otp.whatsAppTemplateName": "otp_code",
    "otp.whatsAppOriginationIdentity": "phone-number-id-0123456789abcdef0123456789abcdef",
    "otp.entityId": "1101234567890123456",
    "otp.templateId": "1107890123456789012",
    "otp.allowedCountries": ["US", "IN"],
    "otp.notifyCodeDeletionProtection": True,
}
OWN_CONFIGURATIONS = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":end-user-messaging:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":notify-code-configuration/*",
        ],
    ]
}
TAGGED_WITH_THIS_STACK = {"Ref": "AWS::StackId"}


def _resource(s: Synth) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = s.resources("Custom::NotifyCodeConfiguration").items()
    return logical_id, resource


def _function(s: Synth, logical_id: str) -> dict[str, Any]:
    resource = s.json["Resources"][logical_id]
    assert resource["Type"] == "AWS::Lambda::Function"
    properties: dict[str, Any] = resource["Properties"]
    return properties


@pytest.mark.parametrize("variant", [EUM, ALL_CHANNELS], ids=["sms", "all-channels"])
def test_the_resource_holds_the_configurations_policy_and_templates(variant):
    s = synth(variant)
    config = load_config(cdk_context(variant))
    _, resource = _resource(s)
    properties = resource["Properties"]

    expected = engine_rules.notify_code_configuration(
        name="SmsOtp-otp",
        brand="Acme",
        code_length=config.code_length,
        validity_minutes=config.validity_minutes,
        allowed_attempts=config.allowed_attempts,
        channels=config.channels,
        message_template=config.message_template,
        voice_template=config.voice_template,
        voice_language=config.voice_language or config.language,
        voice_id=config.voice_id,
        whatsapp_template_name=config.whatsapp_template_name,
        whatsapp_language=config.language,
        entity_id=config.entity_id,
        template_id=config.template_id,
    )
    for member, value in expected.items():
        assert properties[member] == value, member
    assert properties["deletionProtectionEnabled"] is config.notify_code_deletion_protection
    assert properties["tags"] == [{"key": STACK_TAG_KEY, "value": TAGGED_WITH_THIS_STACK}]
    # A function that never answers fails the stack in 5 minutes, not CloudFormation's default hour
    assert properties["ServiceTimeout"] == "300"


def test_all_channels_have_their_parameters_with_the_brand_in_place():
    _, resource = _resource(synth(ALL_CHANNELS))
    channels = resource["Properties"]["channelParameters"]
    assert channels["text"] == {
        "inlineTemplateBody": "This is your One Time Password: {{code}} from Acme",
        "destinationCountryParameters": {
            "IN_ENTITY_ID": "1101234567890123456",
            "IN_TEMPLATE_ID": "1107890123456789012",
        },
    }
    assert channels["voice"] == {
        "inlineTemplateBody": "Your Acme verification code is {{code}}. Again, your code is {{code}}.",
        "languageCode": "en-GB",
        "voiceId": "Joanna",
        "voiceMessageBodyTextType": "TEXT",
    }
    assert channels["whatsApp"] == {"whatsAppTemplateName": "otp_code", "languageCode": "en-US"}
    assert resource["Properties"]["codeConfigurationParameters"] == {
        "codeType": "NUMERIC",
        "codeLength": 8,
        "validityPeriodMinutes": 12,
        "maxAttempts": 2,
    }


def test_the_resource_is_served_by_the_stacks_own_code_bundled_like_the_other_functions():
    s = synth(EUM)
    _, resource = _resource(s)
    function_id = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    function = _function(s, function_id)
    assert function["Handler"] == HANDLER
    api = next(
        f["Properties"]
        for f in s.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "otp.handlers.api.lambda_handler"
    )
    # one asset, one runtime and architecture: no Docker, no SDK installed at deploy time
    assert function["Code"] == api["Code"]
    assert (function["Runtime"], function["Architectures"]) == (api["Runtime"], api["Architectures"])
    assert "AwsCustomResource" not in str(s.json)


def test_the_functions_role_may_touch_only_configurations_tagged_with_this_stack():
    s = synth(EUM)
    _, resource = _resource(s)
    function = _function(s, resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0])
    role = function["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in s.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "logs:" not in str(statement["Action"])
    ]
    by_action = {
        action: statement
        for statement in statements
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert set(by_action) == {CREATE_CONFIGURATION, TAG_RESOURCE, UPDATE_CONFIGURATION, DELETE_CONFIGURATION}
    request_tag = {"StringEquals": {f"aws:RequestTag/{STACK_TAG_KEY}": TAGGED_WITH_THIS_STACK}}
    resource_tag = {"StringEquals": {f"aws:ResourceTag/{STACK_TAG_KEY}": TAGGED_WITH_THIS_STACK}}
    # Create has no resource type: * only when the new configuration carries this stack's tag
    assert by_action[CREATE_CONFIGURATION]["Resource"] == "*"
    assert by_action[CREATE_CONFIGURATION]["Condition"] == request_tag
    assert (by_action[TAG_RESOURCE]["Resource"], by_action[TAG_RESOURCE]["Condition"]) == (
        OWN_CONFIGURATIONS,
        request_tag,
    )
    for action in (UPDATE_CONFIGURATION, DELETE_CONFIGURATION):
        assert (by_action[action]["Resource"], by_action[action]["Condition"]) == (
            OWN_CONFIGURATIONS,
            resource_tag,
        )
    # and it may neither send nor validate codes
    assert not [a for a in by_action if "NotifyCodeVerification" in a]


def test_every_sending_function_names_the_configuration():
    s = synth(EUM)
    configuration_id, _ = _resource(s)
    senders = ("otp.handlers.api.lambda_handler", "otp.handlers.cognito.create_auth_challenge")
    for function in s.resources("AWS::Lambda::Function").values():
        properties = function["Properties"]
        if properties["Handler"] in senders:
            variables = properties["Environment"]["Variables"]
            assert variables["OTP_NOTIFY_CODE_CONFIGURATION"] == {"Ref": configuration_id}
    assert s.json["Outputs"]["NotifyCodeConfigurationId"]["Value"] == {"Ref": configuration_id}


def test_deletion_protection_is_off_unless_asked_for_and_pinpoint_refuses_the_key():
    _, resource = _resource(synth(EUM))
    assert resource["Properties"]["deletionProtectionEnabled"] is False
    _, protected = _resource(synth({**EUM, "otp.notifyCodeDeletionProtection": "true"}))
    assert protected["Properties"]["deletionProtectionEnabled"] is True
    with pytest.raises(ConfigError) as caught:
        load_config(cdk_context({**REAL_IDENTITY, "otp.notifyCodeDeletionProtection": True}))
    assert "otp.notifyCodeDeletionProtection" in str(caught.value)
    assert "only otp.engine=endusermessaging uses it" in str(caught.value)


def test_the_default_stack_has_no_configuration():
    assert synth(REAL_IDENTITY).resources("Custom::NotifyCodeConfiguration") == {}
