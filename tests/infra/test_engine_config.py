"""infra/config.py for the engine keys: each bad value stops synthesis with a message naming the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from cdk_sms_otp.config import ConfigError, load_config

REQUIRED = {"brandName": "Acme", "originationIdentity": "+12065550123"}
EUM = {**REQUIRED, "engine": "endusermessaging"}
WHATSAPP = {
    "whatsAppTemplateName": "otp_code",
    "whatsAppOriginationIdentity": "phone-number-id-0123456789abcdef0123456789abcdef",
}


def _problems(otp: Mapping[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config({"otp": dict(otp)})
    return caught.value.problems


def test_the_engine_defaults_to_pinpoint_with_sms():
    config = load_config({"otp": REQUIRED})
    assert (config.engine, config.channels, config.previous_engine) == ("pinpoint", ("SMS",), None)
    assert config.engines_in_use == ("pinpoint",)


def test_end_user_messaging_accepts_its_own_wider_ranges():
    config = load_config({"otp": {**EUM, "codeLength": 4, "validityMinutes": 1}})
    assert (config.code_length, config.validity_minutes) == (4, 1)


@pytest.mark.parametrize(
    ("otp", "fragment"),
    [
        (
            {**REQUIRED, "codeLength": 4},
            "otp.codeLength = 4 is invalid: must be an integer from 5 to 8 with otp.engine=pinpoint",
        ),
        ({**EUM, "codeLength": 9}, "must be an integer from 4 to 8 with otp.engine=endusermessaging"),
        ({**REQUIRED, "validityMinutes": 1}, "from 5 to 60 with otp.engine=pinpoint"),
        ({**EUM, "validityMinutes": 61}, "from 1 to 60 with otp.engine=endusermessaging"),
        (
            {**REQUIRED, "engine": "sns"},
            'otp.engine = "sns" is invalid: must be one of "pinpoint", "endusermessaging"',
        ),
        ({**REQUIRED, "channels": ["SMS", "VOICE"]}, "otp.engine=pinpoint offers SMS only"),
        ({**EUM, "channels": ["SMS", "FAX"]}, "'FAX' is not one"),
        ({**EUM, "channels": []}, "otp.channels = [] is invalid"),
        (
            {**EUM, "channels": ["WHATSAPP"]},
            "otp.whatsAppTemplateName is required when otp.channels includes WHATSAPP",
        ),
        (
            {**EUM, "channels": ["WHATSAPP"], "whatsAppTemplateName": "otp"},
            "otp.whatsAppOriginationIdentity is required",
        ),
        ({**EUM, "whatsAppTemplateName": "OTP Code"}, "otp.whatsAppTemplateName"),
        ({**EUM, "messageTemplate": "Your code"}, "must contain the code placeholder {{code}}"),
        ({**EUM, "messageTemplate": "Código: {{code}}"}, "must be GSM-7 text"),
        ({**EUM, "messageTemplate": "{{code}} " + "x" * 160}, "must fit one SMS part: 167 GSM-7 septets"),
        ({**EUM, "brandName": "Café✓"}, "'✓' would make the SMS UCS-2"),
        ({**EUM, "channels": ["VOICE"], "voiceTemplate": "Your code"}, "otp.voiceTemplate"),
        ({**EUM, "voiceId": "Jo anna"}, "otp.voiceId"),
        ({**EUM, "voiceLanguage": "english"}, "otp.voiceLanguage"),
        ({**EUM, "originationIdentity": "AcmeCo", "channels": ["SMS", "VOICE"]}, "cannot place VOICE calls"),
        (
            {**EUM, "originationIdentity": "arn:aws:sms-voice:us-east-1:123456789012:pool/pool.1"},
            "otp.engine=endusermessaging accepts 1-256 of A-Z a-z 0-9 _ : / + -",
        ),
        ({**EUM, "previousEngine": "endusermessaging"}, "must differ from otp.engine"),
        (
            {**EUM, "previousEngine": "pinpoint", "codeLength": 4},
            "previousEngine=pinpoint still verifies codes of 5-8",
        ),
        ({**REQUIRED, "messageTemplate": "Code {{code}}"}, "only otp.engine=endusermessaging uses it"),
        ({**REQUIRED, "voiceId": "Joanna"}, "otp.voiceId"),
        ({**REQUIRED, "previousEngine": "endusermessaging"}, "otp.previousEngine"),
        ({**EUM, "notifyTier": "PREMIUM"}, 'otp.notifyTier = "PREMIUM" is invalid: must be one of "BASIC"'),
        ({**REQUIRED, "notifyTier": "ADVANCED"}, "only otp.engine=endusermessaging uses it"),
    ],
)
def test_a_bad_engine_value_names_its_key(otp, fragment):
    problems = _problems(otp)
    assert any(fragment in problem for problem in problems), problems


def test_a_sender_id_can_send_sms_while_a_voice_number_places_the_calls():
    config = load_config(
        {
            "otp": {
                **EUM,
                "originationIdentity": "AcmeCo",
                "channels": "SMS,VOICE",
                "voiceOriginationIdentity": "+12065550188",
            }
        }
    )
    assert config.channels == ("SMS", "VOICE")
    assert config.voice_origination_identity == "+12065550188"


def test_every_channel_with_its_required_values_is_accepted_from_cli_strings():
    config = load_config(
        {
            "otp": REQUIRED,
            "otp.engine": "endusermessaging",
            "otp.channels": "sms,voice,whatsapp",
            **{f"otp.{k}": v for k, v in WHATSAPP.items()},
        }
    )
    assert config.channels == ("SMS", "VOICE", "WHATSAPP")
    assert config.engines_in_use == ("endusermessaging",)
    assert load_config({"otp": {**EUM, "previousEngine": "pinpoint"}}).engines_in_use == (
        "endusermessaging",
        "pinpoint",
    )


def test_a_daily_limit_above_what_end_user_messaging_delivers_stops_synthesis():
    # Given sendLimitPerDay 11 on End User Messaging, which delivers at most 10 messages a number a day
    problems = _problems({**EUM, "sendLimitPerDay": 11, "sendLimitPerHour": 5})
    # Then synthesis stops with a message naming the key, the value and AWS's limit
    assert problems == [
        "otp.sendLimitPerDay = 11 is invalid: otp.engine=endusermessaging delivers at most 10 messages to "
        "one number per day (AWS's limit for the whole account, which cannot be raised); set it to 10 or less"
    ]
    # and 10 is accepted there, while Pinpoint keeps its own range
    assert load_config({"otp": {**EUM, "sendLimitPerDay": 10}}).send_limit_per_day == 10
    assert load_config({"otp": {**REQUIRED, "sendLimitPerDay": 11}}).send_limit_per_day == 11


def test_the_tier_defaults_to_basic():
    assert load_config({"otp": EUM}).notify_tier == "BASIC"
    assert load_config({"otp": {**EUM, "notifyTier": "ADVANCED"}}).notify_tier == "ADVANCED"
