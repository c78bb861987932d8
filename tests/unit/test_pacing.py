"""Decoy pacing: a decoy round waits until a duration drawn from this container's real rounds has passed.

The clock and the sleep are recorded, not real: these tests check what the pacer waits for, never how
long anything took.
"""

from __future__ import annotations

from typing import Any

import pytest

from otp.domain.pacing import RESERVOIR, LatencyPacer
from tests.lambda_events import LambdaContext
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT
from tests.telemetry import captured_output
from tests.unit.test_cognito_triggers import (
    create_event,
    engine,
    fresh_number,
    round_,
    trigger_env,
    user_attributes,
)

__all__ = ["engine", "trigger_env"]  # the fixtures, reused from the trigger tests (both engines)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(time: FakeTime, prior: tuple[float, ...] = (0.1,)) -> LatencyPacer:
    return LatencyPacer(prior=prior, clock=time.clock, sleep=time.sleep, choose=max)


def test_a_decoy_waits_out_the_rest_of_a_real_rounds_duration() -> None:
    # Given a real round that took 120 ms
    time = FakeTime()
    pacing = pacer(time)
    started = time.clock()
    time.now += 0.120
    pacing.observe(started)
    # When a decoy that took 5 ms by itself is paced
    started = time.clock()
    time.now += 0.005
    pacing.pace(started)
    # Then it waited the other 115 ms
    assert time.slept == [pytest.approx(0.115)]


def test_before_any_real_round_the_prior_is_used_and_a_slow_decoy_does_not_wait() -> None:
    time = FakeTime()
    pacing = pacer(time, prior=(0.08, 0.15))
    started = time.clock()
    pacing.pace(started)
    assert time.slept == [pytest.approx(0.15)]
    # A decoy already slower than the drawn duration is not made slower still
    started = time.clock()
    time.now += 1.0
    pacing.pace(started)
    assert len(time.slept) == 1


def test_only_the_latest_real_rounds_are_remembered() -> None:
    time = FakeTime()
    pacing = pacer(time)
    for duration in [5.0] + [0.05] * RESERVOIR:
        started = time.clock()
        time.now += duration
        pacing.observe(started)
    # The 5 s outlier has been forgotten: the longest remembered round is 50 ms
    started = time.clock()
    pacing.pace(started)
    assert time.slept == [pytest.approx(0.05)]


# ------------------------------------------------------------------------------------ through Create


@pytest.fixture
def recorded_pacers(
    trigger_env: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[LatencyPacer, ...], list[float], list[float]]:
    """The triggers' pacers with the real clock, a recorded sleep and a recorded draw (the longest)."""
    from otp.handlers import cognito

    slept: list[float] = []
    drawn: list[float] = []

    def longest(samples: Any) -> float:
        drawn.append(max(samples))
        return drawn[-1]

    pacers = (
        LatencyPacer(prior=(0.1,), sleep=slept.append, choose=longest),
        LatencyPacer(prior=(0.1,), sleep=slept.append, choose=longest),
        LatencyPacer(prior=(0.1,), sleep=slept.append, choose=longest),
    )
    monkeypatch.setattr(cognito, "decoy_pacers", lambda: pacers)
    return pacers, slept, drawn


def test_an_unknown_users_first_round_waits_as_long_as_a_real_one_took(
    recorded_pacers: tuple[tuple[LatencyPacer, ...], list[float], list[float]],
) -> None:
    from otp.handlers import cognito

    (send_pacer, _, _), slept, drawn = recorded_pacers
    # Given a real first round (an SMS really sent, through the sandbox's Pinpoint)
    started = send_pacer.clock()
    with captured_output():
        cognito.create_auth_challenge(create_event(user_attributes(fresh_number())), LambdaContext())
    real = send_pacer.clock() - started
    # When an unknown user's first round comes
    started = send_pacer.clock()
    with captured_output():
        cognito.create_auth_challenge(
            create_event({}, user_not_found=True, user_name="mallory"), LambdaContext()
        )
    decoy_alone = send_pacer.clock() - started
    # Then the duration it was paced to is the real round's (not the prior), and it waited for the rest
    [duration] = drawn
    [waited] = slept
    assert 0 < duration <= real
    assert 0 < waited <= duration
    assert decoy_alone + waited >= duration


def test_an_unknown_users_switch_waits_as_long_as_a_real_switch_took(
    recorded_pacers: tuple[tuple[LatencyPacer, ...], list[float], list[float]], engine: str
) -> None:
    from otp.handlers import cognito

    (send_pacer, _, _), slept, drawn = recorded_pacers
    voice = {"otpChannel": "VOICE"}
    number = fresh_number()
    # Given a real user's first round and switch to a call (timed: the switch really sends)
    with captured_output():
        first = cognito.create_auth_challenge(create_event(user_attributes(number)), LambdaContext())
        session = [round_(False, first["response"]["challengeMetadata"])]
        started = send_pacer.clock()
        cognito.create_auth_challenge(
            create_event(user_attributes(number), session, client_metadata=voice), LambdaContext()
        )
        real_switch = send_pacer.clock() - started
    # When an unknown user's session asks for a call too
    with captured_output():
        decoy = cognito.create_auth_challenge(
            create_event({}, user_not_found=True, user_name="mallory"), LambdaContext()
        )
        slept.clear()
        drawn.clear()
        session = [round_(False, decoy["response"]["challengeMetadata"])]
        cognito.create_auth_challenge(
            create_event({}, session, user_not_found=True, user_name="mallory", client_metadata=voice),
            LambdaContext(),
        )
    # Then where a switch sends (End User Messaging) the decoy's switch is paced to what real sends
    # took, the switch among them; where a switch is a wrong answer (Pinpoint), neither sends nor waits
    if engine == PINPOINT:
        assert (slept, drawn) == ([], [])
        return
    assert engine == END_USER_MESSAGING
    # (the draw is the longest real switch remembered by the switch's own pacer, timed inside the
    # handler, so at most what the test timed around it; the first round's duration is not among them)
    [duration] = drawn
    assert 0 < duration <= real_switch
    assert len(slept) == 1
