"""Passwordless sign-in with a one-time code: sends and answer checks for Cognito's custom-auth triggers.

No Cognito event shapes here: ``otp.handlers.cognito`` turns events into these values and back. Sending
and verifying go through the same ``OtpService`` as the HTTP API, so limits, screening, logs and
metrics are the same whichever door a code goes out of. The rules (one code in force, one switch, one
resend with a ticket, no user enumeration, fail closed) are ``otp.domain.challenge_rules``'; what the
rounds record is ``otp.domain.challenge_state``'; decoys' masked numbers are ``otp.domain.decoys``'.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from enum import StrEnum

from otp.domain.challenge_rules import (
    CODE_ANSWER,
    Answer,
    AnswerKind,
    DeliveryRequest,
    alternatives,
    classify_answer,
    first_channel,
    wrong_answers,
)
from otp.domain.challenge_state import (
    PRIVATE_DESTINATION,
    PRIVATE_REFERENCE_ID,
    PRIVATE_SESSION_REFERENCE,
    PRIVATE_TICKET_RECORD,
    PUBLIC_ALTERNATIVES,
    PUBLIC_ATTEMPTS_REMAINING,
    PUBLIC_CODE_LENGTH,
    PUBLIC_DELIVERY_MEDIUM,
    PUBLIC_DESTINATION,
    PUBLIC_DEVICE_TICKET,
    ChallengeRound,
    Origin,
    SessionCode,
    SessionState,
    session_state,
)
from otp.domain.decoys import decoy_masked_number
from otp.domain.errors import DeliveryFailed, InvalidRequest, OtpError, SendRefused, UpstreamError
from otp.domain.models import OPEN_QUOTA, PhoneNumber, SendQuota
from otp.domain.pacing import LatencyFloor
from otp.domain.phone import parse_phone_number
from otp.domain.records import record
from otp.domain.service import OtpService, new_reference_id
from otp.domain.tickets import DeviceTickets


@record
class SignInUser:
    """The user as Create Auth Challenge sees them. ``found`` is false for a user that does not exist."""

    username: str
    found: bool
    phone_number: str | None
    phone_number_verified: bool


class SendResult(StrEnum):
    """What happened to this round's code: for the log line, never shown to the user."""

    SENT = "SENT"
    REUSED = "REUSED"  # a later round: the code in force still applies
    NOT_DELIVERED = "NOT_DELIVERED"  # the engine answered with a delivery status other than SUCCESSFUL
    REFUSED = "REFUSED"  # a protection rule refused the send
    UPSTREAM_ERROR = "UPSTREAM_ERROR"  # the engine failed; nothing was sent
    MAYBE_SENT = "MAYBE_SENT"  # the engine timed out; the code may be on its way under this reference
    NO_DESTINATION = "NO_DESTINATION"  # decoy: unknown user, or no verified, acceptable number
    NO_VALID_TICKET = "NO_VALID_TICKET"  # a resend whose device ticket is not valid for the number

    @property
    def went_out(self) -> bool:
        return self in (SendResult.SENT, SendResult.MAYBE_SENT)


@record
class SmsChallenge:
    """What Create Auth Challenge answers. ``destination`` is None for a decoy (no code, never valid)."""

    public_parameters: dict[str, str]
    private_parameters: dict[str, str]
    metadata: str
    reference_id: str
    destination: PhoneNumber | None
    send_result: SendResult
    code: SessionCode
    session_reference: str

    @property
    def is_decoy(self) -> bool:
        return self.destination is None


@record
class _RoundPlan:
    """What Create decided for a round before knowing whether the user is real: the same for a decoy."""

    code: SessionCode
    session_reference: str
    switched: bool
    send: bool  # a new code goes out in this round
    quota: SendQuota = OPEN_QUOTA
    ticket: str | None = None  # presented by the client: a valid one lets the send draw on the reserve
    needs_ticket: bool = False  # a resend: nothing goes out without a valid ticket
    previous: SessionCode | None = None  # the code in force before this round, if any
    wrong_answers: int = 0  # the guesses the session got wrong so far, as Define counted them


