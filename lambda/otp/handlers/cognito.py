"""Cognito custom-auth triggers for passwordless sign-in with a one-time code.

Thin on purpose: read the event with Powertools' data classes, ask ``otp.domain.challenge`` what to
do, write the answer into the event's ``response`` and return the event, as Cognito expects.

The client's ``ClientMetadata`` (RespondToAuthChallenge passes it to all three triggers) may carry
``otpChannel``: a delivery request instead of a code ("call me instead", contracts.md), and with it
``otpDeviceTicket``, the device ticket the client holds for the number. Both are read here and nowhere
else, and never logged.

Nothing here may raise to Cognito: Cognito would turn the exception into an error for the client,
and an error that only real users can provoke tells an attacker which users exist. So Define fails
the session, Create answers with a decoy challenge, and Verify answers "wrong".

Correlation id: Cognito puts no request id in trigger events, so each log line carries the sign-in
session's first reference id instead. Create generates it, records it in the session and sends the
first code under it; Define and Verify find it in the session, so one search finds every line of one
sign-in, across the three functions. A channel switch sends its code under a new reference, which
Create logs as ``referenceId`` (the engine's records of that code carry it).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event import (
    ChallengeResult,
    CreateAuthChallengeTriggerEvent,
    DefineAuthChallengeTriggerEvent,
    VerifyAuthChallengeResponseTriggerEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from otp import invocation, wiring
from otp.domain.challenge import SignInUser, SmsChallenge, SmsChallenges
from otp.domain.challenge_rules import (
    CODE_ANSWER,
    Decision,
    DeliveryRequest,
    NextStep,
    classify_answer,
    decide_next_step,
)
from otp.domain.challenge_state import (
    CUSTOM_CHALLENGE,
    PRIVATE_REFERENCE_ID,
    PRIVATE_SESSION_REFERENCE,
    ChallengeRound,
    session_state,
)
from otp.domain.errors import UpstreamError
from otp.domain.models import Door, RequestSource
from otp.domain.tickets import DeviceTickets
from otp.handlers import startup
from otp.observability import logger, tracer
from otp.settings import get_settings
from otp.wiring import deployment_key, otp_observer, otp_service, sign_in_floors, ticket_book

# Fail the init phase, not the first sign-in, when the deployment's environment is wrong.
get_settings()

DECOY_KEY_PURPOSE = "cognito-decoy"
TICKET_KEY_PURPOSE = "device-ticket"
# Only when the deployment secret cannot be had: decoys then stay the same within this container but
# not across containers, which a patient prober could notice, and device tickets issued here are
# checked here only; never a key anyone could compute.
_CONTAINER_KEY = secrets.token_bytes(32)


def _key(purpose: str) -> bytes:
    """A key derived from the secret generated at deploy time (Create Auth Challenge only reads it).

    Never from the Pinpoint application id or any other id the stack shows: whoever knew it could
    compute each username's decoy, or a session's device ticket.
    """
    if get_settings().secret_arn is None:
        if get_settings().lambda_function_name:
            logger.error("OTP_SECRET_ARN is not set; decoys and device tickets use a key of this container")
        return _CONTAINER_KEY
    try:
        return deployment_key(purpose)
    except Exception:
        logger.exception("the deployment secret could not be read; decoys and tickets use a container key")
        return _CONTAINER_KEY


def _challenges(event: Mapping[str, Any], *, creating: bool = False) -> SmsChallenges:
    """Rebuilt per invocation (it is only a wrapper); the OtpService and its clients are cached.

    Only Create needs the keys (decoys, and issuing and checking tickets); Verify confirms a ticket by
    the record key Create left in the private parameters, and has no access to the secret. Sends and
    verifications are recorded against the sign-in door and the event's app client.
    """
    settings = get_settings()
    send_floor, verify_floor, delivery_floor = sign_in_floors()
    client_id = str((event.get("callerContext") or {}).get("clientId") or "")
    return SmsChallenges(
        otp_service().with_source(RequestSource(Door.SIGN_IN, client_id)),
        allowed_countries=settings.allowed_countries,
        decoy_key=_key(DECOY_KEY_PURPOSE) if creating else _CONTAINER_KEY,
        send_floor=send_floor,
        verify_floor=verify_floor,
        delivery_floor=delivery_floor,
        limits_clock=lambda: wiring.limits_clock(),
        tickets=DeviceTickets(
            ticket_book(),
            key=_key(TICKET_KEY_PURPOSE) if creating else _CONTAINER_KEY,
            valid_days=settings.device_ticket_days,
            clock=lambda: wiring.limits_clock(),
        ),
        report_store_error=_report_store_error,
    )


def _report_store_error(error: UpstreamError) -> None:
    otp_observer().upstream_error(error.code, "DeviceTickets", maybe_sent=False)


# Read the secret during init (only the function granted it has OTP_SECRET_ARN): no sign-in waits for it.
if get_settings().secret_arn is not None:
    _key(DECOY_KEY_PURPOSE)


def _rounds(session: list[ChallengeResult]) -> list[ChallengeRound]:
    return [ChallengeRound(r.challenge_name, r.challenge_result, r.challenge_metadata) for r in session]


# ClientMetadata keys of the protocol (docs/cognito.md, "Call me instead" and "Device tickets").
CLIENT_CHANNEL = "otpChannel"
CLIENT_TICKET = "otpDeviceTicket"


def _delivery_request(request: Mapping[str, Any]) -> DeliveryRequest | None:
    """The client's delivery request, if its ClientMetadata makes one; never logged."""
    metadata = request.get("clientMetadata")
    if not isinstance(metadata, Mapping):
        return None
    channel, ticket = metadata.get(CLIENT_CHANNEL), metadata.get(CLIENT_TICKET)
    if not isinstance(channel, str) or not channel:
        return None
    return DeliveryRequest(channel=channel, ticket=ticket if isinstance(ticket, str) and ticket else None)


