"""Value objects of the OTP domain. No AWS event shapes, no HTTP."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from otp.channels import Channel as Channel  # the configuration schema shares it: see otp/channels.py
from otp.domain.records import record


class DeliveryStatus(StrEnum):
    """Pinpoint's delivery statuses for one destination of SendOTPMessage."""

    SUCCESSFUL = "SUCCESSFUL"
    THROTTLED = "THROTTLED"
    TEMPORARY_FAILURE = "TEMPORARY_FAILURE"
    PERMANENT_FAILURE = "PERMANENT_FAILURE"
    UNKNOWN_FAILURE = "UNKNOWN_FAILURE"
    OPT_OUT = "OPT_OUT"
    DUPLICATE = "DUPLICATE"
    TIMEOUT = "TIMEOUT"

    @classmethod
    def classify(cls, raw: str | None) -> DeliveryStatus:
        """A status Pinpoint may add later, or a missing one, counts as an unknown failure."""
        # A dict lookup: ``cls(raw)`` goes through the enum's call machinery on every send and, for an
        # unknown status, raises a ValueError to catch.
        return _STATUS_BY_VALUE.get(raw or "", cls.UNKNOWN_FAILURE)


_STATUS_BY_VALUE: dict[str, DeliveryStatus] = {status.value: status for status in DeliveryStatus}


@record
class PhoneNumber:
    """A validated destination: canonical E.164 text, its ISO 3166 region and its libphonenumber type.

    ``number_type`` is the PhoneNumberType name (``MOBILE``, ``VOIP``...); screening reads it instead of
    parsing the number again. A number built without one is ``UNKNOWN``, which screening refuses.
    """

    e164: str
    region: str
    country_code: int
    number_type: str = "UNKNOWN"

    @property
    def masked(self) -> str:
        """Country code and last two digits only, e.g. ``+1********00``: safe for logs."""
        national = self.e164[len(str(self.country_code)) + 1 :]
        return f"+{self.country_code}{'*' * (len(national) - 2)}{national[-2:]}"


@record
class OtpPolicy:
    """How codes are generated and sent: fixed per deployment."""

    brand_name: str
    origination_identity: str
    code_length: int
    validity_minutes: int
    allowed_attempts: int
    language: str
    entity_id: str | None = None
    template_id: str | None = None
    # The channels this deployment offers (its engine's, narrowed by configuration); SMS is the default.
    channels: frozenset[Channel] = frozenset({Channel.SMS})


@record
class SendQuota:
    """Which part of a number's send limits one send may use (``otp.domain.limiter.SendRateGuard``).

    The default is what every send gets: the cooldown, the hourly and daily caps, the open part of the
    daily cap, and the send budget. A sign-in may ask for less only in the documented cases below.
    """

    # The caller proved a device ticket valid for this number (otp/domain/tickets.py): the send may
    # draw on the reserved part of the daily cap, so it counts against the whole daily cap only.
    reserve: bool = False
    # A channel switch within a sign-in (otp/domain/challenge.py): the cooldown does not apply when the
    # only code recorded for the number at or after this time (epoch ms, the limits' clock) is the
    # sign-in's own. Every other limit and the budget still do.
    cooldown_waived_since_ms: int | None = None


OPEN_QUOTA = SendQuota()


class Door(StrEnum):
    """How a request reached the service."""

    API = "api"  # the HTTP API (an IAM principal or an API key)
    SIGN_IN = "cognito"  # the Cognito passwordless sign-in (a user pool app client)


@record
class RequestSource:
    """Which door a send or a verification came through and who called: the API caller's identity, or
    the sign-in's app client id ("" when unknown). Conversion is measured per door and caller."""

    door: Door = Door.API
    caller: str = ""


UNKNOWN_SOURCE = RequestSource()


@record
class SendOtpRequest:
    """What a gateway needs to send one code: the policy's values, this request's destination and channel.

    Pinpoint's SendOTPMessageRequestParameters map one to one; other engines take what applies to them.
    """

    destination: str
    reference_id: str
    brand_name: str
    origination_identity: str
    code_length: int
    validity_minutes: int
    allowed_attempts: int
    language: str
    entity_id: str | None
    template_id: str | None
    channel: Channel = Channel.SMS


@record
class DeliveryReport:
    """What Pinpoint said about one destination. ``raw_status`` is kept as sent, for the logs."""

    raw_status: str | None
    message_id: str | None
    status_code: int | None
    status_message: str | None
    request_id: str | None = None

    @property
    def status(self) -> DeliveryStatus:
        return DeliveryStatus.classify(self.raw_status)


@record
class SendOutcome:
    """The result of one send use case."""

    destination: PhoneNumber
    reference_id: str
    report: DeliveryReport
    expires_at: datetime
    channel: Channel = Channel.SMS

    @property
    def status(self) -> DeliveryStatus:
        return self.report.status
