"""Number screening: refuse destinations that cannot receive an SMS or that SMS pumping favours.

SMS pumping (toll fraud) works by making a service text numbers whose operator pays the fraudster a
share of the termination fee: premium-rate, shared-cost, UAN and personal-numbering ranges are the
classic targets. None of those can be a user's phone, so refusing them costs no real user anything.
Screening runs before the rate limits so that a refused number does not use up anyone's quota.
"""

from __future__ import annotations

from collections.abc import Sequence

from otp.domain.errors import PhoneNumberRejected
from otp.domain.models import OPEN_QUOTA, UNKNOWN_SOURCE, PhoneNumber, RequestSource, SendQuota
from otp.domain.ports import JoinedWrite
from otp.domain.reasons import RejectReason
from otp.domain.records import record

# Types a person's handset number can have (libphonenumber's PhoneNumberType names). Landlines, pagers
# and voicemail boxes cannot read an SMS; the rest are ranges where the called party is paid (or can be)
# for traffic.
ALWAYS_ALLOWED_TYPES: frozenset[str] = frozenset({"MOBILE", "FIXED_LINE_OR_MOBILE"})
# Some real users have them (toll-free SMS in North America, app-based numbers), but they are also
# cheap to obtain in bulk for fake sign-ups: a deployment opts in.
OPT_IN_TYPES: frozenset[str] = frozenset({"TOLL_FREE", "VOIP"})


@record
class ScreeningPolicy:
    allow_toll_free: bool = False
    allow_voip: bool = False
    blocked_prefixes: tuple[str, ...] = ()

    @property
    def allowed_types(self) -> frozenset[str]:
        allowed = set(ALWAYS_ALLOWED_TYPES)
        if self.allow_toll_free:
            allowed.add("TOLL_FREE")
        if self.allow_voip:
            allowed.add("VOIP")
        return frozenset(allowed)


class NumberScreen:
    """A SendGuard: raises PhoneNumberRejected (HTTP 400) for a number this deployment must not text.

    The country check and the parse already happened in parse_phone_number, which also classified the
    number; this adds the type rule and the deployment's blocked prefixes, on the canonical E.164 text
    (so a prefix cannot be dodged by spelling the number differently). Messages never repeat the number.
    """

    def __init__(self, policy: ScreeningPolicy) -> None:
        self._blocked_prefixes = policy.blocked_prefixes
        self._allowed_types = policy.allowed_types

    def before_send(
        self,
        destination: PhoneNumber,
        quota: SendQuota = OPEN_QUOTA,
        joined: Sequence[JoinedWrite] = (),
        source: RequestSource = UNKNOWN_SOURCE,
    ) -> None:
        if destination.e164.startswith(self._blocked_prefixes):
            raise PhoneNumberRejected(
                "phone numbers in this range are not accepted", reason=RejectReason.PREFIX_BLOCKED
            )
        if destination.number_type not in self._allowed_types:
            raise PhoneNumberRejected(
                f"phone numbers of type {destination.number_type} cannot receive one-time passwords; "
                "use a mobile number",
                reason=RejectReason.NUMBER_TYPE_NOT_ALLOWED,
            )
