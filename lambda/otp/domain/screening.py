"""Number screening: refuse destinations that cannot receive an SMS or that SMS pumping favours.

SMS pumping (toll fraud) works by making a service text numbers whose operator pays the fraudster a
share of the termination fee: premium-rate, shared-cost, UAN and personal-numbering ranges are the
classic targets. None of those can be a user's phone, so refusing them costs no real user anything.
Screening runs before the rate limits so that a refused number does not use up anyone's quota.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from otp.domain.errors import PhoneNumberRejected
from otp.domain.models import PhoneNumber
from otp.domain.reasons import RejectReason

# Types a person's handset number can have. Landlines, pagers and voicemail boxes cannot read an SMS;
# the rest are ranges where the called party is paid (or can be) for traffic.
ALWAYS_ALLOWED_TYPES: frozenset[int] = frozenset(
    {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
# Some real users have them (toll-free SMS in North America, app-based numbers), but they are also
# cheap to obtain in bulk for fake sign-ups: a deployment opts in.
OPT_IN_TYPES: frozenset[int] = frozenset({PhoneNumberType.TOLL_FREE, PhoneNumberType.VOIP})

_TYPE_NAMES: dict[int, str] = {
    value: name for name, value in vars(PhoneNumberType).items() if name.isupper() and isinstance(value, int)
}


def number_type_name(number_type: int) -> str:
    return _TYPE_NAMES.get(number_type, "UNKNOWN")


@dataclass(frozen=True, slots=True)
class ScreeningPolicy:
    allow_toll_free: bool = False
    allow_voip: bool = False
    blocked_prefixes: tuple[str, ...] = ()

    @property
    def allowed_types(self) -> frozenset[int]:
        allowed = set(ALWAYS_ALLOWED_TYPES)
        if self.allow_toll_free:
            allowed.add(PhoneNumberType.TOLL_FREE)
        if self.allow_voip:
            allowed.add(PhoneNumberType.VOIP)
        return frozenset(allowed)


class NumberScreen:
    """A SendGuard: raises PhoneNumberRejected (HTTP 400) for a number this deployment must not text.

    The country check already happened in parse_phone_number; this adds the number's type and the
    deployment's blocked prefixes. Messages never repeat the number.
    """

    def __init__(self, policy: ScreeningPolicy) -> None:
        self._policy = policy
        self._allowed_types: Collection[int] = policy.allowed_types

    def before_send(self, destination: PhoneNumber) -> None:
        for prefix in self._policy.blocked_prefixes:
            if destination.e164.startswith(prefix):
                raise PhoneNumberRejected(
                    "phone numbers in this range are not accepted", reason=RejectReason.PREFIX_BLOCKED
                )
        number_type = phonenumbers.number_type(phonenumbers.parse(destination.e164, None))
        if number_type not in self._allowed_types:
            raise PhoneNumberRejected(
                f"phone numbers of type {number_type_name(number_type)} cannot receive one-time passwords; "
                "use a mobile number",
                reason=RejectReason.NUMBER_TYPE_NOT_ALLOWED,
            )
