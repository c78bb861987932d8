"""The adaptive defence's keys (cdk.json context) and variables (the functions' settings): defaults,
coercion, bounds, and that the stack hands every one to the functions."""

from __future__ import annotations

import pytest

from cdk_sms_otp.config import ConfigError, load_config
from otp.settings import SettingsError, load_settings

REQUIRED = {"brandName": "Acme", "originationIdentity": "+12065550123"}
ENV = {"OTP_BRAND_NAME": "Acme", "OTP_ORIGINATION_IDENTITY": "+12065550123", "PINPOINT_APPLICATION_ID": "app"}


def test_the_defaults_work_with_no_tuning_and_match_the_functions() -> None:
    config = load_config({"otp": REQUIRED})
    settings = load_settings(ENV)
    expected = (True, 5, 5, (1, 4, 24, 168), (), 20, 30, 50, 10)
    for source in (config, settings):
        assert (
            source.adaptive_protection,
            source.adaptive_min_sends,
            source.adaptive_min_conversion_percent,
            source.adaptive_block_hours,
            source.adaptive_allowed_prefixes,
            source.proven_reserve_percent,
            source.proven_number_days,
            source.unproven_country_share_percent,
            source.unproven_range_share_percent,
        ) == expected


def test_cli_strings_and_variables_are_coerced() -> None:
    config = load_config(
        {
            "otp": REQUIRED,
            "otp.adaptiveProtection": "false",
            "otp.adaptiveBlockHours": "2, 8",
            "otp.adaptiveAllowedPrefixes": "+4420, +1206",
            "otp.adaptiveMinSends": "50",
        }
    )
    assert (config.adaptive_protection, config.adaptive_block_hours, config.adaptive_min_sends) == (
        False,
        (2, 8),
        50,
    )
    assert config.adaptive_allowed_prefixes == ("+4420", "+1206")
    settings = load_settings(
        {
            **ENV,
            "OTP_ADAPTIVE_PROTECTION": "false",
            "OTP_ADAPTIVE_BLOCK_HOURS": "2,8",
            "OTP_ADAPTIVE_ALLOWED_PREFIXES": "+4420,+1206",
            "OTP_PROVEN_RESERVE_PERCENT": "0",
            "OTP_ADAPTIVE_REOFFEND_MIN_SENDS": "3",
        }
    )
    assert settings.adaptive_reoffend_min_sends == 3
    assert (settings.adaptive_protection, settings.adaptive_block_hours) == (False, (2, 8))
    assert (settings.adaptive_allowed_prefixes, settings.proven_reserve_percent) == (("+4420", "+1206"), 0)


@pytest.mark.parametrize(
    ("key", "variable", "value"),
    [
        ("adaptiveProtection", "OTP_ADAPTIVE_PROTECTION", "maybe"),
        ("adaptiveMinSends", "OTP_ADAPTIVE_MIN_SENDS", "0"),
        ("adaptiveReoffendMinSends", "OTP_ADAPTIVE_REOFFEND_MIN_SENDS", "0"),
        ("adaptiveMinConversionPercent", "OTP_ADAPTIVE_MIN_CONVERSION_PERCENT", "101"),
        ("adaptiveBlockHours", "OTP_ADAPTIVE_BLOCK_HOURS", "4,1"),
        ("adaptiveBlockHours", "OTP_ADAPTIVE_BLOCK_HOURS", "0"),
        ("adaptiveBlockHours", "OTP_ADAPTIVE_BLOCK_HOURS", "1,2,3,4,5,6,7,8,9"),
        ("adaptiveAllowedPrefixes", "OTP_ADAPTIVE_ALLOWED_PREFIXES", "4420"),
        ("provenReservePercent", "OTP_PROVEN_RESERVE_PERCENT", "91"),
        ("provenNumberDays", "OTP_PROVEN_NUMBER_DAYS", "0"),
        ("unprovenCountrySharePercent", "OTP_UNPROVEN_COUNTRY_SHARE_PERCENT", "0"),
        ("unprovenRangeSharePercent", "OTP_UNPROVEN_RANGE_SHARE_PERCENT", "101"),
    ],
)
def test_a_bad_value_is_refused_by_the_stack_and_by_the_functions(
    key: str, variable: str, value: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"otp": {**REQUIRED, key: value}})
    assert key in " ".join(caught.value.problems)
    with pytest.raises(SettingsError, match=variable):
        load_settings({**ENV, variable: value})
