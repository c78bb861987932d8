"""The sign-in's round decisions (otp.domain.challenge): pure functions, and the bounds they promise.

The last tests run real ``SmsChallenges`` over a real ``OtpService`` and ``SendRateGuard``, with an
in-memory engine and ledger (compare-and-set semantics as the DynamoDB one) and a clock the test moves:
whatever sessions, switches and waits a caller strings together, a number gets at most two codes in
any cooldown window, and never more than the hourly and daily caps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otp.domain.budget import BudgetCaps, SendBudget
from otp.domain.challenge import SignInUser, SmsChallenges
from otp.domain.challenge_rules import (
    CODE_ANSWER,
    Answer,
    AnswerKind,
    DeliveryRequest,
    NextStep,
    alternatives,
    classify_answer,
    decide_next_step,
    first_channel,
)
from otp.domain.challenge_state import ChallengeRound, Origin, SessionCode, parse_metadata, session_state
from otp.domain.limiter import LimitedKey, SendRateGuard, SlidingWindowLimiter
from otp.domain.limits import send_limits
from otp.domain.models import Channel, DeliveryReport, OtpPolicy, PhoneNumber, SendOtpRequest, SendOutcome
from otp.domain.ports import Counters, EventHistory, HistoryUpdate, JoinedWrite
from otp.domain.service import OtpService

SMS, VOICE, WHATSAPP = Channel.SMS, Channel.VOICE, Channel.WHATSAPP
ALL = frozenset({SMS, VOICE, WHATSAPP})
T0_MS = 1_800_000_000_000


def ours(metadata: str, succeeded: bool = False) -> ChallengeRound:
    return ChallengeRound("CUSTOM_CHALLENGE", succeeded, metadata)


# ------------------------------------------------------------------------------------ metadata


def test_a_round_records_its_code_and_reads_back_the_same() -> None:
    code = SessionCode("ref-1", VOICE, Origin.SWITCH, T0_MS)
    assert code.metadata == f"OTP-ref-1/VOICE/S/{T0_MS}"
    assert parse_metadata(code.metadata) == code
    unsent = SessionCode("ref-1", SMS, Origin.AGAIN)
    assert parse_metadata(unsent.metadata) == unsent


def test_a_round_of_a_session_begun_before_channels_is_a_first_round_on_sms() -> None:
    assert parse_metadata("OTP-legacyRef_1") == SessionCode("legacyRef_1", SMS, Origin.FIRST)


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        "",
        "CAPTCHA_CHALLENGE",
        "OTP-",
        "OTP-ref/PIGEON/S/1",
        "OTP-ref/SMS/Z/1",
        "OTP-ref/SMS/F/x",
        "OTP-a/b",
    ],
)
def test_anything_else_is_not_a_round_of_ours(metadata: str | None) -> None:
    assert parse_metadata(metadata) is None


def test_the_session_state_is_its_first_reference_its_code_in_force_and_whether_it_switched() -> None:
    state = session_state([ours("OTP-r1/SMS/F/1"), ours("OTP-r2/VOICE/S/2"), ours("OTP-r2/VOICE/A/2")])
    assert state.first_reference == "r1"
    assert state.current == SessionCode("r2", VOICE, Origin.AGAIN, 2)
    assert state.switched is True
    assert session_state([]).current is None


# ------------------------------------------------------------------------------------ answers


@pytest.mark.parametrize(
    ("rounds", "channel", "offered", "expected"),
    [
        (["OTP-r/SMS/F/1"], "VOICE", ALL, Answer(AnswerKind.SWITCH, VOICE)),
        (["OTP-r/SMS/F/1"], "WHATSAPP", ALL, Answer(AnswerKind.SWITCH, WHATSAPP)),
        (["OTP-r/SMS/F/-"], "VOICE", ALL, Answer(AnswerKind.SWITCH, VOICE)),  # the SMS was not sent
        (["OTP-r/SMS/F/1", "OTP-r/SMS/A/1"], "VOICE", ALL, Answer(AnswerKind.SWITCH, VOICE)),
        # Not offered by this deployment or engine, the channel in force, a second switch, not a channel.
        (["OTP-r/SMS/F/1"], "VOICE", {SMS}, Answer(AnswerKind.REFUSED)),
        (["OTP-r/SMS/F/1"], "SMS", ALL, Answer(AnswerKind.REFUSED)),
        (["OTP-r/SMS/F/1", "OTP-s/VOICE/S/2"], "WHATSAPP", ALL, Answer(AnswerKind.REFUSED)),
        (["OTP-r/SMS/F/1", "OTP-s/VOICE/S/2"], "SMS", ALL, Answer(AnswerKind.REFUSED)),
        (["OTP-r/SMS/F/1"], "voice", ALL, Answer(AnswerKind.REFUSED)),
        (["OTP-r/SMS/F/1"], "EMAIL", ALL, Answer(AnswerKind.REFUSED)),
        ([], "VOICE", ALL, Answer(AnswerKind.REFUSED)),
    ],
)
def test_a_delivery_request_is_a_switch_only_once_and_only_to_another_offered_channel(
    rounds: list[str], channel: str, offered: frozenset[Channel], expected: Answer
) -> None:
    state = session_state([ours(m) for m in rounds])
    assert classify_answer(state, DeliveryRequest(channel), offered) == expected


def test_an_answer_without_a_delivery_request_is_a_code() -> None:
    assert classify_answer(session_state([ours("OTP-r/SMS/F/1")]), None, ALL) == CODE_ANSWER


def test_alternatives_are_the_other_offered_channels_in_order_until_the_switch() -> None:
    assert alternatives(ALL, SMS, switched=False) == (VOICE, WHATSAPP)
    assert alternatives({SMS, WHATSAPP}, SMS, switched=False) == (WHATSAPP,)
    assert alternatives({SMS}, SMS, switched=False) == ()
    assert alternatives(ALL, VOICE, switched=True) == ()


def test_the_first_code_goes_by_sms_where_offered() -> None:
    assert first_channel(ALL) is SMS
    assert first_channel({VOICE, WHATSAPP}) is VOICE


# ------------------------------------------------------------------------------------ Define


def test_a_switch_is_not_a_wrong_answer_now_or_later() -> None:
    switch = Answer(AnswerKind.SWITCH, VOICE)
    # The switch being answered: not counted, so one allowed attempt is still there
    now = decide_next_step([ours("OTP-r/SMS/F/1")], 1, switch)
    assert (now.step, now.wrong_answers) == (NextStep.CHALLENGE, 0)
    # Later rounds: the round the switch created says so
    later = decide_next_step([ours("OTP-r/SMS/F/1"), ours("OTP-s/VOICE/S/2")], 1)
    assert (later.step, later.wrong_answers) == (NextStep.FAIL, 1)


def test_a_refused_request_is_a_wrong_answer() -> None:
    decision = decide_next_step([ours("OTP-r/SMS/F/1")], 1, Answer(AnswerKind.REFUSED))
    assert (decision.step, decision.wrong_answers) == (NextStep.FAIL, 1)


@given(
    allowed=st.integers(1, 5),
    answers=st.lists(st.sampled_from(["guess", "switch", "refused"]), min_size=1, max_size=12),
)
def test_guesses_in_a_session_never_exceed_allowed_attempts(allowed: int, answers: list[str]) -> None:
    # A session played round by round, as Cognito chains Define and Create, with any mix of answers.
    rounds: list[ChallengeRound] = []
    current = SessionCode("r0", SMS, Origin.FIRST, 1)
    guesses, codes = 0, 1
    for index, kind in enumerate(answers):
        rounds.append(ours(current.metadata))
        state = session_state(rounds)
        request = None if kind == "guess" else DeliveryRequest("VOICE" if kind == "switch" else "PIGEON")
        answer = classify_answer(state, request, ALL)
        guesses += answer.kind is AnswerKind.CODE
        decision = decide_next_step(rounds, allowed, answer)
        if decision.step is NextStep.FAIL:
            break
        if answer.kind is AnswerKind.SWITCH:
            current = SessionCode(f"r{index + 1}", VOICE, Origin.SWITCH, 2)
            codes += 1
        else:
            current = SessionCode(current.reference, current.channel, Origin.AGAIN, current.sent_at_ms)
    # Then checked codes stay within allowedAttempts, and one switch at most brought a second code
    assert guesses <= allowed
    assert codes <= 2


# ------------------------------------------------------------------------------------ the cooldown waiver


def test_the_cooldown_is_waived_only_when_the_sessions_own_code_is_the_only_one_since() -> None:
    limits = send_limits(cooldown_seconds=30, per_hour=5, per_day=10)
    key = LimitedKey("send#x", limits, waivable=limits[0], waived_since_ms=T0_MS)
    assert key.applicable((T0_MS - 60_000, T0_MS + 5)) == limits[1:]  # only its own since T0
    assert key.applicable((T0_MS + 5, T0_MS + 9_000)) == limits  # someone else's since
    assert key.applicable((T0_MS - 5,)) == limits  # its own never landed
    assert LimitedKey("send#x", limits, waivable=limits[0]).applicable((T0_MS,)) == limits


@dataclass
class MemoryLedger:
    """A LimitLedger in memory, with the same compare-and-set contract as DynamoDbLimitLedger."""

    items: dict[str, EventHistory] = field(default_factory=dict)

    def read(self, key: str) -> EventHistory:
        return self.items.get(key, EventHistory(key))

    def read_batch(
        self, history_keys: Sequence[str], counter_keys: Sequence[str] = ()
    ) -> tuple[list[EventHistory], dict[str, Counters]]:
        return [self.read(key) for key in history_keys], {}

    def commit(self, updates: Sequence[HistoryUpdate], joined: Sequence[JoinedWrite] = ()) -> bool:
        assert not joined, "joined writes need DynamoDB's shapes: test them against moto"
        if any(self.read(u.key).version != u.expected_version for u in updates):
            return False
        for u in updates:
            self.items[u.key] = EventHistory(u.key, u.events_ms, u.expected_version + 1, u.counts)
        return True

    def record(self, writes: Sequence[JoinedWrite]) -> None:
        assert not writes, "joined writes need DynamoDB's shapes: test them against moto"


@dataclass
class Clock:
    now: float = T0_MS / 1000

    def __call__(self) -> float:
        return self.now


@dataclass
class MemoryEngine:
    """An engine that accepts every code and remembers when (on the test's clock) and on which channel."""

    clock: Clock
    sent: list[tuple[float, Channel]] = field(default_factory=list)

    def send(self, request: SendOtpRequest) -> DeliveryReport:
        self.sent.append((self.clock(), request.channel))
        return DeliveryReport("SUCCESSFUL", f"m{len(self.sent)}", 200, "ok")

    def verify(self, *, destination: str, reference_id: str, code: str) -> bool:
        return False


class NullObserver:
    def delivery(self, outcome: SendOutcome) -> None: ...
    def verification(
        self, destination: PhoneNumber, reference_id: str, *, valid: bool, reason: str | None = None
    ) -> None: ...
    def rejected(self, reason: str, *, destination: PhoneNumber | None = None) -> None: ...
    def upstream_error(self, code: str, operation: str, *, maybe_sent: bool) -> None: ...


def challenges(
    clock: Clock, engine: MemoryEngine, *, cooldown: int, per_hour: int, per_day: int
) -> SmsChallenges:
    limiter = SlidingWindowLimiter(MemoryLedger(), clock=clock, pause=lambda _: None)
    guard = SendRateGuard(
        limiter,
        cooldown_seconds=cooldown,
        per_hour=per_hour,
        per_day=per_day,
        budget=SendBudget(BudgetCaps(1000, 1000)),
    )
    policy = OtpPolicy("Acme", "+12065550199", 6, 5, 3, "en-US", channels=ALL)
    service = OtpService(
        gateway=engine, policy=policy, allowed_countries={"US"}, observer=NullObserver(), send_guards=(guard,)
    )
    references = iter(range(10_000))
    return SmsChallenges(
        service,
        allowed_countries={"US"},
        decoy_key=b"k" * 32,
        reference_factory=lambda: f"ref{next(references)}",
        limits_clock=clock,
    )


USER = SignInUser("alice", True, "+12065550100", True)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.integers(0, 45)),
        st.tuples(st.just("start"), st.integers(0, 3)),
        st.tuples(st.just("switch"), st.integers(0, 3)),
        st.tuples(st.just("guess"), st.integers(0, 3)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(steps=STEPS)
def test_sessions_and_switches_never_bring_more_than_two_codes_per_cooldown_window(
    steps: list[tuple[str, int]],
) -> None:
    # Given one number, a 30 s cooldown, 5 codes an hour and 10 a day
    clock = Clock()
    engine = MemoryEngine(clock)
    sign_in = challenges(clock, engine, cooldown=30, per_hour=5, per_day=10)
    sessions: dict[int, list[ChallengeRound]] = {}
    # When any caller interleaves sign-ins, switches to a call, wrong answers and waits
    for action, value in steps:
        if action == "wait":
            clock.now += value
            continue
        if action == "start":
            sessions[value] = [ours(sign_in.create(USER, []).metadata)]
            continue
        rounds = sessions.get(value)
        if rounds is None:
            continue
        request = DeliveryRequest("VOICE") if action == "switch" else None
        created = sign_in.create(USER, rounds, request)
        rounds.append(ours(created.metadata))
    # Then no 30 s window holds more than two codes, no hour more than five, no day more than ten
    times = [at for at, _ in engine.sent]
    for index, at in enumerate(times):
        assert len([t for t in times[index:] if t < at + 30]) <= 2
        assert len([t for t in times[index:] if t < at + 3600]) <= 5
    assert len(times) <= 10


def test_a_switch_seconds_after_the_sessions_own_code_goes_out_and_a_third_code_does_not() -> None:
    # Given a user whose SMS went out 10 s ago (30 s cooldown)
    clock = Clock()
    engine = MemoryEngine(clock)
    sign_in = challenges(clock, engine, cooldown=30, per_hour=5, per_day=10)
    mine = [ours(sign_in.create(USER, []).metadata)]
    clock.now += 10
    # When they ask for a call, and a second sign-in asks for a code and a call right after
    switched = sign_in.create(USER, mine, DeliveryRequest("VOICE"))
    clock.now += 1
    theirs = [ours(sign_in.create(USER, []).metadata)]
    their_switch = sign_in.create(USER, theirs, DeliveryRequest("VOICE"))
    # Then the call went out (the cooldown waived for the session's own code), the other sign-in's
    # code and call did not (the cooldown holds for them: two codes in 30 s is the most)
    assert switched.send_result.value == "SENT"
    assert [channel for _, channel in engine.sent] == [SMS, VOICE]
    assert their_switch.send_result.value == "REFUSED"


def test_no_waiver_when_another_code_reached_the_number_since_the_sessions_own() -> None:
    # Given a user's SMS, then 31 s later another sign-in's SMS to the same number
    clock = Clock()
    engine = MemoryEngine(clock)
    sign_in = challenges(clock, engine, cooldown=30, per_hour=5, per_day=10)
    mine = [ours(sign_in.create(USER, []).metadata)]
    clock.now += 31
    sign_in.create(USER, [])
    clock.now += 5
    # When the first sign-in switches to a call
    switched = sign_in.create(USER, mine, DeliveryRequest("VOICE"))
    # Then the cooldown applies: nothing more within 30 s of the last code
    assert switched.send_result.value == "REFUSED"
    assert len(engine.sent) == 2
