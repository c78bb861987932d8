"""Sign-in floors: every round that could tell a registered number from an unknown one waits for a draw
from a fixed distribution, real or decoy, whatever its outcome (otp/domain/pacing.py, issue 20).

The clock is real where a trigger runs, but the sleep and the draw are recorded: these tests check what
each round waits for and that nothing a request does moves it, never how long anything took (that is
tests/e2e/test_sign_in_timing_sandbox.py, measured against the sandbox).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from otp.domain.pacing import LatencyFloor
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
    verify_event,
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


def test_a_round_waits_out_the_rest_of_its_draw() -> None:
    # Given a floor whose draw is 120 ms
    time = FakeTime()
    floor = LatencyFloor(0.1, 0.2, clock=time.clock, sleep=time.sleep, draw=lambda low, high: 0.12)
    # When a round that took 5 ms by itself ends
    started = time.clock()
    time.now += 0.005
    floor.wait(started)
    # Then it waited the other 115 ms
    assert time.slept == [pytest.approx(0.115)]


def test_a_round_slower_than_its_draw_does_not_wait() -> None:
    time = FakeTime()
    floor = LatencyFloor(0.1, 0.2, clock=time.clock, sleep=time.sleep, draw=lambda low, high: 0.12)
    started = time.clock()
    time.now += 1.0
    floor.wait(started)
    assert time.slept == []


def test_each_draw_is_fresh_and_within_the_bounds() -> None:
    # Given the real draw (the operating system's random source)
    time = FakeTime()
    floor = LatencyFloor(0.05, 0.1, clock=time.clock, sleep=time.sleep)
    # When many rounds that took no time end
    for _ in range(500):
        floor.wait(time.clock())
    # Then each waited a draw within the bounds, and the draws vary over the whole range
    assert all(0.05 <= slept <= 0.1 for slept in time.slept)
    assert min(time.slept) < 0.055
    assert max(time.slept) > 0.095


@pytest.mark.parametrize(("low", "high"), [(-0.1, 0.1), (0.2, 0.1)])
def test_bounds_must_make_sense(low: float, high: float) -> None:
    with pytest.raises(ValueError, match="low <= high"):
        LatencyFloor(low, high)


# ------------------------------------------------------------------------------------ through the triggers


class Recorder:
    """The draws and sleeps of the triggers' three floors, the clock left real."""

    def __init__(self) -> None:
        self.draws: list[tuple[str, float, float]] = []
        self.slept: list[tuple[str, float]] = []

    def floor(self, name: str, low: float, high: float) -> LatencyFloor:
        def draw(lo: float, hi: float) -> float:
            self.draws.append((name, lo, hi))
            return hi

        return LatencyFloor(low, high, sleep=lambda seconds: self.slept.append((name, seconds)), draw=draw)

    def waits(self) -> list[str]:
        return [name for name, _, _ in self.draws]

    def clear(self) -> None:
        self.draws.clear()
        self.slept.clear()


