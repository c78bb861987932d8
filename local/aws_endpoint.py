"""The sandbox's AWS endpoint (http://127.0.0.1:4566): one WSGI app, overrides first, then moto.

Stock boto3 (``endpoint_url=`` or ``AWS_ENDPOINT_URL``) and the AWS CLI (``--endpoint-url``) talk to it
unchanged. Each request is offered to a list of *overrides* in order; the first that answers wins,
and a request nobody claims goes to moto's server app, so Pinpoint applications, DynamoDB, Cognito
user pools and the rest come from moto's in-memory backends in this same process.

Every answer carries CORS headers and preflights are answered before any override (``local/cors.py``).

Built-in overrides, in order:
1. ``SandboxControl`` - ``/_sandbox/*`` (health, outbox, call log, clock) and LocalStack's
   ``/_aws/pinpoint/{applicationId}/{referenceId}``.
2. ``PinpointOtpApi`` - Pinpoint's ``POST /v1/apps/{id}/otp`` and ``/verify-otp``, which moto lacks;
   the application must exist in moto's Pinpoint backend (create it with ``create_app``).
3. ``NotifyCodeApi`` - every End User Messaging request (the ``endusermessaging`` service): the code
   operations ``POST /v1/notify-code-verifications/send`` and ``/validate`` on the same phone, clock and
   faults, the notify code configurations, and ``UnknownOperationException`` for the rest.
4. ``UserPoolUpdates`` - Cognito's ``UpdateUserPool``: moto's, corrected to keep what Cognito keeps
   (``local/cognito_pool_updates.py``).
5. ``DynamoDbFaults`` - a DynamoDB request for which ``/_sandbox/faults`` queued a fault answers with it,
   as DynamoDB would (``local/dynamodb_faults.py``); moto never sees it.

Extension point - adding an operation moto lacks or gets wrong (e.g. Cognito ``InitiateAuth`` /
``RespondToAuthChallenge`` for ``CUSTOM_AUTH`` in ``local/cognito_custom_auth.py``):

    def cognito_custom_auth(request: werkzeug.wrappers.Request) -> werkzeug.wrappers.Response | None:
        target = request.headers.get("X-Amz-Target", "")
        if target != "AWSCognitoIdentityProviderService.InitiateAuth":
            return None                      # not mine: the next override, then moto, gets it
        body = json.loads(request.get_data())  # the body can be read freely; moto still gets it
        if body.get("AuthFlow") != "CUSTOM_AUTH":
            return endpoint.forward_to_moto(request)   # or simply return None
        ...
        return json_response(200, {...})

    endpoint.add_override(cognito_custom_auth)

An override is any ``Callable[[Request], Response | None]``. It must not keep the request after it
returns. It may call ``AwsEndpoint.forward_to_moto`` to get moto's answer and adjust it, and may call
the endpoint itself over HTTP (the server is threaded), which is how trigger handlers using boto3
against ``AWS_ENDPOINT_URL`` reach Pinpoint. An exception escaping an override becomes a 500 with
an ``InternalFailure`` error and a traceback on the sandbox console.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import get_input_stream

from local.cognito_pool_updates import UserPoolUpdates
from local.cors import is_preflight, preflight, with_cors
from local.dynamodb_faults import DynamoDbFaults
from local.http_json import json_response
from local.moto_backends import moto_wsgi_app, pinpoint_application_exists
from local.notify_code_emulator import NotifyCodeEmulator
from local.notify_code_wire import NotifyCodeApi
from local.otp_emulator import OtpEmulator
from local.pinpoint_otp_wire import PinpointOtpApi
from local.sandbox_control import SandboxControl, SandboxStatus

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Override = Callable[[Request], Response | None]

_log = logging.getLogger("local.aws_endpoint")


def _buffer_body(environ: WSGIEnvironment) -> bytes:
    """Read the body once (chunked or not) and make ``wsgi.input`` re-readable for whoever answers."""
    body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False
    return body


class AwsEndpoint:
    """WSGI app: the overrides in order, then moto."""

    def __init__(
        self,
        emulator: OtpEmulator,
        *,
        status: SandboxStatus | None = None,
        overrides: Sequence[Override] = (),
        fallback: WSGIApplication | None = None,
    ) -> None:
        self.emulator = emulator
        self.notify_codes = NotifyCodeEmulator(emulator)
        self.status = status or SandboxStatus()
        self._fallback: WSGIApplication = fallback or moto_wsgi_app()
        self.overrides: list[Override] = [
            SandboxControl(emulator, self.status, notify_limits=self.notify_codes.limits),
            PinpointOtpApi(emulator, pinpoint_application_exists),
            NotifyCodeApi(self.notify_codes),
            UserPoolUpdates(self.forward_to_moto),
            DynamoDbFaults(emulator.faults),
            *overrides,
        ]

    def add_override(self, override: Override, *, first: bool = False) -> None:
        """Register an override after the existing ones, or before all of them with ``first=True``."""
        if first:
            self.overrides.insert(0, override)
        else:
            self.overrides.append(override)

    def forward_to_moto(self, request: Request) -> Response:
        """moto's answer to this request, as a Response an override can return or adjust."""
        environ = request.environ
        environ["wsgi.input"] = io.BytesIO(request.get_data(cache=True))
        return Response.from_app(self._fallback, environ)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # Browsers call this endpoint as they call AWS: CORS on every answer (local/cors.py).
        if is_preflight(environ):
            return preflight(environ, start_response)
        start_response = with_cors(start_response)
        body = _buffer_body(environ)
        request = Request(environ)
        for override in list(self.overrides):
            try:
                response = override(request)
            except Exception:
                _log.exception("sandbox override %r failed on %s %s", override, request.method, request.path)
                response = json_response(
                    500,
                    {"message": "the sandbox failed to answer this request; see its console"},
                    {"x-amzn-ErrorType": "InternalFailure"},
                )
            if response is not None:
                return response(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        answer: Iterable[bytes] = self._fallback(environ, start_response)
        return answer
