"""Number screening: only numbers that can receive an SMS and that SMS pumping does not favour."""

from __future__ import annotations

import phonenumbers
import pytest

from otp.domain.errors import PhoneNumberRejected
from otp.domain.phone import parse_phone_number
from otp.domain.reasons import RejectReason
from otp.domain.screening import NumberScreen, ScreeningPolicy

EVERYWHERE = {"US", "CA", "GB", "DE", "FR", "AU", "IN"}

# One real-format example of each type (libphonenumber's own example numbers).
REFUSED_BY_TYPE = {
    "PREMIUM_RATE": "+19002345678",
    "SHARED_COST": "+4918012345",
    "UAN": "+445512345678",
    "VOICEMAIL": "+49177991234567",
    "PAGER": "+447640123456",
    "PERSONAL_NUMBER": "+447012345678",
    "FIXED_LINE": "+441212345678",
}
TOLL_FREE = "+18002345678"
VOIP = "+445612345678"
MOBILES = ["+12065550100", "+447400123456", "+4915123456789", "+33612345678", "+61412345678"]


def screen(number: str, policy: ScreeningPolicy | None = None) -> None:
    NumberScreen(policy or ScreeningPolicy()).before_send(parse_phone_number(number, EVERYWHERE))


@pytest.mark.parametrize(("type_name", "number"), sorted(REFUSED_BY_TYPE.items()))
def test_numbers_that_cannot_receive_an_sms_or_feed_toll_fraud_are_refused(
    type_name: str, number: str
) -> None:
    # Given a valid number of a refused type (checked against libphonenumber itself)
    assert phonenumbers.number_type(phonenumbers.parse(number)) == getattr(
        phonenumbers.PhoneNumberType, type_name
    )
    # When it is screened
    with pytest.raises(PhoneNumberRejected) as refused:
        screen(number)
    # Then it is refused for its type, named in the message, without echoing the number
    assert refused.value.reason is RejectReason.NUMBER_TYPE_NOT_ALLOWED
    assert type_name in refused.value.detail
    assert number not in refused.value.detail
    assert refused.value.field == "phoneNumber"


@pytest.mark.parametrize("number", [TOLL_FREE, VOIP])
def test_toll_free_and_voip_are_refused_unless_allowed(number: str) -> None:
    # Given the default policy, then one that opts in to both
    with pytest.raises(PhoneNumberRejected) as refused:
        screen(number)
    assert refused.value.reason is RejectReason.NUMBER_TYPE_NOT_ALLOWED
    # When allowed by configuration, then they pass
    screen(number, ScreeningPolicy(allow_toll_free=True, allow_voip=True))


def test_allowing_toll_free_does_not_allow_voip() -> None:
    screen(TOLL_FREE, ScreeningPolicy(allow_toll_free=True))
    with pytest.raises(PhoneNumberRejected):
        screen(VOIP, ScreeningPolicy(allow_toll_free=True))


@pytest.mark.parametrize("number", MOBILES)
def test_mobile_numbers_pass(number: str) -> None:
    screen(number)


def test_a_blocked_prefix_is_refused_and_others_pass() -> None:
    # Given a deployment that blocks one US area code
    policy = ScreeningPolicy(blocked_prefixes=("+1206",))
    # When a number in it, and one outside it, are screened
    with pytest.raises(PhoneNumberRejected) as refused:
        screen("+12065550100", policy)
    screen("+14155550100", policy)
    # Then only the first is refused, for its prefix
    assert refused.value.reason is RejectReason.PREFIX_BLOCKED
    assert "+1206" not in refused.value.detail
