"""Passwordless sign-in with an SMS code: the decisions behind Cognito's three custom-auth triggers.

No Cognito event shapes here: ``otp.handlers.cognito`` turns events into these values and back. Sending
and verifying go through the same ``OtpService`` as the HTTP API, so limits, screening, logs and
metrics are the same whichever door a code goes out of.

Three rules shape this module:
- One SMS per sign-in session. The first round sends a code under a fresh reference id and records
  the reference in the round's challenge metadata; later rounds (after a wrong answer) find it there
  and ask again for the same code. Sending a new code per wrong answer would text the user once per
  typo, and every SMS costs money.
- No user enumeration. An unknown user, a user without a verified phone number, and a user whose
  send failed all get a challenge of exactly the same shape as a real one, with a plausible masked
  number that is the same on every attempt for the same username.
- Fail closed. A malformed or wrong answer, or any error while checking it, is a wrong answer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from otp.domain.errors import DeliveryFailed, InvalidRequest, OtpError, SendRefused, UpstreamError
from otp.domain.models import PhoneNumber
from otp.domain.pacing import LatencyPacer
from otp.domain.phone import E164_PATTERN, parse_phone_number
from otp.domain.rules import REFERENCE_ID_PATTERN
from otp.domain.service import OtpService, new_reference_id

CUSTOM_CHALLENGE = "CUSTOM_CHALLENGE"

# Marks the rounds this module created; what follows the prefix is the session's Pinpoint reference id.
METADATA_PREFIX = "OTP-"

# Public parameter names: the ones Cognito itself uses for its SMS_MFA challenge, so client code and
# UI libraries that already show "code sent to +1********00" for MFA can show this challenge as well.
PUBLIC_DELIVERY_MEDIUM = "CODE_DELIVERY_DELIVERY_MEDIUM"
PUBLIC_DESTINATION = "CODE_DELIVERY_DESTINATION"
PUBLIC_CODE_LENGTH = "CODE_LENGTH"

# Private parameter names: only Cognito and the Verify trigger ever see these.
PRIVATE_REFERENCE_ID = "referenceId"
PRIVATE_DESTINATION = "destination"

_REFERENCE_ID = re.compile(REFERENCE_ID_PATTERN)
_E164 = re.compile(E164_PATTERN)


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


def decide_next_step(rounds: Sequence[ChallengeRound], allowed_attempts: int) -> Decision:
    """Challenge a fresh session, issue tokens after a right answer, fail after too many wrong ones.

    Only this module's custom challenge is accepted: a session that went through SRP or a password
    verifier is not a passwordless sign-in, and letting it continue would mix two flows' rules.
    """
    wrong = sum(1 for r in rounds if not r.succeeded)
    if any(r.name != CUSTOM_CHALLENGE for r in rounds):
        return Decision(NextStep.FAIL, "unexpected challenge type in session", wrong)
    if not rounds:
        return Decision(NextStep.CHALLENGE, "new session", 0)
    if rounds[-1].succeeded:
        return Decision(NextStep.ISSUE_TOKENS, "correct answer", wrong)
    if wrong >= allowed_attempts:
        return Decision(NextStep.FAIL, "no attempts left", wrong)
    return Decision(NextStep.CHALLENGE, "wrong answer, attempts left", wrong)


def session_reference(rounds: Sequence[ChallengeRound]) -> str | None:
    """The reference id the session's first round used, if a round of ours recorded one."""
    for r in rounds:
        if r.name == CUSTOM_CHALLENGE and r.metadata and r.metadata.startswith(METADATA_PREFIX):
            reference = r.metadata[len(METADATA_PREFIX) :]
            if _REFERENCE_ID.fullmatch(reference):
                return reference
    return None


@dataclass(frozen=True, slots=True)
class SignInUser:
    """The user as Create Auth Challenge sees them. ``found`` is false for a user that does not exist."""

    username: str
    found: bool
    phone_number: str | None
    phone_number_verified: bool


class SendResult(StrEnum):
    """What happened to this round's SMS: for the log line, never shown to the user."""

    SENT = "SENT"
    REUSED = "REUSED"  # a later round: the first round's code still applies
    NOT_DELIVERED = "NOT_DELIVERED"  # Pinpoint answered with a delivery status other than SUCCESSFUL
    REFUSED = "REFUSED"  # a protection rule refused the send
    UPSTREAM_ERROR = "UPSTREAM_ERROR"  # Pinpoint failed; nothing was sent
    MAYBE_SENT = "MAYBE_SENT"  # Pinpoint timed out; the SMS may be on its way under this reference
    NO_DESTINATION = "NO_DESTINATION"  # decoy: unknown user, or no verified, acceptable number


