"""One number, one spelling: a national trunk prefix after the country code must not make a second key.

``+114255557777`` matches the E.164 pattern and libphonenumber parses it as ``+14255557777`` (it strips
the trunk prefix ``1``); ``+4407400123456`` is ``+447400123456`` with the UK trunk prefix ``0``. If the
raw text keyed the limits, the blocked prefixes and the idempotency body, each number would have two
quotas and two ways around every prefix. Through the real handler, moto's DynamoDB and the sandbox's
Pinpoint endpoint.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Invoke
from tests.integration.protection.conftest import Configure
from tests.integration.protection.test_api_protection import assert_problem, rejected_reasons

US = "+14255557777"
US_WITH_TRUNK_PREFIX = "+114255557777"
GB = "+447400123456"
GB_WITH_TRUNK_PREFIX = "+4407400123456"


def test_a_trunk_prefix_spelling_does_not_get_a_second_sms_past_the_cooldown(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a code just sent to a number
    first = invoke("POST", "/otp", {"phoneNumber": US})
    # When the same number is asked for again, then in its trunk-prefix spelling
    again = invoke("POST", "/otp", {"phoneNumber": US})
    other_spelling = invoke("POST", "/otp", {"phoneNumber": US_WITH_TRUNK_PREFIX})
    # Then one SMS went out: the second spelling is refused, and never reached Pinpoint
    assert (first.status, again.status) == (202, 429)
    body = assert_problem(other_spelling, 400, "invalid-request")
    assert body["field"] == "phoneNumber"
    assert US_WITH_TRUNK_PREFIX not in body["detail"]
    assert rejected_reasons(other_spelling) == ["NON_CANONICAL_PHONE_NUMBER"]
    assert [sms.destination for sms in pinpoint_endpoint.emulator.outbox()] == [US]


def test_the_daily_cap_is_one_cap_whatever_the_spelling(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given no cooldown, caps of 2 per hour and per day, and both spellings alternating
    protect(OTP_SEND_COOLDOWN_SECONDS="0", OTP_SEND_LIMIT_PER_HOUR="2", OTP_SEND_LIMIT_PER_DAY="2")
    statuses = [
        invoke("POST", "/otp", {"phoneNumber": spelling}).status
        for spelling in (US, US_WITH_TRUNK_PREFIX, US, US_WITH_TRUNK_PREFIX)
    ]
    # Then the number got two SMS in all, never four
    assert len(pinpoint_endpoint.emulator.outbox()) == 2
    assert statuses == [202, 400, 202, 400]


@pytest.mark.parametrize(
    ("blocked", "spelling"),
    [("+1425", US_WITH_TRUNK_PREFIX), ("+447400", GB_WITH_TRUNK_PREFIX), ("+4474", GB_WITH_TRUNK_PREFIX)],
)
def test_a_blocked_prefix_cannot_be_bypassed_with_a_trunk_prefix(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any, blocked: str, spelling: str
) -> None:
    # Given a blocked range
    protect(OTP_BLOCKED_PREFIXES=blocked)
    # When a number of the range is asked for in its trunk-prefix spelling
    result = invoke("POST", "/otp", {"phoneNumber": spelling})
    # Then nothing is sent
    assert result.status == 400
    assert pinpoint_endpoint.emulator.outbox() == []


def test_an_idempotency_key_never_sends_twice_across_spellings(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a key first used with the trunk-prefix spelling (refused, so nothing is stored under it)
    headers = {"Idempotency-Key": "k-spelling"}
    refused = invoke("POST", "/otp", {"phoneNumber": GB_WITH_TRUNK_PREFIX}, headers=headers)
    # When the key is used with the canonical spelling, and then with the other one again
    sent = invoke("POST", "/otp", {"phoneNumber": GB}, headers=headers)
    again = invoke("POST", "/otp", {"phoneNumber": GB_WITH_TRUNK_PREFIX}, headers=headers)
    # Then only the canonical spelling was sent, once; the stored body is the canonical one, which the
    # other spelling does not match (422), so it can neither replay nor send
    assert_problem(refused, 400, "invalid-request")
    assert rejected_reasons(refused) == ["NON_CANONICAL_PHONE_NUMBER"]
    assert sent.status == 202
    assert_problem(again, 422, "idempotency-key-reused")
    assert [sms.destination for sms in pinpoint_endpoint.emulator.outbox()] == [GB]


def test_verification_in_another_spelling_is_refused_without_asking_pinpoint(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a code sent to the canonical spelling
    assert invoke("POST", "/otp", {"phoneNumber": US, "referenceId": "spell-1"}).status == 202
    # When it is verified with the trunk-prefix spelling
    result = invoke(
        "POST",
        "/otp/verify",
        {"phoneNumber": US_WITH_TRUNK_PREFIX, "referenceId": "spell-1", "code": "123456"},
    )
    # Then 400, and Pinpoint never saw a verification (no attempt spent under another key)
    assert_problem(result, 400, "invalid-request")
    assert [call for call in pinpoint_endpoint.emulator.calls() if call.operation == "VerifyOTPMessage"] == []
