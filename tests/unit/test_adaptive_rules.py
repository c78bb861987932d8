"""The adaptive defence's rules (otp/domain/adaptive.py), without a store: ranges, rolling windows over
ten-minute slots, when a range's conversion blocks it, lengthening blocks, the allow list, operator pins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from otp.domain.adaptive import (
    HOUR_MS,
    RANGE_SHARDS,
    SLOT_MS,
    AdaptiveDefence,
    AdaptivePolicy,
    CounterAdd,
    RangeSuspended,
    block_key,
    caller_scope,
    counter_key,
    ranges_of,
    slot_name,
    window_counts,
)
from otp.domain.models import PhoneNumber
from otp.domain.ports import Counters, JoinedWrite, RangeBlock
from otp.domain.reasons import RejectReason

UK = PhoneNumber("+447700900123", "GB", 44, "MOBILE")
NEIGHBOUR = PhoneNumber("+447700955555", "GB", 44, "MOBILE")  # same +4477009 range
COUSIN = PhoneNumber("+447701123456", "GB", 44, "MOBILE")  # same +44770, other +4477011
T0 = 1_800_000_000_000 - 1_800_000_000_000 % SLOT_MS + 5 * 60_000  # mid-slot


@dataclass
class Book:
    """An in-memory BlockBook."""

    items: dict[str, dict[str, int]] = field(default_factory=dict)
    refuse: bool = False

    taken_off: list[JoinedWrite] = field(default_factory=list)

    def impose(
        self,
        block: RangeBlock,
        *,
        previous_until_ms: int,
        now_ms: int,
        compensate: Sequence[JoinedWrite] = (),
    ) -> bool:
        if self.refuse:
            return False
        self.items[block_key(block.prefix)] = block.numbers()
        self.taken_off += compensate
        return True

    def blocks(self) -> list[RangeBlock]:
        return [RangeBlock.from_counters(key.split("#", 1)[1], item) for key, item in self.items.items()]

    def put(self, block: RangeBlock, *, expires_at: int | None) -> None:
        self.items[block_key(block.prefix)] = block.numbers()


def counters(
    prefix: str, at_ms: int, *, sends: int, verified: int = 0, shard: int = 0
) -> dict[str, Counters]:
    hour, slot = divmod(at_ms // SLOT_MS, 6)
    return {
        counter_key(f"r:{prefix}", hour, shard): {slot_name("s", slot): sends, slot_name("v", slot): verified}
    }


def merged(*parts: Mapping[str, Counters]) -> dict[str, Counters]:
    items: dict[str, dict[str, int]] = {}
    for part in parts:
        for key, values in part.items():
            target = items.setdefault(key, {})
            for name, value in values.items():
                target[name] = target.get(name, 0) + value
    return dict(items)


def defence(book: Book | None = None, **policy: object) -> AdaptiveDefence:
    return AdaptiveDefence(AdaptivePolicy(**policy), book or Book(), clock=lambda: T0 / 1000)  # type: ignore[arg-type]


def test_a_number_belongs_to_its_five_and_three_digit_ranges_narrowest_first() -> None:
    assert ranges_of(UK) == ("+4477009", "+44770")
    assert ranges_of(PhoneNumber("+12065550100", "US", 1, "MOBILE")) == ("+120655", "+1206")


def test_the_rolling_hour_sums_six_slots_and_every_shard_and_nothing_older() -> None:
    # Given counts in the current slot (two shards), five slots back, and six slots back
    items = merged(
        counters("+4477009", T0, sends=3, verified=1),
        counters("+4477009", T0, sends=2, shard=RANGE_SHARDS - 1),
        counters("+4477009", T0 - 5 * SLOT_MS, sends=4, verified=2),
        counters("+4477009", T0 - 6 * SLOT_MS, sends=100),
    )
    # Then the hour holds the first three, not the slot that ended over an hour ago
    assert window_counts(items, "r:+4477009", RANGE_SHARDS, T0) == (9, 3)
    # And nothing from a slot that ended before a block's end
    assert window_counts(items, "r:+4477009", RANGE_SHARDS, T0, since_ms=T0 - SLOT_MS) == (5, 1)


def test_the_rolling_hour_crosses_the_top_of_the_hour_and_reads_both_items() -> None:
    top = (T0 // HOUR_MS + 1) * HOUR_MS
    items = merged(counters("+44770", top - SLOT_MS, sends=7), counters("+44770", top, sends=1))
    assert window_counts(items, "r:+44770", RANGE_SHARDS, top + 60_000) == (8, 0)
    assert set(items) <= set(defence().reads(COUSIN, top + 60_000))


@pytest.mark.parametrize(
    ("sends", "verified", "reoffending", "blocked"),
    [
        (5, 0, False, True),  # the default: none of 5 verified
        (4, 0, False, False),  # too little evidence
        (20, 1, False, False),  # one verified of 20 is 5 %: not below it
        (40, 1, False, True),  # 2.5 %
        (2, 0, True, True),  # a range that offended within 30 days: none of 2 after its block's end
        (1, 0, True, False),
        (2, 1, True, False),
    ],
)
def test_the_default_rule_blocks_a_range_with_none_of_five_codes_verified_two_if_it_offended_before(
    sends: int, verified: int, reoffending: bool, blocked: bool
) -> None:
    assert AdaptivePolicy().converts_too_little(sends, verified, reoffending=reoffending) is blocked


def test_the_reoffence_evidence_is_never_more_than_the_first_offences() -> None:
    policy = AdaptivePolicy(min_sends=1, reoffend_min_sends=3)
    assert policy.converts_too_little(1, 0, reoffending=True)


def test_a_range_that_offended_within_thirty_days_is_blocked_again_on_two_codes() -> None:
    # Given a range whose first block (an hour) ended a minute ago
    ended = RangeBlock("+4477009", since_ms=T0 - HOUR_MS - 60_000, until_ms=T0 - 60_000, offences=1)
    block = {block_key("+4477009"): ended.numbers()}
    book = Book()
    # When two codes went there since, none entered, then the next send is refused and the block is 4 h
    with pytest.raises(RangeSuspended):
        defence(book).check(UK, merged(counters("+4477009", T0, sends=2), block), T0)
    again = RangeBlock.from_counters("+4477009", book.items[block_key("+4477009")])
    assert (again.until_ms - T0, again.offences, again.sends) == (4 * HOUR_MS, 2, 2)
    # And one code, or a range whose last block ended over 30 days ago, needs the first offence's 5
    defence().check(UK, merged(counters("+4477009", T0, sends=1), block), T0)
    old = RangeBlock("+4477009", until_ms=T0 - 31 * 24 * HOUR_MS, offences=1).numbers()
    defence().check(UK, merged(counters("+4477009", T0, sends=4), {block_key("+4477009"): old}), T0)
    with pytest.raises(RangeSuspended):
        defence().check(UK, merged(counters("+4477009", T0, sends=5), {block_key("+4477009"): old}), T0)


def test_a_range_that_converts_too_little_is_blocked_and_the_send_refused() -> None:
    # Given 20 codes to one 5-digit range in the last hour, none verified
    book = Book()
    reported: list[tuple[RangeBlock, str]] = []
    guard = AdaptiveDefence(AdaptivePolicy(), book, report=lambda b, c: reported.append((b, c)))
    items = counters("+4477009", T0 - SLOT_MS, sends=20)
    # When the next send's read comes back
    with pytest.raises(RangeSuspended) as refused:
        guard.check(UK, items, T0)
    # Then the range is blocked for an hour, with its evidence, and the refusal says until when
    block = RangeBlock.from_counters("+4477009", book.items[block_key("+4477009")])
    assert (block.until_ms - T0, block.sends, block.verified, block.level) == (HOUR_MS, 20, 0, 0)
    assert refused.value.reason is RejectReason.PREFIX_SUSPENDED
    assert refused.value.retry_after == 3600
    assert reported == [(block, "GB")]
    # And its neighbour is refused from the container's memory, with no read
    assert guard.suspended(NEIGHBOUR, T0 + 1000) is not None
    assert guard.suspended(COUSIN, T0 + 1000) is None


def test_a_range_whose_codes_are_entered_is_never_blocked() -> None:
    guard = defence()
    guard.check(UK, counters("+4477009", T0, sends=200, verified=170), T0)


def test_blocks_lengthen_when_a_range_reoffends_and_start_afresh_at_their_end() -> None:
    book = Book()
    guard = AdaptiveDefence(AdaptivePolicy(), book)
    now = T0
    lengths = []
    for _ in range(5):
        previous = RangeBlock.from_counters("+4477009", book.items.get(block_key("+4477009"), {}))
        # The sends before the block ended do not count again: 20 fresh ones after it
        start = max(now, previous.until_ms)
        items = merged(
            counters("+4477009", start + SLOT_MS, sends=20),
            {block_key("+4477009"): book.items.get(block_key("+4477009"), {})},
        )
        with pytest.raises(RangeSuspended):
            guard.check(UK, items, start + SLOT_MS + 1000)
        block = RangeBlock.from_counters("+4477009", book.items[block_key("+4477009")])
        lengths.append((block.until_ms - block.since_ms) // HOUR_MS)
        guard = AdaptiveDefence(AdaptivePolicy(), book)  # a fresh container
        now = block.until_ms
    assert lengths == [1, 4, 24, 168, 168]


def test_an_ended_block_does_not_reblock_on_the_evidence_it_was_imposed_for() -> None:
    # Given a block that ended a moment ago, imposed on sends of the hour before
    ended = RangeBlock("+4477009", until_ms=T0 - 1000, since_ms=T0 - HOUR_MS - 1000, sends=20)
    items = merged(counters("+4477009", T0 - HOUR_MS, sends=20), {block_key("+4477009"): ended.numbers()})
    # When the next send comes, then it goes
    defence().check(UK, items, T0)


def test_allowed_ranges_pinned_blocks_and_the_switch() -> None:
    attack = counters("+4477009", T0, sends=500)
    # An allowed prefix (configuration), or a range an operator allowed, is never blocked automatically
    defence(allowed_prefixes=("+447700",)).check(UK, attack, T0)
    assert defence(allowed_prefixes=("+447700",)).reads(UK, T0) == ()
    allowed = {block_key("+4477009"): RangeBlock("+4477009", allowed=True).numbers()}
    defence().check(UK, merged(attack, allowed), T0)
    # A pinned block refuses whatever the counts say, until lifted
    pinned = {block_key("+44770"): RangeBlock("+44770", pinned=True).numbers()}
    with pytest.raises(RangeSuspended):
        defence().check(COUSIN, pinned, T0)
    # Off: nothing read, nothing refused
    assert defence(enabled=False).reads(UK, T0) == ()
    defence(enabled=False).check(UK, attack, T0)


def test_a_block_another_request_imposed_first_still_refuses() -> None:
    with pytest.raises(RangeSuspended):
        defence(Book(refuse=True)).check(UK, counters("+4477009", T0, sends=20), T0)


def test_counts_ride_in_writes_for_every_scope_and_only_right_codes_count_as_verified() -> None:
    from otp.domain.models import Door, RequestSource, SendOtpRequest

    guard = defence()
    request = SendOtpRequest(UK.e164, "ref", "Acme", "+1", 6, 5, 3, "en-US", None, None)
    writes = guard.joined_for_send(UK, request, RequestSource(Door.SIGN_IN, "client-1"))
    scopes = sorted(write.key.split("#")[1] for write in writes)
    door = caller_scope(RequestSource(Door.SIGN_IN, "client-1"))
    assert scopes == ["cc:GB", f"door:{door}", "r:+44770", "r:+4477009"]
    assert door.startswith("cognito:")
    assert "client-1" not in door
    assert all("+447700900123" not in write.key for write in writes)
    assert guard.joined_for_verify(UK, "ref", RequestSource(), valid=False) == ()
    assert len(guard.joined_for_verify(UK, "ref", RequestSource(), valid=True)) == 4


def test_a_blocked_ranges_evidence_is_taken_off_its_wider_range() -> None:
    # Given 20 unentered codes in one 5-digit range, counted in its 3-digit range too
    book = Book()
    items = merged(counters("+4477009", T0, sends=20), counters("+44770", T0, sends=20))
    with pytest.raises(RangeSuspended):
        defence(book).check(UK, items, T0)
    # Then the block's write takes them off the 3-digit range's counts, in the current slot
    [taken] = book.taken_off
    assert isinstance(taken, CounterAdd)
    assert taken.key.startswith("conv#r:+44770#")
    assert dict(taken.amounts) == {"s": -20, "s0": -20, "v": 0, "v0": 0}
    assert block_key("+44770") not in book.items


def test_a_pump_spread_over_many_five_digit_ranges_is_blocked_at_the_three_digit_range() -> None:
    # Given 2 codes in each of 10 5-digit ranges of +44770 (each far below the evidence), none entered
    book = Book()
    items = counters("+44770", T0, sends=20)
    items.update(counters("+4477011", T0, sends=2))
    with pytest.raises(RangeSuspended):
        defence(book).check(COUSIN, items, T0)
    # Then the 3-digit range is blocked, and its own narrower range is not
    assert set(book.items) == {block_key("+44770")}
    assert book.taken_off == []
