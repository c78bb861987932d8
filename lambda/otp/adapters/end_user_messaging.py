"""AWS End User Messaging code verification: SendNotifyCodeVerification / ValidateNotifyCodeVerification.

AWS generates, sends and checks the code, as Pinpoint OTP did. As AWS documents it, each send names the
deployment's notify code configuration (``OTP_NOTIFY_CODE_CONFIGURATION``, created by the stack's custom
resource: ``otp.adapters.notify_code_configurations``), which holds the code policy and the text and
voice templates; the request adds the origination identity, the configuration set that turns deliveries
into events, the reference id that binds a send to its validation, and for WhatsApp the user's language.
Without a configuration (the functions run outside the stack) every request carries the policy and the
channel's parameters itself.

The client comes from the bundle's trimmed botocore data (otp.adapters.aws_sdk; "endusermessaging" is a
row of aws_operations.py). Where that is absent or unusable (locally, in tests), the service model that
comes with the code (``service_models/``, trimmed to these two operations) is loaded ahead of botocore's
own data: the Lambda runtime's botocore may predate the service. Regenerate it with
``python -m tests.botocore_models``.

Retries, as in the Pinpoint adapter, only when the failure proves nothing was sent, and only while the
invocation has the time for another attempt (otp.invocation). From the service
model: ``ThrottlingException`` (429) "the request was denied because it exceeded the allowed request
rate", so it was refused before any work; a connection that never opened sent nothing either. Not
retried: ``InternalServerException`` (500) "occurred during the processing of the request", so a code
may already be on its way; a read timeout likewise. botocore's own retries are off, because they would
retry both.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar, cast

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from otp import engine_rules
from otp.adapters import aws_sdk
from otp.adapters.retries import call_with_retries, transport_failure
from otp.domain.errors import UpstreamError, UpstreamFailure
from otp.domain.models import Channel, DeliveryReport, SendOtpRequest
from otp.domain.records import record

if TYPE_CHECKING:
    from mypy_boto3_endusermessaging import EndUserMessagingClient
    from mypy_boto3_endusermessaging.literals import NotifyChannelType
    from mypy_boto3_endusermessaging.type_defs import (
        ChannelParametersTypeDef,
        SendNotifyCodeVerificationInputTypeDef,
        TextParametersTypeDef,
        ValidateNotifyCodeVerificationInputTypeDef,
        VoiceParametersTypeDef,
    )

T = TypeVar("T")

SERVICE_MODELS_DIR: Final = Path(__file__).resolve().with_name("service_models")
SEND: Final = "SendNotifyCodeVerification"
VALIDATE: Final = "ValidateNotifyCodeVerification"
# The API's channel names.
CHANNEL_NAMES: Final[Mapping[Channel, NotifyChannelType]] = {
    Channel.SMS: "TEXT",
    Channel.VOICE: "VOICE",
    Channel.WHATSAPP: "WHATSAPP",
}
# Only these prove the request was refused before anything was done.
_RETRYABLE_CODES: Final = frozenset({"ThrottlingException"})
#: The least wait before retrying a throttled send: the Notify tier's quota is counted per second.
THROTTLED_WAIT_SECONDS: Final = 1.0
#: What each exception the two operations' model lists means.
FAILURES: Final[dict[str, UpstreamFailure]] = {
    # This service built a request the API refuses (a bug, or a bad template or identity).
    "ValidationException": UpstreamFailure.REQUEST_REJECTED,
    "AccessDeniedException": UpstreamFailure.MISCONFIGURED,
    # A configuration set, origination identity or code configuration the account does not hold.
    "ResourceNotFoundException": UpstreamFailure.MISCONFIGURED,
    # The destination's or sender's state refuses the send (the SMS and Voice v2 API answers an opted-out
    # number this way); trying again will not help.
    "ConflictException": UpstreamFailure.DESTINATION_CONFLICT,
    # An account quota (e.g. the monthly spend limit): nothing is sent until it is raised.
    "ServiceQuotaExceededException": UpstreamFailure.QUOTA_EXCEEDED,
    "ThrottlingException": UpstreamFailure.THROTTLED,
    "InternalServerException": UpstreamFailure.UNAVAILABLE,
}
# The context key under which the caller's own reference id reaches the delivery events.
CONTEXT_REFERENCE_ID: Final = "referenceId"


@lru_cache(maxsize=4)
def end_user_messaging_client(connect_timeout: float, read_timeout: float) -> EndUserMessagingClient:
    """One client per container and timeout pair: from the bundle's trimmed botocore data
    (otp.adapters.aws_sdk), else from the shipped service model ahead of botocore's own data."""
    # Without botocore's parameter validation, as the Pinpoint client (otp.adapters.pinpoint says why).
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": 1},
        tcp_keepalive=True,
        parameter_validation=False,
    )
    return cast(
        "EndUserMessagingClient",
        aws_sdk.client("endusermessaging", config, fallback_models=SERVICE_MODELS_DIR),
    )


