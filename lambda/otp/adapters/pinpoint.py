"""Pinpoint (AWS End User Messaging) OTP adapter: the only module that calls SendOTPMessage/VerifyOTPMessage.

Retries are done here rather than by botocore because botocore also retries read timeouts, and a
SendOTPMessage that timed out may already have sent its SMS: retrying it would text the user twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from otp.adapters import aws_sdk
from otp.adapters.retries import call_with_retries, transport_failure
from otp.domain.errors import UpstreamError, UpstreamFailure
from otp.domain.models import Channel, DeliveryReport, SendOtpRequest

if TYPE_CHECKING:
    from mypy_boto3_pinpoint import PinpointClient
    from mypy_boto3_pinpoint.type_defs import (
        SendOTPMessageRequestParametersTypeDef,
        VerifyOTPMessageRequestParametersTypeDef,
    )

T = TypeVar("T")

SEND: Final = "SendOTPMessage"
VERIFY: Final = "VerifyOTPMessage"
# Pinpoint answers these before doing anything, so a retry cannot duplicate an SMS.
_RETRYABLE_CODES = frozenset({"TooManyRequestsException", "InternalServerErrorException"})
#: What each exception the two operations' model lists means.
FAILURES: Final[dict[str, UpstreamFailure]] = {
    # Our request was wrong (a bug, or a brand or identity Pinpoint refuses).
    "BadRequestException": UpstreamFailure.REQUEST_REJECTED,
    "NotFoundException": UpstreamFailure.MISCONFIGURED,
    "ForbiddenException": UpstreamFailure.MISCONFIGURED,
    "MethodNotAllowedException": UpstreamFailure.MISCONFIGURED,
    "PayloadTooLargeException": UpstreamFailure.PAYLOAD_TOO_LARGE,
    "TooManyRequestsException": UpstreamFailure.THROTTLED,
    "InternalServerErrorException": UpstreamFailure.UNAVAILABLE,
}


@lru_cache(maxsize=4)
def pinpoint_client(connect_timeout: float, read_timeout: float) -> PinpointClient:
    """One client per container and timeout pair: creating it costs tens of milliseconds.

    Without botocore's parameter validation (which AWS documents as a switch for performance): every
    request is built here from the domain's checked values, tests/unit/test_engine_requests.py holds
    each kind of request to the operation's model, and Pinpoint checks its input anyway. Validating
    each send against the model was ~5 % of a warm POST /otp's instructions."""
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": 1},
        tcp_keepalive=True,
        parameter_validation=False,
    )
    return cast("PinpointClient", aws_sdk.client("pinpoint", config))


def request_parameters(request: SendOtpRequest) -> SendOTPMessageRequestParametersTypeDef:
    if request.channel is not Channel.SMS:
        # Settings only enable SMS with this engine; reaching here is a wiring bug, not a user error.
        raise ValueError(f"Pinpoint OTP sends SMS only, not {request.channel.value}")
    params: SendOTPMessageRequestParametersTypeDef = {
        "AllowedAttempts": request.allowed_attempts,
        "BrandName": request.brand_name,
        "Channel": request.channel.value,
        "CodeLength": request.code_length,
        "DestinationIdentity": request.destination,
        "Language": request.language,
        "OriginationIdentity": request.origination_identity,
        "ReferenceId": request.reference_id,
        "ValidityPeriod": request.validity_minutes,
    }
    # DLT values only exist for India; sending empty strings would be rejected.
    if request.entity_id:
        params["EntityId"] = request.entity_id
    if request.template_id:
        params["TemplateId"] = request.template_id
    return params


def verify_parameters(
    destination: str, reference_id: str, code: str
) -> VerifyOTPMessageRequestParametersTypeDef:
    return {"DestinationIdentity": destination, "Otp": code, "ReferenceId": reference_id}


def _report_for(destination: str, message_response: dict[str, Any]) -> DeliveryReport:
    """Read the Result entry for our destination; cope with it missing or keyed differently."""
    results: dict[str, Any] = message_response.get("Result") or {}
    entry = results.get(destination)
    if entry is None and len(results) == 1:
        # Pinpoint may normalise the key; with a single destination the only entry is ours.
        entry = next(iter(results.values()))
    request_id = message_response.get("RequestId")
    if not isinstance(entry, dict):
        return DeliveryReport(None, None, None, "no result for the destination", request_id)
    status_code = entry.get("StatusCode")
    return DeliveryReport(
        raw_status=entry.get("DeliveryStatus"),
        message_id=entry.get("MessageId"),
        status_code=status_code if isinstance(status_code, int) else None,
        status_message=entry.get("StatusMessage"),
        request_id=request_id,
    )


class PinpointOtpGateway:
    """Implements the domain's OtpGateway with boto3."""

    def __init__(
        self,
        client: PinpointClient,
        application_id: str,
        *,
        max_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._application_id = application_id
        self._max_attempts = max_attempts
        self._sleep = sleep

    def send(self, request: SendOtpRequest) -> DeliveryReport:
        response = self._call(
            SEND,
            lambda: self._client.send_otp_message(
                ApplicationId=self._application_id,
                SendOTPMessageRequestParameters=request_parameters(request),
            ),
        )
        return _report_for(request.destination, dict(response.get("MessageResponse") or {}))

    def verify(self, *, destination: str, reference_id: str, code: str) -> bool:
        response = self._call(
            VERIFY,
            lambda: self._client.verify_otp_message(
                ApplicationId=self._application_id,
                VerifyOTPMessageRequestParameters=verify_parameters(destination, reference_id, code),
            ),
        )
        return bool(response.get("VerificationResponse", {}).get("Valid", False))

    def _call(self, operation_name: str, operation: Callable[[], T]) -> T:
        def classify(exc: ClientError | BotoCoreError) -> tuple[UpstreamError, bool] | None:
            return _classify(operation_name, exc)

        return call_with_retries(operation, classify, max_attempts=self._max_attempts, sleep=self._sleep)


def _classify(operation_name: str, exc: ClientError | BotoCoreError) -> tuple[UpstreamError, bool] | None:
    """Pinpoint's failures: throttling and server errors are retried (Pinpoint sent nothing); a read
    timeout or a connection closed mid-request may have sent the SMS, so it is never retried."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "UnknownError"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        failure = FAILURES.get(
            code, UpstreamFailure.UNAVAILABLE if status >= 500 else UpstreamFailure.UNEXPECTED
        )
        error_ = UpstreamError(code, error.get("Message") or "", failure=failure, operation=operation_name)
        return error_, code in _RETRYABLE_CODES or status >= 500
    return transport_failure(exc, operation_name, maybe_done=True)