def _start(event: dict[str, Any], reference_id: str | None) -> None:
    """Per-invocation log context; never the username, which may be a phone number or an email."""
    logger.set_correlation_id(reference_id)
    caller = event.get("callerContext") or {}
    request = event.get("request") or {}
    attributes = request.get("userAttributes") or {}
    logger.append_keys(
        trigger=event.get("triggerSource"),
        userPoolId=event.get("userPoolId"),
        clientId=caller.get("clientId"),
        userSub=attributes.get("sub"),
        userNotFound=bool(request.get("userNotFound")),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def define_auth_challenge(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Challenge a fresh session; tokens after a right answer; fail after allowedAttempts wrong ones."""
    trigger = DefineAuthChallengeTriggerEvent(event)
    try:
        rounds = _rounds(trigger.request.session)
        state = session_state(rounds)
        _start(event, state.first_reference)
        # Only the latest round's answer comes with this call's ClientMetadata; earlier switches are
        # recorded in the rounds that followed them.
        latest = CODE_ANSWER
        if rounds and not rounds[-1].succeeded:
            request = _delivery_request(trigger.request.raw_event)
            latest = classify_answer(state, request, get_settings().channels)
        decision = decide_next_step(rounds, get_settings().allowed_attempts, latest)
    except Exception:
        logger.exception("define auth challenge failed; failing the session")
        decision = Decision(NextStep.FAIL, "internal error", 0)
    response = trigger.response
    response.issue_tokens = decision.step is NextStep.ISSUE_TOKENS
    response.fail_authentication = decision.step is NextStep.FAIL
    if decision.step is NextStep.CHALLENGE:
        response.challenge_name = CUSTOM_CHALLENGE
    logger.info(
        "sign-in step decided",
        extra={
            "nextStep": decision.step.value,
            "reason": decision.reason,
            "wrongAnswers": decision.wrong_answers,
        },
    )
    return trigger.raw_event


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def create_auth_challenge(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Send a code in the session's first round and on a switch; ask for the same code otherwise."""
    invocation.begin(context)  # engine waits and retries stay within the trigger's 5 s
    trigger = CreateAuthChallengeTriggerEvent(event)
    challenge: SmsChallenge
    try:
        rounds = _rounds(trigger.request.session)
        _start(event, session_state(rounds).first_reference)
        attributes = trigger.request.get("userAttributes") or {}
        user = SignInUser(
            username=trigger.user_name,
            found=not trigger.request.user_not_found,
            phone_number=attributes.get("phone_number"),
            phone_number_verified=attributes.get("phone_number_verified") == "true",
        )
        request = _delivery_request(trigger.request.raw_event)
        challenge = _challenges(event, creating=True).create(user, rounds, request)
    except Exception:
        # Same shape as every other challenge, so the failure is invisible to the client; the
        # user cannot pass it and signs in again, which starts a new session and a new code.
        logger.exception("create auth challenge failed; answering with a decoy")
        challenge = _challenges(event, creating=True).decoy(str(event.get("userName") or ""))
    logger.set_correlation_id(challenge.session_reference)
    response = trigger.response
    response.public_challenge_parameters = challenge.public_parameters
    response.private_challenge_parameters = challenge.private_parameters
    response.challenge_metadata = challenge.metadata
    logger.info(
        "sign-in challenge created",
        extra={
            "round": len(trigger.request.get("session") or []) + 1,
            "sendResult": challenge.send_result.value,
            "channel": challenge.code.channel.value,
            "origin": challenge.code.origin.name,
            "decoy": challenge.is_decoy,
            "phoneNumber": challenge.destination.masked if challenge.destination else None,
            "referenceId": challenge.reference_id,
        },
    )
    return trigger.raw_event


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def verify_auth_challenge(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Ask the engine whether the answer is the code in force for the session's reference and number."""
    invocation.begin(context)
    trigger = VerifyAuthChallengeResponseTriggerEvent(event)
    # Wrong unless proven right: whatever fails below leaves this answer in place.
    trigger.response.answer_correct = False
    correct = False
    request: DeliveryRequest | None = None
    try:
        private = trigger.request.get("privateChallengeParameters") or {}
        _start(event, private.get(PRIVATE_SESSION_REFERENCE) or private.get(PRIVATE_REFERENCE_ID))
        # A delivery request is no code: wrong, and no engine attempt spent. An unknown user's decoy is
        # checked too: it is never right, but it takes as long as a real answer.
        request = _delivery_request(trigger.request.raw_event)
        correct = _challenges(event).check_answer(private, trigger.request.get("challengeAnswer"), request)
    except Exception:
        logger.exception("verify auth challenge failed; treating the answer as wrong")
        correct = False
    trigger.response.answer_correct = correct
    logger.info(
        "sign-in answer checked", extra={"answerCorrect": correct, "deliveryRequest": request is not None}
    )
    return trigger.raw_event


# Init is over: what it built is frozen out of later collections (otp/handlers/startup.py).
startup.done()
