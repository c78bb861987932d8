"""The message template rules: the code placeholder, GSM-7 and one SMS part with the brand and code in."""

from __future__ import annotations

import pytest

from otp import engine_rules as rules
from otp.domain.budget import BudgetCaps
from otp.settings import SettingsError, load_settings

EUM = {
    "OTP_ENGINE": "endusermessaging",
    "OTP_DEPLOYMENT_ID": "arn:aws:cloudformation:us-east-1:123456789012:stack/SmsOtp/0f1e2d3c",
    "OTP_BRAND_NAME": "Acme",
    "OTP_ORIGINATION_IDENTITY": "+12065550199",
}


@pytest.mark.parametrize(
    ("text", "septets"),
    [("", 0), ("abc 123", 7), ("@£$¥èéùìò", 9), ("{}[]~^|\\€", 18), ("\n\r", 2), ("é", 1)],
)
def test_gsm7_counts_extension_characters_twice(text, septets):
    assert rules.gsm7_septets(text) == septets


@pytest.mark.parametrize("text", ["ç", "á", "`", "ü ✓", "код", "😀"])
def test_text_outside_gsm7_has_no_septet_count(text):
    assert rules.gsm7_septets(text) is None


def test_the_default_template_is_pinpoints_wording_and_fits():
    assert (
        rules.render(rules.DEFAULT_MESSAGE_TEMPLATE, brand="Acme", code="123456")
        == "This is your One Time Password: 123456 from Acme"
    )
    assert rules.sms_template_problem(rules.DEFAULT_MESSAGE_TEMPLATE, brand="A" * 20, code_length=8) is None


def test_exactly_one_part_fits_and_one_septet_more_does_not():
    # "{{code}} " + filler: 6 digits + 1 space + filler septets
    fits = "{{code}} " + "x" * (160 - 7)
    assert rules.sms_template_problem(fits, brand="Acme", code_length=6) is None
    problem = rules.sms_template_problem(fits + "x", brand="Acme", code_length=6)
    assert problem is not None
    assert "161 GSM-7 septets" in problem


def test_the_code_length_and_the_brand_count_where_they_go():
    # 150 septets of text, the brand placeholder (9 characters) and the code placeholder (8)
    template = "x" * 150 + "{{brand}}{{code}}"
    assert rules.sms_template_problem(template, brand="AB", code_length=8) is None  # 150 + 2 + 8
    assert rules.sms_template_problem(template, brand="ABC", code_length=8) is not None  # 161
    assert rules.sms_template_problem(template, brand="AB", code_length=4) is None


def test_an_extension_character_counts_twice_in_the_limit():
    template = "{{code}}" + "€" * 77  # 6 + 154 = 160
    assert rules.sms_template_problem(template, brand="Acme", code_length=6) is None
    assert rules.sms_template_problem(template + "€", brand="Acme", code_length=6) is not None


@pytest.mark.parametrize(
    ("template", "brand", "fragment"),
    [
        ("Your code", "Acme", "{{code}}"),
        ("   ", "Acme", "empty"),
        ("Código {{code}}", "Acme", "'ó'"),
        ("{{code}} from {{brand}}", "Café✓", "'✓'"),
        ("{{code}}" + "x" * 6000, "Acme", "6000"),
    ],
)
def test_a_bad_sms_template_says_why(template, brand, fragment):
    problem = rules.sms_template_problem(template, brand=brand, code_length=6)
    assert problem is not None
    assert fragment in problem


def test_a_voice_template_needs_the_placeholder_and_no_gsm7():
    assert rules.voice_template_problem("Tu código es {{code}}", brand="Acme") is None
    assert "{{code}}" in (rules.voice_template_problem("Your code", brand="Acme") or "")


def test_a_voice_template_fits_the_functions_environment():
    fits = "{{code}}" + "x" * (1000 - 8)
    assert rules.voice_template_problem(fits, brand="Acme") is None
    assert "4 KB" in (rules.voice_template_problem(fits + "x", brand="Acme") or "")
    # the brand counts where it goes: 4 + 1 + 8 + 987 characters
    assert rules.voice_template_problem("{{brand}} {{code}}" + "x" * 987, brand="Acme") is None
    assert rules.voice_template_problem("{{brand}} {{code}}" + "x" * 988, brand="Acme") is not None


def test_the_functions_refuse_a_template_synthesis_would_refuse():
    # Given a deployed function whose template no longer fits once the brand is in place
    with pytest.raises(SettingsError) as caught:
        load_settings({**EUM, "OTP_MESSAGE_TEMPLATE": "{{brand}} " + "x" * 150 + " {{code}}"})
    assert "OTP_MESSAGE_TEMPLATE" in str(caught.value)
    assert "one SMS part" in str(caught.value)


def test_each_engine_has_its_own_code_length_and_validity():
    assert load_settings({**EUM, "OTP_CODE_LENGTH": "4", "OTP_VALIDITY_MINUTES": "1"}).code_length == 4
    pinpoint = {k: v for k, v in EUM.items() if k != "OTP_ENGINE"} | {"PINPOINT_APPLICATION_ID": "app"}
    for variable, value, allowed in (
        ("OTP_CODE_LENGTH", "4", "from 5 to 8"),
        ("OTP_VALIDITY_MINUTES", "1", "from 5 to 60"),
    ):
        with pytest.raises(SettingsError) as caught:
            load_settings({**pinpoint, variable: value})
        assert (
            f"{variable} = {value} is invalid: must be an integer {allowed} with OTP_ENGINE=pinpoint"
            in str(caught.value)
        )
    with pytest.raises(SettingsError, match="OTP_CODE_LENGTH"):
        load_settings({**EUM, "OTP_CODE_LENGTH": "9"})


