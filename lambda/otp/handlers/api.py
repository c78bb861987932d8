"""API Gateway entry point: POST /otp and POST /otp/verify.

Thin on purpose: validate the body (pydantic models, which also generate docs/openapi.json), call
the use case, map the result or the domain exception to a response. Every error is problem+json.
"""

from __future__ import annotations

import binascii
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from otp.domain.errors import (
    PROTECTION_STORE_UNAVAILABLE,
    DeliveryFailed,
    InvalidRequest,
    SendBudgetExhausted,
    SendRefused,
    UpstreamError,
)
from otp.domain.phone import E164_PATTERN
from otp.domain.reasons import RejectReason
from otp.domain.rules import CODE_PATTERN, REFERENCE_ID_PATTERN, LanguageTag
from otp.handlers import startup
from otp.handlers.idempotency import (
    IDEMPOTENCY_KEY_DESCRIPTION,
    IDEMPOTENCY_KEY_HEADER,
    IdempotentSend,
    parse_idempotency_key,
)
from otp.handlers.problems import (
    DELIVERY_PROBLEMS,
    PROBLEM_CONTENT_TYPE,
    UPSTREAM_FALLBACK,
    UPSTREAM_PROBLEMS,
    Problem,
    ProblemKind,
    problem_response,
)
from otp.observability import logger, tracer
from otp.settings import get_settings
from otp.wiring import idempotency_persistence, otp_observer, otp_service

# Fail the init phase, not the first request, when the deployment's environment is wrong.
get_settings()

app = APIGatewayRestResolver(enable_validation=True)

_PHONE = Field(
    pattern=E164_PATTERN,
    description=(
        "Destination in E.164 format, written as E.164 writes it (no national trunk prefix such as "
        "the 1 of +1 1... or the 0 of +44 0... after the country code); must be a valid number of an "
        "allowed country"
    ),
    examples=["+12065550100"],
)
_REFERENCE = Field(
    pattern=REFERENCE_ID_PATTERN,
    description="Your reference for this code; the same value must be given to verify it",
    examples=["signup-7f3a9c"],
)


class SendOtpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phoneNumber: Annotated[str, _PHONE]
    referenceId: Annotated[str | None, _REFERENCE] = None
    language: Annotated[
        LanguageTag | None, Field(description="Language of the SMS text (default: the deployment's)")
    ] = None


class SendOtpResult(BaseModel):
    referenceId: str = Field(description="Give this back to POST /otp/verify")
    deliveryStatus: str = Field(description="Always SUCCESSFUL on a 202", examples=["SUCCESSFUL"])
    messageId: str | None = Field(description="Pinpoint's message id")
    expiresAt: str = Field(description="When the code stops being valid (ISO 8601, UTC)")


class VerifyOtpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phoneNumber: Annotated[str, _PHONE]
    referenceId: Annotated[str, _REFERENCE]
    code: Annotated[str, Field(pattern=CODE_PATTERN, description="The code the user received")]


class VerifyOtpResult(BaseModel):
    valid: bool = Field(description="True only when the code matches this reference and number")


def _problem_doc(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"model": Problem}}}


_COMMON_ERRORS: dict[int, OpenAPIResponse] = {
    400: _problem_doc("Invalid request: body, phone number, country, reference or code format"),
    413: _problem_doc("Payload too large"),
    429: _problem_doc("Rate limited; see Retry-After"),
    500: _problem_doc("Deployment fault (Pinpoint application missing or not permitted)"),
    502: _problem_doc("Unexpected answer from the messaging service"),
    503: _problem_doc("Messaging service unavailable, or the service's SMS budget is spent; see Retry-After"),
    504: _problem_doc("Messaging service timed out; the SMS may have been sent"),
}


