"""Property-based tests: whatever a client sends, the handler answers a documented status, never
raises, and never a 5xx except the documented upstream failures of the sandbox's test numbers.

Runs the real handler in-process against the sandbox's AWS endpoint (tests/integration fixtures), on
both engines.
"""

from __future__ import annotations

import base64
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from local.test_numbers import SLOW_NUMBER
from tests.integration.conftest import ApiResult, Invoke
from tests.lambda_events import LambdaContext, rest_api_event
from tests.reliability import budget
from tests.reliability.oracle import (
    SCRIPTED,
    acceptable_number,
    allowed_5xx,
    documented_languages,
    documented_statuses,
    scripted_outcomes,
    valid_send_body,
    well_formed_verify_body,
)

pytestmark = pytest.mark.fuzz

# One handler and one endpoint serve every example of a test: the fixtures are set up once per test.
PROPERTY_SETTINGS = settings(
    max_examples=budget.examples(short=60, long=1500),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Example numbers of every region and type libphonenumber knows: valid mobiles, landlines, toll-free,
# premium-rate, VoIP... of allowed and refused countries alike.
EXAMPLE_NUMBERS = sorted(
    {
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for region in phonenumbers.SUPPORTED_REGIONS
        for number_type in range(12)
        if (example := phonenumbers.example_number_for_type(region, number_type)) is not None
    }
)
# The slow number takes seconds by design; tests/reliability/test_faults.py covers it.
FAST_SCRIPTED = sorted(SCRIPTED - {SLOW_NUMBER})
# Numbers the service must accept: handsets of the allowed countries, last four digits varied.
ACCEPTED_BASES = sorted(number for number in EXAMPLE_NUMBERS if acceptable_number(number))
accepted_numbers = st.builds(
    lambda base, tail: f"{base[:-4]}{tail:04d}", st.sampled_from(ACCEPTED_BASES), st.integers(0, 9999)
).filter(lambda number: acceptable_number(number) and number not in SCRIPTED)


def with_trunk_prefix(number: str) -> str:
    """The number with its country's trunk prefix after the country code (+1 1..., +44 0..., +91 0...):
    libphonenumber reads it as the number itself; the service must refuse it (one spelling per number)."""
    parsed = phonenumbers.parse(number)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(
        phonenumbers.region_code_for_number(parsed) or ""
    )
    prefix = (metadata.national_prefix if metadata is not None else None) or "0"
    return f"+{parsed.country_code}{prefix}{phonenumbers.national_significant_number(parsed)}"


phone_numbers = st.one_of(
    accepted_numbers,
    accepted_numbers.map(with_trunk_prefix),
    st.sampled_from(EXAMPLE_NUMBERS),
    st.sampled_from(FAST_SCRIPTED),
    st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True),
    st.from_regex(r"\+?[0-9 ()+.-]{0,20}", fullmatch=True),
    st.sampled_from(EXAMPLE_NUMBERS).map(lambda n: n + "\n"),
    st.text(max_size=40),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
CHANNELS = ["SMS", "VOICE", "WHATSAPP"]
valid_send_bodies = st.fixed_dictionaries(
    {"phoneNumber": accepted_numbers},
    optional={
        "referenceId": st.from_regex(r"[A-Za-z0-9._:-]{1,48}", fullmatch=True),
        "language": st.sampled_from(sorted(documented_languages())),
        "channel": st.sampled_from(CHANNELS),
    },
)
send_bodies = st.one_of(
    valid_send_bodies,
    st.fixed_dictionaries(
        {"phoneNumber": phone_numbers},
        optional={
            "referenceId": st.none()
            | st.from_regex(r"[A-Za-z0-9._:-]{1,48}", fullmatch=True)
            | st.text(max_size=60),
            "language": st.none()
            | st.sampled_from(["en-US", "es-419", "de-DE", "nl-NL", "en", ""])
            | st.text(max_size=8),
            "channel": st.none() | st.sampled_from([*CHANNELS, "sms", "TEXT", "EMAIL"]) | st.text(max_size=8),
        },
    ),
    st.dictionaries(
        st.sampled_from(["phoneNumber", "referenceId", "language", "channel", "code", "extra"]), json_values
    ),
    json_values,
)
verify_bodies = st.one_of(
    st.fixed_dictionaries(
        {
            "phoneNumber": accepted_numbers,
            "referenceId": st.from_regex(r"[A-Za-z0-9._:-]{1,48}", fullmatch=True),
            "code": st.from_regex(r"[0-9]{6}", fullmatch=True),
        }
    ),
    st.fixed_dictionaries(
        {
            "phoneNumber": phone_numbers,
            "referenceId": st.from_regex(r"[A-Za-z0-9._:-]{1,48}", fullmatch=True) | st.text(max_size=60),
            "code": st.from_regex(r"[0-9]{6}", fullmatch=True)
            | st.from_regex(r"[0-9]{4,8}", fullmatch=True)
            | st.text(max_size=10)
            | st.integers(),
        }
    ),
    st.dictionaries(st.sampled_from(["phoneNumber", "referenceId", "code", "language"]), json_values),
    json_values,
)


def assert_documented_answer(result: ApiResult, path: str, body: Any, engine: str) -> None:
    """Status listed for the route, 5xx only for a scripted failure, errors as problem+json."""
    event(f"HTTP {result.status}")  # --hypothesis-show-statistics shows what the examples reached
    note(f"request body: {body!r}")
    assert result.status in documented_statuses(path), (result.status, result.body)
    assert result.status < 500 or allowed_5xx(body, engine), (result.status, result.body)
    if result.status >= 400:
        assert result.headers["Content-Type"] == "application/problem+json"
        problem = result.body
        assert problem["status"] == result.status
        assert problem["type"].startswith("urn:otp:problem:")
        assert problem["title"]
        assert problem["detail"]
        assert problem["requestId"]
        assert "Traceback" not in str(problem)


@PROPERTY_SETTINGS
@given(body=send_bodies)
def test_any_send_body_gets_a_documented_answer(
    invoke: Invoke, pinpoint_endpoint: Any, engine: str, body: Any
) -> None:
    # Given any JSON body, well-formed or not
    sent_before = len(pinpoint_endpoint.emulator.outbox())
    # When it is posted to /otp
    result = invoke("POST", "/otp", body)
    # Then the answer is documented, and a code goes out exactly when the body is a valid request
    # (to a test number: exactly what the engine answers for it)
    assert_documented_answer(result, "/otp", body, engine)
    sent = len(pinpoint_endpoint.emulator.outbox()) - sent_before
    if valid_send_body(body, engine):
        scripted = scripted_outcomes(engine).get(body["phoneNumber"])
        expected = (202, 1) if scripted is None else (scripted.answer.http, scripted.sms_sent)
        assert (result.status, sent) == expected, result.body
    else:
        assert result.status != 202, result.body
        assert sent == 0, result.body
    if result.status == 202:
        assert valid_send_body(body, engine)
        assert set(result.body) == {"referenceId", "deliveryStatus", "messageId", "expiresAt", "channel"}
        assert result.body["channel"] == (body.get("channel") or "SMS")
    elif (
        result.status == 400
        and isinstance(body, dict)
        and "phoneNumber" in body
        and set(body) <= {"phoneNumber"}
    ):
        # A number refused by the rules is refused before Pinpoint, naming the field.
        assert not acceptable_number(body["phoneNumber"])


@PROPERTY_SETTINGS
@given(body=verify_bodies)
def test_any_verify_body_gets_a_documented_answer(
    invoke: Invoke, pinpoint_endpoint: Any, engine: str, body: Any
) -> None:
    # Given any JSON body (no code was ever sent to these references)
    calls_before = len(pinpoint_endpoint.emulator.calls())
    # When it is posted to /otp/verify
    result = invoke("POST", "/otp/verify", body)
    # Then the answer is documented; only a well-formed request reaches the engine, and it is not valid
    assert_documented_answer(result, "/otp/verify", body, engine)
    reached_pinpoint = len(pinpoint_endpoint.emulator.calls()) > calls_before
    assert reached_pinpoint == well_formed_verify_body(body), (result.status, result.body)
    if result.status == 200:
        assert result.body == {"valid": False}


# What API Gateway can put in "body": text as sent, or base64 of binary bytes (isBase64Encoded); the
# last two can only come from a broken proxy, and must still not be an internal error.
@PROPERTY_SETTINGS
@given(
    phone=accepted_numbers,
    reference=st.from_regex(r"[A-Za-z0-9._:-]{1,48}", fullmatch=True),
    guess=st.none() | st.from_regex(r"[0-9]{6}", fullmatch=True),
)
def test_a_sent_code_verifies_exactly_when_it_is_given_back(
    invoke: Invoke, pinpoint_endpoint: Any, engine: str, phone: str, reference: str, guess: str | None
) -> None:
    # Given a code sent to an accepted number under the caller's reference
    sent = invoke("POST", "/otp", {"phoneNumber": phone, "referenceId": reference})
    assert sent.status == 202, sent.body
    code = pinpoint_endpoint.emulator.outbox()[-1].code
    # When the caller gives back either that code (guess None) or any other six digits
    answer = code if guess is None else guess
    result = invoke("POST", "/otp/verify", {"phoneNumber": phone, "referenceId": reference, "code": answer})
    # Then it is valid exactly when it is the code, and never an error
    assert_documented_answer(result, "/otp/verify", {"phoneNumber": phone}, engine)
    assert result.body == {"valid": answer == code}


raw_bodies = st.one_of(
    st.tuples(st.text(max_size=80), st.just(False)),
    st.tuples(st.binary(max_size=80).map(lambda raw: base64.b64encode(raw).decode()), st.just(True)),
    st.tuples(
        st.sampled_from(
            ["", "{", "null", "[]", '{"phoneNumber": "+12065550100"', "\ufeff{}", '{"a":1}{"b":2}']
        ),
        st.just(False),
    ),
    st.tuples(st.sampled_from(["a", "!!!!", "e30"]), st.just(True)),
)


# Powertools warns about a multipart body API Gateway did not base64-encode: expected here.
@pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64:UserWarning")
@PROPERTY_SETTINGS
@given(
    raw=raw_bodies,
    path=st.sampled_from(["/otp", "/otp/verify"]),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=xyz",
            "",
        ]
    ),
)
def test_raw_bodies_never_break_the_handler(
    handler_env: dict[str, str], raw: tuple[str, bool], path: str, content_type: str
) -> None:
    # Given a body that is not a JSON object: text, binary (base64-encoded by API Gateway), or garbage
    from otp.handlers.api import lambda_handler

    body, base64_encoded = raw
    event = rest_api_event("POST", path, body, headers={"Content-Type": content_type})
    event["isBase64Encoded"] = base64_encoded
    # When API Gateway hands it to the function
    response = lambda_handler(event, LambdaContext())
    # Then the function answers (it does not raise) with a documented client error
    assert response["statusCode"] in documented_statuses(path)
    assert 400 <= response["statusCode"] < 500, response
