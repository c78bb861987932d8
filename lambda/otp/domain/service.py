"""The two use cases, send and verify, shared by the HTTP API and the Cognito triggers."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta

from otp.domain.errors import DeliveryFailed, InvalidRequest, SendRefused, UpstreamError
from otp.domain.models import (
    OPEN_QUOTA,
    Channel,
    DeliveryStatus,
    OtpPolicy,
    PhoneNumber,
    SendOtpRequest,
    SendOutcome,
    SendQuota,
)
from otp.domain.phone import parse_phone_number
from otp.domain.ports import OtpGateway, OtpObserver, SendGuard, VerifyGuard
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
        clock: Callable[[], datetime] = _utcnow,
        reference_factory: Callable[[], str] = new_reference_id,
    ) -> None:
        self._gateway = gateway
        self._policy = policy
        self._allowed_countries = allowed_countries
        self._observer = observer
        self._send_guards = send_guards
        self._verify_guards = verify_guards
        self._clock = clock
        self._new_reference = reference_factory

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
    ) -> SendOutcome:
        """Send a code. Returns on SUCCESSFUL; raises DeliveryFailed for any other delivery status.

        ``channel`` defaults to SMS; one the deployment does not offer is an InvalidRequest (field
        ``channel``) raised before any guard runs, so it uses none of the number's quota. ``quota`` is
        for the Cognito sign-in's own rounds (a channel switch, a device ticket); callers leave it.
        """
        destination = self.parse_destination(phone_number)
        try:
            reference = check_reference_id(reference_id) if reference_id is not None else None
            language = check_language(language) if language is not None else self._policy.language
            chosen = check_channel(channel, self._policy.channels) if channel is not None else Channel.SMS
        except InvalidRequest as exc:
            self._observer.rejected(exc.reason, destination=destination)
            raise
        reference = reference or self._new_reference()
        try:
            # Screening raises PhoneNumberRejected (an InvalidRequest), the limits SendRefused.
            for guard in self._send_guards:
                guard.before_send(destination, quota)
        except (SendRefused, InvalidRequest) as exc:
            self._observer.rejected(exc.reason, destination=destination)
            raise
        except UpstreamError as exc:
            self._observer.upstream_error(exc.code, "SendGuard", maybe_sent=False)
            raise

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

    def verify(self, phone_number: str | PhoneNumber, *, reference_id: str, code: str) -> bool:
        """True only when the engine confirms the code for this reference and number."""
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
        return valid
