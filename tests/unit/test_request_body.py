"""The handler's body checks against a reference JSON Schema validator, on the API's own schemas.

The checks are this project's code (no pydantic, no generated validator), so they are held to what a
full JSON Schema implementation says of the same schemas: same verdict for every body, and a message
that names fields and rules only.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from otp import api_schema, engine_rules, languages
from otp.domain import phone, rules
from otp.domain.models import Channel
from otp.handlers.request_body import (
    MAX_BODY_BYTES,
    NOT_JSON,
    BodyValidator,
    InvalidBody,
    parse_json_body,
)

SEND = api_schema.request_schema("/otp")
VERIFY = api_schema.request_schema("/otp/verify")

# Values near the rules: valid and almost-valid numbers, references, codes and languages, and others.
near_values = st.one_of(
    st.sampled_from(["+12065550100", "+1206555010", "12065550100", "+12065550100\n", "+0123456789"]),
    st.sampled_from(["r", "r" * 48, "r" * 49, "a b", "order-42:a.b", ""]),
    st.sampled_from(["123456", "12345", "1234", "123", "123456789", "12a456", "\uff11\uff12\uff13\uff14"]),
    st.sampled_from([*api_schema.LANGUAGES, "en", "kr-KR", "en-us"]),
    st.sampled_from([*api_schema.CHANNELS, "sms", "EMAIL", "TEXT"]),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
member_names = st.sampled_from(
    ["phoneNumber", "referenceId", "language", "channel", "code", "extra", "+447700900123"]
)
bodies = st.one_of(st.dictionaries(member_names, near_values, max_size=5), near_values)
# Everything the checks may say on their own: field names, patterns, enums and the fixed rule texts.
OWN_TEXT = json.dumps([SEND, VERIFY]) + " ".join(
    [
        "Field required",
        "Input should be a valid string",
        "String should match pattern",
        "body: members other than are not permitted",
        NOT_JSON,
    ]
)


@settings(max_examples=400, deadline=None)
@given(body=bodies)
def test_the_checks_agree_with_a_reference_validator(body: Any) -> None:
    # jsonschema matches patterns with Python's re.search, whose `$` also matches before a final newline;
    # JSON Schema's (ECMA 262) does not, nor do the handler's checks: such values are left out here and
    # tested on their own (test_a_trailing_newline_does_not_match_a_pattern).
    values = body.values() if isinstance(body, dict) else [body]
    assume(not any(isinstance(value, str) and value.endswith("\n") for value in values))
    for schema in (SEND, VERIFY):
        reference = Draft202012Validator(schema).is_valid(body)
        errors = BodyValidator(schema).errors(body)
        assert (errors == []) is reference, (body, errors)


@settings(max_examples=300, deadline=None)
@given(body=st.dictionaries(st.text(max_size=12), near_values, max_size=6))
def test_a_message_names_only_the_apis_fields_and_rules(body: dict[str, Any]) -> None:
    # Given any body: whatever the caller put in keys and values
    for schema in (SEND, VERIFY):
        for error in BodyValidator(schema).errors(body):
            # Then each message is "<a field of the schema, or body>: <a rule>"
            field = error.partition(": ")[0]
            assert field in {*schema["properties"], "body"}
            # and no key or value of the caller's appears, unless the API's own texts contain it anyway
            for key, value in body.items():
                for text in (key, value):
                    if isinstance(text, str) and len(text) > 2 and text not in OWN_TEXT:
                        assert text not in error


def test_every_broken_rule_is_reported_in_schema_order() -> None:
    errors = BodyValidator(VERIFY).errors({"code": 123456, "phoneNumber": "2065550100", "other": 1})
    assert errors == [
        f"phoneNumber: String should match pattern '{api_schema.E164_PATTERN}'",
        "referenceId: Field required",
        "code: Input should be a valid string",
        "body: members other than phoneNumber, referenceId, code are not permitted",
    ]


def test_optional_fields_accept_null_and_name_the_rule_of_their_value() -> None:
    validator = BodyValidator(SEND)
    assert validator.errors({"phoneNumber": "+12065550100", "referenceId": None, "language": None}) == []
    assert validator.errors({"phoneNumber": "+12065550100", "language": "english"}) == [
        "language: Input should be "
        + ", ".join(f"'{tag}'" for tag in api_schema.LANGUAGES[:-1])
        + f" or '{api_schema.LANGUAGES[-1]}'"
    ]


def test_a_trailing_newline_does_not_match_a_pattern() -> None:
    # Python's `$` matches before a final newline; JSON Schema's does not, nor may the handler's.
    assert BodyValidator(SEND).errors({"phoneNumber": "+12065550100\n"}) != []


def test_the_schemas_repeat_the_domains_rules_exactly() -> None:
    assert api_schema.E164_PATTERN == phone.E164_PATTERN
    assert api_schema.REFERENCE_ID_PATTERN == rules.REFERENCE_ID_PATTERN
    assert api_schema.CODE_PATTERN == rules.CODE_PATTERN
    assert frozenset(api_schema.LANGUAGES) == languages.SUPPORTED_LANGUAGES
    assert api_schema.CHANNELS == tuple(channel.value for channel in Channel) == engine_rules.CHANNELS
    assert Channel(api_schema.DEFAULT_CHANNEL) is Channel.SMS


def test_the_code_pattern_accepts_every_length_an_engine_can_issue_and_no_other() -> None:
    # Given the lengths each engine allows (End User Messaging 4-8, Pinpoint 5-8)
    lengths = {n for low, high in engine_rules.CODE_LENGTH.values() for n in range(low, high + 1)}
    validator = BodyValidator(VERIFY)
    body = {"phoneNumber": "+12065550100", "referenceId": "r-1"}
    # Then the schema takes a code of any of them and of no other length (the domain narrows it further)
    for length in range(0, 12):
        errors = validator.errors({**body, "code": "7" * length})
        assert (errors == []) == (length in lengths), (length, errors)
    assert lengths == set(range(4, 9))


def test_a_channel_outside_the_enum_is_refused_naming_the_field_only() -> None:
    validator = BodyValidator(SEND)
    for offered in ("SMS", "VOICE", "WHATSAPP", None):
        assert validator.errors({"phoneNumber": "+12065550100", "channel": offered}) == []
    for unknown in ("sms", "EMAIL", "+12065550100", 1, ""):
        [error] = validator.errors({"phoneNumber": "+12065550100", "channel": unknown})
        assert error.startswith("channel: ")
        assert "12065550100" not in error


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("[" * 5000, f"body: must be at most {MAX_BODY_BYTES} bytes"),
        ("[" * 1500 + "]" * 1500, "body: nested too deeply"),
        ('{"a": 1' + "0" * 40 + "}", "body: numbers must have at most 32 digits"),
        ('{"a": NaN}', "body: NaN and Infinity are not JSON numbers"),
        ('{"a": 1, "a": 2}', "body: a member name appears more than once (duplicate members)"),
        ("{", NOT_JSON),
        ("\ufeff{}", NOT_JSON),
        (None, NOT_JSON),
    ],
)
def test_bodies_a_parser_should_not_read_are_refused_with_a_fixed_text(raw: str | None, detail: str) -> None:
    with pytest.raises(InvalidBody) as refused:
        parse_json_body(raw)
    assert refused.value.detail == detail


def test_the_size_bound_is_in_bytes_and_applies_to_base64_bodies() -> None:
    # Given bodies just within and just beyond the bound, as text and as API Gateway's base64
    fits = json.dumps({"referenceId": "é" * ((MAX_BODY_BYTES - 20) // 2)}, ensure_ascii=False)
    too_big = json.dumps({"referenceId": "é" * (MAX_BODY_BYTES // 2)}, ensure_ascii=False)
    assert len(fits.encode()) <= MAX_BODY_BYTES < len(too_big.encode())
    # Then the size counts bytes, whatever the encoding API Gateway chose
    for raw in (fits, base64.b64encode(fits.encode()).decode()):
        assert parse_json_body(raw, base64_encoded=raw != fits)["referenceId"].startswith("é")
    for raw in (too_big, base64.b64encode(too_big.encode()).decode()):
        with pytest.raises(InvalidBody):
            parse_json_body(raw, base64_encoded=raw != too_big)


@pytest.mark.parametrize("raw", ["not base64!", base64.b64encode(b"\xff\xfe{}").decode()])
def test_undecodable_base64_bodies_are_refused(raw: str) -> None:
    with pytest.raises(InvalidBody) as refused:
        parse_json_body(raw, base64_encoded=True)
    assert refused.value.detail == NOT_JSON
