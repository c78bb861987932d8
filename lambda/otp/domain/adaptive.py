"""The adaptive defence: conversion measured per number range, and ranges that do not convert blocked.

A real user who asks for a code nearly always enters it; a pumped number never does. So every send is
counted against where it went (its country, its range at two lengths: the country code and 3 digits,
and the country code and 5 digits) and the door and caller it came through, and every right code
against the same keys. A range whose last hour holds at least ``min_sends`` codes, fewer than
``min_conversion_percent`` of them verified, is blocked for the sends that follow (``PREFIX_SUSPENDED``),
for ``block_hours[0]`` hours, longer each time it offends again. The narrower range is judged first, and
the evidence that blocks it is taken off its wider range's counts in the same write: a pump inside one
5-digit range is blocked there, not for its neighbours, while a pump spread thin over many 5-digit ranges
of one 3-digit range adds up there and is blocked at the 3-digit range.

Costs nothing in calls: the counters ride in the send's commit and the verification's one request
(JoinedWrite), and the items this reads ride in the send's one read (LimitLedger.read_batch).

Counter items (``conv#<scope>#<epoch hour>#<shard>``) hold the hour's total (``s``, ``v``) and one count per
ten-minute slot (``s3``, ``v3``: slot 3 of the hour), so an item stays under 100 bytes (a write costs one
unit whatever the time of day); a day's counts are the sum of its 24 hours (the operators' command reads
them). A send picks one of a few shards at random, so
no single item takes a country's or a range's whole write rate (a pump concentrates exactly there); a
reader sums the shards. The rolling hour is the six slots that end after an hour ago (so it spans 50 to
60 minutes), and never a slot that ended before the range's last block did: a block's end starts afresh.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from otp.domain.errors import SendRefused
from otp.domain.models import PhoneNumber, RequestSource, SendOtpRequest
from otp.domain.ports import BlockBook, Counters, JoinedWrite, RangeBlock
from otp.domain.reasons import RejectReason

SLOT_MS = 10 * 60 * 1000
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
SLOTS_PER_HOUR = HOUR_MS // SLOT_MS
#: Range lengths after the country code, narrowest first.
RANGE_DIGITS = (5, 3)
RANGE_SHARDS = 4
WIDE_SHARDS = 8
#: A block that ends within this long of the next offence makes the next one longer.
REOFFEND_MS = 30 * DAY_MS
#: A counter item outlives its hour by two days (a rolling day sums the last 24 hours).
_COUNTER_TTL_SECONDS = 2 * 86_400
#: How long a container trusts a block it read without reading it again (a lift shows within this).
BLOCK_CACHE_MS = 60_000

COUNTER_PREFIX = "conv"
BLOCK_PREFIX = "block"
SENDS = "s"
VERIFIED = "v"


@dataclass(frozen=True, slots=True)
class AdaptivePolicy:
    enabled: bool = True
    min_sends: int = 5
    min_conversion_percent: int = 5
    block_hours: tuple[int, ...] = (1, 4, 24, 168)
    allowed_prefixes: tuple[str, ...] = ()
    #: The evidence a range that offended within REOFFEND_MS needs, counted from its block's end.
    reoffend_min_sends: int = 2

    def converts_too_little(self, sends: int, verified: int, *, reoffending: bool = False) -> bool:
        least = min(self.min_sends, self.reoffend_min_sends) if reoffending else self.min_sends
        return sends >= least and verified * 100 < self.min_conversion_percent * sends

    def allowed(self, prefix: str) -> bool:
        return any(
            prefix.startswith(allowed) or allowed.startswith(prefix) for allowed in self.allowed_prefixes
        )

    def block_ms(self, level: int) -> int:
        return self.block_hours[min(level, len(self.block_hours) - 1)] * HOUR_MS


@dataclass(frozen=True, slots=True)
class CounterAdd(JoinedWrite):
    """Add to a counter item's numbers (``ADD``), creating it; ``expires_at`` is its TTL (epoch s)."""

    amounts: tuple[tuple[str, int], ...] = ()
    expires_at: int = 0


@dataclass(frozen=True, slots=True)
class ProvenMark(JoinedWrite):
    """A number verified a code: proven until ``until_ms`` (otp/domain/shares.py)."""

    until_ms: int = 0


class RangeSuspended(SendRefused):
    """A range is blocked (automatically or by an operator): nothing is sent to it for now."""


def ranges_of(destination: PhoneNumber) -> tuple[str, ...]:
    """The ranges a number belongs to, narrowest first: ``+4477009``, ``+44770`` for +447700900123."""
    cc = str(destination.country_code)
    national = destination.e164[len(cc) + 1 :]
    return tuple(f"+{cc}{national[:digits]}" for digits in RANGE_DIGITS if len(national) > digits)