@pytest.mark.parametrize(
    ("environment", "variable"),
    [
        ({"OTP_CHANNELS": "SMS,FAX"}, "OTP_CHANNELS"),
        ({"OTP_CHANNELS": ""}, "OTP_CHANNELS"),
        ({"OTP_CHANNELS": "WHATSAPP"}, "OTP_WHATSAPP_TEMPLATE_NAME"),
        (
            {"OTP_CHANNELS": "WHATSAPP", "OTP_WHATSAPP_TEMPLATE_NAME": "otp"},
            "OTP_WHATSAPP_ORIGINATION_IDENTITY",
        ),
        ({"OTP_WHATSAPP_TEMPLATE_NAME": "OTP Code"}, "OTP_WHATSAPP_TEMPLATE_NAME"),
        ({"OTP_VOICE_ID": "Jo-anna"}, "OTP_VOICE_ID"),
        ({"OTP_VOICE_LANGUAGE": "english"}, "OTP_VOICE_LANGUAGE"),
        ({"OTP_PREVIOUS_ENGINE": "endusermessaging"}, "OTP_PREVIOUS_ENGINE"),
        ({"OTP_PREVIOUS_ENGINE": "pinpoint"}, "PINPOINT_APPLICATION_ID"),
        ({"OTP_ENGINE": "sns"}, "OTP_ENGINE"),
        ({"OTP_CONFIGURATION_SET": "has space"}, "OTP_CONFIGURATION_SET"),
        ({"OTP_DEPLOYMENT_ID": None}, "OTP_DEPLOYMENT_ID"),
        ({"OTP_VOICE_TEMPLATE": "no placeholder", "OTP_CHANNELS": "VOICE"}, "OTP_VOICE_TEMPLATE"),
        ({"OTP_NOTIFY_TIER": "PREMIUM"}, "OTP_NOTIFY_TIER"),
        ({"OTP_SEND_LIMIT_PER_DAY": "11"}, "OTP_SEND_LIMIT_PER_DAY = 11 is invalid"),
    ],
)
def test_a_bad_engine_variable_is_named(environment, variable):
    env = {k: v for k, v in {**EUM, **environment}.items() if v is not None}
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert variable in str(caught.value)


def test_pinpoint_offers_only_sms():
    with pytest.raises(SettingsError, match="OTP_ENGINE=pinpoint offers SMS only"):
        load_settings(
            {"PINPOINT_APPLICATION_ID": "app", **EUM, "OTP_ENGINE": "pinpoint", "OTP_CHANNELS": "VOICE"}
        )


def test_without_a_pinpoint_application_the_deployment_id_keys_the_decoys():
    settings = load_settings(EUM)
    assert settings.application_id == EUM["OTP_DEPLOYMENT_ID"]
    assert settings.engines_in_use == ("endusermessaging",)
    # and while Pinpoint still verifies, its application id is the one used
    both = load_settings({**EUM, "OTP_PREVIOUS_ENGINE": "pinpoint", "PINPOINT_APPLICATION_ID": "app"})
    assert both.application_id == "app"
    assert both.engines_in_use == ("endusermessaging", "pinpoint")


def test_the_notify_tier_sets_the_send_rate_the_functions_keep_to():
    assert load_settings(EUM).engine_send_rate == 1  # every configuration starts on the Basic tier
    assert load_settings({**EUM, "OTP_NOTIFY_TIER": "ADVANCED"}).engine_send_rate == 25
    # Pinpoint has no such tier: nothing to keep to
    pinpoint = {**EUM, "OTP_ENGINE": "pinpoint", "PINPOINT_APPLICATION_ID": "app"}
    assert load_settings(pinpoint).engine_send_rate is None


def test_on_the_basic_tier_the_functions_keep_the_budget_to_its_200_messages_a_day():
    from otp.wiring import send_budget

    # Every configuration starts on Basic (200 messages a day): the default 500/hour, 2000/day become 200
    assert send_budget(load_settings(EUM)).total == BudgetCaps(per_hour=200, per_day=200)
    lower = load_settings({**EUM, "OTP_SEND_BUDGET_PER_HOUR": "50", "OTP_SEND_BUDGET_PER_DAY": "150"})
    assert send_budget(lower).total == BudgetCaps(per_hour=50, per_day=150)
    # Advanced has no daily cap, and Pinpoint no tier: the budget is what was configured
    advanced = load_settings({**EUM, "OTP_NOTIFY_TIER": "ADVANCED"})
    assert send_budget(advanced).total == BudgetCaps(per_hour=500, per_day=2000)
    pinpoint = {**EUM, "OTP_ENGINE": "pinpoint", "PINPOINT_APPLICATION_ID": "app"}
    assert send_budget(load_settings(pinpoint)).total == BudgetCaps(per_hour=500, per_day=2000)


def test_ten_codes_a_day_is_what_end_user_messaging_delivers_and_pinpoint_is_not_bound_by_it():
    assert load_settings({**EUM, "OTP_SEND_LIMIT_PER_DAY": "10"}).send_limit_per_day == 10
    pinpoint = {**EUM, "OTP_ENGINE": "pinpoint", "PINPOINT_APPLICATION_ID": "app"}
    assert load_settings({**pinpoint, "OTP_SEND_LIMIT_PER_DAY": "11"}).send_limit_per_day == 11
