"""Passwordless sign-in with a one-time code: the rules behind Cognito's Define and Create decisions.

Pure functions over what the session's rounds recorded (``otp.domain.challenge_state``). Five rules
shape the sign-in (``otp.domain.challenge`` applies them to sends and answers):
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

from collections.abc import Collection, Sequence
from enum import StrEnum

from otp.domain.challenge_state import (
    CUSTOM_CHALLENGE,
    ChallengeRound,
    SessionState,
    parse_metadata,
)
from otp.domain.models import Channel
from otp.domain.records import record

# The order channels are offered in: the first one the deployment offers carries a session's first code.
CHANNEL_ORDER = (Channel.SMS, Channel.VOICE, Channel.WHATSAPP)


class NextStep(StrEnum):
    CHALLENGE = "CHALLENGE"
    ISSUE_TOKENS = "ISSUE_TOKENS"
    FAIL = "FAIL"


@record
class Decision:
    """What Define Auth Challenge answers, and why (the reason goes to the log, never to the user)."""

    step: NextStep
    reason: str
    wrong_answers: int


@record
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


@record
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
        return Decision(NextStep.FAIL, "unexpected challenge type in session", wrong_answers(rounds, latest))
    if not rounds:
        return Decision(NextStep.CHALLENGE, "new session", 0)
    wrong = wrong_answers(rounds, latest)
    if rounds[-1].succeeded:
        return Decision(NextStep.ISSUE_TOKENS, "correct answer", wrong)
    if wrong >= allowed_attempts:
        return Decision(NextStep.FAIL, "no attempts left", wrong)
    if latest.kind is AnswerKind.SWITCH:
        return Decision(NextStep.CHALLENGE, "channel switch", wrong)
    if latest.kind is AnswerKind.RESEND:
        return Decision(NextStep.CHALLENGE, "resend with a device ticket", wrong)
    return Decision(NextStep.CHALLENGE, "wrong answer, attempts left", wrong)


def wrong_answers(rounds: Sequence[ChallengeRound], latest: Answer) -> int:
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
