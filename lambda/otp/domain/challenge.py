"""Passwordless sign-in with a one-time code: the decisions behind Cognito's three custom-auth triggers.

No Cognito event shapes here: ``otp.handlers.cognito`` turns events into these values and back. Sending
and verifying go through the same ``OtpService`` as the HTTP API, so limits, screening, logs and
metrics are the same whichever door a code goes out of.

Five rules shape this module:
- One code in force per sign-in session. The first round sends a code under a fresh reference id and
  records it in the round's challenge metadata; later rounds (after a wrong answer) find it there and
  ask again for the same code. Sending a new code per wrong answer would text the user once per typo,
  and every code costs money.
- One channel switch per session (contracts.md): a client that answers with a delivery request
  (``DeliveryRequest``: "call me instead") gets a new code on the requested channel under a new
  reference, and from then on only that code is accepted. Such an answer is not a guess: Verify asks
  no engine, Define does not count it. A request the session cannot take is a wrong answer.
- One resend per session, for a device ticket only (otp/domain/tickets.py): a client whose round brought
  no code may ask again on the same channel with its ticket; a valid one draws on the number's reserve.
  Every round shows the session's own ticket, which becomes valid when the session's code is verified.
- No user enumeration. An unknown user, a user without a verified phone number, and a user whose
  send failed all get a challenge of exactly the same shape as a real one, with a plausible masked
  number that is the same on every attempt for the same username, and the same channels to switch to.
- Fail closed. A malformed or wrong answer, or any error while checking it, is a wrong answer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import phonenumbers

from otp.domain.errors import DeliveryFailed, InvalidRequest, OtpError, SendRefused, UpstreamError
from otp.domain.models import OPEN_QUOTA, Channel, PhoneNumber, SendQuota
from otp.domain.pacing import LatencyPacer
from otp.domain.phone import E164_PATTERN, parse_phone_number
from otp.domain.rules import REFERENCE_ID_PATTERN
from otp.domain.service import OtpService, new_reference_id
from otp.domain.tickets import DeviceTickets

CUSTOM_CHALLENGE = "CUSTOM_CHALLENGE"

# Marks the rounds this module created. The metadata (seen by Cognito and the triggers, never by the
# client) is "OTP-<reference>/<channel>/<origin>/<sent at>": the code in force, how this round got it,
# and when this session's send of it began (epoch ms on the limits' clock; "-" if it did not go out).
# Sessions begun before channels existed recorded "OTP-<reference>" only: an SMS, first round.
METADATA_PREFIX = "OTP-"
_METADATA = re.compile(
    rf"^OTP-(?P<reference>{REFERENCE_ID_PATTERN.removeprefix('^').removesuffix('$')})"
    r"(?:/(?P<channel>[A-Z]{1,16})/(?P<origin>[A-Z])/(?P<sent>[0-9]{1,16}|-))?$"
)

# Public parameter names: the ones Cognito itself uses for its SMS_MFA challenge, so client code and
# UI libraries that already show "code sent to +1********00" for MFA can show this challenge as well;
# CODE_DELIVERY_ALTERNATIVES (contracts.md) lists the channels the client may still switch to.
PUBLIC_DELIVERY_MEDIUM = "CODE_DELIVERY_DELIVERY_MEDIUM"
PUBLIC_DESTINATION = "CODE_DELIVERY_DESTINATION"
PUBLIC_CODE_LENGTH = "CODE_LENGTH"
PUBLIC_ALTERNATIVES = "CODE_DELIVERY_ALTERNATIVES"
# The session's device ticket (otp/domain/tickets.py): the client keeps it once the sign-in succeeds.
PUBLIC_DEVICE_TICKET = "OTP_DEVICE_TICKET"
# The answers this session may still get wrong before Define ends it, counted as Define counts them
# (a switch or a resend is no guess): the one number a client should show, not its own count.
PUBLIC_ATTEMPTS_REMAINING = "OTP_ATTEMPTS_REMAINING"

# Private parameter names: only Cognito and the Verify trigger ever see these.
PRIVATE_REFERENCE_ID = "referenceId"
PRIVATE_DESTINATION = "destination"
# The session's first reference: the correlation id of every log line of the sign-in, which keeps
# naming it after a switch has put a code under another reference in force.
PRIVATE_SESSION_REFERENCE = "sessionReference"
# The table key of the session's ticket for the number ("" for a decoy): Verify confirms it.
PRIVATE_TICKET_RECORD = "ticketRecord"

# The order channels are offered in: the first one the deployment offers carries a session's first code.
CHANNEL_ORDER = (Channel.SMS, Channel.VOICE, Channel.WHATSAPP)

_E164 = re.compile(E164_PATTERN)


class Origin(StrEnum):
    """How a round came to ask for its code (recorded in the round's metadata)."""

    FIRST = "F"  # the session's first code
    AGAIN = "A"  # asked again after a wrong answer: the same code
    SWITCH = "S"  # a new code on another channel: the answer before it was not a guess
    RESEND = "R"  # a new code on the same channel, asked with a device ticket: not a guess either

    @property
    def brought_new_code(self) -> bool:
        """True when the answer to the previous round asked for this round's new code."""
        return self in (Origin.SWITCH, Origin.RESEND)


@dataclass(frozen=True, slots=True)
class SessionCode:
    """The code in force in a session, as a round of ours recorded it."""

    reference: str
    channel: Channel
    origin: Origin
    sent_at_ms: int | None = None  # when this session's send of it began, if it went out

    @property
    def metadata(self) -> str:
        sent = "-" if self.sent_at_ms is None else str(self.sent_at_ms)
        return f"{METADATA_PREFIX}{self.reference}/{self.channel.value}/{self.origin.value}/{sent}"


def parse_metadata(metadata: str | None) -> SessionCode | None:
    """The code a round of ours recorded; None for another round's metadata (or none)."""
    match = _METADATA.fullmatch(metadata or "")
    if match is None:
        return None
    if match["channel"] is None:
        return SessionCode(match["reference"], Channel.SMS, Origin.FIRST)
    try:
        channel, origin = Channel(match["channel"]), Origin(match["origin"])
    except ValueError:
        return None
    sent = None if match["sent"] == "-" else int(match["sent"])
    return SessionCode(match["reference"], channel, origin, sent)


@dataclass(frozen=True, slots=True)
class ChallengeRound:
    """One earlier round of the sign-in session, as Cognito reports it to Define and Create."""

    name: str
    succeeded: bool
    metadata: str | None = None


class NextStep(StrEnum):
    CHALLENGE = "CHALLENGE"
    ISSUE_TOKENS = "ISSUE_TOKENS"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Decision:
    """What Define Auth Challenge answers, and why (the reason goes to the log, never to the user)."""

    step: NextStep
    reason: str
    wrong_answers: int


@dataclass(frozen=True, slots=True)
class SessionState:
    """What the session's rounds of ours recorded: its first reference, the code in force, and whether
    it used its switch and its resend."""

    first_reference: str | None
    current: SessionCode | None
    switched: bool
    resent: bool = False


def session_state(rounds: Sequence[ChallengeRound]) -> SessionState:
    codes = [
        code
        for r in rounds
        if r.name == CUSTOM_CHALLENGE and (code := parse_metadata(r.metadata)) is not None
    ]
    return SessionState(
        first_reference=codes[0].reference if codes else None,
        current=codes[-1] if codes else None,
        switched=any(code.origin is Origin.SWITCH for code in codes),
        resent=any(code.origin is Origin.RESEND for code in codes),
    )


def session_reference(rounds: Sequence[ChallengeRound]) -> str | None:
    """The reference id the session's first round used, if a round of ours recorded one."""
    return session_state(rounds).first_reference


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    """A client's answer that asks for a code on ``channel`` instead of giving one (contracts.md), with
    the device ticket it holds for the number, if any."""

    channel: str
    ticket: str | None = None


class AnswerKind(StrEnum):
    CODE = "CODE"  # an answer to check; a guess when wrong
    SWITCH = "SWITCH"  # a new code on another channel: not a guess
    RESEND = "RESEND"  # a new code on the same channel, with a device ticket: not a guess
    REFUSED = "REFUSED"  # a delivery request this session cannot take: a wrong answer


@dataclass(frozen=True, slots=True)
class Answer:
    kind: AnswerKind
    channel: Channel | None = None
    ticket: str | None = None  # the device ticket presented with a switch or a resend

    @property
    def is_guess(self) -> bool:
        return self.kind not in (AnswerKind.SWITCH, AnswerKind.RESEND)


CODE_ANSWER = Answer(AnswerKind.CODE)


def classify_answer(
    state: SessionState, request: DeliveryRequest | None, offered: Collection[Channel]
) -> Answer:
    """What the answer to the session's latest round asks for. Define and Create both decide with this,
    so they agree on whether it was a guess and whether a new code goes out."""
    if request is None:
        return CODE_ANSWER
    try:
        channel = Channel(request.channel)
    except ValueError:
        return Answer(AnswerKind.REFUSED)
    current = state.current
    if current is None or channel not in offered:
        return Answer(AnswerKind.REFUSED)
    if channel is current.channel:
        # The same channel again: only with a ticket (a code from the reserve), once per session.
        if not request.ticket or state.resent:
            return Answer(AnswerKind.REFUSED)
        return Answer(AnswerKind.RESEND, channel, request.ticket)
    if state.switched:
        return Answer(AnswerKind.REFUSED)
    return Answer(AnswerKind.SWITCH, channel, request.ticket)


def alternatives(offered: Collection[Channel], current: Channel, *, switched: bool) -> tuple[Channel, ...]:
    """The channels a client may still switch to: every other one offered, until the session switched."""
    if switched:
        return ()
    return tuple(channel for channel in CHANNEL_ORDER if channel in offered and channel is not current)


def first_channel(offered: Collection[Channel]) -> Channel:
    """The channel of a session's first code: SMS where offered, else the first offered in CHANNEL_ORDER."""
    return next(channel for channel in CHANNEL_ORDER if channel in offered)


def decide_next_step(
    rounds: Sequence[ChallengeRound], allowed_attempts: int, latest: Answer = CODE_ANSWER
) -> Decision:
    """Challenge a fresh session, issue tokens after a right answer, fail after too many wrong ones.

    A wrong round counts only when its answer was a guess: a round answered with a switch or a
    resend is followed by a round of origin SWITCH or RESEND (earlier rounds), or is the ``latest``
    one, which the caller classified with ``classify_answer``.

    Only this module's custom challenge is accepted: a session that went through SRP or a password
    verifier is not a passwordless sign-in, and letting it continue would mix two flows' rules.
    """
    if any(r.name != CUSTOM_CHALLENGE for r in rounds):
        return Decision(NextStep.FAIL, "unexpected challenge type in session", _wrong(rounds, latest))
    if not rounds:
        return Decision(NextStep.CHALLENGE, "new session", 0)
    wrong = _wrong(rounds, latest)
    if rounds[-1].succeeded:
        return Decision(NextStep.ISSUE_TOKENS, "correct answer", wrong)
    if wrong >= allowed_attempts:
        return Decision(NextStep.FAIL, "no attempts left", wrong)
    if latest.kind is AnswerKind.SWITCH:
        return Decision(NextStep.CHALLENGE, "channel switch", wrong)
    if latest.kind is AnswerKind.RESEND:
        return Decision(NextStep.CHALLENGE, "resend with a device ticket", wrong)
    return Decision(NextStep.CHALLENGE, "wrong answer, attempts left", wrong)


def _wrong(rounds: Sequence[ChallengeRound], latest: Answer) -> int:
    wrong = 0
    for index, r in enumerate(rounds):
        if r.succeeded:
            continue
        if index + 1 < len(rounds):
            following = parse_metadata(rounds[index + 1].metadata)
            guess = following is None or not following.origin.brought_new_code
        else:
            guess = latest.is_guess
        wrong += guess
    return wrong


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
        send_pacer: LatencyPacer | None = None,
        verify_pacer: LatencyPacer | None = None,
        delivery_pacer: LatencyPacer | None = None,
        limits_clock: Callable[[], float] = time.time,
        tickets: DeviceTickets | None = None,
        report_store_error: Callable[[UpstreamError], None] = lambda error: None,
    ) -> None:
        self._service = service
        self._allowed_countries = sorted(allowed_countries)
        self._offered = service.policy.channels
        self._decoy_key = decoy_key
        self._new_reference = reference_factory
        # Decoys wait as long as real rounds take (otp/domain/pacing.py); None: no pacing (unit tests).
        # First rounds and later new-code rounds (switch, resend) do different work (the first also
        # records the device ticket), so each kind is paced from its own real rounds.
        self._send_pacer = send_pacer
        self._delivery_pacer = delivery_pacer or send_pacer
        self._verify_pacer = verify_pacer
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
        pacer = self._send_pacer if first_round else self._delivery_pacer
        started = pacer.clock() if pacer is not None else 0.0
        destination = self._destination(user, report_rejection=first_round)
        if destination is None:
            decoy = self._decoy_challenge(user.username, plan, user.phone_number if user.found else None)
            if plan.send and pacer is not None:
                pacer.pace(started)
            return decoy
        ticket_record = self._ticket_record(destination, plan)
        code, result = plan.code, SendResult.REUSED
        if plan.send:
            code, result = self._new_code(destination, plan, pacer, started)
        # A failed send still answers with the real destination: the user learns nothing a working
        # send would not tell them. In a first round the challenge keeps the new reference, so that
        # after a timeout (MAYBE_SENT) the code that may still arrive can sign them in.
        return self._challenge(plan, code, destination, destination.masked, result, ticket_record)

    def _new_code(
        self, destination: PhoneNumber, plan: _RoundPlan, pacer: LatencyPacer | None, started: float
    ) -> tuple[SessionCode, SendResult]:
        """Send the round's new code (from the reserve with a valid ticket); the code in force after it."""
        code, quota = plan.code, plan.quota
        if plan.ticket is not None and self._ticket_is_valid(destination, plan.ticket):
            quota = SendQuota(reserve=True, cooldown_waived_since_ms=quota.cooldown_waived_since_ms)
        if plan.needs_ticket and not quota.reserve:
            # Nothing to draw on: nothing is sent, and the round takes as long as one that sends.
            result = SendResult.NO_VALID_TICKET
            if pacer is not None:
                pacer.pace(started)
        else:
            sent_at_ms = int(self._limits_clock() * 1000)
            result = self._send(destination, code, quota)
            if pacer is not None:
                pacer.observe(started)
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
        return replace(plan, wrong_answers=_wrong(rounds, answer))

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
        masked = (
            _mask_phone_like(phone_number)
            or _mask_phone_like(username)
            or self._keyed_masked_number(username)
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
        pacer = self._verify_pacer
        started = pacer.clock() if pacer is not None else 0.0
        destination = private_parameters.get(PRIVATE_DESTINATION) or ""
        reference = private_parameters.get(PRIVATE_REFERENCE_ID) or ""
        if not destination or not reference:
            # A decoy's answer: nothing to ask, but as long to answer as a real wrong one.
            if pacer is not None:
                pacer.pace(started)
            return False
        if not isinstance(answer, str):
            return False
        try:
            # Users paste codes with stray spaces; anything else malformed is refused by the service.
            valid = self._service.verify(destination, reference_id=reference, code=answer.strip())
        except OtpError:
            # Already reported by the service (OtpRejected / OtpUpstreamError); to the user it is wrong.
            valid = False
        if pacer is not None:
            pacer.observe(started)
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

    def _keyed_masked_number(self, username: str) -> str:
        """A masked number that looks like a real one and is the same for every attempt on a username.

        Keyed (HMAC), not a plain hash: this code is public, so with a plain hash anyone could compute
        the decoy digits for a username and compare them with what the challenge shows.
        Cognito matches usernames case-insensitively by default, hence the case folding.
        """
        digest = hmac.new(self._decoy_key, username.casefold().encode(), hashlib.sha256).digest()
        region = self._allowed_countries[digest[0] % len(self._allowed_countries)]
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if example is not None:
            country_code = int(example.country_code or 1)
            national = phonenumbers.national_significant_number(example)
        else:
            country_code, national = 1, "2015550123"
        last_two = f"{int.from_bytes(digest[1:3], 'big') % 100:02d}"
        fake = PhoneNumber(
            e164=f"+{country_code}{national[:-2]}{last_two}", region=region, country_code=country_code
        )
        return fake.masked


def _mask_phone_like(raw: str | None) -> str | None:
    """Mask text shaped like an E.164 number exactly as PhoneNumber.masked would; None otherwise."""
    if not raw or not _E164.fullmatch(raw):
        return None
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    country_code = int(parsed.country_code or 0)
    region = phonenumbers.region_code_for_number(parsed) or ""
    return PhoneNumber(e164=raw, region=region, country_code=country_code).masked
