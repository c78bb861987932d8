"""Device tickets and the reserve (otp.domain.tickets, SendRateGuard's open part): pure rules, then the
sign-in's rounds over a real OtpService and SendRateGuard with an in-memory ledger, book and engine.

What must hold: a ticket is valid only once its own session's code was verified, only for its number,
only until it expires; a stranger (no ticket) can spend the open part of a number's daily cap and no
more; a returning device reaches the reserve; the total stays the daily cap whatever anyone does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otp.domain.budget import BudgetCaps, SendBudget
from otp.domain.challenge import SignInUser, SmsChallenge, SmsChallenges
from otp.domain.challenge_rules import Answer, AnswerKind, DeliveryRequest, classify_answer, decide_next_step
from otp.domain.challenge_state import ChallengeRound, session_state
from otp.domain.errors import SendRefused, UpstreamError, UpstreamFailure
from otp.domain.limiter import SendRateGuard, SlidingWindowLimiter
from otp.domain.models import Channel, OtpPolicy, PhoneNumber, SendQuota
from otp.domain.ports import TicketRecord, TicketState
from otp.domain.reasons import RejectReason
from otp.domain.service import OtpService
from otp.domain.tickets import PENDING_SECONDS, DeviceTickets
from otp.settings import default_reserve_per_day
from tests.unit.test_challenge_rounds import ALL, Clock, MemoryEngine, MemoryLedger, NullObserver, ours

PHONE = "+12065550100"
OTHER = "+12065550111"
NUMBER = PhoneNumber(PHONE, "US", 1, "MOBILE")


@dataclass
class MemoryBook:
    """A TicketBook in memory with the DynamoDB one's conditions; ``fail`` makes every call raise."""

    records: dict[str, TicketRecord] = field(default_factory=dict)
    fail: bool = False

    def _check(self) -> None:
        if self.fail:
            raise UpstreamError(
                "ProtectionStoreUnavailable",
                "down",
                failure=UpstreamFailure.STORE_UNAVAILABLE,
                operation="GetItem",
            )

    def hold(self, key: str, *, until: int) -> None:
        self._check()
        self.records.setdefault(key, TicketRecord(TicketState.PENDING, until))

    def confirm(self, key: str, *, now: int, until: int) -> bool:
        self._check()
        record = self.records.get(key)
        if record is None or record.state is not TicketState.PENDING or record.until <= now:
            return False
        self.records[key] = TicketRecord(TicketState.VALID, until)
        return True

    def read(self, key: str) -> TicketRecord | None:
        self._check()
        return self.records.get(key)


def tickets(book: MemoryBook, clock: Clock, *, key: bytes = b"t" * 32, days: int = 90) -> DeviceTickets:
    return DeviceTickets(book, key=key, valid_days=days, clock=clock)


# ------------------------------------------------------------------------------------ the ticket rules


def test_a_ticket_is_the_same_for_a_session_and_unguessable_without_the_key() -> None:
    clock, book = Clock(), MemoryBook()
    issued = tickets(book, clock).ticket_for("session-1")
    assert issued == tickets(book, clock).ticket_for("session-1")
    assert issued != tickets(book, clock).ticket_for("session-2")
    assert issued != tickets(book, clock, key=b"x" * 32).ticket_for("session-1")
    assert len(issued) == 43


def test_a_ticket_is_valid_only_once_its_session_verified_and_only_for_its_number() -> None:
    clock, book = Clock(), MemoryBook()
    device = tickets(book, clock)
    ticket = device.ticket_for("session-1")
    record = device.hold(PHONE, ticket)
    assert record is not None
    # Held but never verified: useless
    assert device.is_valid(PHONE, ticket) is False
    # Verified: valid for its number, and for no other
    assert device.confirm(record) is True
    assert device.is_valid(PHONE, ticket) is True
    assert device.is_valid(OTHER, ticket) is False
    # The table's key names neither the ticket nor the number
    assert ticket not in record
    assert PHONE.strip("+") not in record
    assert record.startswith("ticket#")


