"""The interfaces the use cases need from the outside world; adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from otp.domain.errors import JoinedWriteRefused, OtpError
from otp.domain.models import (
    OPEN_QUOTA,
    UNKNOWN_SOURCE,
    DeliveryReport,
    PhoneNumber,
    RequestSource,
    SendOtpRequest,
    SendOutcome,
    SendQuota,
)
from otp.domain.records import record

if TYPE_CHECKING:
    from otp.domain.verification import Verification, VerifyState


class OtpGateway(Protocol):
    """Sends and verifies codes (Pinpoint in production, the sandbox locally)."""

    def send(self, request: SendOtpRequest) -> DeliveryReport: ...

    def verify(self, *, destination: str, reference_id: str, code: str) -> bool: ...


@record
class JoinedWrite:
    """One more item written in the same all-or-nothing DynamoDB request as a send's limits (the send's
    commit) or as a verification's records: a protected send and a verify each stay within two calls.

    To add a kind of item: subclass this (a frozen dataclass in the domain, holding what the item needs,
    never a number or a code), register how it is written in otp/adapters/store.py with
    ``@joined_writer(YourWrite)`` (a function returning one TransactWriteItems entry: Put, Update, Delete
    or ConditionCheck), and hand instances to the use case: ``OtpService(send_records=...)`` for a send's
    commit, ``verify_records=...`` for what a verification writes once the engine answered.
    A write with a condition of its own that fails cancels the whole request: nothing is written and
    ``refused()`` is raised (override it to say what that means).
    """

    key: str

    def refused(self) -> OtpError:
        return JoinedWriteRefused(self.key)


class SendGuard(Protocol):
    """A protection rule consulted before any SMS goes out; raises SendRefused to stop it.

    ``quota`` says which part of the number's limits the send may use (most guards ignore it).
    ``joined`` are writes that must land with the send (JoinedWrite): the guard that records the send
    commits them in the same request, and a refused send writes none of them. Other guards ignore them.
    ``source`` is the door and caller the send came through.
    """

    def before_send(
        self,
        destination: PhoneNumber,
        quota: SendQuota = OPEN_QUOTA,
        joined: Sequence[JoinedWrite] = (),
        source: RequestSource = UNKNOWN_SOURCE,
    ) -> None: ...


class SendRecords(Protocol):
    """Contributes joined writes to a send's commit (e.g. a record of the verification it starts)."""

    def joined_for_send(
        self, destination: PhoneNumber, request: SendOtpRequest, source: RequestSource
    ) -> Sequence[JoinedWrite]: ...


class VerifyRecords(Protocol):
    """Contributes writes once the engine answered a verification; all of them go in one request."""

    def joined_for_verify(
        self, destination: PhoneNumber, reference_id: str, source: RequestSource, *, valid: bool
    ) -> Sequence[JoinedWrite]: ...


class RecordStore(Protocol):
    """Writes joined writes in one request (one item: its own call; several: one transaction)."""

    def record(self, writes: Sequence[JoinedWrite]) -> None: ...


class VerifyGuard(Protocol):
    """A protection rule consulted before a verification reaches the gateway.

    Returns the verification's lifecycle record when it keeps one, raising VerificationClosed when the
    engine must not be asked (verified, cancelled, expired, out of attempts, or not ``owner``'s:
    otp/domain/verification.py).
    """

    def before_verify(
        self, destination: PhoneNumber, reference_id: str, owner: str = ""
    ) -> Verification | None: ...


class OtpObserver(Protocol):
    """Where the use cases report what happened: logs and metrics, the same for every entry point."""

    def delivery(self, outcome: SendOutcome) -> None: ...

    def verification(
        self, destination: PhoneNumber, reference_id: str, *, valid: bool, reason: str | None = None
    ) -> None: ...

    def rejected(self, reason: str, *, destination: PhoneNumber | None = None) -> None: ...

    def upstream_error(self, code: str, operation: str, *, maybe_sent: bool) -> None: ...


@record
class EventHistory:
    """The recent events (epoch milliseconds, oldest first) of one limit key, as last stored.

    ``counts`` is empty for a per-number history (each event is one send); a send budget's shard keeps
    one event per time bucket and the number of sends in it (otp/domain/budget.py).
    """

    key: str
    events_ms: tuple[int, ...] = ()
    version: int = 0  # 0: nothing stored yet
    counts: tuple[int, ...] = ()


@record
class HistoryUpdate:
    """Replace a history, but only if it is still at ``expected_version`` when the write lands."""

    key: str
    events_ms: tuple[int, ...]
    expected_version: int
    expires_at: int  # epoch seconds after which the history is irrelevant (DynamoDB TTL)
    counts: tuple[int, ...] = ()


#: An item's numeric attributes by name (counter and block items: otp/domain/adaptive.py).
Counters = Mapping[str, int]


