"""EventBridge Scheduler's target: one channel fallback job (otp/domain/fallback.py).

The event is the schedule's input, ``{"phoneNumber", "referenceId", "step", "nonce"}``, which only this
service writes. A job that is not needed any more (verified, cancelled, sent again) does nothing; one the
limits refuse or the engine fails is logged and counted like any send, and not raised: a raise would make
the scheduler retry a job whose answer would be the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otp import invocation
from otp.domain.fallback import FallbackJob
from otp.handlers import startup
from otp.observability import logger, tracer
from otp.settings import get_settings
from otp.wiring import channel_fallback

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Fail the init phase, not the first job, when the deployment's environment is wrong.
get_settings()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invocation.begin(context)
    try:
        job = FallbackJob.from_event(event)
    except ValueError as exc:
        logger.error("not a fallback job", extra={"error": str(exc)})
        return {"outcome": "INVALID"}
    logger.set_correlation_id(job.reference_id)
    # The next step's schedule invokes this same function (its ARN as invoked: with an alias, the alias).
    result = channel_fallback(context.invoked_function_arn).run(job)
    logger.info(
        "channel fallback",
        extra={
            "outcome": result.outcome.value,
            "step": job.step,
            "channel": result.channel.value if result.channel else None,
            "phoneNumber": result.destination.masked if result.destination else None,
            "referenceId": job.reference_id,
        },
    )
    return {"outcome": result.outcome.value}


startup.done()