def caller_scope(source: RequestSource) -> str:
    """The door and caller, hashed: an IAM principal or app client id is an identifier, not a secret,
    but a key need not spell it."""
    digest = hashlib.sha256(source.caller.encode()).hexdigest()[:16]
    return f"{source.door.value}:{digest}"


def counter_key(scope: str, hour: int, shard: int) -> str:
    """One shard of one scope's counts in one hour (``hour``: hours since the epoch)."""
    return f"{COUNTER_PREFIX}#{scope}#{hour}#{shard}"


def block_key(prefix: str) -> str:
    return f"{BLOCK_PREFIX}#{prefix}"


def slot_name(kind: str, slot: int) -> str:
    return f"{kind}{slot}"


def _scopes(destination: PhoneNumber, source: RequestSource | None) -> list[tuple[str, int]]:
    scopes = [(f"r:{prefix}", RANGE_SHARDS) for prefix in ranges_of(destination)]
    scopes.append((f"cc:{destination.region}", WIDE_SHARDS))
    if source is not None:
        scopes.append((f"door:{caller_scope(source)}", WIDE_SHARDS))
    return scopes


def window_counts(
    items: Mapping[str, Counters], scope: str, shards: int, now_ms: int, since_ms: int = 0
) -> tuple[int, int]:
    """(sends, verified) of ``scope`` in the rolling hour, from slots that ended after ``since_ms``."""
    sends = verified = 0
    current = now_ms // SLOT_MS
    for absolute in range(current - SLOTS_PER_HOUR + 1, current + 1):
        if (absolute + 1) * SLOT_MS <= since_ms:
            continue
        hour, slot = divmod(absolute, SLOTS_PER_HOUR)
        for shard in range(shards):
            item = items.get(counter_key(scope, hour, shard), {})
            sends += item.get(slot_name(SENDS, slot), 0)
            verified += item.get(slot_name(VERIFIED, slot), 0)
    return sends, verified


def hours_of_day(now_ms: int) -> range:
    """The 24 hours (since the epoch) of the rolling day that ends in the current hour."""
    current = now_ms // HOUR_MS
    return range(current - 23, current + 1)


def total_counts(items: Mapping[str, Counters], scope: str, shards: int, hours: range) -> tuple[int, int]:
    """(sends, verified) of ``scope`` in whole hours: e.g. the rolling day (``hours_of_day``)."""
    sends = verified = 0
    for hour in hours:
        for shard in range(shards):
            item = items.get(counter_key(scope, hour, shard), {})
            sends += item.get(SENDS, 0)
            verified += item.get(VERIFIED, 0)
    return sends, verified


