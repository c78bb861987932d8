"""What the API must answer, computed independently of the handler: documented statuses per route
(docs/openapi.json), and whether a body is a request the service accepts (libphonenumber's verdict).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import phonenumbers

from local.test_numbers import SCRIPTED_API_ERRORS, SCRIPTED_DELIVERIES, SLOW_NUMBER
from tests.reliability.contract import ScriptedNumber, documented_5xx_numbers, scripted_numbers
from tests.sandbox_harness import ENGINE_ENV, PINPOINT

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
# tests/integration/conftest.py's handler_env: the countries the in-process handler accepts.
ALLOWED_COUNTRIES = frozenset({"US", "CA", "GB", "IN"})
# What a person's handset can be without the deployment opting in to toll-free or VoIP numbers.
HANDSET_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
SCRIPTED = frozenset({*SCRIPTED_DELIVERIES, *SCRIPTED_API_ERRORS, SLOW_NUMBER})
SEND_FIELDS = frozenset({"phoneNumber", "referenceId", "language", "channel"})
VERIFY_FIELDS = frozenset({"phoneNumber", "referenceId", "code"})
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_REFERENCE = re.compile(r"[A-Za-z0-9._:-]{1,48}")
_CODE = re.compile(r"[0-9]{6}")  # handler_env keeps the default code length


@cache
def offered_channels(engine: str) -> frozenset[str]:
    """The channels the handler's deployment offers on ``engine`` (its OTP_CHANNELS; SMS by default)."""
    return frozenset(ENGINE_ENV[engine].get("OTP_CHANNELS", "SMS").split(","))


@cache
def scripted_outcomes(engine: str) -> dict[str, ScriptedNumber]:
    """What each sandbox test number must get on ``engine`` (tests/reliability/contract.py)."""
    return {number.number: number for number in scripted_numbers(engine)}


@cache
def documented_statuses(path: str) -> frozenset[int]:
    """The statuses docs/openapi.json lists for POST ``path``."""
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return frozenset(int(status) for status in document["paths"][path]["post"]["responses"])


@cache
def documented_languages() -> frozenset[str]:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    language = document["components"]["schemas"]["SendOtpBody"]["properties"]["language"]
    return frozenset(next(option["enum"] for option in language["anyOf"] if "enum" in option))


def verifiable_number(raw: object) -> bool:
    """True when the service checks a code for ``raw`` with the engine: strict E.164 in its one spelling
    (no trunk prefix), valid, allowed country. The number's type is screened before a send only (a code
    can never have gone to a number the screen refuses), so verification does not screen it."""
    if not isinstance(raw, str) or not _E164.fullmatch(raw):
        return False
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(parsed)
        and phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == raw
        and phonenumbers.region_code_for_number(parsed) in ALLOWED_COUNTRIES
    )


def acceptable_number(raw: object) -> bool:
    """True when the service must send to ``raw``: a verifiable number that is a handset."""
    return (
        verifiable_number(raw)
        and phonenumbers.number_type(phonenumbers.parse(str(raw), None)) in HANDSET_TYPES
    )


def valid_send_body(body: Any, engine: str = PINPOINT) -> bool:
    if not isinstance(body, dict) or not set(body) <= SEND_FIELDS or "phoneNumber" not in body:
        return False
    reference, language, channel = body.get("referenceId"), body.get("language"), body.get("channel")
    return (
        (reference is None or (isinstance(reference, str) and bool(_REFERENCE.fullmatch(reference))))
        and (language is None or (isinstance(language, str) and language in documented_languages()))
        and (channel is None or (isinstance(channel, str) and channel in offered_channels(engine)))
        and acceptable_number(body["phoneNumber"])
    )


def well_formed_verify_body(body: Any) -> bool:
    """A verification the service passes to the engine (which then says valid or not)."""
    return (
        isinstance(body, dict)
        and set(body) == VERIFY_FIELDS
        and verifiable_number(body["phoneNumber"])
        and isinstance(body["referenceId"], str)
        and bool(_REFERENCE.fullmatch(body["referenceId"]))
        and isinstance(body["code"], str)
        and bool(_CODE.fullmatch(body["code"]))
    )


def allowed_5xx(body: Any, engine: str = PINPOINT) -> bool:
    """Only the test numbers scripted to fail upstream (on ``engine``) may produce a 5xx."""
    return isinstance(body, dict) and body.get("phoneNumber") in documented_5xx_numbers(engine)
