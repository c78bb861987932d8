"""Switching engines without failing the codes in flight.

When a deployment moves from one engine to another (Pinpoint to End User Messaging), codes the old
engine sent in the last validity period are still on users' phones, and only the old engine can check
them. ``FallbackVerifyGateway`` sends every new code through the new engine and verifies with it first;
only when it answers "not valid" does it ask the old one. Wiring installs it while the deployment's
``previousEngine`` is set (one validity period after the switch, then the operator removes it).

Why not route by a marker in the reference id: a caller may choose its own reference (the API echoes it
unchanged, and any marker would also be a valid caller reference), so a marker could only ever cover
the references this service generates. Asking the new engine first costs nothing for its own codes; a
second call is made only for answers the new engine refused.

The odds of a guess do not change: for one reference and number, only the engine that sent the code
holds a live one, unless the same reference was sent again after the switch, in which case the old
engine's code stays valid until it expires (at most one validity period), as it would have without the
switch. Each verification still counts once against the per-reference cap.
"""

from __future__ import annotations

from otp.domain.models import DeliveryReport, SendOtpRequest
from otp.domain.ports import OtpGateway


class FallbackVerifyGateway:
    """An OtpGateway: send through ``primary``; verify with ``primary``, then with ``fallback``."""

    def __init__(self, primary: OtpGateway, fallback: OtpGateway) -> None:
        self._primary = primary
        self._fallback = fallback

    def send(self, request: SendOtpRequest) -> DeliveryReport:
        return self._primary.send(request)

    def verify(self, *, destination: str, reference_id: str, code: str) -> bool:
        # An error from either engine propagates: answering "not valid" would hide an outage or a
        # missing permission and fail every in-flight code without a trace.
        if self._primary.verify(destination=destination, reference_id=reference_id, code=code):
            return True
        return self._fallback.verify(destination=destination, reference_id=reference_id, code=code)
