"""The sandbox's HTTP API (http://127.0.0.1:3000): API Gateway's REST proxy integration, locally.

Each request to ``/{stage}/...`` becomes the proxy event API Gateway would send (``/v1/otp`` ->
resource and path ``/otp``) and is handed to the real ``otp.handlers.api.lambda_handler`` with a
Lambda-like context; its proxy result becomes the HTTP response. API Gateway's own answers are
reproduced where a client can see them: 403 "Missing Authentication Token" for a resource or method
the API does not define, 413 above the 10 MB payload quota, 502 when the function fails or returns
something that is not a proxy result, 504 when it runs past the 29-second integration timeout.

Not reproduced: IAM / API-key authorisation (the sandbox API is open), throttling, WAF.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from local.http_json import json_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

LambdaHandler = Callable[[dict[str, Any], Any], Any]

STAGE = "v1"
# The resources and methods the deployed REST API defines (infra's API construct); anything else is a 403.
# A ``{name}`` segment is a path variable; as in API Gateway, a literal sibling wins over it (so
# ``GET /otp/verify`` is the verify resource's, which has no GET: 403).
RESOURCES: Mapping[str, frozenset[str]] = {
    "/otp": frozenset({"POST"}),
    "/otp/verify": frozenset({"POST"}),
    "/otp/{referenceId}": frozenset({"GET", "DELETE"}),
}
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's quota for a REST API request
INTEGRATION_TIMEOUT_SECONDS = 29.0  # API Gateway's default (and for REST APIs, usual) maximum
HANDLER_PATH = "otp.handlers.api:lambda_handler"
LAMBDA_ASSET_ROOT = Path(__file__).resolve().parent.parent / "lambda"
SANDBOX_ACCOUNT_ID = "123456789012"  # moto's default account, so ARNs agree across the sandbox

_log = logging.getLogger("local.api_gateway")


@dataclass
class SandboxLambdaContext:
    """What Lambda passes as ``context``; Powertools reads these attributes for its log fields."""

    aws_request_id: str
    function_name: str = "otp-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    log_group_name: str = "/aws/lambda/otp-api"
    log_stream_name: str = "sandbox"
    timeout_seconds: float = INTEGRATION_TIMEOUT_SECONDS
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{SANDBOX_ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def put_lambda_asset_on_path() -> None:
    """Make ``otp`` importable the way the Lambda runtime does: from the asset root."""
    if str(LAMBDA_ASSET_ROOT) not in sys.path:
        sys.path.insert(0, str(LAMBDA_ASSET_ROOT))


def load_handler(spec: str = HANDLER_PATH) -> LambdaHandler:
    """Import ``module:function`` from the Lambda asset root, as the Lambda runtime would at init."""
    put_lambda_asset_on_path()
    module_name, _, function_name = spec.partition(":")
    handler: LambdaHandler = getattr(importlib.import_module(module_name), function_name)
    return handler


def _api_gateway_error(status: int, message: str, request_id: str, error_type: str) -> Response:
    return json_response(
        status, {"message": message}, {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error_type}
    )


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def match_resource(resources: Iterable[str], path: str) -> tuple[str, dict[str, str]] | None:
    """The resource a path belongs to and its path variables, literal segments first; None if none."""
    # An empty segment (a trailing or doubled slash) matches nothing, as no resource has one.
    segments = path.removeprefix("/").split("/")
    templates = [resource.strip("/").split("/") if resource.strip("/") else [] for resource in resources]
    candidates: list[tuple[list[str], dict[str, str]]] = [
        (template, {}) for template in templates if len(template) == len(segments)
    ]
    for index, segment in enumerate(segments):
        literal = [(t, v) for t, v in candidates if t[index] == segment]
        if literal:
            candidates = literal
            continue
        candidates = [
            (t, {**v, t[index][1:-1]: segment})
            for t, v in candidates
            if t[index].startswith("{") and t[index].endswith("}") and segment
        ]
    if not candidates:
        return None
    template, variables = candidates[0]
    return "/" + "/".join(template), variables


def build_proxy_event(
    request: Request,
    body: bytes,
    *,
    stage: str,
    resource: str,
    request_id: str,
    api_id: str,
    path_parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The REST API proxy event for this request, field for field as API Gateway builds it."""
    headers = _multi(request.headers.items())
    query = _multi(request.args.items(multi=True))
    try:
        text_body: str | None = body.decode("utf-8") if body else None
        is_base64 = False
    except UnicodeDecodeError:
        text_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(tz=UTC)
    host = request.host
    path = request.path.removeprefix(f"/{stage}") or resource
    return {
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": SANDBOX_ACCOUNT_ID,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.remote_addr or "127.0.0.1",
                "user": None,
                "userAgent": request.headers.get("User-Agent"),
                "userArn": None,
            },
            "path": f"/{stage}{path}",
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "sandbox",
            "resourcePath": resource,
            "stage": stage,
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def _internal_server_error(request_id: str) -> Response:
    return _api_gateway_error(502, "Internal server error", request_id, "InternalServerErrorException")


