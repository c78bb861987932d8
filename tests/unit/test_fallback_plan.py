"""The channel fallback's plan rules (otp/domain/fallback.py), its job's shape, and the schema's bounds."""

from __future__ import annotations

import json

import pytest

from otp import api_schema
from otp.domain import fallback
from otp.domain.errors import InvalidRequest
from otp.domain.fallback import FallbackJob, check_plan
from otp.domain.models import Channel
from otp.domain.verification import FallbackStep
from otp.handlers.request_body import BodyValidator

OFFERED = frozenset({Channel.SMS, Channel.VOICE, Channel.WHATSAPP})


def plan(*steps: tuple[Channel, int], min_after: int = 30) -> tuple[FallbackStep, ...]:
    return check_plan(
        [FallbackStep(c, s) for c, s in steps],
        first=Channel.SMS,
        offered=OFFERED,
        min_after_seconds=min_after,
    )


def test_a_call_then_whatsapp_is_a_plan():
    assert plan((Channel.VOICE, 60), (Channel.WHATSAPP, 120)) == (
        FallbackStep(Channel.VOICE, 60),
        FallbackStep(Channel.WHATSAPP, 120),
    )


@pytest.mark.parametrize(
    ("steps", "min_after", "fragment"),
    [
        (((Channel.SMS, 60),), 30, "SMS is already a channel of this verification"),
        (((Channel.VOICE, 60), (Channel.VOICE, 120)), 30, "VOICE is already a channel"),
        (((Channel.VOICE, 120), (Channel.WHATSAPP, 60)), 30, "later than the one before"),
        (((Channel.VOICE, 40),), 60, "afterSeconds must be from 60 to 3600"),
        (((Channel.VOICE, 3601),), 30, "afterSeconds must be from 30 to 3600"),
        (((Channel.VOICE, 60), (Channel.WHATSAPP, 70), (Channel.SMS, 80)), 30, "at most 2 steps"),
    ],
)
def test_a_plan_the_deployment_cannot_keep_names_the_field(steps, min_after, fragment):
    with pytest.raises(InvalidRequest) as refused:
        plan(*steps, min_after=min_after)
    assert refused.value.field == "fallback"
    assert fragment in refused.value.detail


def test_a_channel_the_deployment_does_not_offer_is_refused():
    with pytest.raises(InvalidRequest, match="WHATSAPP is not a channel this deployment offers"):
        check_plan(
            [FallbackStep(Channel.WHATSAPP, 60)],
            first=Channel.SMS,
            offered=frozenset({Channel.SMS, Channel.VOICE}),
            min_after_seconds=30,
        )


def test_a_job_round_trips_and_anything_else_is_refused():
    job = FallbackJob("+12065550100", "ref-1", 1, "ab12")
    assert FallbackJob.from_event(json.loads(job.to_json())) == job
    bad_events: tuple[object, ...] = (
        {},
        {"phoneNumber": "+1", "referenceId": "r", "step": True, "nonce": "n"},
        [],
        "x",
    )
    for bad in bad_events:
        with pytest.raises(ValueError, match="fallback job"):
            FallbackJob.from_event(bad)


def test_the_schema_repeats_the_domains_bounds():
    assert api_schema.FALLBACK_MAX_STEPS == fallback.MAX_STEPS
    assert api_schema.FALLBACK_MIN_SECONDS == fallback.MIN_AFTER_SECONDS
    assert api_schema.FALLBACK_MAX_SECONDS == fallback.MAX_AFTER_SECONDS


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ([], "fallback: List should have at least 1 item"),
        ({"channel": "VOICE"}, "fallback: Input should be a valid list"),
        ([{"channel": "VOICE"}], "fallback: item 0: afterSeconds: Field required"),
        ([{"channel": "FAX", "afterSeconds": 60}], "fallback: item 0: channel: Input should be 'SMS'"),
        (
            [{"channel": "VOICE", "afterSeconds": "60"}],
            "fallback: item 0: afterSeconds: Input should be a valid integer",
        ),
        ([{"channel": "VOICE", "afterSeconds": 29}], "greater than or equal to 30"),
        ([{"channel": "VOICE", "afterSeconds": True}], "Input should be a valid integer"),
        ([{"channel": "VOICE", "afterSeconds": 60, "to": "+1"}], "item 0: members other than channel"),
    ],
)
def test_the_body_schema_checks_each_step(value, error):
    validator = BodyValidator(api_schema.request_schema("/otp"))
    errors = validator.errors({"phoneNumber": "+12065550100", "fallback": value})
    assert len(errors) == 1, errors
    assert errors[0].startswith("fallback: "), errors
    assert error in errors[0], errors
    # and names no value the caller sent
    assert "+1" not in errors[0].replace("+12065550100", "")