@app.post(
    "/otp",
    summary="Send a one-time password by SMS",
    responses={
        202: {"description": "Code sent", "content": {"application/json": {"model": SendOtpResult}}},
        409: _problem_doc(
            "Destination is a duplicate or has opted out, "
            "or a request with this Idempotency-Key is still in progress (see Retry-After)"
        ),
        422: _problem_doc(
            "Permanent delivery failure, or this Idempotency-Key was already used with a different body"
        ),
        **_COMMON_ERRORS,
    },
)
def send_otp(
    body: Annotated[SendOtpBody, Body()],
    idempotency_key: Annotated[
        str | None, Header(alias=IDEMPOTENCY_KEY_HEADER, description=IDEMPOTENCY_KEY_DESCRIPTION)
    ] = None,
) -> Response[SendOtpResult]:
    fields = body.model_dump(exclude_none=True)
    # HTTP/2 clients send header names in lower case: read it case-insensitively whatever its spelling.
    raw_key = idempotency_key or app.current_event.headers.get(IDEMPOTENCY_KEY_HEADER)
    sender = _idempotent_send(idempotency_persistence()) if raw_key is not None else None
    if raw_key is None or sender is None:
        result = _send_and_describe(fields)
    else:
        try:
            key = parse_idempotency_key(raw_key)
        except InvalidRequest as exc:
            otp_observer().rejected(exc.reason)
            raise
        result = sender(key=key, caller=_caller(), body=fields, context=app.lambda_context)
    return Response(status_code=202, content_type="application/json", body=SendOtpResult(**result))


def _send_and_describe(fields: dict[str, Any]) -> dict[str, Any]:
    """The send use case and its 202 body, as a dict: what an Idempotency-Key replay returns."""
    outcome = otp_service().send(
        fields["phoneNumber"], reference_id=fields.get("referenceId"), language=fields.get("language")
    )
    return SendOtpResult(
        referenceId=outcome.reference_id,
        deliveryStatus=outcome.status.value,
        messageId=outcome.report.message_id,
        expiresAt=outcome.expires_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
    ).model_dump()


@lru_cache(maxsize=1)
def _idempotent_send(persistence: BasePersistenceLayer | None) -> IdempotentSend | None:
    if persistence is None:
        logger.warning("Idempotency-Key ignored: OTP_TABLE_NAME is not set")
        return None
    return IdempotentSend(
        persistence, ttl_seconds=get_settings().idempotency_ttl_seconds, send=_send_and_describe
    )


def _caller() -> str:
    """Who is calling, so that one client's keys never match another's."""
    identity = app.current_event.request_context.identity
    return identity.user_arn or identity.api_key_id or identity.account_id or "anonymous"


@app.post(
    "/otp/verify",
    summary="Verify a one-time password",
    responses={
        200: {
            "description": "Verification result",
            "content": {"application/json": {"model": VerifyOtpResult}},
        },
        **_COMMON_ERRORS,
    },
)
def verify_otp(body: Annotated[VerifyOtpBody, Body()]) -> VerifyOtpResult:
    valid = otp_service().verify(body.phoneNumber, reference_id=body.referenceId, code=body.code)
    return VerifyOtpResult(valid=valid)


def _request_id() -> str:
    return app.current_event.request_context.request_id or "unknown"


_INVALID = ProblemKind(400, "invalid-request", "Invalid request")


@app.exception_handler(RequestValidationError)
def _invalid_body(exc: RequestValidationError) -> Response[Any]:
    # Name the fields and the rule, never the values: a body may carry a code or a phone number.
    problems = []
    for error in exc.errors():
        location = ".".join(
            str(part) for part in error.get("loc", ()) if isinstance(part, str) and part != "body"
        )
        problems.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    otp_observer().rejected(RejectReason.INVALID_REQUEST)
    return problem_response(_INVALID, "; ".join(problems) or "invalid request body", _request_id())


def _unreadable_body() -> Response[Any]:
    otp_observer().rejected(RejectReason.INVALID_REQUEST)
    detail = "body: must be a JSON object, sent as UTF-8 text with Content-Type application/json"
    return problem_response(_INVALID, detail, _request_id())


@app.exception_handler(RequestUnsupportedContentType)
def _not_json(exc: RequestUnsupportedContentType) -> Response[Any]:
    return _unreadable_body()


