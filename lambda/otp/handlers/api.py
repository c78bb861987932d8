"""API Gateway entry point: POST /otp, POST /otp/verify, GET and DELETE /otp/{referenceId}.

Thin on purpose: read and check the body (``request_body``, driven by the schemas of otp/api_schema.py,
which also generate docs/openapi.json and API Gateway's models), call the use case, map the result or
the domain exception to a response. Every error is problem+json, and names no text the caller chose.

Routing and the mapping of exceptions to responses are ``otp.handlers.rest_proxy`` (exact routes by
method and resource; Powertools' resolver cost more than this API needs, and its validation needs
pydantic).

A verification belongs to the caller that started it (``_source``; otp.domain.verification.owner_of):
its AWS account with IAM authorization, its API key with apiKey; only that caller can read, cancel or
verify it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from otp import invocation
from otp.api_schema import DEFAULT_CHANNEL, IDEMPOTENCY_KEY_HEADER, STATUS_PATH, parameters, request_schema
from otp.domain.adaptive import RangeSuspended
from otp.domain.engine_rate import EngineRateLimited
from otp.domain.errors import (
    PROTECTION_STORE_UNAVAILABLE,
    DeliveryFailed,
    InvalidRequest,
    SendBudgetExhausted,
    SendRefused,
    UpstreamError,
    UpstreamFailure,
)
from otp.domain.models import Channel, Door, RequestSource
from otp.domain.reasons import RejectReason
from otp.domain.verification import (
    FallbackStep,
    VerificationAlreadyVerified,
    VerificationNotFound,
    VerificationView,
)
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
from otp.handlers.request_body import (
    NOT_JSON,
    BodyValidator,
    InvalidBody,
    ParameterReader,
    is_utf8_json,
    parse_json_body,
)
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
_CANCEL_BODY = BodyValidator(request_schema(STATUS_PATH, "delete"))
_STATUS_PARAMETERS = ParameterReader(parameters(STATUS_PATH, "get"))
_CANCEL_PARAMETERS = ParameterReader(parameters(STATUS_PATH, "delete"))


def _body(request: Request, validator: BodyValidator) -> dict[str, Any]:
    # As API Gateway's validator and Powertools' did: no Content-Type means JSON.
    if not is_utf8_json(request.header("content-type") or JSON_CONTENT_TYPE):
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
        # The schema has checked each step's shape; the domain checks the plan (otp/domain/fallback.py).
        fallback=[
            FallbackStep(Channel(step["channel"]), step["afterSeconds"])
            for step in body.get("fallback") or ()
        ],
    )
    return {
        "referenceId": outcome.reference_id,
        "deliveryStatus": outcome.status.value,
        "messageId": outcome.report.message_id,
        "expiresAt": _iso(outcome.expires_at),
        "channel": outcome.channel.value,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


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
def verify_otp(request: Request) -> dict[str, Any]:
    body = _body(request, _VERIFY_BODY)
    outcome = otp_service().check(
        body["phoneNumber"], reference_id=body["referenceId"], code=body["code"], source=_source(request)
    )
    if outcome.valid or outcome.reason is None:
        return {"valid": outcome.valid}
    return {"valid": False, "reason": outcome.reason.value}


@app.get(STATUS_PATH)
def verification_status(request: Request) -> dict[str, Any]:
    found = _STATUS_PARAMETERS.read(request.path_parameters, request.query)
    view = otp_service().status(
        found["phoneNumber"], reference_id=found["referenceId"], source=_source(request)
    )
    return _described(view)


@app.delete(STATUS_PATH)
def cancel_verification(request: Request) -> dict[str, Any]:
    found = _CANCEL_PARAMETERS.read(request.path_parameters, request.query)
    in_body = request.body is not None and request.body.strip() != ""
    body = _body(request, _CANCEL_BODY) if in_body else {}
    if "phoneNumber" in body and "phoneNumber" in found:
        raise InvalidBody("phoneNumber: give it in the body or in the query, not both")
    phone = body.get("phoneNumber") or found.get("phoneNumber")
    if phone is None:
        raise InvalidBody("phoneNumber: Field required (in the body or in the query)")
    view = otp_service().cancel(phone, reference_id=found["referenceId"], source=_source(request))
    return _described(view)


def _described(view: VerificationView) -> dict[str, Any]:
    """The Verification document (otp/api_schema.py): no code, no number."""
    return {
        "status": view.status.value,
        "attemptsRemaining": view.attempts_remaining,
        "expiresAt": _iso_ms(view.expires_ms),
        "channel": view.channel.value,
        "sends": [
            {"channel": send.channel.value, "deliveryStatus": send.delivery_status, "at": _iso_ms(send.at_ms)}
            for send in view.sends
        ],
    }


def _iso_ms(epoch_ms: int) -> str:
    return _iso(datetime.fromtimestamp(epoch_ms / 1000, UTC))


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


@app.exception_handler(VerificationNotFound)
def _no_verification(exc: VerificationNotFound) -> HttpResponse:
    # The same answer whatever the cause: another caller's, another number's, or none at all.
    kind = ProblemKind(404, "verification-not-found", "No such verification")
    detail = "no verification under this referenceId and phoneNumber that this caller started"
    return problem_response(kind, detail, _request_id())


@app.exception_handler(VerificationAlreadyVerified)
def _already_verified(exc: VerificationAlreadyVerified) -> HttpResponse:
    kind = ProblemKind(409, "verification-verified", "Verification already verified")
    return problem_response(kind, "a verified verification cannot be cancelled", _request_id())


@app.exception_handler(SendRefused)
def _refused(exc: SendRefused) -> HttpResponse:
    kind = ProblemKind(429, "rate-limited", "Too many requests for this number", exc.retry_after)
    return problem_response(kind, exc.detail, _request_id())


@app.exception_handler(RangeSuspended)
def _range_suspended(exc: RangeSuspended) -> HttpResponse:
    # 429, not 503: the refusal is about traffic to this number range (its codes are not being entered),
    # not an outage; every other number is still served, a 5xx would page whoever watches the API's
    # errors for an attack the service is already handling, and Retry-After says when the block ends.
    kind = ProblemKind(429, "range-suspended", "Codes to this number range are suspended", exc.retry_after)
    return problem_response(kind, exc.detail, _request_id())


@app.exception_handler(SendBudgetExhausted)
def _budget_spent(exc: SendBudgetExhausted) -> HttpResponse:
    # Not the caller's doing (429 would say "you sent too much"): the whole service is out of SMS for now.
    kind = ProblemKind(503, "send-budget-exhausted", "SMS budget spent", exc.retry_after)
    return problem_response(kind, exc.detail, _request_id())


@app.exception_handler(EngineRateLimited)
def _engine_rate_limited(exc: EngineRateLimited) -> HttpResponse:
    # The deployment sends at its engine's rate (End User Messaging's tier), whoever asks: a 503 as for the
    # budget, not a 429 that would blame this caller.
    kind = ProblemKind(503, "engine-rate-limited", "Messaging rate reached", exc.retry_after)
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
    if exc.failure is UpstreamFailure.STORE_UNAVAILABLE and app.current.event.get("resource") == STATUS_PATH:
        detail = "the verification records cannot be read or changed now; try again"
    elif exc.failure is UpstreamFailure.STORE_UNAVAILABLE:
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


@logger.inject_lambda_context(clear_state=True)  # the sandbox runs the triggers in this process
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invocation.begin(context)  # engine waits and retries stay within the function's time
    return app.resolve(event, context)


# Init is over: what it built is frozen out of later collections (otp/handlers/startup.py).
startup.done()
