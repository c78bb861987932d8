"""The engine's send rate (otp/domain/engine_rate.py) and how the send use case keeps to it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from otp.domain.engine_rate import EngineRate, EngineRateLimited, RateSlot, RateSlotTaken
from otp.domain.models import (
    OPEN_QUOTA,
    UNKNOWN_SOURCE,
    DeliveryReport,
    OtpPolicy,
    PhoneNumber,
    RequestSource,
    SendOtpRequest,
    SendQuota,
)
from otp.domain.ports import JoinedWrite
from otp.domain.reasons import RejectReason
from otp.domain.service import OtpService


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def rate(clock: Clock, *, time_left: float = 20.0, per_second: int = 1) -> EngineRate:
    return EngineRate(
        per_second,
        time_left=lambda: time_left,
        reserve_seconds=12.5,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.01,
    )


def test_a_slot_is_the_current_second_counted_up_to_the_tiers_rate():
    slot = rate(Clock(1_800_000_000.7), per_second=25).slot()
    assert slot == RateSlot(key="rate#1800000000", per_second=25, expires_at=1_800_000_120)
    # A slot names a second, never a number or a caller
    assert isinstance(slot.refused(), RateSlotTaken)


def test_waiting_sleeps_into_the_next_second():
    clock = Clock(1_800_000_000.25)
    rate(clock).wait_for_next_second()
    assert clock.slept == [pytest.approx(0.76)]
    assert int(clock.now) == 1_800_000_001


def test_no_wait_the_invocation_cannot_afford_after_it():
    # Given 13 s left, of which an engine call may need 12.5: a wait of 0.76 s would leave too little
    clock = Clock(1_800_000_000.25)
    with pytest.raises(EngineRateLimited) as refused:
        rate(clock, time_left=13.0).wait_for_next_second()
    # Then nothing was slept, and the refusal is a 503-style one with Retry-After 1
    assert clock.slept == []
    assert (refused.value.reason, refused.value.retry_after) == (RejectReason.ENGINE_RATE_LIMITED, 1)


class SlotsGuard:
    """A send guard that commits slots: each second has ``per_second`` of them."""

    def __init__(self, per_second: int = 1) -> None:
        self.per_second = per_second
        self.taken: dict[str, int] = {}
        self.joined: list[Sequence[JoinedWrite]] = []

    def before_send(
        self,
        destination: PhoneNumber,
        quota: SendQuota = OPEN_QUOTA,
        joined: Sequence[JoinedWrite] = (),
        source: RequestSource = UNKNOWN_SOURCE,
    ) -> None:
        self.joined.append(joined)
        for write in joined:
            if isinstance(write, RateSlot):
                if self.taken.get(write.key, 0) >= write.per_second:
                    raise write.refused()
                self.taken[write.key] = self.taken.get(write.key, 0) + 1


class Gateway:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, request: SendOtpRequest) -> DeliveryReport:
        self.sent.append(request.destination)
        return DeliveryReport("SUCCESSFUL", "m", 200, None)

    def verify(self, *, destination: str, reference_id: str, code: str) -> bool:
        return False


class Observer:
    def __init__(self) -> None:
        self.rejected_reasons: list[str] = []

    def delivery(self, outcome: object) -> None: ...

    def verification(self, *args: object, **kwargs: object) -> None: ...

    def rejected(self, reason: str, *, destination: object = None) -> None:
        self.rejected_reasons.append(reason)

    def upstream_error(self, *args: object, **kwargs: object) -> None: ...


def service(
    clock: Clock, guard: SlotsGuard, gateway: Gateway, observer: Observer, time_left: float
) -> OtpService:
    policy = OtpPolicy("Acme", "+12065550199", 6, 5, 3, "en-US")
    return OtpService(
        gateway=gateway,
        policy=policy,
        allowed_countries={"US"},
        observer=observer,
        send_guards=(guard,),
        engine_rate=rate(clock, time_left=time_left),
    )


def test_a_send_that_finds_its_second_full_waits_for_the_next_and_goes_out():
    # Given the Basic tier's one send a second, already taken in this second
    clock, guard, gateway, observer = Clock(1_800_000_000.25), SlotsGuard(), Gateway(), Observer()
    otp = service(clock, guard, gateway, observer, time_left=20.0)
    otp.send("+12065550100")
    # When a second send comes in the same second
    otp.send("+12065550111")
    # Then it waited into the next second, took its slot there, and went out: nothing was refused
    assert gateway.sent == ["+12065550100", "+12065550111"]
    assert guard.taken == {"rate#1800000000": 1, "rate#1800000001": 1}
    assert len(clock.slept) == 1
    assert observer.rejected_reasons == []


def test_a_send_that_cannot_wait_is_refused_and_reported():
    clock, guard, gateway, observer = Clock(1_800_000_000.25), SlotsGuard(), Gateway(), Observer()
    service(clock, guard, gateway, observer, time_left=20.0).send("+12065550100")
    # When a send with too little time left finds the second full
    with pytest.raises(EngineRateLimited):
        service(clock, guard, gateway, observer, time_left=13.0).send("+12065550111")
    # Then the engine was not asked, and the refusal was counted once, under its own reason
    assert gateway.sent == ["+12065550100"]
    assert observer.rejected_reasons == [RejectReason.ENGINE_RATE_LIMITED]
