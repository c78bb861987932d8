"""Pinpoint's REST-JSON wire protocol for the two OTP operations, in front of the emulator.

From botocore's ``pinpoint`` model (protocol rest-json): SendOTPMessage is ``POST
/v1/apps/{application-id}/otp`` with SendOTPMessageRequestParameters as the whole JSON body, answering
200 with MessageResponse as the whole body; VerifyOTPMessage is ``POST /v1/apps/{application-id}/verify-otp``
answering VerificationResponse (``{"Valid": bool}``). Errors carry their type in the
``x-amzn-ErrorType`` header and ``{"Message", "RequestID"}`` in the body, which is what stock boto3 and
the AWS CLI parse into ``ClientError.response["Error"]``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from local.http_json import BodyError, json_object_body, json_response
from local.otp_emulator import OtpEmulator, PinpointError, bad_request, not_found

_OTP_PATH = re.compile(r"^/v1/apps/(?P<application_id>[^/]+)/(?P<operation>otp|verify-otp)/?$")

ApplicationExists = Callable[[Mapping[str, Any], str], bool]


def pinpoint_error_response(error: PinpointError, request_id: str) -> Response:
    return json_response(
        error.http_status,
        {"Message": error.message, "RequestID": request_id},
        {"x-amzn-ErrorType": error.error_type, "x-amzn-RequestId": request_id},
    )


class PinpointOtpApi:
    """An endpoint override: answers the OTP operations, passes every other request on (returns None)."""

    def __init__(self, emulator: OtpEmulator, application_exists: ApplicationExists) -> None:
        self._emulator = emulator
        self._application_exists = application_exists

    def __call__(self, request: Request) -> Response | None:
        match = _OTP_PATH.match(request.path)
        if match is None:
            return None
        request_id = str(uuid.uuid4())
        try:
            body = self._answer(request, match["application_id"], match["operation"], request_id)
        except PinpointError as error:
            return pinpoint_error_response(error, request_id)
        return json_response(200, body, {"x-amzn-RequestId": request_id})

    def _answer(self, request: Request, application_id: str, operation: str, request_id: str) -> Any:
        if request.method != "POST":
            raise PinpointError("MethodNotAllowedException", 405, f"Method {request.method} is not allowed")
        if not self._application_exists(request.environ, application_id):
            raise not_found(f"Application {application_id} not found")
        try:
            parameters = json_object_body(request)
        except BodyError as exc:
            raise bad_request(str(exc)) from None
        if operation == "otp":
            return self._emulator.send_otp(application_id, parameters, request_id)
        return {"Valid": self._emulator.verify_otp(application_id, parameters)}