@pytest.fixture
def recorder(trigger_env: Any, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    from otp.handlers import cognito

    recorded = Recorder()
    floors = (
        recorded.floor("send", 0.08, 0.15),
        recorded.floor("verify", 0.05, 0.10),
        recorded.floor("delivery", 0.08, 0.15),
    )
    monkeypatch.setattr(cognito, "sign_in_floors", lambda: floors)
    return recorded


def _create(event: dict[str, Any]) -> dict[str, Any]:
    from otp.handlers import cognito

    with captured_output():
        answer: dict[str, Any] = cognito.create_auth_challenge(event, LambdaContext())
    return answer


def _verify(event: dict[str, Any]) -> dict[str, Any]:
    from otp.handlers import cognito

    with captured_output():
        answer: dict[str, Any] = cognito.verify_auth_challenge(event, LambdaContext())
    return answer


def test_real_and_decoy_first_rounds_wait_for_the_same_floor(recorder: Recorder) -> None:
    # Given a real first round (an SMS really sent) and an unknown user's first round
    _create(create_event(user_attributes(fresh_number())))
    real = list(recorder.draws)
    recorder.clear()
    _create(create_event({}, user_not_found=True, user_name=fresh_number()))
    # Then each waited once, for a draw from the same bounds
    assert real == recorder.draws == [("send", 0.08, 0.15)]


def test_a_refused_first_round_waits_like_one_that_sends(recorder: Recorder) -> None:
    # Given a number that just got a code (so the cooldown refuses the next send, before any engine call)
    number = fresh_number()
    _create(create_event(user_attributes(number)))
    recorder.clear()
    # When a second sign-in starts within the cooldown
    refused = _create(create_event(user_attributes(number)))
    # Then it waited for the same floor as a send and a decoy
    assert recorder.draws == [("send", 0.08, 0.15)]
    assert refused["response"]["publicChallengeParameters"]["CODE_DELIVERY_DESTINATION"].endswith(number[-2:])


@pytest.mark.parametrize("answer", ["000000", "abcdef", "", "1234567", None])
def test_every_answer_real_or_decoy_waits_for_the_same_floor(recorder: Recorder, answer: Any) -> None:
    # Given a real user's challenge and an unknown user's
    real = _create(create_event(user_attributes(fresh_number())))["response"]["privateChallengeParameters"]
    unknown = fresh_number()
    decoy = _create(create_event({}, user_not_found=True, user_name=unknown))["response"]
    recorder.clear()
    # When each is answered (wrong, malformed, empty, too long, not text)
    correct_real = _verify(verify_event(real, answer))["response"]["answerCorrect"]
    real_waits = recorder.waits()
    recorder.clear()
    correct_decoy = _verify(
        verify_event(decoy["privateChallengeParameters"], answer, user_not_found=True, user_name=unknown)
    )["response"]["answerCorrect"]
    # Then both are wrong, and both waited once for the answer floor: a refusal before any engine call
    # (the malformed ones) is no faster than the decoy
    assert correct_real is correct_decoy is False
    assert real_waits == recorder.waits() == ["verify"]


def test_fast_refusals_do_not_move_what_a_decoy_waits_for(recorder: Recorder) -> None:
    # Given an attacker's own account and the decoy's wait before anything else
    unknown = fresh_number()
    decoy = _create(create_event({}, user_not_found=True, user_name=unknown))["response"]
    decoy_answer: Callable[[], Any] = lambda: _verify(  # noqa: E731
        verify_event(decoy["privateChallengeParameters"], "123456", user_not_found=True, user_name=unknown)
    )
    recorder.clear()
    decoy_answer()
    before = (list(recorder.draws), [seconds > 0.03 for _, seconds in recorder.slept])
    own = _create(create_event(user_attributes(fresh_number())))["response"]["privateChallengeParameters"]
    # When it sends 40 malformed answers (each refused before any engine call)
    for _ in range(40):
        _verify(verify_event(own, "abcdef"))
    recorder.clear()
    decoy_answer()
    # Then the decoy's answer waits for a draw from the same bounds as before, and still waits most of it
    assert (recorder.draws, [seconds > 0.03 for _, seconds in recorder.slept]) == before


def test_switches_real_or_decoy_wait_for_the_delivery_floor(recorder: Recorder, engine: str) -> None:
    voice = {"otpChannel": "VOICE"}
    number, unknown = fresh_number(), fresh_number()
    first = _create(create_event(user_attributes(number)))["response"]
    decoy = _create(create_event({}, user_not_found=True, user_name=unknown))["response"]
    recorder.clear()
    _create(
        create_event(
            user_attributes(number), [round_(False, first["challengeMetadata"])], client_metadata=voice
        )
    )
    real_waits = recorder.waits()
    recorder.clear()
    _create(
        create_event(
            {},
            [round_(False, decoy["challengeMetadata"])],
            user_not_found=True,
            user_name=unknown,
            client_metadata=voice,
        )
    )
    # Where a switch sends (End User Messaging) both wait for the delivery floor; where it is a wrong
    # answer (Pinpoint offers no other channel) neither sends and neither waits.
    expected = ["delivery"] if engine == END_USER_MESSAGING else []
    assert engine in (PINPOINT, END_USER_MESSAGING)
    assert real_waits == recorder.waits() == expected
