"""Malformed bodies as an attacker sends them: every one is a small 400 problem+json that names only the
API's own fields and rules, never a key or a value the caller chose, never a 500 or a traceback.

The caller-chosen text used below is what a real body may carry: a phone number or a code used as a
JSON key, a code as a value.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.integration.conftest import ApiResult, Invoke
from tests.lambda_events import LambdaContext, rest_api_event

PHONE = "+12065550100"
# Text only a caller could have put in a request: a number and a code, as keys or values.
CALLER_NUMBER = "+447700900123"
CALLER_CODE = "918273"
# Far above anything a valid body needs, far below what would strain the function or the answer.
MAX_PROBLEM_BYTES = 1024


def assert_bounded_400(result: ApiResult, *caller_text: str) -> dict[str, Any]:
    """A 400 problem+json of bounded size, naming none of the caller's text, counted as INVALID_REQUEST."""
    assert result.status == 400, result.body
    assert result.headers["Content-Type"] == "application/problem+json"
    answer = json.dumps(result.body)
    assert len(answer) <= MAX_PROBLEM_BYTES, len(answer)
    problem = result.body
    assert problem["type"] == "urn:otp:problem:invalid-request"
    assert problem["status"] == 400
    assert problem["detail"]
    assert problem["requestId"]
    for text in caller_text:
        assert text not in answer
        assert text not in result.telemetry.raw
    assert "Traceback" not in result.telemetry.raw
    reasons = [m["dimensions"]["Reason"] for m in result.telemetry.metric_values("OtpRejected")]
    assert reasons == ["INVALID_REQUEST"]
    return problem


@pytest.mark.parametrize("path", ["/otp", "/otp/verify"])
def test_unknown_keys_are_refused_without_being_named(
    invoke: Invoke, pinpoint_endpoint: Any, path: str
) -> None:
    # Given a body whose extra keys are a phone number and a code
    body = {"phoneNumber": PHONE, "referenceId": "r-1", CALLER_NUMBER: 1, CALLER_CODE: True}
    # When it is posted
    result = invoke("POST", path, body)
    # Then 400 saying which members are allowed, naming neither key; nothing sent
    problem = assert_bounded_400(result, CALLER_NUMBER, CALLER_CODE)
    assert "phoneNumber" in problem["detail"]
    assert pinpoint_endpoint.emulator.calls() == []


def test_values_are_never_echoed(invoke: Invoke, pinpoint_endpoint: Any) -> None:
    # Given a verification whose fields carry a number and a code in the wrong places
    body = {"phoneNumber": f"{CALLER_NUMBER} ", "referenceId": f"{CALLER_CODE} x", "code": CALLER_CODE + "x"}
    # When it is posted
    result = invoke("POST", "/otp/verify", body)
    # Then each field is named with its rule, and no value appears
    problem = assert_bounded_400(result, CALLER_NUMBER, CALLER_CODE)
    for field in ("phoneNumber", "referenceId", "code"):
        assert field in problem["detail"]


MALFORMED_JSON = {
    "nested 1000 deep": "[" * 1000 + "]" * 1000,
    "nested 1000 deep in a member": '{"phoneNumber": ' + '{"a": ' * 1000 + "1" + "}" * 1001,
    "integer of 5000 digits": '{"phoneNumber": ' + "7" * 5000 + "}",
    "NaN": '{"phoneNumber": "+12065550100", "referenceId": NaN}',
    "Infinity": '{"phoneNumber": "+12065550100", "referenceId": Infinity}',
    "-Infinity": '{"phoneNumber": -Infinity}',
}


@pytest.mark.parametrize("raw", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
@pytest.mark.parametrize("path", ["/otp", "/otp/verify"])
def test_json_a_parser_chokes_on_is_a_400(
    invoke: Invoke, pinpoint_endpoint: Any, path: str, raw: str
) -> None:
    # Given JSON that is too deep, has an absurd number, or uses NaN/Infinity (not JSON at all)
    # When it is posted
    result = invoke("POST", path, raw)
    # Then a bounded 400 saying the body is not acceptable JSON, and nothing sent
    problem = assert_bounded_400(result, "7777777777")
    assert problem["detail"].startswith("body: ")
    assert pinpoint_endpoint.emulator.calls() == []


@pytest.mark.parametrize("path", ["/otp", "/otp/verify"])
def test_duplicate_members_are_refused(invoke: Invoke, pinpoint_endpoint: Any, path: str) -> None:
    # Given a body naming phoneNumber twice: API Gateway's validator and the function could each
    # read a different one, so which number is texted would depend on who parsed it
    raw = (
        '{"phoneNumber": "+12065550100", "referenceId": "r-1", "code": "123456", '
        f'"phoneNumber": "{CALLER_NUMBER}"}}'
    )
    # When it is posted
    result = invoke("POST", path, raw)
    # Then 400, nothing sent, neither number echoed
    problem = assert_bounded_400(result, CALLER_NUMBER, PHONE)
    assert "duplicate" in problem["detail"]
    assert pinpoint_endpoint.emulator.calls() == []


def test_a_huge_body_of_extra_keys_gets_a_small_answer(invoke: Invoke, pinpoint_endpoint: Any) -> None:
    # Given a 5.5 MB body of distinct extra keys (each a made-up number), under Lambda's 6 MB limit
    members = [f'"+4477009{index:06d}": 1' for index in range(262_000)]
    raw = '{"phoneNumber": "+12065550100", ' + ", ".join(members) + "}"
    assert 5_400_000 < len(raw) < 6_000_000
    # When it is posted
    result = invoke("POST", "/otp", raw)
    # Then a 400 of bounded size (not an answer over Lambda's 6 MB limit), naming none of the keys
    assert_bounded_400(result, "+4477009000000", "+4477009261999")
    assert pinpoint_endpoint.emulator.calls() == []


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 202),
        ("application/json; charset=utf-8", 202),
        ("Application/JSON; Charset=UTF8", 202),
        ('application/json; charset="utf-8"', 202),
        ("application/json; charset=latin-1", 400),
        ("application/json; charset=iso-8859-1", 400),
        ("application/json; charset=utf-16", 400),
        ("application/json-seq", 400),
    ],
)
def test_a_body_declared_in_another_charset_is_refused(
    handler_env: dict[str, str], content_type: str, status: int
) -> None:
    # Given a send whose body declares a charset (issue 20: latin-1 was read as if it were UTF-8)
    from otp.handlers.api import lambda_handler

    number = f"+1206555{uuid.uuid4().int % 9000 + 1000:04d}"
    event = rest_api_event("POST", "/otp", {"phoneNumber": number}, headers={"Content-Type": content_type})
    # When the function answers it
    response = lambda_handler(event, LambdaContext())
    # Then only UTF-8 (declared or not) is read; anything else is a 400 that says what to send
    assert response["statusCode"] == status, response
    if status == 400:
        assert "UTF-8" in json.loads(response["body"])["detail"]