@dataclass
class AdaptiveDefence:
    """Counts (SendRecords, VerifyRecords) and blocks (``reads`` + ``check``, called by SendRateGuard
    within the send's one read). ``report`` hears every block imposed: (block, country)."""

    policy: AdaptivePolicy
    blocks: BlockBook
    report: Callable[[RangeBlock, str], None] = lambda block, country: None
    clock: Callable[[], float] = time.time
    pick: Callable[[int], int] = field(default=lambda shards: random.randrange(shards))
    _known: dict[str, tuple[int, RangeBlock]] = field(default_factory=dict)

    # ------------------------------------------------------------------------------------- counting

    def _adds(
        self, destination: PhoneNumber, source: RequestSource | None, kind: str, now_ms: int
    ) -> list[JoinedWrite]:
        hour, slot = divmod(now_ms // SLOT_MS, SLOTS_PER_HOUR)
        expires_at = (hour + 1) * 3600 + _COUNTER_TTL_SECONDS
        amounts = ((kind, 1), (slot_name(kind, slot), 1))
        return [
            CounterAdd(counter_key(scope, hour, self.pick(shards)), amounts, expires_at)
            for scope, shards in _scopes(destination, source)
        ]

    def joined_for_send(
        self, destination: PhoneNumber, request: SendOtpRequest, source: RequestSource
    ) -> Sequence[JoinedWrite]:
        return self._adds(destination, source, SENDS, int(self.clock() * 1000))

    def joined_for_verify(
        self, destination: PhoneNumber, reference_id: str, source: RequestSource, *, valid: bool
    ) -> Sequence[JoinedWrite]:
        if not valid:
            return ()
        return self._adds(destination, source, VERIFIED, int(self.clock() * 1000))

    # ------------------------------------------------------------------------------------- blocking

    def reads(self, destination: PhoneNumber, now_ms: int) -> tuple[str, ...]:
        """The items ``check`` needs: each range's block and its counters for the rolling hour."""
        if not self.policy.enabled:
            return ()
        keys: list[str] = []
        current = now_ms // SLOT_MS
        hours = sorted({(current - SLOTS_PER_HOUR + 1) // SLOTS_PER_HOUR, current // SLOTS_PER_HOUR})
        for prefix in ranges_of(destination):
            if self.policy.allowed(prefix):
                continue
            keys.append(block_key(prefix))
            if self._cached(prefix, now_ms) is None:
                keys += [counter_key(f"r:{prefix}", hour, s) for hour in hours for s in range(RANGE_SHARDS)]
        return tuple(keys)

    def suspended(self, destination: PhoneNumber, now_ms: int) -> RangeSuspended | None:
        """A block this container read less than a minute ago, if one covers the number: no read needed."""
        if not self.policy.enabled:
            return None
        for prefix in ranges_of(destination):
            block = self._cached(prefix, now_ms)
            if block is not None and block.active(now_ms):
                return _refusal(block, now_ms)
        return None

    def check(self, destination: PhoneNumber, items: Mapping[str, Counters], now_ms: int) -> None:
        """Raise RangeSuspended when a range of the number is blocked, or converts too little (then block
        it first: the refused send's one write)."""
        if not self.policy.enabled:
            return
        prefixes = [prefix for prefix in ranges_of(destination) if not self.policy.allowed(prefix)]
        blocks = [RangeBlock.from_counters(prefix, items.get(block_key(prefix), {})) for prefix in prefixes]
        for block in blocks:
            if block.allowed:
                return  # an operator allowed a range of the number: never blocked automatically
        for block in blocks:
            self._known[block.prefix] = (now_ms + BLOCK_CACHE_MS, block)
            if block.active(now_ms):
                raise _refusal(block, now_ms)
        for index, block in enumerate(blocks):
            scope = f"r:{block.prefix}"
            sends, verified = window_counts(items, scope, RANGE_SHARDS, now_ms, since_ms=block.until_ms)
            if self.policy.converts_too_little(sends, verified, reoffending=_reoffending(block, now_ms)):
                wider = [f"r:{other.prefix}" for other in blocks[index + 1 :]]
                self._impose(block, sends, verified, wider, destination.region, now_ms)

    def _impose(
        self, block: RangeBlock, sends: int, verified: int, wider: list[str], country: str, now_ms: int
    ) -> None:
        """Block the range (its next length), take its evidence off the wider ranges, and refuse."""
        level = block.level + 1 if _reoffending(block, now_ms) else 0
        imposed = RangeBlock(
            prefix=block.prefix,
            since_ms=now_ms,
            until_ms=now_ms + self.policy.block_ms(level),
            level=level,
            sends=sends,
            verified=verified,
            offences=block.offences + 1,
        )
        hour, slot = divmod(now_ms // SLOT_MS, SLOTS_PER_HOUR)
        taken_off = tuple(
            CounterAdd(
                counter_key(scope, hour, 0),
                (
                    (SENDS, -sends),
                    (slot_name(SENDS, slot), -sends),
                    (VERIFIED, -verified),
                    (slot_name(VERIFIED, slot), -verified),
                ),
                (hour + 1) * 3600 + _COUNTER_TTL_SECONDS,
            )
            for scope in wider
        )
        if self.blocks.impose(imposed, previous_until_ms=block.until_ms, now_ms=now_ms, compensate=taken_off):
            self.report(imposed, country)
            self._known[block.prefix] = (now_ms + BLOCK_CACHE_MS, imposed)
        else:
            # Another request blocked it first (or an operator allowed it): read it again next time.
            self._known.pop(block.prefix, None)
        raise _refusal(imposed, now_ms)

    def _cached(self, prefix: str, now_ms: int) -> RangeBlock | None:
        known = self._known.get(prefix)
        if known is None or known[0] <= now_ms or not known[1].active(now_ms):
            return None
        return known[1]


def _reoffending(block: RangeBlock, now_ms: int) -> bool:
    """Whether the range's block ended within REOFFEND_MS: its next offence is judged sooner, lasts longer."""
    return block.until_ms > 0 and now_ms - block.until_ms < REOFFEND_MS


def _refusal(block: RangeBlock, now_ms: int) -> RangeSuspended:
    retry_after = HOUR_MS // 1000 if block.pinned else max(1, -(-(block.until_ms - now_ms) // 1000))
    return RangeSuspended(
        "codes to this number range are suspended for now; no code was sent",
        reason=RejectReason.PREFIX_SUSPENDED,
        retry_after=retry_after,
    )
