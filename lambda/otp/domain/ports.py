"""The interfaces the use cases need from the outside world; adapters implement them."""

from __future__ import annotations

from typing import Protocol

from otp.domain.models import DeliveryReport, PhoneNumber, SendOtpRequest, SendOutcome


class OtpGateway(Protocol):
    """Sends and verifies codes (Pinpoint in production, the sandbox locally)."""

    def send(self, request: SendOtpRequest) -> DeliveryReport: ...

    def verify(self, *, destination: str, reference_id: str, code: str) -> bool: ...


class SendGuard(Protocol):
    """A protection rule consulted before any SMS goes out; raises SendRefused to stop it."""

    def before_send(self, destination: PhoneNumber) -> None: ...


class VerifyGuard(Protocol):
    """A protection rule consulted before a verification reaches the gateway."""

    def before_verify(self, destination: PhoneNumber, reference_id: str) -> None: ...


class OtpObserver(Protocol):
    """Where the use cases report what happened: logs and metrics, the same for every entry point."""

    def delivery(self, outcome: SendOutcome) -> None: ...

    def verification(self, destination: PhoneNumber, reference_id: str, *, valid: bool) -> None: ...

    def rejected(self, reason: str, *, destination: PhoneNumber | None = None) -> None: ...

    def upstream_error(self, code: str, operation: str, *, maybe_sent: bool) -> None: ...
