"""API Gateway's REST proxy integration for the API's routes: route by method and resource, map exceptions
to responses, build the proxy result.

Powertools' ``APIGatewayRestResolver`` did this before; for this API's two routes it cost ≈ 55 µs of each
warm ``POST /otp`` between real network calls (≈ 3.5 % of the request against the sandbox) and a few
milliseconds of every cold start to import its event handler package. This keeps what the API used:
exact routes, exception handlers looked up along the exception's MRO, a not-found handler, and the
proxy result REST APIs expect (``statusCode``, ``multiValueHeaders``, ``body``, ``isBase64Encoded``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

JSON_CONTENT_TYPE = "application/json"
# One compact encoder for every response: json.dumps with separators builds a new encoder per call.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


class HttpResponse:
    """What a route or an exception handler answers; ``body`` is sent as it is when it is text."""

    __slots__ = ("body", "content_type", "headers", "status_code")

    def __init__(
        self,
        status_code: int,
        content_type: str,
        body: Any,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.content_type = content_type
        self.body = body
        self.headers = headers


class Request:
    """The proxy event of one invocation, with the parts the API reads."""

    __slots__ = ("_headers", "context", "event")

    def __init__(self, event: Mapping[str, Any], context: Any) -> None:
        self.event = event
        self.context = context
        self._headers: dict[str, str] | None = None

    def header(self, name: str) -> str | None:
        """A request header, whatever the case of its name (HTTP/2 clients send them in lower case)."""
        if self._headers is None:
            self._headers = {key.lower(): value for key, value in (self.event.get("headers") or {}).items()}
        return self._headers.get(name.lower())

    @property
    def body(self) -> str | None:
        body: str | None = self.event.get("body")
        return body

    @property
    def is_base64_encoded(self) -> bool:
        return bool(self.event.get("isBase64Encoded"))

    @property
    def _context(self) -> Mapping[str, Any]:
        return self.event.get("requestContext") or {}

    @property
    def request_id(self) -> str | None:
        request_id: str | None = self._context.get("requestId")
        return request_id

    @property
    def identity(self) -> Mapping[str, Any]:
        identity: Mapping[str, Any] = self._context.get("identity") or {}
        return identity

    @property
    def path_parameters(self) -> Mapping[str, str]:
        """The resource's path variables (``{referenceId}``), URL-decoded by API Gateway."""
        parameters: Mapping[str, str] = self.event.get("pathParameters") or {}
        return parameters

    @property
    def query(self) -> Mapping[str, list[str]]:
        """Every query string parameter with all its values (a repeated name has several)."""
        multi: Mapping[str, list[str]] | None = self.event.get("multiValueQueryStringParameters")
        if multi:
            return multi
        single: Mapping[str, str] = self.event.get("queryStringParameters") or {}
        return {name: [value] for name, value in single.items()}


Route = Callable[[Request], "HttpResponse | dict[str, Any]"]
Handler = Callable[[Any], HttpResponse]
R = TypeVar("R", bound=Callable[..., Any])


class RestRouter:
    """Exact routes by (method, resource), exception handlers by type, one not-found handler."""

    def __init__(self, on_request: Callable[[Request], None] | None = None) -> None:
        """``on_request`` sees each request before it is routed (the API sets its log correlation id)."""
        self._on_request = on_request
        self._routes: dict[tuple[str, str], Route] = {}
        self._handlers: dict[type[BaseException], Handler] = {}
        self._not_found: Callable[[], HttpResponse] | None = None
        self._current: ContextVar[Request] = ContextVar("current_request")

    @property
    def current(self) -> Request:
        """The request being handled (per invocation; a context variable, so threads do not mix them)."""
        return self._current.get()

    def route(self, method: str, resource: str) -> Callable[[R], R]:
        def register(route: R) -> R:
            self._routes[(method, resource)] = route
            return route

        return register

    def post(self, resource: str) -> Callable[[R], R]:
        return self.route("POST", resource)

    def get(self, resource: str) -> Callable[[R], R]:
        return self.route("GET", resource)

    def delete(self, resource: str) -> Callable[[R], R]:
        return self.route("DELETE", resource)

    def exception_handler(self, exception: type[BaseException]) -> Callable[[R], R]:
        def register(handler: R) -> R:
            self._handlers[exception] = handler
            return handler

        return register

    def not_found(self, handler: Callable[[], HttpResponse]) -> Callable[[], HttpResponse]:
        self._not_found = handler
        return handler

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        request = Request(event, context)
        if self._on_request is not None:
            self._on_request(request)
        token = self._current.set(request)
        try:
            return self._proxy_result(self._answer(request))
        finally:
            self._current.reset(token)

    def _answer(self, request: Request) -> HttpResponse:
        event = request.event
        # The resource is the API's own path template (a custom domain's base path is not in it).
        resource = event.get("resource") or event.get("path") or ""
        route = self._routes.get((str(event.get("httpMethod") or "").upper(), resource))
        try:
            if route is None:
                if self._not_found is None:
                    return HttpResponse(404, JSON_CONTENT_TYPE, '{"message":"Not found"}')
                return self._not_found()
            answer = route(request)
        except Exception as exc:
            handler = next((self._handlers[k] for k in type(exc).__mro__ if k in self._handlers), None)
            if handler is None:
                raise
            return handler(exc)
        return answer if isinstance(answer, HttpResponse) else HttpResponse(200, JSON_CONTENT_TYPE, answer)

    @staticmethod
    def _proxy_result(response: HttpResponse) -> dict[str, Any]:
        body = response.body
        if not isinstance(body, str):
            body = _ENCODE(body)
        headers = {"Content-Type": [response.content_type]}
        for name, value in (response.headers or {}).items():
            headers[name] = [value]
        return {
            "statusCode": response.status_code,
            "multiValueHeaders": headers,
            "body": body,
            "isBase64Encoded": False,
        }