def end_user_messaging_reference(reference_id: str) -> str:
    """The reference in the API's alphabet, ``[A-Za-z0-9_-]`` (ours also allows ``.`` and ``:``).

    ``_`` is the escape character, so the mapping is one-to-one: ``_`` becomes ``__``, ``.`` ``_d`` and
    ``:`` ``_c``. Two different references never share a code; a reference of 48 characters takes at
    most 96 of the API's 256.
    """
    return reference_id.replace("_", "__").replace(".", "_d").replace(":", "_c")


@record
class EndUserMessagingOptions:
    """What the deployment sends on each channel (otp.settings; the code policy is in the request)."""

    message_template: str = engine_rules.DEFAULT_MESSAGE_TEMPLATE
    voice_template: str = engine_rules.DEFAULT_VOICE_TEMPLATE
    voice_language: str = "en-US"
    voice_id: str | None = None
    voice_origination_identity: str | None = None  # None: the request's origination identity
    whatsapp_template_name: str | None = None
    whatsapp_origination_identity: str | None = None
    configuration_set: str | None = None
    notify_code_configuration: str | None = None  # its id or ARN; None: policy and templates inline


def _channel_parameters(
    request: SendOtpRequest, options: EndUserMessagingOptions
) -> ChannelParametersTypeDef:
    brand = request.brand_name
    if request.channel is Channel.VOICE:
        voice: VoiceParametersTypeDef = {
            "inlineTemplateBody": options.voice_template.replace(engine_rules.BRAND_PLACEHOLDER, brand),
            "languageCode": options.voice_language,
            "voiceMessageBodyTextType": "TEXT",
        }
        if options.voice_id:
            voice["voiceId"] = options.voice_id
        return {"voice": voice}
    if request.channel is Channel.WHATSAPP:
        if not options.whatsapp_template_name:
            raise ValueError("WhatsApp needs a template name (OTP_WHATSAPP_TEMPLATE_NAME)")
        # The approved template's language: the one the request asks for (the user's).
        template = options.whatsapp_template_name
        return {"whatsApp": {"whatsAppTemplateName": template, "languageCode": request.language}}
    text: TextParametersTypeDef = {
        "inlineTemplateBody": options.message_template.replace(engine_rules.BRAND_PLACEHOLDER, brand)
    }
    # India's DLT registration, under the keys the SMS and Voice v2 API defines for it.
    country = {
        key: value
        for key, value in (("IN_ENTITY_ID", request.entity_id), ("IN_TEMPLATE_ID", request.template_id))
        if value
    }
    if country:
        text["destinationCountryParameters"] = country
    return {"text": text}


def _origination(request: SendOtpRequest, options: EndUserMessagingOptions) -> str:
    if request.channel is Channel.VOICE and options.voice_origination_identity:
        return options.voice_origination_identity
    if request.channel is Channel.WHATSAPP:
        if not options.whatsapp_origination_identity:
            raise ValueError("WhatsApp needs an origination identity (OTP_WHATSAPP_ORIGINATION_IDENTITY)")
        return options.whatsapp_origination_identity
    return request.origination_identity


