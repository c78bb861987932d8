"""The two use cases, send and verify, shared by the HTTP API and the Cognito triggers."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta

from otp.domain.errors import DeliveryFailed, InvalidRequest, SendRefused, UpstreamError
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
    OtpGateway,
    OtpObserver,
    RecordStore,
    SendGuard,
    SendRecords,
    VerifyGuard,
    VerifyRecords,
)
from otp.domain.rules import check_channel, check_code, check_language, check_reference_id


def new_reference_id() -> str:
    """An opaque, unguessable reference: knowing one user's reference must not help with another's."""
    return secrets.token_urlsafe(24)


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
    ) -> None:
        """``send_records`` add writes to each send's commit (made by the guard that records the send);
        ``verify_records`` add writes once the engine answered a verification, written together in one
        request to ``record_store`` (otp.domain.ports.JoinedWrite says how to add a kind of item)."""
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
    ) -> SendOutcome:
        """Send a code. Returns on SUCCESSFUL; raises DeliveryFailed for any other delivery status.

        ``channel`` defaults to SMS; one the deployment does not offer is an InvalidRequest (field
        ``channel``) raised before any guard runs, so it uses none of the number's quota. ``quota`` is
        for the Cognito sign-in's own rounds (a channel switch, a device ticket); callers leave it.
        ``source`` (default: the one ``with_source`` bound) is the door and caller.
        """
        source = source or self._source
        destination = self.parse_destination(phone_number)
        try:
            reference = check_reference_id(reference_id) if reference_id is not None else None
            language = check_language(language) if language is not None else self._policy.language
            chosen = check_channel(channel, self._policy.channels) if channel is not None else Channel.SMS
        except InvalidRequest as exc:
            self._observer.rejected(exc.reason, destination=destination)
            raise
        reference = reference or self._new_reference()
        request = SendOtpRequest(
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
            channel=chosen,
        )
        joined = [
            write
            for records in self._send_records
            for write in records.joined_for_send(destination, request, source)
        ]
        try:
            # Screening raises PhoneNumberRejected (an InvalidRequest), the limits SendRefused.
            for guard in self._send_guards:
                guard.before_send(destination, quota, joined, source)
        except (SendRefused, InvalidRequest) as exc:
            self._observer.rejected(exc.reason, destination=destination)
            raise
        except UpstreamError as exc:
            self._observer.upstream_error(exc.code, "SendGuard", maybe_sent=False)
            raise
        sent_at = self._clock()
        try:
            report = self._gateway.send(request)
        except UpstreamError as exc:
            self._observer.upstream_error(exc.code, exc.operation, maybe_sent=exc.maybe_sent)
            raise
        outcome = SendOutcome(
            destination=destination,
            reference_id=reference,
            report=report,
            expires_at=sent_at + timedelta(minutes=self._policy.validity_minutes),
            channel=chosen,
        )
        self._observer.delivery(outcome)
        if outcome.status is not DeliveryStatus.SUCCESSFUL:
            raise DeliveryFailed(outcome)
        return outcome

    def verify(
        self,
        phone_number: str | PhoneNumber,
        *,
        reference_id: str,
        code: str,
        source: RequestSource | None = None,
    ) -> bool:
        """True only when the engine confirms the code for this reference and number."""
        source = source or self._source
        destination = self.parse_destination(phone_number)
        try:
            check_reference_id(reference_id)
            check_code(code, self._policy.code_length)
        except InvalidRequest as exc:
            self._observer.rejected(exc.reason, destination=destination)
            raise
        try:
            for guard in self._verify_guards:
                guard.before_verify(destination, reference_id)
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
        self._observer.verification(destination, reference_id, valid=valid)
        self._record_verification(destination, reference_id, source, valid=valid)
        return valid

    def _record_verification(
        self, destination: PhoneNumber, reference_id: str, source: RequestSource, *, valid: bool
    ) -> None:
        """What the engine's answer changes, in one request. A failure is reported, not raised: the
        engine's answer stands (a right code is right even if the store missed the news)."""
        writes = [
            write
            for records in self._verify_records
            for write in records.joined_for_verify(destination, reference_id, source, valid=valid)
        ]
        if not writes or self._record_store is None:
            return
        try:
            self._record_store.record(writes)
        except UpstreamError as exc:
            self._observer.upstream_error(exc.code, exc.operation, maybe_sent=False)
