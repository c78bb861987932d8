"""infra/config.py: every invalid value stops synthesis with a message naming key, value and range."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import pytest

from cdk_sms_otp.config import KNOWN_KEYS, ConfigError, OtpConfig, load_config
from tests.doc_pages import DOCS, README, page, section
from tests.infra.support import CDK_JSON

REQUIRED = {"brandName": "Acme", "originationIdentity": "+12065550123"}


def _problems(context: Mapping[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(context)
    return caught.value.problems


def test_defaults_apply_when_only_the_required_keys_are_given():
    # Given only the two required keys
    context = {"otp": REQUIRED}

    # When the configuration is loaded
    config = load_config(context)

    # Then every other key has its documented default
    assert config == OtpConfig(brand_name="Acme", origination_identity="+12065550123")
    assert (config.code_length, config.validity_minutes, config.allowed_attempts) == (6, 5, 3)
    assert config.allowed_countries == ("US", "CA", "GB")
    assert (config.api_auth, config.language, config.log_retention_days) == ("iam", "en-US", 30)
    assert (config.throttle_rate_limit, config.throttle_burst_limit) == (10, 20)


def test_cdk_json_restates_no_default():
    # Given the otp object in cdk.json: every default lives in the schema alone (otp/options/schema.py)
    shipped = CDK_JSON["context"]["otp"]

    # Then it holds only the required keys, with example values that synthesis flags
    assert set(shipped) == set(REQUIRED)
    assert load_config({"otp": shipped}).uses_example_origination


def test_flat_cli_overrides_win_and_strings_are_coerced():
    # Given cdk.json's object and `-c otp.<key>=<string>` overrides as the CLI passes them
    context = {
        "otp": CDK_JSON["context"]["otp"],
        "otp.brandName": "Acme",
        "otp.originationIdentity": "AcmeCo",
        "otp.codeLength": "8",
        "otp.allowedCountries": "us, ca,IN",
        "otp.apiAuth": "apiKey",
        "otp.logLevel": "debug",
        "otp.entityId": "",
    }

    # When the configuration is loaded
    config = load_config(context)

    # Then the flat keys override the object, typed and normalized
    assert config.code_length == 8
    assert config.allowed_countries == ("US", "CA", "IN")
    assert config.api_auth == "apiKey"
    assert config.log_level == "DEBUG"
    assert config.entity_id is None
    assert not config.uses_example_origination


def test_otp_given_as_a_json_string_is_parsed():
    # Given `-c otp='{...}'`
    context = {"otp": json.dumps({**REQUIRED, "validityMinutes": 10})}

    # When loaded
    config = load_config(context)

    # Then the JSON object is used
    assert config.validity_minutes == 10


@pytest.mark.parametrize(
    ("key", "value", "shown", "allowed"),
    [
        ("codeLength", 4, "4", "an integer from 5 to 8"),
        ("codeLength", 9, "9", "an integer from 5 to 8"),
        ("codeLength", "six", '"six"', "an integer from 5 to 8"),
        ("codeLength", True, "true", "an integer from 5 to 8"),
        ("validityMinutes", 61, "61", "an integer from 5 to 60"),
        ("validityMinutes", 4, "4", "an integer from 5 to 60"),
        ("allowedAttempts", 0, "0", "an integer from 1 to 5"),
        ("allowedAttempts", 6, "6", "an integer from 1 to 5"),
        ("brandName", "A" * 21, '"' + "A" * 21 + '"', "1 to 20 printable characters"),
        ("brandName", "", '""', "1 to 20 printable characters"),
        ("brandName", " Acme", '" Acme"', "no leading or trailing space"),
        ("originationIdentity", "call me", '"call me"', "an E.164 phone number"),
        ("originationIdentity", "12065550100123", '"12065550100123"', "a short code (3-8 digits)"),
        ("allowedCountries", ["US", "XX"], '["US", "XX"]', "ISO 3166-1 alpha-2"),
        ("allowedCountries", [], "[]", "a non-empty list"),
        ("language", "english", '"english"', "one of de-DE, en-GB, en-US, es-419"),
        ("language", "kr-KR", '"kr-KR"', "ko-KR"),
        ("apiAuth", "basic", '"basic"', '"iam"'),
        ("throttleRateLimit", 0, "0", "an integer from 1 to 10000"),
        ("throttleBurstLimit", 5001, "5001", "an integer from 1 to 5000"),
        ("logRetentionDays", 45, "45", "a CloudWatch Logs retention in days: 1, 3, 5"),
        ("logLevel", "LOUD", '"LOUD"', "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("alarmEmail", "ops-at-example", '"ops-at-example"', "an e-mail address"),
        ("entityId", "12 34", '"12 34"', "1-64 letters, digits"),
        ("templateId", "x" * 65, '"' + "x" * 65 + '"', "1-64 letters, digits"),
        ("tracing", "xray", '"xray"', '"active" (Lambda and API Gateway segments, the default), "sdk"'),
        ("tracing", True, "true", '"off"'),
    ],
)
def test_each_invalid_value_is_reported_with_key_value_and_range(key, value, shown, allowed):
    # Given an otherwise valid configuration with one bad value
    context = {"otp": {**REQUIRED, key: value}}

    # When it is loaded
    problems = _problems(context)

    # Then exactly one problem names the key, shows the value and says what is allowed
    assert len(problems) == 1
    assert problems[0].startswith(f"otp.{key} = {shown} is invalid: must be ")
    assert allowed in problems[0]


def test_missing_required_keys_and_unknown_keys_are_reported_together():
    # Given no brand name, no origination identity and a misspelt key
    context = {"otp": {"codelength": 8}}

    # When loaded
    problems = _problems(context)

    # Then all three are listed in one error, the typo with the list of known keys
    assert "otp.brandName is required" in problems
    assert "otp.originationIdentity is required" in problems
    unknown = [p for p in problems if p.startswith("otp.codelength = 8 is not a known key")]
    assert unknown
    assert "codeLength" in unknown[0]


def test_the_error_message_lists_every_problem():
    # Given two bad values
    context = {"otp": {**REQUIRED, "codeLength": 3, "apiAuth": "none"}}

    # When loaded
    with pytest.raises(ConfigError) as caught:
        load_config(context)

    # Then the message (what `cdk synth` prints) has one line per problem
    message = str(caught.value)
    assert "otp.codeLength = 3 is invalid" in message
    assert 'otp.apiAuth = "none" is invalid' in message


@pytest.mark.parametrize(
    ("identity", "sender_id", "short_code"),
    [
        ("+12065550123", None, None),
        ("AcmeCo", "AcmeCo", None),
        ("55123", None, "55123"),
        ("pool-0123456789abcdef0123456789abcdef", None, None),
        ("arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef", None, None),
    ],
)
def test_origination_identity_kinds_map_to_the_sms_channel_fields(identity, sender_id, short_code):
    # Given an origination identity of each accepted kind
    config = load_config({"otp": {**REQUIRED, "originationIdentity": identity}})

    # When the SMS channel defaults are derived
    # Then only a sender ID or a short code becomes a channel default
    assert (config.sender_id, config.short_code) == (sender_id, short_code)


def _key_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| `")]


def _first_column_keys(rows: list[str]) -> set[str]:
    return {key for row in rows for key in re.findall(r"`(\w+)`", row.split("|")[1])}


def test_the_configuration_reference_documents_exactly_the_known_keys():
    # Given the configuration reference's table of context keys
    table = section(page("configuration.md"), "Context keys (`otp.*`)")

    # When the keys in its first column are collected
    documented = _first_column_keys(_key_rows(table))

    # Then every key the code accepts has a row, and no row names a key the code refuses
    assert set(KNOWN_KEYS) <= documented, sorted(set(KNOWN_KEYS) - documented)
    assert documented <= set(KNOWN_KEYS), sorted(documented - set(KNOWN_KEYS))


def _tables(text: str) -> list[list[str]]:
    """Every Markdown table of a page, as its lines (header first)."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def test_no_other_page_repeats_the_configuration_table():
    # Given every documentation page but the configuration reference, and the README
    others = [path for path in sorted(DOCS.glob("*.md")) if path.name != "configuration.md"] + [README]

    # When their tables that state defaults for configuration keys are collected
    repeated = {
        path.name: keys
        for path in others
        for table in _tables(path.read_text(encoding="utf-8"))
        if "default" in table[0].lower()
        and (keys := _first_column_keys(_key_rows("\n".join(table))) & set(KNOWN_KEYS))
    }

    # Then none: the keys, their defaults and bounds have one home, which the other pages link to
    assert repeated == {}
