"""End User Messaging's account limits in the sandbox (local/notify_limits.py), through a stock boto3
``endusermessaging`` client: the tier's send rate, 10 messages a number a day, Basic's 200 a day and the
monthly spend limit (as a count of messages, and as a fault), each answered as AWS answers a quota."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.test_sandbox_notify_codes import PHONE, eum, send  # noqa: F401  (eum is a fixture)
from tests.sandbox_harness import PinpointEndpoint, http_call

LIMITS = "/_sandbox/notify-limits"


def limits(endpoint: PinpointEndpoint, **body: Any) -> dict[str, Any]:
    answer = (
        http_call("POST", f"{endpoint.url}{LIMITS}", body)
        if body
        else http_call("GET", f"{endpoint.url}{LIMITS}")
    )
    assert answer.status == 200, answer.body
    return dict(answer.body)


def error_of(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_the_sandbox_account_starts_on_the_advanced_tier_with_no_spend_limit(pinpoint_endpoint):
    assert limits(pinpoint_endpoint) == {
        "tier": "ADVANCED",
        "sendsPerSecond": 25,
        "destinationDailyLimit": 10,
        "dailyMessages": None,
        "spendLimitMessages": None,
        "messagesSent": 0,
    }


def test_the_basic_tier_answers_a_second_send_in_the_same_second_with_throttling(pinpoint_endpoint, eum):  # noqa: F811
    # Given the Basic tier, at the start of a sandbox second
    limits(pinpoint_endpoint, tier="BASIC")
    clock = pinpoint_endpoint.clock
    clock.advance(int(clock.now()) + 1.01 - clock.now())
    send(eum, referenceId="first")
    # When a second send comes in the same second
    assert error_of(lambda: send(eum, destinationIdentity="+12065550111")) == ("ThrottlingException", 429)
    # Then the next second takes it, and only the accepted message was counted
    clock.advance(1)
    send(eum, destinationIdentity="+12065550111")
    assert limits(pinpoint_endpoint)["messagesSent"] == 2


def test_the_eleventh_message_to_a_number_in_a_day_is_refused_as_a_quota(pinpoint_endpoint, eum):  # noqa: F811
    for index in range(10):
        send(eum, referenceId=f"ref-{index}")
    assert error_of(lambda: send(eum, referenceId="ref-10")) == ("ServiceQuotaExceededException", 400)
    # Another number is unaffected; the first one gets messages again 24 hours after the earliest
    send(eum, destinationIdentity="+12065550111")
    pinpoint_endpoint.clock.advance(86_400)
    send(eum, referenceId="ref-11")


def test_the_basic_tier_sends_200_messages_a_day(pinpoint_endpoint, eum):  # noqa: F811
    limits(pinpoint_endpoint, tier="BASIC")
    for index in range(200):
        pinpoint_endpoint.clock.advance(1)  # one a second: the tier's rate
        send(eum, destinationIdentity=f"+1312555{index:04d}")
    pinpoint_endpoint.clock.advance(1)
    assert error_of(lambda: send(eum, destinationIdentity="+12065559999")) == (
        "ServiceQuotaExceededException",
        400,
    )


def test_the_spend_limit_as_a_count_of_messages(pinpoint_endpoint, eum):  # noqa: F811
    # Given a spend limit that covers two messages
    limits(pinpoint_endpoint, spendLimitMessages=2)
    send(eum, referenceId="a")
    send(eum, referenceId="b")
    # When a third is sent, then the spend limit answers, and nothing is delivered
    delivered = len(pinpoint_endpoint.emulator.outbox())
    assert error_of(lambda: send(eum, referenceId="c")) == ("ServiceQuotaExceededException", 400)
    assert len(pinpoint_endpoint.emulator.outbox()) == delivered
    # and raising the limit lets it through
    limits(pinpoint_endpoint, spendLimitMessages=None)
    send(eum, referenceId="c")
    assert limits(pinpoint_endpoint)["messagesSent"] == 3


def test_the_spend_limit_as_a_fault(pinpoint_endpoint, eum):  # noqa: F811
    pinpoint_endpoint.inject_fault("ServiceQuotaExceededException", operation="SendNotifyCodeVerification")
    assert error_of(lambda: send(eum)) == ("ServiceQuotaExceededException", 400)
    send(eum)


@pytest.mark.parametrize(
    "body",
    [
        {"tier": "PREMIUM"},
        {"spendLimitMessages": -1},
        {"spendLimitMessages": "10"},
        {"spendLimitMessages": True},
    ],
)
def test_bad_limits_are_refused(pinpoint_endpoint, body):
    answer = http_call("POST", f"{pinpoint_endpoint.url}{LIMITS}", body)
    assert answer.status == 400
