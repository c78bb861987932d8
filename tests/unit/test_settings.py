"""Settings come from environment variables; a bad value names its variable."""

from __future__ import annotations

import pytest

from otp.settings import SettingsError, load_settings

REQUIRED = {
    "PINPOINT_APPLICATION_ID": "app123",
    "OTP_BRAND_NAME": "Acme",
    "OTP_ORIGINATION_IDENTITY": "+12065550199",
}


def test_defaults_apply_when_only_required_variables_are_set() -> None:
    settings = load_settings(REQUIRED)
    assert (settings.code_length, settings.validity_minutes, settings.allowed_attempts) == (6, 5, 3)
    assert settings.language == "en-US"
    assert settings.entity_id is None


def test_values_are_parsed_from_text() -> None:
    settings = load_settings(
        {
            **REQUIRED,
            "OTP_CODE_LENGTH": "8",
            "OTP_VALIDITY_MINUTES": "60",
            "OTP_ALLOWED_ATTEMPTS": "5",
            "OTP_ALLOWED_COUNTRIES": "US, IN ,DE",
            "OTP_ENTITY_ID": "",
            "OTP_TEMPLATE_ID": "1107161234567890123",
        }
    )
    assert (settings.code_length, settings.validity_minutes, settings.allowed_attempts) == (8, 60, 5)
    assert settings.allowed_countries == ("US", "IN", "DE")
    assert settings.entity_id is None
    assert settings.template_id == "1107161234567890123"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OTP_CODE_LENGTH", "4"),
        ("OTP_CODE_LENGTH", "9"),
        ("OTP_CODE_LENGTH", "six"),
        ("OTP_VALIDITY_MINUTES", "4"),
        ("OTP_VALIDITY_MINUTES", "61"),
        ("OTP_ALLOWED_ATTEMPTS", "0"),
        ("OTP_ALLOWED_ATTEMPTS", "6"),
        ("OTP_BRAND_NAME", "A brand name far too long"),
        ("OTP_ALLOWED_COUNTRIES", "usa"),
        ("OTP_ALLOWED_COUNTRIES", ""),
        ("OTP_LANGUAGE", "English"),
        ("OTP_LANGUAGE", "nl-NL"),
        ("OTP_ENGINE_READ_TIMEOUT", "0"),
    ],
)
def test_a_bad_value_fails_with_a_message_naming_the_variable(variable: str, value: str) -> None:
    # Given one variable outside its rules
    # When the settings are loaded
    with pytest.raises(SettingsError) as caught:
        load_settings({**REQUIRED, variable: value})
    # Then the message names the variable
    assert variable in str(caught.value)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_required_variable_is_named(missing: str) -> None:
    environ = {k: v for k, v in REQUIRED.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        load_settings(environ)


@pytest.mark.parametrize(
    ("old", "new", "attribute", "value"),
    [
        ("PINPOINT_CONNECT_TIMEOUT", "OTP_ENGINE_CONNECT_TIMEOUT", "connect_timeout", 3.0),
        ("PINPOINT_READ_TIMEOUT", "OTP_ENGINE_READ_TIMEOUT", "read_timeout", 7.0),
        ("PINPOINT_MAX_ATTEMPTS", "OTP_ENGINE_MAX_ATTEMPTS", "max_attempts", 2),
    ],
)
def test_a_variable_renamed_in_0_2_still_works_for_one_release_with_a_warning(
    old: str, new: str, attribute: str, value: float, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a function deployed with the engine-era name only
    settings = load_settings({**REQUIRED, old: str(value)})

    # Then the value is used, and the log says which name replaces it
    assert getattr(settings, attribute) == value
    assert any(old in record.getMessage() and new in record.getMessage() for record in caplog.records)
    # and the new name wins when both are set
    assert getattr(load_settings({**REQUIRED, old: "1", new: str(value)}), attribute) == value