def test_a_ticket_expires_after_its_days_and_a_pending_one_after_its_sign_in() -> None:
    clock, book = Clock(), MemoryBook()
    device = tickets(book, clock, days=90)
    verified = device.ticket_for("session-1")
    device.confirm(device.hold(PHONE, verified) or "")
    late = device.ticket_for("session-2")
    late_record = device.hold(PHONE, late) or ""
    # A sign-in verified after its hold ran out does not make its ticket valid
    clock.now += PENDING_SECONDS
    assert device.confirm(late_record) is False
    # The verified one lasts 90 days, to the second
    clock.now += 90 * 86400 - PENDING_SECONDS - 1
    assert device.is_valid(PHONE, verified) is True
    clock.now += 1
    assert device.is_valid(PHONE, verified) is False


def test_a_ticket_confirms_once_and_anything_not_shaped_like_one_is_refused_without_a_read() -> None:
    clock, book = Clock(), MemoryBook()
    device = tickets(book, clock)
    record = device.hold(PHONE, device.ticket_for("s")) or ""
    assert device.confirm(record) is True
    assert device.confirm(record) is False  # valid already: nothing to confirm
    assert device.confirm("send#whatever") is False
    book.fail = True  # any read would raise now
    for presented in ["", "short", "x" * 43 + "=", "é" * 43, "a b" * 15]:
        assert device.is_valid(PHONE, presented) is False


def test_without_a_table_tickets_are_shown_and_never_valid() -> None:
    device = DeviceTickets(None, key=b"t" * 32, valid_days=90)
    ticket = device.ticket_for("s")
    assert device.enabled is False
    assert device.hold(PHONE, ticket) is None
    assert device.is_valid(PHONE, ticket) is False


# ------------------------------------------------------------------------------------ resend decisions


@pytest.mark.parametrize(
    ("rounds", "request_", "expected"),
    [
        (["OTP-r/SMS/F/-"], DeliveryRequest("SMS", "t"), Answer(AnswerKind.RESEND, Channel.SMS, "t")),
        (
            ["OTP-r/SMS/F/1", "OTP-s/VOICE/S/2"],
            DeliveryRequest("VOICE", "t"),
            Answer(AnswerKind.RESEND, Channel.VOICE, "t"),
        ),
        (["OTP-r/SMS/F/-"], DeliveryRequest("VOICE", "t"), Answer(AnswerKind.SWITCH, Channel.VOICE, "t")),
        (
            ["OTP-r/SMS/F/-", "OTP-s/SMS/R/-"],
            DeliveryRequest("VOICE", "t"),
            Answer(AnswerKind.SWITCH, Channel.VOICE, "t"),
        ),
        # The same channel without a ticket, a second resend: wrong answers
        (["OTP-r/SMS/F/-"], DeliveryRequest("SMS"), Answer(AnswerKind.REFUSED)),
        (["OTP-r/SMS/F/-", "OTP-s/SMS/R/-"], DeliveryRequest("SMS", "t"), Answer(AnswerKind.REFUSED)),
    ],
)
def test_a_resend_needs_a_ticket_and_comes_once_per_sign_in(
    rounds: list[str], request_: DeliveryRequest, expected: Answer
) -> None:
    assert classify_answer(session_state([ours(m) for m in rounds]), request_, ALL) == expected


def test_a_resend_is_not_a_wrong_answer() -> None:
    resend = Answer(AnswerKind.RESEND, Channel.SMS, "t")
    assert decide_next_step([ours("OTP-r/SMS/F/-")], 1, resend).wrong_answers == 0
    later = decide_next_step([ours("OTP-r/SMS/F/-"), ours("OTP-s/SMS/R/1")], 1)
    assert later.wrong_answers == 1


# ------------------------------------------------------------------------------ the open part and the reserve


def guard_and_engine(
    clock: Clock, *, cooldown: int = 0, per_hour: int = 10, per_day: int = 10, reserve: int = 4
) -> tuple[SendRateGuard, MemoryEngine]:
    limiter = SlidingWindowLimiter(MemoryLedger(), clock=clock, pause=lambda _: None)
    guard = SendRateGuard(
        limiter,
        cooldown_seconds=cooldown,
        per_hour=per_hour,
        per_day=per_day,
        reserve_per_day=reserve,
        budget=SendBudget(BudgetCaps(1000, 1000)),
    )
    return guard, MemoryEngine(clock)


