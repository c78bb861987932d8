"""End User Messaging's REST-JSON wire protocol for the two code operations, in front of the emulator.

From botocore's ``endusermessaging`` model (protocol rest-json, signing name ``end-user-messaging``):
SendNotifyCodeVerification is ``POST /v1/notify-code-verifications/send`` with the input members as the
JSON body, answering 200 ``{"verificationId", "messageId"}``; ValidateNotifyCodeVerification is
``POST /v1/notify-code-verifications/validate`` answering 200 ``{"status": "VALID" | "INVALID"}``.

Errors are what botocore's RestJSONParser reads: the type in the ``x-amzn-ErrorType`` header (it also
accepts a ``code`` member in the body), the message in the body's ``message`` member, and the error
shape's other members (``fieldList``, ``resourceId``, ``resourceType``) in the body, which botocore
copies into ``ClientError.response`` and the JavaScript SDK v3 onto the exception.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from werkzeug.wrappers import Request, Response

from local.http_json import BodyError, json_object_body, json_response
from local.notify_code_emulator import NotifyCodeEmulator, NotifyCodeError, validation_error

PREFIX: Final = "/v1/notify-code-verifications/"
_OPERATIONS: Final = ("send", "validate")


def notify_code_error_response(error: NotifyCodeError, request_id: str) -> Response:
    return json_response(
        error.http_status,
        {"message": error.message, **error.members},
        {"x-amzn-ErrorType": error.error_type, "x-amzn-RequestId": request_id},
    )


class NotifyCodeApi:
    """An endpoint override: answers the two code operations, passes every other request on."""

    def __init__(self, emulator: NotifyCodeEmulator) -> None:
        self._emulator = emulator

    def __call__(self, request: Request) -> Response | None:
        if not request.path.startswith(PREFIX):
            return None
        operation = request.path.removeprefix(PREFIX).rstrip("/")
        request_id = str(uuid.uuid4())
        if operation not in _OPERATIONS or request.method != "POST":
            # What a Smithy REST-JSON service answers for a route it does not have.
            return json_response(
                404,
                {"message": f"No operation matches {request.method} {request.path}"},
                {"x-amzn-ErrorType": "UnknownOperationException", "x-amzn-RequestId": request_id},
            )
        try:
            body = self._answer(request, operation, request_id)
        except NotifyCodeError as error:
            return notify_code_error_response(error, request_id)
        return json_response(200, body, {"x-amzn-RequestId": request_id})

    def _answer(self, request: Request, operation: str, request_id: str) -> Any:
        try:
            parameters = json_object_body(request)
        except BodyError as exc:
            raise validation_error("/", str(exc)) from None
        if operation == "send":
            return self._emulator.send(parameters, request_id)
        return {"status": self._emulator.validate(parameters)}
