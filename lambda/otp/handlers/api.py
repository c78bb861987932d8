"""API Gateway entry point: POST /otp and POST /otp/verify.

Thin on purpose: read and check the body (``request_body``, driven by the schemas of otp/api_schema.py,
which also generate docs/openapi.json and API Gateway's models), call the use case, map the result or
the domain exception to a response. Every error is problem+json, and names no text the caller chose.

Routing and the mapping of exceptions to responses are ``otp.handlers.rest_proxy`` (two exact routes;
Powertools' resolver cost more than this API needs, and its validation needs pydantic).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from otp.api_schema import DEFAULT_CHANNEL, IDEMPOTENCY_KEY_HEADER, request_schema
from otp.domain.errors import (
    PROTECTION_STORE_UNAVAILABLE,
    DeliveryFailed,
    InvalidRequest,
    SendBudgetExhausted,
    SendRefused,
    UpstreamError,
    UpstreamFailure,
)
from otp.domain.models import Door, RequestSource
from otp.domain.reasons import RejectReason
from otp.handlers import startup
from otp.handlers.idempotency import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    IdempotencyStoreFailed,
    parse_idempotency_key,
)
from otp.handlers.problems import (
    DELIVERY_PROBLEMS,
    UPSTREAM_FALLBACK,
    UPSTREAM_PROBLEMS,
    ProblemKind,
    problem_response,
)
from otp.handlers.request_body import NOT_JSON, BodyValidator, InvalidBody, parse_json_body
from otp.handlers.rest_proxy import JSON_CONTENT_TYPE, HttpResponse, Request, RestRouter
from otp.observability import logger, tracer
from otp.settings import Settings, get_settings
from otp.wiring import idempotency_persistence, otp_observer, otp_service

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from otp.handlers.idempotent_send import IdempotentSend

SEND_PATH = "/otp"
VERIFY_PATH = "/otp/verify"

# Fail the init phase, not the first request, when the deployment's environment is wrong.
get_settings()


def _correlate(request: Request) -> None:
    # API Gateway's request id, read directly: Powertools' correlation_id_path runs a JMESPath query
    # for the same value, ~6 µs of every request.
    logger.set_correlation_id(request.request_id)


app = RestRouter(on_request=_correlate)

_SEND_BODY = BodyValidator(request_schema(SEND_PATH))
_VERIFY_BODY = BodyValidator(request_schema(VERIFY_PATH))


def _body(request: Request, validator: BodyValidator) -> dict[str, Any]:
    # As API Gateway's validator and Powertools' did: no Content-Type means JSON.
    content_type = (request.header("content-type") or JSON_CONTENT_TYPE).strip().lower()
    if not content_type.startswith(JSON_CONTENT_TYPE):
        raise InvalidBody(NOT_JSON)
    return validator.validated(parse_json_body(request.body, base64_encoded=request.is_base64_encoded))


@app.post(SEND_PATH)
def send_otp(request: Request) -> HttpResponse:
    body = _body(request, _SEND_BODY)
    raw_key = request.header(IDEMPOTENCY_KEY_HEADER)
    sender = _idempotent_send() if raw_key is not None else None
    if raw_key is None or sender is None:
        result = _send_and_describe(body)
    else:
        try:
            key = parse_idempotency_key(raw_key)
        except InvalidRequest as exc:
            otp_observer().rejected(exc.reason)
            raise
        result = sender(key=key, caller=_caller(request), body=body, context=request.context)
        # A record stored before the API had channels replays without one: every such send was an SMS.
        result.setdefault("channel", DEFAULT_CHANNEL)
    return HttpResponse(202, JSON_CONTENT_TYPE, result)


def _send_and_describe(body: dict[str, Any]) -> dict[str, Any]:
    """The send use case and its 202 body (SendOtpResult): what an Idempotency-Key replay returns."""
    outcome = otp_service().send(
        body["phoneNumber"],
        reference_id=body.get("referenceId"),
        language=body.get("language"),
        channel=body.get("channel"),
        source=_source(app.current),
    )
    return {
        "referenceId": outcome.reference_id,
        "deliveryStatus": outcome.status.value,
        "messageId": outcome.report.message_id,
        "expiresAt": outcome.expires_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "channel": outcome.channel.value,
    }


def _idempotent_send() -> IdempotentSend | None:
    """Built on the first request that carries the header: only then is Powertools Idempotency imported."""
    persistence = idempotency_persistence()
    if persistence is None:
        logger.warning("Idempotency-Key ignored: OTP_TABLE_NAME is not set")
        return None
    try:
        return _idempotent_send_on(persistence, get_settings())
    except UpstreamError as exc:  # the deployment secret, which keys the body fingerprints, is unreadable
        raise IdempotencyStoreFailed(send_attempted=False, cause=exc.code) from exc


@lru_cache(maxsize=1)
def _idempotent_send_on(persistence: BasePersistenceLayer, settings: Settings) -> IdempotentSend:
    from otp.handlers.idempotent_send import IdempotentSend, deployment_hash_key

    return IdempotentSend(
        persistence,
        ttl_seconds=settings.idempotency_ttl_seconds,
        hash_key=deployment_hash_key(settings),
        send=_send_and_describe,
    )


def _caller(request: Request) -> str:
    """Who is calling, so that one client's keys never match another's."""
    identity = request.identity
    return str(
        identity.get("userArn") or identity.get("apiKeyId") or identity.get("accountId") or "anonymous"
    )


def _source(request: Request) -> RequestSource:
    """The door and caller conversion is measured against: the caller's role or user, without the
    session name of an assumed role (each session of one backend is still one caller)."""
    caller = _caller(request)
    if ":assumed-role/" in caller:
        caller = caller.rsplit("/", 1)[0]
    return RequestSource(Door.API, caller)


@app.post(VERIFY_PATH)
def verify_otp(request: Request) -> dict[str, bool]:
    body = _body(request, _VERIFY_BODY)
    valid = otp_service().verify(
        body["phoneNumber"], reference_id=body["referenceId"], code=body["code"], source=_source(request)
    )
    return {"valid": valid}


def _request_id() -> str:
    return app.current.request_id or "unknown"


_INVALID = ProblemKind(400, "invalid-request", "Invalid request")


@app.exception_handler(InvalidBody)
def _invalid_body(exc: InvalidBody) -> HttpResponse:
    # The detail names the API's fields and rules, never the caller's keys or values (request_body.py).
    otp_observer().rejected(RejectReason.INVALID_REQUEST)
    return problem_response(_INVALID, exc.detail, _request_id())


@app.exception_handler(InvalidRequest)
def _invalid_input(exc: InvalidRequest) -> HttpResponse:
    return problem_response(_INVALID, exc.detail, _request_id(), field=exc.field)


@app.exception_handler(SendRefused)
def _refused(exc: SendRefused) -> HttpResponse:
    kind = ProblemKind(429, "rate-limited", "Too many requests for this number", exc.retry_after)
    return problem_response(kind, exc.detail, _request_id())


@app.exception_handler(SendBudgetExhausted)
def _budget_spent(exc: SendBudgetExhausted) -> HttpResponse:
    # Not the caller's doing (429 would say "you sent too much"): the whole service is out of SMS for now.
    kind = ProblemKind(503, "send-budget-exhausted", "SMS budget spent", exc.retry_after)
    return problem_response(kind, exc.detail, _request_id())


@app.exception_handler(IdempotencyKeyReused)
def _key_reused(exc: IdempotencyKeyReused) -> HttpResponse:
    otp_observer().rejected(RejectReason.IDEMPOTENCY_KEY_REUSED)
    kind = ProblemKind(422, "idempotency-key-reused", "Idempotency-Key reused")
    detail = f"this {IDEMPOTENCY_KEY_HEADER} was already used with a different request body"
    return problem_response(kind, detail, _request_id())


@app.exception_handler(IdempotencyKeyInProgress)
def _key_in_progress(exc: IdempotencyKeyInProgress) -> HttpResponse:
    otp_observer().rejected(RejectReason.IDEMPOTENCY_IN_PROGRESS)
    kind = ProblemKind(409, "idempotency-key-in-progress", "Request in progress", 1)
    detail = f"a request with this {IDEMPOTENCY_KEY_HEADER} is still being processed; retry shortly"
    return problem_response(kind, detail, _request_id())


@app.exception_handler(IdempotencyStoreFailed)
def _idempotency_store_failed(exc: IdempotencyStoreFailed) -> HttpResponse:
    logger.error("idempotency store failed", extra={"error": exc.cause, "sendAttempted": exc.send_attempted})
    kind = UPSTREAM_PROBLEMS[UpstreamFailure.STORE_UNAVAILABLE]
    if exc.send_attempted:
        detail = (
            "the idempotency store failed after the send; the SMS may have been sent, retry with the same key"
        )
    else:
        detail = "Idempotency-Key records cannot be used now; the SMS was not sent, retry with the same key"
    return problem_response(kind, detail, _request_id(), errorCode=PROTECTION_STORE_UNAVAILABLE)


@app.exception_handler(DeliveryFailed)
def _not_delivered(exc: DeliveryFailed) -> HttpResponse:
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
def _upstream(exc: UpstreamError) -> HttpResponse:
    kind = UPSTREAM_PROBLEMS.get(exc.failure, UPSTREAM_FALLBACK)
    if exc.failure is UpstreamFailure.STORE_UNAVAILABLE:
        # The limits are checked before any send, and nothing is sent without them (fail closed).
        detail = "the abuse-protection store is unavailable; the SMS was not sent"
    else:
        detail = "the messaging service did not complete the request"
        if exc.maybe_sent:
            detail += "; the SMS may have been sent, retry with care"
    return problem_response(kind, detail, _request_id(), errorCode=exc.code)


@app.not_found
def _no_route() -> HttpResponse:
    return problem_response(ProblemKind(404, "not-found", "Not found"), "no such resource", _request_id())


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> HttpResponse:
    logger.exception("unhandled error")
    kind = ProblemKind(500, "internal-error", "Internal error")
    return problem_response(kind, "the request could not be completed", _request_id())


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


# Init is over: what it built is frozen out of later collections (otp/handlers/startup.py).
startup.done()
