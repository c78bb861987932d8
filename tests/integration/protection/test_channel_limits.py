"""POST /otp's ``channel`` against the abuse protection: every channel shares the number's limits, a channel
the deployment does not offer spends none of them, and an Idempotency-Key covers the channel too.

Real handler, real boto3 to the sandbox's endpoint and to moto's DynamoDB, a fresh table per test.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.conftest import ApiResult, Invoke
from tests.integration.protection.conftest import Configure
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PHONE = "+12065550100"
# Only End User Messaging offers more than one channel (tests.sandbox_harness.ENGINE_ENV enables all three).
ALL_CHANNELS = pytest.mark.parametrize("engine", [END_USER_MESSAGING])
# A channel the schema knows and the deployment does not offer, on each engine.
NOT_OFFERED = {PINPOINT: ("VOICE", "SMS"), END_USER_MESSAGING: ("WHATSAPP", "SMS,VOICE")}


def rejected_reasons(result: ApiResult) -> list[str]:
    return [doc["dimensions"]["Reason"] for doc in result.telemetry.metric_values("OtpRejected")]


@ALL_CHANNELS
def test_a_call_right_after_an_sms_is_inside_the_same_cooldown(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given an SMS just sent to a number
    assert invoke("POST", "/otp", {"phoneNumber": PHONE}).status == 202
    # When a voice call, then a WhatsApp message, is asked for right away
    call = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": "VOICE"})
    whatsapp = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": "WHATSAPP"})
    # Then both are refused by the one cooldown of that number, and only the SMS went out
    for refused in (call, whatsapp):
        assert refused.status == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 30
        assert rejected_reasons(refused) == ["SEND_COOLDOWN"]
    assert [m.channel for m in pinpoint_endpoint.emulator.outbox()] == ["SMS"]


@ALL_CHANNELS
def test_the_hourly_cap_counts_every_channel_together(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given no cooldown and a cap of 2 sends per number per hour
    protect(OTP_SEND_COOLDOWN_SECONDS="0", OTP_SEND_LIMIT_PER_HOUR="2")
    # When a code goes by SMS, then by a call, then one is asked for by WhatsApp
    sms = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": "SMS"})
    call = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": "VOICE"})
    third = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": "WHATSAPP"})
    # Then the first two are the hour's two sends, whatever their channels, and the third is refused
    assert [(r.status, r.body.get("channel")) for r in (sms, call)] == [(202, "SMS"), (202, "VOICE")]
    assert third.status == 429
    assert rejected_reasons(third) == ["SEND_LIMIT_HOURLY"]
    assert [m.channel for m in pinpoint_endpoint.emulator.outbox()] == ["SMS", "VOICE"]


def test_a_channel_the_deployment_does_not_offer_spends_none_of_the_numbers_limits(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any, engine: str
) -> None:
    # Given a deployment that allows one send per number per hour, and does not offer one channel
    channel, offered = NOT_OFFERED[engine]
    protect(OTP_CHANNELS=offered, OTP_SEND_COOLDOWN_SECONDS="0", OTP_SEND_LIMIT_PER_HOUR="1")
    # When a caller asks for that channel again and again
    for _ in range(3):
        refused = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": channel})
        assert (refused.status, refused.body["field"]) == (400, "channel")
        assert rejected_reasons(refused) == ["CHANNEL_NOT_OFFERED"]
    # Then the number's one send of the hour is still there for an SMS
    sent = invoke("POST", "/otp", {"phoneNumber": PHONE})
    assert sent.status == 202
    assert [m.channel for m in pinpoint_endpoint.emulator.outbox()] == ["SMS"]


def test_the_same_idempotency_key_for_another_channel_is_a_reused_key(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    # Given a key used for an SMS
    headers = {"Idempotency-Key": "k-channel"}
    first = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers=headers)
    assert first.status == 202
    # When the same key comes with a body asking for a call (or naming SMS, which is another body)
    call = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": "VOICE"}, headers=headers)
    named = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": "SMS"}, headers=headers)
    # Then both are refused as a reused key (the body, channel included, is the fingerprint), and the
    # exact first body still replays
    for reused in (call, named):
        assert reused.status == 422
        assert reused.body["type"] == "urn:otp:problem:idempotency-key-reused"
    replay = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers=headers)
    assert replay.body == first.body
    assert len(pinpoint_endpoint.emulator.outbox()) == 1


@ALL_CHANNELS
def test_a_replayed_call_answers_its_channel(
    protect: Configure, invoke: Invoke, pinpoint_endpoint: Any
) -> None:
    headers = {"Idempotency-Key": "k-call"}
    first = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": "VOICE"}, headers=headers)
    replay = invoke("POST", "/otp", {"phoneNumber": PHONE, "channel": "VOICE"}, headers=headers)
    assert first.status == replay.status == 202
    assert replay.body == first.body
    assert replay.body["channel"] == "VOICE"
    assert [m.channel for m in pinpoint_endpoint.emulator.outbox()] == ["VOICE"]


def test_a_record_stored_before_the_api_had_channels_replays_as_an_sms(
    protect: Configure, invoke: Invoke, dynamodb: DynamoDBClient, table_name: str, pinpoint_endpoint: Any
) -> None:
    # Given a send with a key whose stored answer has no channel (as a record written by the previous
    # version, for at most the key's lifetime after an upgrade)
    headers = {"Idempotency-Key": "k-old"}
    assert invoke("POST", "/otp", {"phoneNumber": PHONE}, headers=headers).status == 202
    [item] = [
        i for i in dynamodb.scan(TableName=table_name)["Items"] if i["pk"]["S"].startswith("idempotency#")
    ]
    [(name, value)] = [(k, v) for k, v in item.items() if "S" in v and '"channel"' in v["S"]]
    answer = json.loads(value["S"])
    del answer["channel"]
    item[name] = {"S": json.dumps(answer)}
    dynamodb.put_item(TableName=table_name, Item=item)
    # When the request is retried
    replay = invoke("POST", "/otp", {"phoneNumber": PHONE}, headers=headers)
    # Then the stored answer comes back, with the channel every such send had
    assert replay.status == 202
    assert replay.body == {**answer, "channel": "SMS"}
    assert len(pinpoint_endpoint.emulator.outbox()) == 1
