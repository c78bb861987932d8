"""The documented answers, read from the "Status mapping" tables of docs/http-api.md, and the sandbox's
test numbers.

Tests compare the handler with what the documentation promises, not with a copy of the handler's own
table: if the code and the documentation drift apart, these tests fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from local.test_numbers import SCRIPTED_API_ERRORS, SCRIPTED_DELIVERIES, SCRIPTED_NOTIFY_OUTCOMES, SLOW_NUMBER
from tests.doc_pages import page, section
from tests.sandbox_harness import END_USER_MESSAGING, PINPOINT

# API Gateway ends an integration after 29 seconds: every answer must come before that.
API_GATEWAY_LIMIT_SECONDS = 29.0


@dataclass(frozen=True)
class Documented:
    http: int
    retry_after: str | None


@dataclass(frozen=True)
class ScriptedNumber:
    """A sandbox number with a scripted outcome, and what the documentation says the API answers for it."""

    number: str
    answer: Documented
    metric: str  # OtpDelivery or OtpUpstreamError
    dimension: str  # its DeliveryStatus or ErrorCode value
    pinpoint_calls: (
        int  # how many send calls (SendOTPMessage, SendNotifyCodeVerification) the adapter may make
    )
    sms_sent: int  # what the outbox must show afterwards
    engine: str = PINPOINT

    def __str__(self) -> str:  # readable pytest ids
        return f"{self.engine}-{self.number}-{self.dimension}"


def _status_section() -> str:
    return section(page("http-api.md"), "Status mapping")


@cache
def documented_answers() -> dict[str, Documented]:
    """Every backticked name of the tables (delivery statuses, each engine's errors) -> HTTP, Retry-After."""
    answers: dict[str, Documented] = {}
    for line in _status_section().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[1].isdigit():
            continue
        answer = Documented(int(cells[1]), cells[2] or None)
        for name in re.findall(r"`([A-Za-z_]+)`", cells[0]):
            answers[name] = answer
        if "read timeout" in cells[0]:
            answers["Timeout"] = answer
        if "connection failure" in cells[0]:
            answers["ConnectionError"] = answer
    return answers


def scripted_numbers(engine: str = PINPOINT, max_attempts: int = 3) -> list[ScriptedNumber]:
    """Every scripted number of the sandbox on ``engine``, so that a new one cannot be forgotten here."""
    if engine == END_USER_MESSAGING:
        return _scripted_notify_numbers(max_attempts)
    answers = documented_answers()
    numbers = [
        ScriptedNumber(
            number, answers[scripted.delivery_status], "OtpDelivery", scripted.delivery_status, 1, 0
        )
        for number, scripted in SCRIPTED_DELIVERIES.items()
    ]
    numbers += [
        # Both are retryable: Pinpoint refused before doing anything, so the adapter tries again.
        ScriptedNumber(
            number, answers[error.error_type], "OtpUpstreamError", error.error_type, max_attempts, 0
        )
        for number, error in SCRIPTED_API_ERRORS.items()
    ]
    # Slower than the read timeout: 504, never retried, and the SMS did go out (once).
    numbers.append(ScriptedNumber(SLOW_NUMBER, answers["Timeout"], "OtpUpstreamError", "Timeout", 1, 1))
    return numbers


# End User Messaging's errors that prove nothing was done, so the adapter retries them.
_NOTIFY_RETRYABLE = frozenset({"ThrottlingException"})


def _scripted_notify_numbers(max_attempts: int) -> list[ScriptedNumber]:
    """The same numbers on End User Messaging: it answers no delivery status, so a number Pinpoint scripts
    a failed delivery for is accepted (202, the SUCCESSFUL row) with nothing on the phone; the others
    answer the engine's exception, retried only when it proves nothing was sent."""
    answers = documented_answers()
    numbers = []
    for number, outcome in SCRIPTED_NOTIFY_OUTCOMES.items():
        if outcome.error_type is None:
            scripted = ScriptedNumber(
                number, answers["SUCCESSFUL"], "OtpDelivery", "SUCCESSFUL", 1, 0, END_USER_MESSAGING
            )
        else:
            calls = max_attempts if outcome.error_type in _NOTIFY_RETRYABLE else 1
            scripted = ScriptedNumber(
                number,
                answers[outcome.error_type],
                "OtpUpstreamError",
                outcome.error_type,
                calls,
                0,
                END_USER_MESSAGING,
            )
        numbers.append(scripted)
    numbers.append(
        ScriptedNumber(
            SLOW_NUMBER, answers["Timeout"], "OtpUpstreamError", "Timeout", 1, 1, END_USER_MESSAGING
        )
    )
    return numbers


def every_scripted_number() -> list[ScriptedNumber]:
    """The scripted numbers of both engines, for tests parametrized over (engine, number)."""
    return [*scripted_numbers(PINPOINT), *scripted_numbers(END_USER_MESSAGING)]


def documented_5xx_numbers(engine: str = PINPOINT) -> frozenset[str]:
    """The test numbers whose documented answer on ``engine`` is a 5xx: the only 5xx a fuzzer may see."""
    return frozenset(number.number for number in scripted_numbers(engine) if number.answer.http >= 500)