class InvalidProxyResult(ValueError):
    """The function returned something API Gateway cannot turn into a response (it answers 502)."""


def proxy_result_response(result: Any) -> Response:
    """Turn a Lambda proxy result into the HTTP response API Gateway would send."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        raise InvalidProxyResult("the result has no integer statusCode")
    body = result.get("body") or ""
    if not isinstance(body, str):
        raise InvalidProxyResult("the body is not a string")
    try:
        payload = base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else body.encode()
    except binascii.Error:
        raise InvalidProxyResult("isBase64Encoded is set but the body is not base64") from None
    response = Response(payload, status=result["statusCode"])
    response.headers.pop("Content-Type", None)  # only what the function set, as API Gateway does
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    return response


class ApiGatewayProxy:
    """WSGI app: request -> proxy event -> handler -> proxy result -> response."""

    def __init__(
        self,
        handler_loader: Callable[[], LambdaHandler] = load_handler,
        *,
        stage: str = STAGE,
        resources: Mapping[str, frozenset[str]] = RESOURCES,
        timeout_seconds: float = INTEGRATION_TIMEOUT_SECONDS,
        api_id: str = "sandboxapi",
    ) -> None:
        self._handler_loader = handler_loader
        self._handler: LambdaHandler | None = None
        self._load_lock = threading.Lock()
        self.stage = stage
        self.resources = resources
        self.timeout_seconds = timeout_seconds
        self.api_id = api_id

    def handler(self) -> LambdaHandler:
        """The function, imported on first use (after the sandbox has set its environment)."""
        with self._load_lock:
            if self._handler is None:
                self._handler = self._handler_loader()
            return self._handler

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._respond(Request(environ))(environ, start_response)

    def _respond(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        matched = self._resource_for(request)
        if matched is None:
            return _api_gateway_error(
                403, "Missing Authentication Token", request_id, "MissingAuthenticationTokenException"
            )
        if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
            return _api_gateway_error(413, "Request Too Long", request_id, "RequestTooLongException")
        body = request.stream.read(MAX_PAYLOAD_BYTES + 1)
        if len(body) > MAX_PAYLOAD_BYTES:  # chunked uploads carry no Content-Length to check up front
            return _api_gateway_error(413, "Request Too Long", request_id, "RequestTooLongException")
        resource, variables = matched
        event = build_proxy_event(
            request,
            body,
            stage=self.stage,
            resource=resource,
            request_id=request_id,
            api_id=self.api_id,
            path_parameters=variables,
        )
        context = SandboxLambdaContext(aws_request_id=str(uuid.uuid4()), timeout_seconds=self.timeout_seconds)
        try:
            result = self._invoke(event, context)
        except TimeoutError:
            return _api_gateway_error(504, "Endpoint request timed out", request_id, "IntegrationTimeout")
        except Exception:
            # Lambda would log this to CloudWatch; the sandbox console is the local equivalent.
            _log.exception("the function failed on %s %s", request.method, request.path)
            return _internal_server_error(request_id)
        try:
            response = proxy_result_response(result)
        except InvalidProxyResult as exc:
            _log.error("malformed Lambda proxy result for %s %s: %s", request.method, request.path, exc)
            return _internal_server_error(request_id)
        response.headers["x-amzn-RequestId"] = request_id
        return response

    def _resource_for(self, request: Request) -> tuple[str, dict[str, str]] | None:
        prefix = f"/{self.stage}"
        if not request.path.startswith(prefix + "/"):
            return None
        matched = match_resource(self.resources, request.path.removeprefix(prefix))
        if matched is None or request.method not in self.resources.get(matched[0], frozenset()):
            return None
        return matched

    def _invoke(self, event: dict[str, Any], context: SandboxLambdaContext) -> Any:
        """Run the function, giving up (like API Gateway) after the integration timeout."""
        handler = self.handler()
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = handler(event, context)
            except BaseException as exc:  # handed to the request thread, which decides the answer
                outcome["error"] = exc

        worker = threading.Thread(target=run, name=f"lambda-{context.aws_request_id[:8]}", daemon=True)
        worker.start()
        worker.join(self.timeout_seconds)
        if worker.is_alive():
            raise TimeoutError
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")
