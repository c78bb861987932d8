"""The use cases: send and verify (shared by the HTTP API and the Cognito triggers), and a verification's
status and cancellation (the HTTP API's; otp/domain/verification.py holds the rules)."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta

from otp.domain.engine_rate import EngineRate, RateSlotTaken
from otp.domain.errors import DeliveryFailed, InvalidRequest, SendRefused, UpstreamError, UpstreamFailure
from otp.domain.fallback import MIN_AFTER_SECONDS, FallbackJob, FallbackScheduler, check_plan
from otp.domain.fallback import not_offered as fallback_not_offered
from otp.domain.fallback import schedule as schedule_fallback
from otp.domain.limiter import limit_key
from otp.domain.limits import DAY_SECONDS
from otp.domain.models import (
    OPEN_QUOTA,
    UNKNOWN_SOURCE,
    Channel,
    DeliveryStatus,
    OtpPolicy,
    PhoneNumber,
    RequestSource,
    SendOtpRequest,
    SendOutcome,
    SendQuota,
)
from otp.domain.phone import parse_phone_number
from otp.domain.ports import (
    JoinedWrite,
    OtpGateway,
    OtpObserver,
    RecordStore,
    SendGuard,
    SendRecords,
    VerificationBook,
    VerifyGuard,
    VerifyRecords,
)
from otp.domain.records import record
from otp.domain.rules import check_channel, check_code, check_language, check_reference_id
from otp.domain.verification import (
    FallbackStep,
    StepRefused,
    Verification,
    VerificationAlreadyVerified,
    VerificationClosed,
    VerificationNotFound,
    VerificationStart,
    VerificationStep,
    VerificationVerified,
    VerificationView,
    VerificationWrite,
    VerifyReason,
    new_nonce,
    owner_of,
    view_of,
)

#: How long a verification's record is kept after its last send (the item's TTL; DynamoDB deletes it
#: some time after). The verify calls on the same item keep the per-reference cap's day.
RECORD_SECONDS = DAY_SECONDS + 60


def new_reference_id() -> str:
    """An opaque, unguessable reference: knowing one user's reference must not help with another's."""
    return secrets.token_urlsafe(24)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@record
class VerifyOutcome:
    """``valid``, and when not, why (None when this deployment keeps no lifecycle records)."""

    valid: bool
    reason: VerifyReason | None = None


class OtpService:
    def __init__(
        self,
        *,
        gateway: OtpGateway,
        policy: OtpPolicy,
        allowed_countries: Collection[str],
        observer: OtpObserver,
        send_guards: Sequence[SendGuard] = (),
        verify_guards: Sequence[VerifyGuard] = (),
        send_records: Sequence[SendRecords] = (),
        verify_records: Sequence[VerifyRecords] = (),
        record_store: RecordStore | None = None,
        clock: Callable[[], datetime] = _utcnow,
        reference_factory: Callable[[], str] = new_reference_id,
        verifications: VerificationBook | None = None,
        verify_cap: int = 5,
        engine_rate: EngineRate | None = None,
        fallback_scheduler: FallbackScheduler | None = None,
        fallback_min_seconds: int = MIN_AFTER_SECONDS,
    ) -> None:
        """``send_records`` add writes to each send's commit (made by the guard that records the send);
        ``verify_records`` add writes once the engine answered a verification, written together in one
        request to ``record_store`` (otp.domain.ports.JoinedWrite says how to add a kind of item).

        ``verifications`` keeps the lifecycle records (with the protection table; None without it: no
        status, no cancellation, no reasons), written the same way: each send's record in its commit, a
        right code's mark in the verification's request; ``verify_cap`` is the per-reference verify cap
        a status's attempts left count against (the VerifyAttemptGuard's).

        ``engine_rate`` keeps the sends to the engine's rate: each send takes a slot of its second in its
        commit, waiting for a later second while the invocation can afford it (otp/domain/engine_rate.py).
        ``fallback_scheduler`` runs the channel fallbacks a send plans (otp/domain/fallback.py; none: a
        plan is refused), each step at least ``fallback_min_seconds`` (the cooldown) after the start."""
        self._gateway = gateway
        self._policy = policy
        self._allowed_countries = allowed_countries
        self._observer = observer
        self._send_guards = send_guards
        self._verify_guards = verify_guards
        self._send_records = send_records
        self._verify_records = verify_records
        self._record_store = record_store
        self._clock = clock
        self._new_reference = reference_factory
        self._source = UNKNOWN_SOURCE
        self._book = verifications
        self._verify_cap = verify_cap
        self._rate = engine_rate
        self._scheduler = fallback_scheduler
        self._fallback_min_seconds = max(MIN_AFTER_SECONDS, fallback_min_seconds)

    def with_source(self, source: RequestSource) -> OtpService:
        """The same service, for requests that came through ``source`` (a door's entry point builds it
        per request, cheaply: everything else is shared)."""
        bound = copy.copy(self)
        bound._source = source
        return bound

    @property
    def policy(self) -> OtpPolicy:
        return self._policy

    def parse_destination(self, raw: str | PhoneNumber) -> PhoneNumber:
        """Validate a destination, reporting a refusal to the observer before raising.

        A PhoneNumber is already parsed (by this method, earlier in the same request) and is passed
        through: a request parses its number once.
        """
        if isinstance(raw, PhoneNumber):
            return raw
        try:
            return parse_phone_number(raw, self._allowed_countries)
        except InvalidRequest as exc:
            self._observer.rejected(exc.reason)
            raise

    def send(
        self,
        phone_number: str | PhoneNumber,
        *,
        reference_id: str | None = None,
        language: str | None = None,
        channel: str | None = None,
        quota: SendQuota = OPEN_QUOTA,
        source: RequestSource | None = None,
        fallback: Sequence[FallbackStep] = (),
    ) -> SendOutcome:
        """Send a code. Returns on SUCCESSFUL; raises DeliveryFailed for any other delivery status.

        ``channel`` defaults to SMS; one the deployment does not offer is an InvalidRequest (field
        ``channel``) raised before any guard runs, so it uses none of the number's quota. ``quota`` is
        for the Cognito sign-in's own rounds (a channel switch, a device ticket); callers leave it.
        ``source`` (default: the one ``with_source`` bound) is the door and caller; the verification
        this send starts is its caller's (otp.domain.verification.owner_of). ``fallback`` is its plan
        (otp/domain/fallback.py), checked here (InvalidRequest, field ``fallback``) and scheduled once the
        code is out.
        """
        source = source or self._source
        destination = self.parse_destination(phone_number)
        try:
            reference = check_reference_id(reference_id) if reference_id is not None else None
            language = check_language(language) if language is not None else self._policy.language
            chosen = check_channel(channel, self._policy.channels) if channel is not None else Channel.SMS
            plan = self._fallback_plan(fallback, chosen)
        except InvalidRequest as exc:
            self._observer.rejected(exc.reason, destination=destination)
            raise
        request = self._request(destination, reference or self._new_reference(), language, chosen)
        sent_at = self._clock()
        start = self._start(destination, request, sent_at, source, plan)
        joined: list[JoinedWrite] = [
            write
            for records in self._send_records
            for write in records.joined_for_send(destination, request, source)
        ]
        if start is not None:
            joined.append(start)
        outcome = self._deliver(destination, request, sent_at, joined, quota, source, start)
        if plan and start is not None and self._scheduler is not None:
            job = FallbackJob(destination.e164, request.reference_id, 0, start.nonce)
            schedule_fallback(
                self._scheduler, self._observer, job, start.sent_ms + plan[0].after_seconds * 1000
            )
        return outcome

    def send_step(
        self,
        destination: PhoneNumber,
        *,
        reference_id: str,
        channel: Channel,
        language: str | None,
        expected_nonce: str,
    ) -> str:
        """A fallback's new code under the verification's reference (otp/domain/fallback.py), through every
        guard of a send; its record is joined to the send's commit on condition that the verification is
        still open and at ``expected_nonce`` (StepRefused otherwise: nothing sent, nothing counted).
        Returns the new code's nonce."""
        if self._book is None:
            raise StepRefused("this deployment keeps no verification records")
        request = self._request(destination, reference_id, language or self._policy.language, channel)
        sent_at = self._clock()
        sent_ms = _epoch_ms(sent_at)
        step = VerificationStep(
            key=verification_key(destination, reference_id),
            expected_nonce=expected_nonce,
            nonce=new_nonce(),
            sent_ms=sent_ms,
            expires_ms=sent_ms + request.validity_minutes * 60_000,
            channel=channel,
            expires_at=sent_ms // 1000 + RECORD_SECONDS,
        )
        self._deliver(destination, request, sent_at, [step], OPEN_QUOTA, self._source, step)
        return step.nonce

    def _fallback_plan(self, steps: Sequence[FallbackStep], first: Channel) -> tuple[FallbackStep, ...]:
        if not steps:
            return ()
        if self._scheduler is None or self._book is None:
            raise fallback_not_offered(
                "this deployment offers no channel fallback (it needs End User Messaging with more than one "
                "channel, and the protection table)"
            )
        return check_plan(
            steps, first=first, offered=self._policy.channels, min_after_seconds=self._fallback_min_seconds
        )

    def _request(
        self, destination: PhoneNumber, reference: str, language: str, channel: Channel
    ) -> SendOtpRequest:
        return SendOtpRequest(
            destination=destination.e164,
            reference_id=reference,
            brand_name=self._policy.brand_name,
            origination_identity=self._policy.origination_identity,
            code_length=self._policy.code_length,
            validity_minutes=self._policy.validity_minutes,
            allowed_attempts=self._policy.allowed_attempts,
            language=language,
            entity_id=self._policy.entity_id,
            template_id=self._policy.template_id,
            channel=channel,
        )

    def _deliver(
        self,
        destination: PhoneNumber,
        request: SendOtpRequest,
        sent_at: datetime,
        joined: Sequence[JoinedWrite],
        quota: SendQuota,
        source: RequestSource,
        record: VerificationWrite | None,
    ) -> SendOutcome:
        """The guards (with ``joined`` in the send's commit), then the engine; ``record`` (the send's entry
        in the verification) is corrected when the engine does not send."""
        try:
            self._guard(destination, quota, joined, source)
        except (SendRefused, InvalidRequest) as exc:
            self._observer.rejected(exc.reason, destination=destination)
            raise
        except UpstreamError as exc:
            self._observer.upstream_error(exc.code, "SendGuard", maybe_sent=False)
            raise
        try:
            report = self._gateway.send(request)
        except UpstreamError as exc:
            self._observer.upstream_error(exc.code, exc.operation, maybe_sent=exc.maybe_sent)
            if record is not None:
                status = DeliveryStatus.TIMEOUT if exc.failure is UpstreamFailure.TIMEOUT else None
                self._correct_send(record, (status or DeliveryStatus.UNKNOWN_FAILURE).value)
            raise
        outcome = SendOutcome(
            destination=destination,
            reference_id=request.reference_id,
            report=report,
            expires_at=sent_at + timedelta(minutes=self._policy.validity_minutes),
            channel=request.channel,
        )
        self._observer.delivery(outcome)
        if outcome.status is not DeliveryStatus.SUCCESSFUL:
            if record is not None:
                self._correct_send(record, outcome.status.value)
            raise DeliveryFailed(outcome)
        return outcome

    def _guard(
        self,
        destination: PhoneNumber,
        quota: SendQuota,
        joined: Sequence[JoinedWrite],
        source: RequestSource,
    ) -> None:
        """Every send guard, with a slot of the engine's rate joined to the send's commit: a full second
        is waited out (or refused, EngineRateLimited) and the guards asked again."""
        while True:
            writes = [*joined, self._rate.slot()] if self._rate is not None else joined
            try:
                # Screening raises PhoneNumberRejected (an InvalidRequest), the limits SendRefused.
                for guard in self._send_guards:
                    guard.before_send(destination, quota, writes, source)
                return
            except RateSlotTaken:
                assert self._rate is not None
                self._rate.wait_for_next_second()

    def _start(
        self,
        destination: PhoneNumber,
        request: SendOtpRequest,
        sent_at: datetime,
        source: RequestSource,
        fallback: Sequence[FallbackStep],
    ) -> VerificationStart | None:
        """The verification this send starts, written with the send's limits (None without records)."""
        if self._book is None:
            return None
        sent_ms = _epoch_ms(sent_at)
        return VerificationStart(
            key=limit_key("verify", destination.e164, request.reference_id),
            owner=owner_of(source),
            nonce=new_nonce(),
            sent_ms=sent_ms,
            expires_ms=sent_ms + request.validity_minutes * 60_000,
            channel=request.channel,
            allowed_attempts=request.allowed_attempts,
            expires_at=sent_ms // 1000 + RECORD_SECONDS,
            fallback=tuple(fallback),
            # Only a fallback sends again, in the language of the first code.
            language=request.language if fallback else None,
        )

    def _correct_send(self, write: VerificationWrite, delivery_status: str) -> None:
        """The send was recorded as SUCCESSFUL with its limits, before the engine answered otherwise: one
        more call, on this failure path only."""
        if self._book is None:
            return
        try:
            self._book.send_failed(write.key, nonce=write.nonce, delivery_status=delivery_status)
        except UpstreamError as exc:
            # The send's own failure is what the caller hears; the record stays as it was written.
            self._observer.upstream_error(exc.code, exc.operation, maybe_sent=False)

    def verify(
        self,
        phone_number: str | PhoneNumber,
        *,
        reference_id: str,
        code: str,
        source: RequestSource | None = None,
    ) -> bool:
        """True only when the engine confirms the code for this reference and number."""
        return self.check(phone_number, reference_id=reference_id, code=code, source=source).valid

    def check(
        self,
        phone_number: str | PhoneNumber,
        *,
        reference_id: str,
        code: str,
        source: RequestSource | None = None,
    ) -> VerifyOutcome:
        """Verify, and say why a code is not valid. Only the verification's owner (the caller that
        started it: otp.domain.verification.owner_of) can verify it and hear why not; for anyone else
        it does not exist: NOT_FOUND, no engine call, no attempt spent."""
        source = source or self._source
        owner = owner_of(source)
        destination = self.parse_destination(phone_number)
        try:
            check_reference_id(reference_id)
            check_code(code, self._policy.code_length)
        except InvalidRequest as exc:
            self._observer.rejected(exc.reason, destination=destination)
            raise
        verification: Verification | None = None
        try:
            for guard in self._verify_guards:
                verification = guard.before_verify(destination, reference_id, owner) or verification
        except VerificationClosed as exc:
            # Verified, cancelled, expired, out of attempts or another caller's: the engine is not asked,
            # nothing is counted.
            reason = self._reason(exc.reason, exc.verification, owner)
            self._observer.verification(destination, reference_id, valid=False, reason=reason)
            return VerifyOutcome(False, reason)
        except SendRefused as exc:
            self._observer.rejected(exc.reason, destination=destination)
            raise
        except UpstreamError as exc:
            self._observer.upstream_error(exc.code, "VerifyGuard", maybe_sent=False)
            raise
        try:
            valid = self._gateway.verify(destination=destination.e164, reference_id=reference_id, code=code)
        except UpstreamError as exc:
            self._observer.upstream_error(exc.code, exc.operation, maybe_sent=exc.maybe_sent)
            raise
        reason = None if valid else self._reason(VerifyReason.WRONG_CODE, verification, owner)
        self._observer.verification(destination, reference_id, valid=valid, reason=reason)
        # Only a verification this service recorded is marked: a code from before the record existed
        # has none, and a mark would make a record that never had a send.
        mark = (
            [VerificationVerified(verification_key(destination, reference_id), _epoch_ms(self._clock()))]
            if valid and verification is not None
            else []
        )
        self._record_verification(destination, reference_id, source, valid=valid, own=mark)
        return VerifyOutcome(valid, reason)

    def _reason(
        self, reason: VerifyReason, verification: Verification | None, owner: str
    ) -> VerifyReason | None:
        if self._book is None:
            return None
        if verification is None or verification.owner != owner:
            return VerifyReason.NOT_FOUND
        return reason

    def _record_verification(
        self,
        destination: PhoneNumber,
        reference_id: str,
        source: RequestSource,
        *,
        valid: bool,
        own: Sequence[JoinedWrite] = (),
    ) -> None:
        """What the engine's answer changes, in one request. A failure is reported, not raised: the
        engine's answer stands (a right code is right even if the store missed the news)."""
        writes = [
            *own,
            *(
                write
                for records in self._verify_records
                for write in records.joined_for_verify(destination, reference_id, source, valid=valid)
            ),
        ]
        if not writes or self._record_store is None:
            return
        try:
            self._record_store.record(writes)
        except UpstreamError as exc:
            self._observer.upstream_error(exc.code, exc.operation, maybe_sent=False)

    # ------------------------------------------------------------------------------------- lifecycle

    def status(
        self, phone_number: str, *, reference_id: str, source: RequestSource | None = None
    ) -> VerificationView:
        """Where the caller's verification under this number + reference stands; VerificationNotFound
        for any other caller, an unknown reference or number, or a deployment without records."""
        owner = owner_of(source or self._source)
        destination, book = self._lifecycle_request(phone_number, reference_id)
        state = book.read(verification_key(destination, reference_id))
        if state.verification is None or state.verification.owner != owner:
            raise VerificationNotFound("no such verification")
        return view_of(state, _epoch_ms(self._clock()), cap=self._verify_cap)

    def cancel(
        self, phone_number: str, *, reference_id: str, source: RequestSource | None = None
    ) -> VerificationView:
        """Cancel the caller's verification: every later verify is CANCELLED, no fallback sends. A
        cancelled one stays cancelled (the same answer again); a verified one cannot be
        (VerificationAlreadyVerified). The sends it made still count against every limit."""
        owner = owner_of(source or self._source)
        destination, book = self._lifecycle_request(phone_number, reference_id)
        now_ms = _epoch_ms(self._clock())
        _, state = book.cancel(verification_key(destination, reference_id), owner=owner, now_ms=now_ms)
        verification = state.verification
        if verification is None or verification.owner != owner:
            raise VerificationNotFound("no such verification")
        if verification.verified_ms is not None:
            raise VerificationAlreadyVerified("the verification is already verified")
        return view_of(state, now_ms, cap=self._verify_cap)

    def _lifecycle_request(
        self, phone_number: str, reference_id: str
    ) -> tuple[PhoneNumber, VerificationBook]:
        destination = self.parse_destination(phone_number)
        try:
            check_reference_id(reference_id)
        except InvalidRequest as exc:
            self._observer.rejected(exc.reason, destination=destination)
            raise
        if self._book is None:
            raise VerificationNotFound("this deployment keeps no verification records")
        return destination, self._book


def verification_key(destination: PhoneNumber, reference_id: str) -> str:
    """The ``verify#`` item of a number + reference: its verify calls and its lifecycle record."""
    return limit_key("verify", destination.e164, reference_id)
