"""Channel fallback: when a verification is still open some time after it began, the next channel sends a
new code under the same reference (a call when the text did not arrive).

``POST /otp`` takes the plan (``"fallback": [{"channel": "VOICE", "afterSeconds": 60}]``); the send use
case checks it (:func:`check_plan`), records it with the verification (otp/domain/verification.py) and,
once the first code is out, asks the scheduler for a job at ``start + afterSeconds``
(:class:`FallbackScheduler`: EventBridge Scheduler on AWS, the sandbox's clock locally). The job runs
:class:`ChannelFallback`: it reads the verification and sends only while it is open (neither verified nor
cancelled) and still at the send the job was planned after (its nonce), through the same guards as every
send (screening, the number's limits, the budget, the engine's rate), with the new code's record joined to
the send's commit on the same condition, so a verification or cancellation that lands between the read
and the commit still stops it. Then it schedules the next step, if any.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from otp.domain.errors import DeliveryFailed, InvalidRequest, OtpError, SendRefused, UpstreamError
from otp.domain.models import Channel, PhoneNumber
from otp.domain.reasons import RejectReason
from otp.domain.records import record
from otp.domain.verification import FallbackStep, StepRefused

if TYPE_CHECKING:
    from otp.domain.ports import OtpObserver, VerificationBook
    from otp.domain.service import OtpService

#: Bounds of ``afterSeconds`` (otp/api_schema.py repeats them): at least the cooldown too (check_plan).
MIN_AFTER_SECONDS = 30
MAX_AFTER_SECONDS = 3600
MAX_STEPS = 2
FIELD = "fallback"


@record
class FallbackJob:
    """What a scheduled fallback carries: the number and reference (to find the verification), which
    step of its plan, and the nonce of the send it follows (a newer send retires the job)."""

    phone_number: str
    reference_id: str
    step: int
    nonce: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "phoneNumber": self.phone_number,
                "referenceId": self.reference_id,
                "step": self.step,
                "nonce": self.nonce,
            }
        )

    @classmethod
    def from_event(cls, event: Any) -> FallbackJob:
        """The job from the scheduler's event (the schedule's input); ValueError when it is not one."""
        if not isinstance(event, dict):
            raise ValueError("a fallback job is a JSON object")
        phone, reference, step, nonce = (
            event.get(k) for k in ("phoneNumber", "referenceId", "step", "nonce")
        )
        if not (
            isinstance(phone, str)
            and isinstance(reference, str)
            and isinstance(nonce, str)
            and isinstance(step, int)
            and not isinstance(step, bool)
            and 0 <= step < MAX_STEPS
        ):
            raise ValueError("a fallback job needs phoneNumber, referenceId, step and nonce")
        return cls(phone, reference, step, nonce)


class FallbackScheduler(Protocol):
    """Runs a job at a time (epoch ms); raises UpstreamError when the scheduler cannot be used."""

    def schedule(self, job: FallbackJob, *, at_ms: int) -> None: ...


def check_plan(
    steps: Sequence[FallbackStep], *, first: Channel, offered: frozenset[Channel], min_after_seconds: int
) -> tuple[FallbackStep, ...]:
    """The plan, or InvalidRequest (field ``fallback``): channels the deployment offers, none the first
    code's or another step's, later steps later, each at least ``min_after_seconds`` (the cooldown: an
    earlier call would only be refused by it) after the start."""
    plan = tuple(steps)
    problems = []
    if len(plan) > MAX_STEPS:
        problems.append(f"at most {MAX_STEPS} steps")
    seen = {first}
    for step in plan:
        if step.channel not in offered:
            problems.append(f"{step.channel.value} is not a channel this deployment offers")
        elif step.channel in seen:
            problems.append(f"{step.channel.value} is already a channel of this verification")
        seen.add(step.channel)
        if not min_after_seconds <= step.after_seconds <= MAX_AFTER_SECONDS:
            problems.append(f"afterSeconds must be from {min_after_seconds} to {MAX_AFTER_SECONDS}")
    if any(later.after_seconds <= earlier.after_seconds for earlier, later in itertools.pairwise(plan)):
        problems.append("each step's afterSeconds must be later than the one before")
    if problems:
        raise InvalidRequest(
            f"{FIELD}: " + "; ".join(dict.fromkeys(problems)),
            field=FIELD,
            reason=RejectReason.INVALID_REQUEST,
        )
    return plan


def not_offered(detail: str) -> InvalidRequest:
    return InvalidRequest(f"{FIELD}: {detail}", field=FIELD, reason=RejectReason.FALLBACK_NOT_OFFERED)


class FallbackOutcome(StrEnum):
    SENT = "SENT"
    #: Verified, cancelled, sent again, expired from the table, or the plan has no such step.
    NOT_NEEDED = "NOT_NEEDED"
    #: A limit, the budget or the engine's rate refused it (reported as OtpRejected).
    REFUSED = "REFUSED"
    #: The engine failed (reported as OtpUpstreamError or OtpDelivery).
    FAILED = "FAILED"


@record
class FallbackResult:
    outcome: FallbackOutcome
    channel: Channel | None = None
    destination: PhoneNumber | None = None


class ChannelFallback:
    """The scheduled job's use case."""

    def __init__(
        self,
        service: OtpService,
        book: VerificationBook,
        scheduler: FallbackScheduler,
        observer: OtpObserver,
        verification_key: Callable[[PhoneNumber, str], str],
    ) -> None:
        self._service = service
        self._book = book
        self._scheduler = scheduler
        self._observer = observer
        self._key = verification_key

    def run(self, job: FallbackJob) -> FallbackResult:
        destination = self._service.parse_destination(job.phone_number)
        verification = self._book.read(self._key(destination, job.reference_id)).verification
        if (
            verification is None
            or not verification.open
            or verification.nonce != job.nonce
            or job.step >= len(verification.fallback)
        ):
            return FallbackResult(FallbackOutcome.NOT_NEEDED, destination=destination)
        step = verification.fallback[job.step]
        try:
            nonce = self._service.send_step(
                destination,
                reference_id=job.reference_id,
                channel=step.channel,
                language=verification.language,
                expected_nonce=job.nonce,
            )
        except StepRefused:
            return FallbackResult(FallbackOutcome.NOT_NEEDED, step.channel, destination)
        except (SendRefused, InvalidRequest):
            return FallbackResult(FallbackOutcome.REFUSED, step.channel, destination)
        except (DeliveryFailed, UpstreamError, OtpError):
            return FallbackResult(FallbackOutcome.FAILED, step.channel, destination)
        following = job.step + 1
        if following < len(verification.fallback):
            at_ms = verification.started_ms + verification.fallback[following].after_seconds * 1000
            schedule(
                self._scheduler,
                self._observer,
                FallbackJob(job.phone_number, job.reference_id, following, nonce),
                at_ms,
            )
        return FallbackResult(FallbackOutcome.SENT, step.channel, destination)


def schedule(scheduler: FallbackScheduler, observer: OtpObserver, job: FallbackJob, at_ms: int) -> bool:
    """Ask for the job; a scheduler that fails is reported (OtpUpstreamError, an error in the log), not
    raised: the code already sent stands, only its fallback is lost."""
    try:
        scheduler.schedule(job, at_ms=at_ms)
    except UpstreamError as exc:
        observer.upstream_error(exc.code, exc.operation, maybe_sent=False)
        return False
    return True