@app.exception_handler(ValueError)
def _value_error(exc: ValueError) -> Response[Any]:
    # Powertools raises ValueErrors while reading a body it cannot decode: base64 or UTF-8 errors (a
    # binary body), a multipart body without a boundary... That is the caller's fault, not an internal
    # error (a traceback in the logs and a 5xx on the dashboard). Anywhere else a ValueError is a bug.
    content_type = app.current_event.headers.get("content-type") or "application/json"
    if isinstance(exc, UnicodeError | binascii.Error) or not content_type.startswith("application/json"):
        return _unreadable_body()
    unexpected: Response[Any] = _unexpected(exc)
    return unexpected


@app.exception_handler(InvalidRequest)
def _invalid_input(exc: InvalidRequest) -> Response[Any]:
    return problem_response(_INVALID, exc.detail, _request_id(), field=exc.field)


@app.exception_handler(SendRefused)
def _refused(exc: SendRefused) -> Response[Any]:
    kind = ProblemKind(429, "rate-limited", "Too many requests for this number", exc.retry_after)
    return problem_response(kind, exc.detail, _request_id())


@app.exception_handler(SendBudgetExhausted)
def _budget_spent(exc: SendBudgetExhausted) -> Response[Any]:
    # Not the caller's doing (429 would say "you sent too much"): the whole service is out of SMS for now.
    kind = ProblemKind(503, "send-budget-exhausted", "SMS budget spent", exc.retry_after)
    return problem_response(kind, exc.detail, _request_id())


@app.exception_handler(IdempotencyValidationError)
def _key_reused(exc: IdempotencyValidationError) -> Response[Any]:
    otp_observer().rejected(RejectReason.IDEMPOTENCY_KEY_REUSED)
    kind = ProblemKind(422, "idempotency-key-reused", "Idempotency-Key reused")
    detail = f"this {IDEMPOTENCY_KEY_HEADER} was already used with a different request body"
    return problem_response(kind, detail, _request_id())


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _key_in_progress(exc: IdempotencyAlreadyInProgressError) -> Response[Any]:
    otp_observer().rejected(RejectReason.IDEMPOTENCY_IN_PROGRESS)
    kind = ProblemKind(409, "idempotency-key-in-progress", "Request in progress", 1)
    detail = f"a request with this {IDEMPOTENCY_KEY_HEADER} is still being processed; retry shortly"
    return problem_response(kind, detail, _request_id())


@app.exception_handler(IdempotencyPersistenceLayerError)
def _idempotency_store_failed(exc: IdempotencyPersistenceLayerError) -> Response[Any]:
    logger.error("idempotency store failed", extra={"error": type(exc.__cause__ or exc).__name__})
    kind = UPSTREAM_PROBLEMS[PROTECTION_STORE_UNAVAILABLE]
    detail = "the idempotency store failed; the SMS may have been sent, retry with the same key"
    return problem_response(kind, detail, _request_id(), errorCode=PROTECTION_STORE_UNAVAILABLE)


@app.exception_handler(DeliveryFailed)
def _not_delivered(exc: DeliveryFailed) -> Response[Any]:
    outcome = exc.outcome
    kind = DELIVERY_PROBLEMS.get(outcome.status, DELIVERY_PROBLEMS[outcome.status.UNKNOWN_FAILURE])
    return problem_response(
        kind,
        f"the SMS was not delivered: {outcome.status.value}",
        _request_id(),
        referenceId=outcome.reference_id,
        deliveryStatus=outcome.status.value,
        messageId=outcome.report.message_id,
    )


@app.exception_handler(UpstreamError)
def _upstream(exc: UpstreamError) -> Response[Any]:
    kind = UPSTREAM_PROBLEMS.get(exc.code, UPSTREAM_FALLBACK)
    detail = "the messaging service did not complete the request"
    if exc.maybe_sent:
        detail += "; the SMS may have been sent, retry with care"
    return problem_response(kind, detail, _request_id(), errorCode=exc.code)


@app.not_found
def _no_route(exc: NotFoundError) -> Response[Any]:
    return problem_response(ProblemKind(404, "not-found", "Not found"), "no such resource", _request_id())


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")
    kind = ProblemKind(500, "internal-error", "Internal error")
    return problem_response(kind, "the request could not be completed", _request_id())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


# Init is over: what it built is frozen out of later collections (otp/handlers/startup.py).
startup.done()
