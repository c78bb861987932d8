"""The abuse-protection variables: defaults, parsing, and messages that name the variable."""

from __future__ import annotations

import pytest

from otp.settings import SettingsError, load_settings

REQUIRED = {
    "PINPOINT_APPLICATION_ID": "app123",
    "OTP_BRAND_NAME": "Acme",
    "OTP_ORIGINATION_IDENTITY": "+12065550199",
}


def test_defaults() -> None:
    settings = load_settings({**REQUIRED, "OTP_TABLE_NAME": "otp-protection"})
    assert settings.protection_enabled
    assert (settings.send_cooldown_seconds, settings.send_limit_per_hour, settings.send_limit_per_day) == (
        30,
        5,
        10,
    )
    assert settings.verify_limit_per_reference == 5
    assert (settings.allow_toll_free, settings.allow_voip, settings.blocked_prefixes) == (False, False, ())
    assert settings.idempotency_ttl_seconds == 3600
    # the reserve follows the caps unless set: one less than the daily cap beyond the hourly one
    assert (settings.send_reserve_per_day, settings.reserve_per_day, settings.device_ticket_days) == (
        None,
        4,
        90,
    )


def test_values_are_parsed_from_text() -> None:
    settings = load_settings(
        {
            **REQUIRED,
            "OTP_TABLE_NAME": "t-1",
            "OTP_SEND_COOLDOWN_SECONDS": "0",
            "OTP_SEND_LIMIT_PER_HOUR": "3",
            "OTP_SEND_LIMIT_PER_DAY": "3",
            "OTP_VERIFY_LIMIT_PER_REFERENCE": "2",
            "OTP_ALLOW_TOLL_FREE": "true",
            "OTP_ALLOW_VOIP": "false",
            "OTP_BLOCKED_PREFIXES": "+1900, +4470",
            "OTP_IDEMPOTENCY_TTL_SECONDS": "600",
            "OTP_SEND_RESERVE_PER_DAY": "2",
            "OTP_DEVICE_TICKET_DAYS": "7",
        }
    )
    assert (settings.reserve_per_day, settings.device_ticket_days) == (2, 7)
    assert settings.send_cooldown_seconds == 0
    assert (settings.send_limit_per_hour, settings.send_limit_per_day) == (3, 3)
    assert settings.verify_limit_per_reference == 2
    assert (settings.allow_toll_free, settings.allow_voip) == (True, False)
    assert settings.blocked_prefixes == ("+1900", "+4470")
    assert settings.idempotency_ttl_seconds == 600


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OTP_SEND_COOLDOWN_SECONDS", "-1"),
        ("OTP_SEND_COOLDOWN_SECONDS", "3601"),
        ("OTP_SEND_LIMIT_PER_HOUR", "0"),
        ("OTP_SEND_LIMIT_PER_DAY", "1001"),
        ("OTP_VERIFY_LIMIT_PER_REFERENCE", "0"),
        ("OTP_ALLOW_TOLL_FREE", "maybe"),
        ("OTP_BLOCKED_PREFIXES", "1900"),
        ("OTP_BLOCKED_PREFIXES", "+19OO"),
        ("OTP_IDEMPOTENCY_TTL_SECONDS", "59"),
        ("OTP_SEND_RESERVE_PER_DAY", "-1"),
        ("OTP_SEND_RESERVE_PER_DAY", "10"),  # no open part left of the default 10 a day
        ("OTP_DEVICE_TICKET_DAYS", "0"),
        ("OTP_DEVICE_TICKET_DAYS", "366"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    # Given one protection variable outside its rules
    # When the settings are loaded
    with pytest.raises(SettingsError) as error:
        load_settings({**REQUIRED, variable: value})
    # Then the message names it
    assert variable in str(error.value)


def test_a_day_cap_below_the_hour_cap_is_refused_naming_both() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({**REQUIRED, "OTP_SEND_LIMIT_PER_HOUR": "5", "OTP_SEND_LIMIT_PER_DAY": "4"})
    assert "OTP_SEND_LIMIT_PER_DAY" in str(error.value)
    assert "OTP_SEND_LIMIT_PER_HOUR" in str(error.value)


def test_a_deployed_function_cannot_run_without_the_table() -> None:
    # Given the Lambda runtime's environment without OTP_TABLE_NAME
    env = {**REQUIRED, "AWS_LAMBDA_FUNCTION_NAME": "otp-api", "AWS_SECRET_ACCESS_KEY": "do-not-print"}
    # When the settings are loaded
    with pytest.raises(SettingsError) as error:
        load_settings(env)
    # Then start-up fails naming the variable, and the environment is not echoed
    assert "OTP_TABLE_NAME is required" in str(error.value)
    assert "do-not-print" not in str(error.value)


def test_outside_lambda_the_protection_is_off_without_a_table() -> None:
    assert not load_settings(REQUIRED).protection_enabled