@dataclass(frozen=True, slots=True)
class SmsChallenge:
    """What Create Auth Challenge answers. ``destination`` is None for a decoy (no SMS, never valid)."""

    public_parameters: dict[str, str]
    private_parameters: dict[str, str]
    metadata: str
    reference_id: str
    destination: PhoneNumber | None
    send_result: SendResult

    @property
    def is_decoy(self) -> bool:
        return self.destination is None


class SmsChallenges:
    """Creates SMS-code challenges and checks answers, through the shared OtpService."""

    def __init__(
        self,
        service: OtpService,
        *,
        allowed_countries: Collection[str],
        decoy_key: bytes,
        reference_factory: Callable[[], str] = new_reference_id,
        send_pacer: LatencyPacer | None = None,
        verify_pacer: LatencyPacer | None = None,
    ) -> None:
        self._service = service
        self._allowed_countries = sorted(allowed_countries)
        self._decoy_key = decoy_key
        self._new_reference = reference_factory
        # Decoys wait as long as real rounds take (otp/domain/pacing.py); None: no pacing (unit tests).
        self._send_pacer = send_pacer
        self._verify_pacer = verify_pacer

    def create(self, user: SignInUser, rounds: Sequence[ChallengeRound]) -> SmsChallenge:
        """The challenge for this round: send in the first round only, reuse the reference afterwards."""
        started = self._send_pacer.clock() if self._send_pacer is not None else 0.0
        reference = session_reference(rounds)
        first_round = reference is None
        if reference is None:
            reference = self._new_reference()
        destination = self._destination(user, report_rejection=first_round)
        if destination is None:
            decoy = self.decoy(
                user.username, reference, phone_number=user.phone_number if user.found else None
            )
            if first_round and self._send_pacer is not None:
                self._send_pacer.pace(started)
            return decoy
        result = self._send(destination, reference) if first_round else SendResult.REUSED
        if first_round and self._send_pacer is not None:
            self._send_pacer.observe(started)
        # A failed send still answers with the real destination and reference: the user learns
        # nothing a working send would not tell them, and after a timeout (MAYBE_SENT) the code that
        # may still arrive is checked against this very reference, so it can still sign them in.
        return self._challenge(reference, destination, destination.masked, result)

    def decoy(
        self, username: str, reference_id: str | None = None, *, phone_number: str | None = None
    ) -> SmsChallenge:
        """A challenge shaped like a real one for a user who gets no SMS; no answer can pass it.

        The masked number must be the one a real user in the same position would be shown, or the
        difference gives the decoy away: the user's own (unverified or refused) number if they have
        one, else the username itself when it is a phone number (pools that sign in by phone, where
        the caller typed the number), else a keyed derivation of the username.
        """
        reference = reference_id or self._new_reference()
        masked = (
            _mask_phone_like(phone_number)
            or _mask_phone_like(username)
            or self._keyed_masked_number(username)
        )
        return self._challenge(reference, None, masked, SendResult.NO_DESTINATION)

    def check_answer(self, private_parameters: Mapping[str, str], answer: object) -> bool:
        """True only when Pinpoint confirms the answer for the session's reference and destination."""
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

    def _send(self, destination: PhoneNumber, reference: str) -> SendResult:
        """Send once; every failure is already logged and counted by the service, so map it and move on."""
        try:
            self._service.send(destination, reference_id=reference)
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
        self, reference: str, destination: PhoneNumber | None, masked: str, result: SendResult
    ) -> SmsChallenge:
        public = {
            PUBLIC_DELIVERY_MEDIUM: "SMS",
            PUBLIC_DESTINATION: masked,
            PUBLIC_CODE_LENGTH: str(self._service.policy.code_length),
        }
        private = {
            PRIVATE_REFERENCE_ID: reference,
            PRIVATE_DESTINATION: destination.e164 if destination is not None else "",
        }
        return SmsChallenge(
            public_parameters=public,
            private_parameters=private,
            metadata=METADATA_PREFIX + reference,
            reference_id=reference,
            destination=destination,
            send_result=result,
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
