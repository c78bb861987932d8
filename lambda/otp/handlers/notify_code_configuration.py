"""The custom resource behind the stack's notify code configuration (``Custom::NotifyCodeConfiguration``).

CloudFormation invokes this function with a Create, Update or Delete event whose ``ResourceProperties``
are the configuration (``otp.adapters.notify_code_configurations``); the function makes the account hold
exactly that, then PUTs the outcome to the event's ``ResponseURL``. The physical id is the
configuration's id, and ``Arn`` is returned as data: the functions send with the id and their IAM
statement names the ARN.

- Create: created with the event's request id as client token, so a second delivery of the same event
  returns the same configuration instead of a second one.
- Update: the whole configuration is put back to the properties (a change made by hand is undone). If
  the configuration is gone (deleted by hand), a new one is created and its id becomes the physical id;
  CloudFormation then deletes the old id, which is already gone.
- Delete: deleted; already gone is success. With deletion protection on, the delete fails and says how to
  proceed, and the configuration stays.

Every outcome is answered, failures included (a custom resource that never answers holds the stack for
the resource's service timeout), and the answer never repeats the properties or the URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

from otp.adapters.end_user_messaging import end_user_messaging_client
from otp.adapters.notify_code_configurations import (
    DeletionProtected,
    InvalidProperties,
    NotifyCodeConfigurations,
    desired_configuration,
)
from otp.domain.errors import UpstreamError
from otp.handlers import startup
from otp.handlers.custom_resource import NOT_CREATED_PREFIX, answer
from otp.observability import logger

CONNECT_TIMEOUT: Final = 2.0
READ_TIMEOUT: Final = 10.0


@lru_cache(maxsize=1)
def configurations() -> NotifyCodeConfigurations:
    return NotifyCodeConfigurations(end_user_messaging_client(CONNECT_TIMEOUT, READ_TIMEOUT))


def apply(event: Mapping[str, Any], store: NotifyCodeConfigurations) -> tuple[str, dict[str, str]]:
    """Carry out the event; returns the physical id and the data to answer with. Raises on failure."""
    kind = event["RequestType"]
    physical_id = str(event.get("PhysicalResourceId") or "")
    if kind == "Delete":
        if physical_id and not physical_id.startswith(NOT_CREATED_PREFIX):
            existed = store.delete(physical_id)
            logger.info(
                "notify code configuration deleted",
                extra={"configurationId": physical_id, "existed": existed},
            )
        return physical_id, {}
    desired = desired_configuration(event.get("ResourceProperties") or {})
    reference = None
    if kind == "Update":
        reference = store.update(physical_id, desired)
        if reference is None:
            logger.warning(
                "notify code configuration gone; creating it again", extra={"configurationId": physical_id}
            )
    elif kind != "Create":
        raise InvalidProperties(f"unknown RequestType {kind!r}")
    if reference is None:
        reference = store.create(desired, client_token=str(event["RequestId"]))
    logger.info(
        "notify code configuration in place",
        extra={"configurationId": reference.configuration_id, "requestType": kind},
    )
    return reference.configuration_id, {"Id": reference.configuration_id, "Arn": reference.arn}


def _reason(exc: Exception) -> str:
    if isinstance(exc, DeletionProtected):
        return (
            "the notify code configuration has deletion protection on, so it was kept: deploy with "
            "notifyCodeDeletionProtection=false first, or delete the stack retaining this resource "
            f"({exc})"
        )
    if isinstance(exc, UpstreamError):
        return f"End User Messaging answered {exc.code}: {exc.message}"
    if isinstance(exc, InvalidProperties):
        return f"invalid properties: {exc}"
    return f"unexpected error ({type(exc).__name__}); see the function's log"


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> None:
    answer(
        event,
        lambda: apply(event, configurations()),
        reason=_reason,
        expected=(DeletionProtected, UpstreamError, InvalidProperties),
    )


# Init is over: what it built is frozen out of later collections (otp/handlers/startup.py).
startup.done()