@record
class RangeBlock:
    """A number range's block (``block#<prefix>``): until when (epoch ms; 0: never blocked), how many
    times it offended and the level of its block length, the evidence (the rolling hour's sends and
    verified codes when it was imposed), and an operator's ``pinned`` (blocked until lifted) or
    ``allowed`` (never blocked automatically)."""

    prefix: str
    until_ms: int = 0
    since_ms: int = 0
    level: int = 0
    offences: int = 0
    sends: int = 0
    verified: int = 0
    pinned: bool = False
    allowed: bool = False

    def active(self, now_ms: int) -> bool:
        return not self.allowed and (self.pinned or self.until_ms > now_ms)

    def numbers(self) -> dict[str, int]:
        return {
            "until": self.until_ms,
            "since": self.since_ms,
            "level": self.level,
            "offences": self.offences,
            "sends": self.sends,
            "verified": self.verified,
            "pinned": int(self.pinned),
            "allowed": int(self.allowed),
        }

    @classmethod
    def from_counters(cls, prefix: str, item: Counters) -> RangeBlock:
        return cls(
            prefix=prefix,
            until_ms=item.get("until", 0),
            since_ms=item.get("since", 0),
            level=item.get("level", 0),
            offences=item.get("offences", 0),
            sends=item.get("sends", 0),
            verified=item.get("verified", 0),
            pinned=bool(item.get("pinned", 0)),
            allowed=bool(item.get("allowed", 0)),
        )


class BlockBook(Protocol):
    """Where range blocks live (the protection table). Raises UpstreamError when it cannot be used."""

    def impose(
        self,
        block: RangeBlock,
        *,
        previous_until_ms: int,
        now_ms: int,
        compensate: Sequence[JoinedWrite] = (),
    ) -> bool:
        """Write ``block`` only if the range is not blocked at ``now_ms``, not pinned or allowed, and
        its block still ends at ``previous_until_ms``, with ``compensate`` in the same request (the
        evidence taken off the wider ranges): False, nothing written, when another request or an
        operator got there first."""
        ...

    def blocks(self) -> list[RangeBlock]:
        """Every range with a block item (active, ended, pinned or allowed)."""
        ...

    def put(self, block: RangeBlock, *, expires_at: int | None) -> None:
        """An operator's change, as it is."""
        ...


class LimitLedger(RecordStore, Protocol):
    """Atomic storage for limit histories (DynamoDB in production and in the sandbox).

    ``commit`` is all-or-nothing: it returns False, changing nothing, when any key was written by
    someone else since it was read. That compare-and-set is what makes concurrent requests unable to
    exceed a limit: the domain re-reads and decides again. ``joined`` writes go in the same request;
    one whose own condition fails raises its ``refused()`` error, changing nothing.
    """

    def read(self, key: str) -> EventHistory: ...

    def read_batch(
        self, history_keys: Sequence[str], counter_keys: Sequence[str] = ()
    ) -> tuple[list[EventHistory], dict[str, Counters]]:
        """Several histories and items of numbers (absent ones: empty), consistently, in one call."""
        ...

    def commit(self, updates: Sequence[HistoryUpdate], joined: Sequence[JoinedWrite] = ()) -> bool: ...


class TicketState(StrEnum):
    PENDING = "PENDING"
    VALID = "VALID"


@record
class TicketRecord:
    """A device ticket's record (otp/domain/tickets.py): its state and when that ends (epoch seconds)."""

    state: TicketState
    until: int


class TicketBook(Protocol):
    """Where device-ticket records live (the protection table). Every method raises UpstreamError when
    the store cannot be used."""

    def hold(self, key: str, *, until: int) -> None:
        """Record a pending ticket; nothing if the key is already there."""
        ...

    def confirm(self, key: str, *, now: int, until: int) -> bool:
        """Make a pending, unexpired ticket valid until ``until``; False when there is none."""
        ...

    def read(self, key: str) -> TicketRecord | None: ...


@record
class AttemptResult:
    """What ``VerificationBook.attempt`` found: ``recorded`` when the call was counted, and the item as
    it was before (``state``)."""

    recorded: bool
    state: VerifyState


class VerificationBook(Protocol):
    """The lifecycle records (otp/domain/verification.py) on the ``verify#`` items of the protection
    table. A send writes its record as a JoinedWrite in the send's commit, a right code its mark in the
    verification's one request after the engine answered; these are the record's own calls. Every method
    raises UpstreamError when the store cannot be used."""

    def attempt(self, key: str, *, owner: str, now_ms: int, cap: int, expires_at: int) -> AttemptResult:
        """Count one verify call, atomically, only while the verification (if there is a record) is
        ``owner``'s and neither verified nor cancelled nor expired nor out of attempts, and fewer than
        ``cap`` calls are in the list; the code's attempt count goes up by one with it."""
        ...

    def attempt_replacing(
        self,
        key: str,
        *,
        owner: str,
        calls_ms: Sequence[int],
        now_ms: int,
        expected: Sequence[int],
        expires_at: int,
    ) -> AttemptResult:
        """As ``attempt``, but the calls list becomes ``calls_ms`` (older calls dropped, this one added),
        only if it still holds ``expected``: how a full list makes room once its oldest call is out of
        the cap's window."""
        ...

    def read(self, key: str) -> VerifyState: ...

    def cancel(self, key: str, *, owner: str, now_ms: int) -> tuple[bool, VerifyState]:
        """Mark the owner's open verification cancelled; (changed, the item after or as found)."""
        ...

    def send_failed(self, key: str, *, nonce: str, delivery_status: str) -> None:
        """Correct what a send recorded before the engine answered (only that send's entry)."""
        ...