def test_without_a_ticket_only_the_open_part_and_with_one_the_rest_of_the_daily_cap() -> None:
    clock = Clock()
    guard, _ = guard_and_engine(clock)
    # Six sends without a ticket (10 a day, 4 reserved), then the open part is spent
    for _ in range(6):
        guard.before_send(NUMBER)
    with pytest.raises(SendRefused) as refused:
        guard.before_send(NUMBER)
    assert refused.value.reason is RejectReason.SEND_LIMIT_DAILY_OPEN
    assert "the other 4 are kept for devices that signed in on it before" in str(refused.value)
    # A ticket reaches the other four, and no more: the daily cap is the total
    for _ in range(4):
        guard.before_send(NUMBER, SendQuota(reserve=True))
    with pytest.raises(SendRefused) as full:
        guard.before_send(NUMBER, SendQuota(reserve=True))
    assert full.value.reason is RejectReason.SEND_LIMIT_DAILY


def test_the_default_reserve_keeps_spending_the_open_part_longer_than_an_hour() -> None:
    assert default_reserve_per_day(5, 10) == 4  # open part 6: one more than an hour allows
    assert default_reserve_per_day(5, 6) == 0
    assert default_reserve_per_day(10, 10) == 0


SENDERS = st.lists(st.tuples(st.sampled_from(["stranger", "device"]), st.integers(0, 4000)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(sends=SENDERS)
def test_strangers_never_take_more_than_the_open_part_and_nobody_more_than_the_daily_cap(
    sends: list[tuple[str, int]],
) -> None:
    # Given the default limits (30 s cooldown, 5 an hour, 10 a day, 4 reserved)
    clock = Clock()
    guard, _ = guard_and_engine(clock, cooldown=30, per_hour=5, per_day=10, reserve=4)
    got = {"stranger": 0, "device": 0}
    # When strangers and a ticket-holding device ask for codes at any times within a day
    for who, wait in sends:
        clock.now += wait
        try:
            guard.before_send(NUMBER, SendQuota(reserve=who == "device"))
        except SendRefused:
            continue
        got[who] += 1
    # Then strangers got at most the open part, and everyone together at most the daily cap
    assert got["stranger"] <= 6
    assert sum(got.values()) <= 10


# ------------------------------------------------------------------------------------ through the rounds


def sign_in(clock: Clock, book: MemoryBook, **limits: int) -> tuple[SmsChallenges, MemoryEngine]:
    guard, engine = guard_and_engine(clock, **limits)
    policy = OtpPolicy("Acme", "+12065550199", 6, 5, 3, "en-US", channels=ALL)
    service = OtpService(
        gateway=engine, policy=policy, allowed_countries={"US"}, observer=NullObserver(), send_guards=(guard,)
    )
    references = iter(range(10_000))
    challenges = SmsChallenges(
        service,
        allowed_countries={"US"},
        decoy_key=b"k" * 32,
        reference_factory=lambda: f"ref{next(references)}",
        limits_clock=clock,
        tickets=tickets(book, clock),
    )
    return challenges, engine


USER = SignInUser("alice", True, PHONE, True)


def signed_in_device(challenges: SmsChallenges) -> str:
    """A device that completed a sign-in: it keeps the ticket its challenge showed."""
    first = challenges.create(USER, [])
    assert challenges._tickets is not None
    assert challenges._tickets.confirm(first.private_parameters["ticketRecord"])
    return first.public_parameters["OTP_DEVICE_TICKET"]


def resend(challenges: SmsChallenges, first: SmsChallenge, ticket: str | None) -> SmsChallenge:
    rounds = [ChallengeRound("CUSTOM_CHALLENGE", False, first.metadata)]
    return challenges.create(USER, rounds, DeliveryRequest("SMS", ticket))


def test_a_returning_device_gets_a_code_from_the_reserve_when_strangers_spent_the_open_part() -> None:
    # Given a device that signed in once, and strangers who spent the rest of the open part
    clock, book = Clock(), MemoryBook()
    challenges, engine = sign_in(clock, book)
    ticket = signed_in_device(challenges)
    for _ in range(5):
        challenges.create(USER, [])
    assert len(engine.sent) == 6
    # When the device signs in again: its first round brings nothing, so it resends with its ticket
    first = challenges.create(USER, [])
    again = resend(challenges, first, ticket)
    # Then the resend's code went out, under a new reference, on the same channel
    assert first.send_result.value == "REFUSED"
    assert again.send_result.value == "SENT"
    assert len(engine.sent) == 7
    assert again.reference_id != first.reference_id
    assert again.public_parameters["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    # And the session shows the same ticket in every round
    assert again.public_parameters["OTP_DEVICE_TICKET"] == first.public_parameters["OTP_DEVICE_TICKET"]


@pytest.mark.parametrize("which", ["unverified", "another number", "expired", "none", "made up"])
def test_a_ticket_that_is_not_valid_for_the_number_brings_nothing(which: str) -> None:
    # Given a number whose open part is spent
    clock, book = Clock(), MemoryBook()
    challenges, engine = sign_in(clock, book)
    if which == "unverified":
        ticket: str | None = challenges.create(USER, []).public_parameters["OTP_DEVICE_TICKET"]
    elif which == "another number":
        other_user = SignInUser("bob", True, OTHER, True)
        other = challenges.create(other_user, [])
        assert challenges._tickets is not None
        challenges._tickets.confirm(other.private_parameters["ticketRecord"])
        ticket = other.public_parameters["OTP_DEVICE_TICKET"]
    elif which == "expired":
        ticket = signed_in_device(challenges)
        clock.now += 90 * 86400
    elif which == "made up":
        ticket = "A" * 43
    else:
        ticket = None
    while True:  # strangers' sign-ins until one brings nothing: the open part is spent
        before = len(engine.sent)
        challenges.create(USER, [])
        if len(engine.sent) == before:
            break
    sent_before = len(engine.sent)
    # When a sign-in's first round brings nothing and it resends with that ticket
    first = challenges.create(USER, [])
    again = resend(challenges, first, ticket)
    # Then nothing went out, the round looks like any other, and the code in force is the one before
    assert len(engine.sent) == sent_before
    expected = "NO_VALID_TICKET" if ticket is not None else "REUSED"
    assert again.send_result.value == expected
    assert again.reference_id == first.reference_id
    assert set(again.public_parameters) == set(first.public_parameters)


def test_a_ticket_store_failure_fails_no_round_and_is_reported() -> None:
    # Given a store that fails
    clock, book = Clock(), MemoryBook(fail=True)
    challenges, engine = sign_in(clock, book)
    reported: list[str] = []
    challenges._report_store_error = lambda error: reported.append(error.code)
    # When a sign-in starts, and later resends with a ticket
    first = challenges.create(USER, [])
    again = resend(challenges, first, "A" * 43)
    # Then the code still went out, the resend brought nothing, and the failures were reported
    assert first.send_result.value == "SENT"
    assert first.private_parameters["ticketRecord"] == ""
    assert again.send_result.value == "NO_VALID_TICKET"
    assert reported == ["ProtectionStoreUnavailable", "ProtectionStoreUnavailable"]
    assert len(engine.sent) == 1


def test_a_verified_answer_makes_the_sessions_ticket_valid() -> None:
    # Given a session whose code the engine will accept
    clock, book = Clock(), MemoryBook()
    challenges, engine = sign_in(clock, book)
    first = challenges.create(USER, [])
    ticket = first.public_parameters["OTP_DEVICE_TICKET"]
    assert challenges._tickets is not None
    assert challenges._tickets.is_valid(PHONE, ticket) is False
    engine.verify = lambda **_: True  # type: ignore[method-assign]
    # When the right answer comes
    assert challenges.check_answer(first.private_parameters, "123456") is True
    # Then its ticket is valid for the number
    assert challenges._tickets.is_valid(PHONE, ticket) is True


def test_a_decoy_shows_a_ticket_that_no_answer_can_make_valid() -> None:
    clock, book = Clock(), MemoryBook()
    challenges, _ = sign_in(clock, book)
    decoy = challenges.create(SignInUser("+12065550123", False, None, False), [])
    assert len(decoy.public_parameters["OTP_DEVICE_TICKET"]) == 43
    assert decoy.private_parameters["ticketRecord"] == ""
    assert book.records == {}
