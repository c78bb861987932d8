"""The masked number a decoy challenge shows: the one a real user in the same position would be shown.

A decoy (unknown user, no verified or acceptable number) must show a masked number, or its absence gives
it away; and the same one on every attempt for the same username, or asking twice does.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

import phonenumbers

from otp.domain.models import PhoneNumber
from otp.domain.phone import E164_PATTERN

_E164 = re.compile(E164_PATTERN)


def decoy_masked_number(
    username: str, phone_number: str | None, *, key: bytes, allowed_countries: Sequence[str]
) -> str:
    """The user's own (unverified or refused) number if they have one, else the username itself when it
    is a phone number (pools that sign in by phone, where the caller typed the number), else a keyed
    derivation of the username."""
    return (
        mask_phone_like(phone_number)
        or mask_phone_like(username)
        or keyed_masked_number(username, key=key, allowed_countries=allowed_countries)
    )


def keyed_masked_number(username: str, *, key: bytes, allowed_countries: Sequence[str]) -> str:
    """A masked number that looks like a real one and is the same for every attempt on a username.

    Keyed (HMAC), not a plain hash: this code is public, so with a plain hash anyone could compute
    the decoy digits for a username and compare them with what the challenge shows.
    Cognito matches usernames case-insensitively by default, hence the case folding.
    """
    digest = hmac.new(key, username.casefold().encode(), hashlib.sha256).digest()
    region = allowed_countries[digest[0] % len(allowed_countries)]
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


def mask_phone_like(raw: str | None) -> str | None:
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
