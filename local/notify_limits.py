"""End User Messaging's account limits as the sandbox enforces them on SendNotifyCodeVerification.

From the user guide's Notify quotas: at most 10 messages to one destination number a day, account-wide
(not adjustable); 1 send request a second on the Basic tier, 25 on Advanced; at most 200 messages a day
per configuration on Basic; and a monthly Notify spend limit, reached when "SendNotify... return a
ServiceQuotaExceededException".

What AWS does not document, decided here (the strict reading): the request rate counts every send request
that passes validation, per second of the sandbox clock, and answers ThrottlingException beyond it; the
daily limits are rolling 24 hours of the sandbox clock and answer ServiceQuotaExceededException (the error
the model lists for a quota); the spend limit is a number of messages (the sandbox charges nothing), unset
by default, counted from start-up or the last reset, and also answers ServiceQuotaExceededException. Only
accepted messages count against the daily limits and the spend limit.

``/_sandbox/notify-limits`` (local/sandbox_control.py) shows the counts and sets the tier and the spend
limit; ``POST /_sandbox/faults`` still injects a ServiceQuotaExceededException on demand.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Final

from local.notify_code_validation import NotifyCodeError

TIERS: Final = ("BASIC", "ADVANCED")
SENDS_PER_SECOND: Final = {"BASIC": 1, "ADVANCED": 25}
DAILY_MESSAGES: Final[dict[str, int | None]] = {"BASIC": 200, "ADVANCED": None}
DESTINATION_DAILY_LIMIT: Final = 10
DAY_SECONDS: Final = 86_400
#: The tier the sandbox's account is on unless told otherwise: Advanced, so that tests sending many codes
#: are not paced at one a second (``OTP_NOTIFY_TIER`` picks the sandbox's at start-up).
DEFAULT_TIER: Final = "ADVANCED"


@dataclass(frozen=True)
class LimitsView:
    tier: str
    sends_per_second: int
    destination_daily_limit: int
    daily_messages: int | None
    spend_limit_messages: int | None
    messages_sent: int

    def to_json(self) -> dict[str, object]:
        return {
            "tier": self.tier,
            "sendsPerSecond": self.sends_per_second,
            "destinationDailyLimit": self.destination_daily_limit,
            "dailyMessages": self.daily_messages,
            "spendLimitMessages": self.spend_limit_messages,
            "messagesSent": self.messages_sent,
        }


class NotifyLimits:
    """The account's counts: safe to use from many threads."""

    def __init__(self, *, tier: str = DEFAULT_TIER) -> None:
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}")
        self._lock = threading.Lock()
        self._tier = tier
        self._spend_limit: int | None = None
        self._requests: dict[int, int] = {}  # second -> send requests in it
        self._messages: deque[tuple[float, str]] = deque()  # (when, destination), the last 24 hours
        self._spent = 0  # messages counted against the spend limit

    def configure(
        self, *, tier: object = None, spend_limit_messages: object = ..., reset: bool = False
    ) -> None:
        """Set the tier and/or the spend limit (a number of messages, or None for none); the arguments come
        straight from a JSON body, so each is checked here."""
        if tier is not None and tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}")
        if (
            spend_limit_messages is not ...
            and spend_limit_messages is not None
            and (
                isinstance(spend_limit_messages, bool)
                or not isinstance(spend_limit_messages, int)
                or spend_limit_messages < 0
            )
        ):
            raise ValueError("spendLimitMessages must be an integer >= 0, or null for no limit")
        with self._lock:
            if tier is not None:
                self._tier = str(tier)
            if spend_limit_messages is not ...:
                self._spend_limit = spend_limit_messages
            if reset:
                self._requests.clear()
                self._messages.clear()
                self._spent = 0

    def reset(self) -> None:
        """Forget every count and the spend limit; back to the default tier (a fresh test)."""
        with self._lock:
            self._tier = DEFAULT_TIER
            self._spend_limit = None
            self._requests.clear()
            self._messages.clear()
            self._spent = 0

    def view(self) -> LimitsView:
        with self._lock:
            return LimitsView(
                tier=self._tier,
                sends_per_second=SENDS_PER_SECOND[self._tier],
                destination_daily_limit=DESTINATION_DAILY_LIMIT,
                daily_messages=DAILY_MESSAGES[self._tier],
                spend_limit_messages=self._spend_limit,
                messages_sent=self._spent,
            )

    def admit(self, destination: str, now: float) -> None:
        """Count one send request to ``destination`` at ``now`` (sandbox seconds) and one message, or
        raise the error AWS would answer instead, counting no message."""
        with self._lock:
            second = int(now)
            for old in [s for s in self._requests if s < second - 5]:
                del self._requests[old]
            self._requests[second] = self._requests.get(second, 0) + 1
            rate = SENDS_PER_SECOND[self._tier]
            if self._requests[second] > rate:
                raise NotifyCodeError(
                    "ThrottlingException",
                    f"Rate exceeded: {rate} send request(s) per second on the {self._tier} tier",
                )
            while self._messages and self._messages[0][0] <= now - DAY_SECONDS:
                self._messages.popleft()
            if self._spend_limit is not None and self._spent >= self._spend_limit:
                raise NotifyCodeError(
                    "ServiceQuotaExceededException", "The monthly Notify spend limit has been reached"
                )
            daily = DAILY_MESSAGES[self._tier]
            if daily is not None and len(self._messages) >= daily:
                raise NotifyCodeError(
                    "ServiceQuotaExceededException",
                    f"The {self._tier} tier's {daily} messages per day have been sent",
                )
            if sum(1 for _, sent_to in self._messages if sent_to == destination) >= DESTINATION_DAILY_LIMIT:
                raise NotifyCodeError(
                    "ServiceQuotaExceededException",
                    f"Messages to this destination reached the daily limit ({DESTINATION_DAILY_LIMIT})",
                )
            self._messages.append((now, destination))
            self._spent += 1
