"""End User Messaging's REST-JSON wire protocol (the ``endusermessaging`` service), in front of the emulator.

From botocore's model (protocol rest-json, signing name ``end-user-messaging``), the operations the
sandbox implements:

- SendNotifyCodeVerification ``POST /v1/notify-code-verifications/send`` and
  ValidateNotifyCodeVerification ``POST /v1/notify-code-verifications/validate`` (``NotifyCodeEmulator``);
- Create ``POST /v1/notify-code-configurations``, List ``GET /v1/notify-code-configurations``
  (``maxResults``, ``nextToken`` in the query), Get ``GET``, Update ``PUT`` and Delete ``DELETE``
  ``/v1/notify-code-configurations/{notifyCodeConfigurationId+}`` (an id or an ARN);
- ListTagsForResource ``GET``, TagResource ``POST``, UntagResource ``DELETE /v1/tags/{resourceArn}``
  (``tagKeys`` in the query) for notify code configurations.

Every other request for this service - signed for ``end-user-messaging``, or on one of its paths (brand
profiles, jobs) - is answered the way a Smithy REST-JSON service answers a route it does not have: 404
with ``x-amzn-ErrorType: UnknownOperationException`` and a JSON ``message``, which botocore turns into a
``ClientError`` like any other. It never falls through to moto, which answers what it does not know with
an HTML page.

Errors are what botocore's RestJSONParser reads: the type in the ``x-amzn-ErrorType`` header (it also
accepts a ``code`` member in the body), the message in the body's ``message`` member, and the error
shape's other members (``fieldList``, ``resourceId``, ``resourceType``) in the body, which botocore
copies into ``ClientError.response`` and the JavaScript SDK v3 onto the exception.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, Final

from werkzeug.wrappers import Request, Response

from local.http_json import BodyError, json_object_body, json_response
from local.notify_code_emulator import DEFAULT_REGION, NotifyCodeEmulator
from local.notify_code_validation import NotifyCodeError, validation_error

SIGNING_NAME: Final = "end-user-messaging"
# Paths that belong to this service whoever asks (Pinpoint's /v1/tags/{arn} is told apart by the ARN).
_OWN_PREFIXES: Final = ("/v1/notify-code-", "/v1/brand-profiles", "/v1/jobs")
_CREDENTIAL_SCOPE: Final = re.compile(r"Credential=[^/,]+/[0-9]{8}/(?P<region>[^/,]+)/(?P<service>[^/,]+)/")

Handler = Callable[[Request, dict[str, str], str], Any]


def notify_code_error_response(error: NotifyCodeError, request_id: str) -> Response:
    return json_response(
        error.http_status,
        {"message": error.message, **error.members},
        {"x-amzn-ErrorType": error.error_type, "x-amzn-RequestId": request_id},
    )


def unknown_operation_response(request: Request, request_id: str) -> Response:
    """What a Smithy REST-JSON service answers for a route it does not have."""
    return json_response(
        404,
        {"message": f"No operation matches {request.method} {request.path}"},
        {"x-amzn-ErrorType": "UnknownOperationException", "x-amzn-RequestId": request_id},
    )


def _body(request: Request) -> dict[str, Any]:
    try:
        return json_object_body(request)
    except BodyError as exc:
        raise validation_error("/", str(exc)) from None


class NotifyCodeApi:
    """An endpoint override: answers every End User Messaging request, passes every other one on."""

    def __init__(self, emulator: NotifyCodeEmulator) -> None:
        self._emulator = emulator
        configurations = emulator.configurations
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (
                "POST",
                re.compile(r"/v1/notify-code-verifications/send"),
                lambda request, _, region: self._emulator.send(_body(request), region=region),
            ),
            (
                "POST",
                re.compile(r"/v1/notify-code-verifications/validate"),
                lambda request, _, region: {"status": self._emulator.validate(_body(request))},
            ),
            (
                "POST",
                re.compile(r"/v1/notify-code-configurations"),
                lambda request, _, region: configurations.create(_body(request), region),
            ),
            (
                "GET",
                re.compile(r"/v1/notify-code-configurations"),
                lambda request, _, region: configurations.list_page(request.args.to_dict(), region),
            ),
            (
                "GET",
                re.compile(r"/v1/notify-code-configurations/(?P<id>.+)"),
                lambda request, path, region: configurations.get(path["id"], region),
            ),
            (
                "PUT",
                re.compile(r"/v1/notify-code-configurations/(?P<id>.+)"),
                lambda request, path, region: configurations.update(path["id"], _body(request), region),
            ),
            (
                "DELETE",
                re.compile(r"/v1/notify-code-configurations/(?P<id>.+)"),
                lambda request, path, region: configurations.delete(path["id"], region),
            ),
            (
                "GET",
                re.compile(r"/v1/tags/(?P<arn>.+)"),
                lambda request, path, region: configurations.list_tags(path["arn"], region),
            ),
            (
                "POST",
                re.compile(r"/v1/tags/(?P<arn>.+)"),
                lambda request, path, region: configurations.tag(path["arn"], _body(request), region),
            ),
            (
                "DELETE",
                re.compile(r"/v1/tags/(?P<arn>.+)"),
                lambda request, path, region: configurations.untag(
                    path["arn"], request.args.getlist("tagKeys"), region
                ),
            ),
        ]

    def __call__(self, request: Request) -> Response | None:
        scope = _CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
        if not _is_end_user_messaging(request, scope):
            return None
        region = scope["region"] if scope is not None else DEFAULT_REGION
        request_id = str(uuid.uuid4())
        path = request.path.rstrip("/") or "/"
        for method, pattern, handler in self._routes:
            matched = pattern.fullmatch(path)
            if matched is None or method != request.method:
                continue
            try:
                body = handler(request, matched.groupdict(), region)
            except NotifyCodeError as error:
                return notify_code_error_response(error, request_id)
            return json_response(200, body, {"x-amzn-RequestId": request_id})
        return unknown_operation_response(request, request_id)


def _is_end_user_messaging(request: Request, scope: re.Match[str] | None) -> bool:
    if scope is not None:
        return scope["service"] == SIGNING_NAME
    path = request.path
    return path.startswith(_OWN_PREFIXES) or (
        path.startswith("/v1/tags/arn:") and f":{SIGNING_NAME}:" in path
    )