class SmsChallenges:
    """Creates code challenges and checks answers, through the shared OtpService."""

    def __init__(
        self,
        service: OtpService,
        *,
        allowed_countries: Collection[str],
        decoy_key: bytes,
        reference_factory: Callable[[], str] = new_reference_id,
        send_floor: LatencyFloor | None = None,
        verify_floor: LatencyFloor | None = None,
        delivery_floor: LatencyFloor | None = None,
        limits_clock: Callable[[], float] = time.time,
        tickets: DeviceTickets | None = None,
        report_store_error: Callable[[UpstreamError], None] = lambda error: None,
    ) -> None:
        self._service = service
        self._allowed_countries = sorted(allowed_countries)
        self._offered = service.policy.channels
        self._decoy_key = decoy_key
        self._new_reference = reference_factory
        # Every round that sends (or would, for a decoy) and every answer check waits for a drawn time,
        # real or decoy alike (otp/domain/pacing.py); None: no wait (unit tests). A first round and a
        # later new-code round (switch, resend) each have their floor; so do answers.
        self._send_floor = send_floor
        self._delivery_floor = delivery_floor or send_floor
        self._verify_floor = verify_floor
        # The per-number limits' clock (epoch seconds): a switch's cooldown waiver compares with it.
        self._limits_clock = limits_clock
        # Device tickets (None: no ticket shown or accepted, unit tests); a failure of their store is
        # reported and never fails a round: the ticket then just does not become, or count as, valid.
        self._tickets = tickets
        self._report_store_error = report_store_error

    def create(
        self, user: SignInUser, rounds: Sequence[ChallengeRound], request: DeliveryRequest | None = None
    ) -> SmsChallenge:
        """The challenge for this round: a new code in the first round, on a switch and on a resend with a
        valid device ticket; otherwise the code in force again."""
        plan = self._plan(rounds, request)
        first_round = plan.code.origin is Origin.FIRST
        floor = (self._send_floor if first_round else self._delivery_floor) if plan.send else None
        started = floor.clock() if floor is not None else 0.0
        try:
            return self._create(user, plan, first_round=first_round)
        finally:
            # Sent, refused by a limit, failed, no valid ticket or a decoy: the same drawn wait.
            if floor is not None:
                floor.wait(started)

    def _create(self, user: SignInUser, plan: _RoundPlan, *, first_round: bool) -> SmsChallenge:
        destination = self._destination(user, report_rejection=first_round)
        if destination is None:
            return self._decoy_challenge(user.username, plan, user.phone_number if user.found else None)
        ticket_record = self._ticket_record(destination, plan)
        code, result = plan.code, SendResult.REUSED
        if plan.send:
            code, result = self._new_code(destination, plan)
        # A failed send still answers with the real destination: the user learns nothing a working
        # send would not tell them. In a first round the challenge keeps the new reference, so that
        # after a timeout (MAYBE_SENT) the code that may still arrive can sign them in.
        return self._challenge(plan, code, destination, destination.masked, result, ticket_record)

    def _new_code(self, destination: PhoneNumber, plan: _RoundPlan) -> tuple[SessionCode, SendResult]:
        """Send the round's new code (from the reserve with a valid ticket); the code in force after it."""
        code, quota = plan.code, plan.quota
        if plan.ticket is not None and self._ticket_is_valid(destination, plan.ticket):
            quota = SendQuota(reserve=True, cooldown_waived_since_ms=quota.cooldown_waived_since_ms)
        if plan.needs_ticket and not quota.reserve:
            # Nothing to draw on: nothing is sent (the round still waits its floor, as one that sends).
            result = SendResult.NO_VALID_TICKET
        else:
            sent_at_ms = int(self._limits_clock() * 1000)
            result = self._send(destination, code, quota)
            if result.went_out:
                return SessionCode(code.reference, code.channel, code.origin, sent_at_ms), result
        previous = plan.previous
        if previous is None:
            return SessionCode(code.reference, code.channel, code.origin), result
        # Nothing went out: the code in force stays the one before (it may yet arrive). The challenge
        # still names the channel asked for, as a decoy's would.
        return SessionCode(previous.reference, code.channel, code.origin, previous.sent_at_ms), result

    def _ticket_record(self, destination: PhoneNumber, plan: _RoundPlan) -> str | None:
        """The table key of the session's ticket for the number; the first round holds it as pending."""
        tickets = self._tickets
        if tickets is None or not tickets.enabled:
            return None
        ticket = tickets.ticket_for(plan.session_reference)
        if plan.code.origin is not Origin.FIRST:
            return tickets.record_key(destination.e164, ticket)
        try:
            return tickets.hold(destination.e164, ticket)
        except UpstreamError as exc:
            self._report_store_error(exc)
            return None

    def _ticket_is_valid(self, destination: PhoneNumber, ticket: str) -> bool:
        if self._tickets is None:
            return False
        try:
            return self._tickets.is_valid(destination.e164, ticket)
        except UpstreamError as exc:
            self._report_store_error(exc)
            return False

    def _plan(self, rounds: Sequence[ChallengeRound], request: DeliveryRequest | None) -> _RoundPlan:
        state = session_state(rounds)
        # Define decided with the same classification of the latest answer, so the counts agree.
        answer = classify_answer(state, request, self._offered) if rounds else CODE_ANSWER
        plan = self._plan_code(state, answer)
        return replace(plan, wrong_answers=wrong_answers(rounds, answer))

    def _plan_code(self, state: SessionState, answer: Answer) -> _RoundPlan:
        current = state.current
        if current is None:
            reference = self._new_reference()
            code = SessionCode(reference, first_channel(self._offered), Origin.FIRST)
            return _RoundPlan(code, reference, switched=False, send=True)
        session = state.first_reference or current.reference
        if answer.kind is AnswerKind.SWITCH and answer.channel is not None:
            # The cooldown is waived for a switch only while this session's own code is the last one
            # the number received: one code and its switch may be seconds apart, no more.
            waiver = SendQuota(cooldown_waived_since_ms=current.sent_at_ms)
            code = SessionCode(self._new_reference(), answer.channel, Origin.SWITCH)
            return _RoundPlan(
                code, session, switched=True, send=True, quota=waiver, ticket=answer.ticket, previous=current
            )
        if answer.kind is AnswerKind.RESEND:
            # No waiver: a resend meets the cooldown like any new code.
            code = SessionCode(self._new_reference(), current.channel, Origin.RESEND)
            return _RoundPlan(
                code,
                session,
                switched=state.switched,
                send=True,
                ticket=answer.ticket,
                needs_ticket=True,
                previous=current,
            )
        again = SessionCode(current.reference, current.channel, Origin.AGAIN, current.sent_at_ms)
        return _RoundPlan(again, session, switched=state.switched, send=False)

    def decoy(
        self, username: str, reference_id: str | None = None, *, phone_number: str | None = None
    ) -> SmsChallenge:
        """A first round shaped like a real one for a user who gets no code; no answer can pass it."""
        reference = reference_id or self._new_reference()
        code = SessionCode(reference, first_channel(self._offered), Origin.FIRST)
        return self._decoy_challenge(username, _RoundPlan(code, reference, False, True), phone_number)

    def _decoy_challenge(self, username: str, plan: _RoundPlan, phone_number: str | None) -> SmsChallenge:
        """The masked number must be the one a real user in the same position would be shown, or the
        difference gives the decoy away: the user's own (unverified or refused) number if they have
        one, else the username itself when it is a phone number (pools that sign in by phone, where
        the caller typed the number), else a keyed derivation of the username.
        """
        masked = decoy_masked_number(
            username, phone_number, key=self._decoy_key, allowed_countries=self._allowed_countries
        )
        code = SessionCode(plan.code.reference, plan.code.channel, plan.code.origin)
        return self._challenge(plan, code, None, masked, SendResult.NO_DESTINATION, None)

    def check_answer(
        self, private_parameters: Mapping[str, str], answer: object, request: DeliveryRequest | None = None
    ) -> bool:
        """True only when the engine confirms the answer for the session's reference and destination.

        An answer that comes with a delivery request is not a code: it is wrong without asking the
        engine (no attempt spent), for a real user and a decoy alike. A right answer makes the
        session's device ticket valid.
        """
        if request is not None:
            return False
        floor = self._verify_floor
        started = floor.clock() if floor is not None else 0.0
        try:
            return self._check(private_parameters, answer)
        finally:
            # Right, wrong, malformed, refused by a cap, an engine failure or a decoy: the same drawn wait.
            if floor is not None:
                floor.wait(started)

    def _check(self, private_parameters: Mapping[str, str], answer: object) -> bool:
        destination = private_parameters.get(PRIVATE_DESTINATION) or ""
        reference = private_parameters.get(PRIVATE_REFERENCE_ID) or ""
        if not destination or not reference:
            return False  # a decoy's answer: nothing to ask, never right
        if not isinstance(answer, str):
            return False
        try:
            # Users paste codes with stray spaces; anything else malformed is refused by the service.
            valid = self._service.verify(destination, reference_id=reference, code=answer.strip())
        except OtpError:
            # Already reported by the service (OtpRejected / OtpUpstreamError); to the user it is wrong.
            valid = False
        record = private_parameters.get(PRIVATE_TICKET_RECORD) or ""
        if valid and record and self._tickets is not None:
            try:
                self._tickets.confirm(record)
            except UpstreamError as exc:
                # The sign-in succeeds all the same; only this device's ticket stays pending.
                self._report_store_error(exc)
        return valid

    def _destination(self, user: SignInUser, *, report_rejection: bool) -> PhoneNumber | None:
        """The number to text, or None when there is none we may use (which makes the challenge a decoy)."""
        if not user.found or not user.phone_number or not user.phone_number_verified:
            return None
        try:
            if report_rejection:
                # The service counts the refusal (OtpRejected) once per session, in the first round.
                return self._service.parse_destination(user.phone_number)
            return parse_phone_number(user.phone_number, self._allowed_countries)
        except InvalidRequest:
            return None

    def _send(self, destination: PhoneNumber, code: SessionCode, quota: SendQuota) -> SendResult:
        """Send once; every failure is already logged and counted by the service, so map it and move on."""
        try:
            self._service.send(
                destination, reference_id=code.reference, channel=code.channel.value, quota=quota
            )
        except DeliveryFailed:
            return SendResult.NOT_DELIVERED
        except SendRefused:
            return SendResult.REFUSED
        except InvalidRequest:
            # A screening rule that refuses the number itself (raised by a send guard).
            return SendResult.REFUSED
        except UpstreamError as exc:
            return SendResult.MAYBE_SENT if exc.maybe_sent else SendResult.UPSTREAM_ERROR
        return SendResult.SENT

    def _challenge(
        self,
        plan: _RoundPlan,
        code: SessionCode,
        destination: PhoneNumber | None,
        masked: str,
        result: SendResult,
        ticket_record: str | None,
    ) -> SmsChallenge:
        offered = alternatives(self._offered, code.channel, switched=plan.switched)
        remaining = max(0, self._service.policy.allowed_attempts - plan.wrong_answers)
        public = {
            PUBLIC_DELIVERY_MEDIUM: code.channel.value,
            PUBLIC_DESTINATION: masked,
            PUBLIC_CODE_LENGTH: str(self._service.policy.code_length),
            PUBLIC_ALTERNATIVES: ",".join(channel.value for channel in offered),
            PUBLIC_ATTEMPTS_REMAINING: str(remaining),
        }
        private = {
            PRIVATE_REFERENCE_ID: code.reference,
            PRIVATE_DESTINATION: destination.e164 if destination is not None else "",
            PRIVATE_SESSION_REFERENCE: plan.session_reference,
        }
        if self._tickets is not None:
            # A decoy shows a ticket as well (never recorded, so never valid): the same keys, always.
            public[PUBLIC_DEVICE_TICKET] = self._tickets.ticket_for(plan.session_reference)
            private[PRIVATE_TICKET_RECORD] = ticket_record or ""
        return SmsChallenge(
            public_parameters=public,
            private_parameters=private,
            metadata=code.metadata,
            reference_id=code.reference,
            destination=destination,
            send_result=result,
            code=code,
            session_reference=plan.session_reference,
        )