def send_parameters(
    request: SendOtpRequest, options: EndUserMessagingOptions
) -> SendNotifyCodeVerificationInputTypeDef:
    """The whole SendNotifyCodeVerification request for one code."""
    params: SendNotifyCodeVerificationInputTypeDef = {
        "channel": CHANNEL_NAMES[request.channel],
        "destinationIdentity": request.destination,
        "originationIdentity": _origination(request, options),
        "referenceId": end_user_messaging_reference(request.reference_id),
        "context": {CONTEXT_REFERENCE_ID: request.reference_id},
    }
    if options.notify_code_configuration:
        # The configuration holds the policy and the templates (otp.engine_rules.notify_code_configuration);
        # only WhatsApp's approved template is in the user's language, which is the request's.
        params["notifyCodeConfiguration"] = options.notify_code_configuration
        if request.channel is Channel.WHATSAPP:
            params["overrideChannelParameters"] = _channel_parameters(request, options)
    else:
        params["overrideCodeConfigurationParameters"] = {
            # Digits: what a phone keypad types, what Pinpoint sent, what CODE_LENGTH tells Cognito clients.
            "codeType": "NUMERIC",
            "codeLength": request.code_length,
            "validityPeriodMinutes": request.validity_minutes,
            "maxAttempts": request.allowed_attempts,
        }
        params["overrideChannelParameters"] = _channel_parameters(request, options)
    if options.configuration_set:
        params["configurationSetName"] = options.configuration_set
    return params


def validate_parameters(
    destination: str, reference_id: str, code: str
) -> ValidateNotifyCodeVerificationInputTypeDef:
    """The whole ValidateNotifyCodeVerification request for one code."""
    return {
        "destinationIdentity": destination,
        "referenceId": end_user_messaging_reference(reference_id),
        "code": code,
    }


class EndUserMessagingGateway:
    """Implements the domain's OtpGateway with boto3 ``endusermessaging``."""

    def __init__(
        self,
        client: EndUserMessagingClient,
        options: EndUserMessagingOptions,
        *,
        max_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        time_left: Callable[[], float] = lambda: math.inf,
        attempt_seconds: float = 0.0,
    ) -> None:
        """``time_left`` (the invocation's, otp.invocation) bounds the retries: one is made only when
        ``attempt_seconds`` (connect + read timeouts) remain after its backoff."""
        self._client = client
        self._options = options
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._time_left = time_left
        self._attempt_seconds = attempt_seconds

    def send(self, request: SendOtpRequest) -> DeliveryReport:
        params = send_parameters(request, self._options)
        response = self._call(SEND, lambda: self._client.send_notify_code_verification(**params))
        # The API answers only once it accepted the code; delivery is reported later, as events of the
        # configuration set. Accepted is this engine's SUCCESSFUL.
        return DeliveryReport(
            raw_status="SUCCESSFUL",
            message_id=response.get("messageId"),
            status_code=response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
            status_message=f"verificationId {response.get('verificationId')}",
            request_id=response.get("ResponseMetadata", {}).get("RequestId"),
        )

    def verify(self, *, destination: str, reference_id: str, code: str) -> bool:
        response = self._call(
            VALIDATE,
            lambda: self._client.validate_notify_code_verification(
                **validate_parameters(destination, reference_id, code)
            ),
        )
        return response.get("status") == "VALID"

    def _call(self, operation_name: str, operation: Callable[[], T]) -> T:
        def classify(exc: ClientError | BotoCoreError) -> tuple[UpstreamError, bool] | None:
            return _classify(operation_name, exc)

        return call_with_retries(
            operation,
            classify,
            max_attempts=self._max_attempts,
            sleep=self._sleep,
            time_left=self._time_left,
            attempt_seconds=self._attempt_seconds,
            # the Notify tier's rate is per second: a retry in the same second is throttled again
            throttled_wait=THROTTLED_WAIT_SECONDS,
        )


def _classify(operation_name: str, exc: ClientError | BotoCoreError) -> tuple[UpstreamError, bool] | None:
    """End User Messaging's failures: only throttling is retried. A send the service had started may
    have gone out: a server error (5xx), a read timeout or a connection closed mid-request."""
    may_have_sent = operation_name == SEND
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "UnknownError"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        meaning = FAILURES.get(
            code, UpstreamFailure.UNAVAILABLE if status >= 500 else UpstreamFailure.UNEXPECTED
        )
        failure = UpstreamError(
            code,
            error.get("Message") or "",
            failure=meaning,
            maybe_sent=may_have_sent and status >= 500,
            operation=operation_name,
        )
        return failure, code in _RETRYABLE_CODES
    return transport_failure(exc, operation_name, maybe_done=may_have_sent)
