"""CORS for every answer of the sandbox's AWS endpoint, so browser code can call it as it calls AWS.

Cognito's JSON API answers browsers from any origin (that is how Amplify and
amazon-cognito-identity-js sign users in from a web page), and so does the sandbox: every answer
(moto's, the overrides', the sandbox's own routes) carries ``Access-Control-Allow-Origin: *`` and
exposes the ``x-amzn-*`` headers clients read errors from; a preflight (``OPTIONS`` with
``Access-Control-Request-Method``) is answered here, on any path, with the methods and headers asked
for. No answer depends on cookies, so ``*`` is enough. The sandbox holds only made-up data; keep it
on 127.0.0.1 (the default) all the same: any page you open in a browser may call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

ALLOWED_METHODS: Final = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
EXPOSED_HEADERS: Final = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date"
_DEFAULT_HEADERS: Final = "content-type, x-amz-target, x-amz-user-agent, x-amz-date, authorization"
_MAX_AGE: Final = "600"
_CORS_NAMES: Final = frozenset(
    {
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-allow-credentials",
        "access-control-max-age",
    }
)


def is_preflight(environ: WSGIEnvironment) -> bool:
    return environ.get("REQUEST_METHOD") == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ


def preflight(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    requested = str(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or _DEFAULT_HEADERS)
    headers = [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", ALLOWED_METHODS),
        ("Access-Control-Allow-Headers", requested),
        ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
        ("Access-Control-Max-Age", _MAX_AGE),
        ("Content-Length", "0"),
    ]
    start_response("200 OK", headers)
    return [b""]


def with_cors(start_response: StartResponse) -> StartResponse:
    """``start_response`` that replaces whatever CORS headers the answer had (moto echoes the origin)
    with the sandbox's, so a browser never sees two ``Access-Control-Allow-Origin`` headers."""

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        kept = [(name, value) for name, value in headers if name.lower() not in _CORS_NAMES]
        kept += [
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
        ]
        return start_response(status, kept, exc_info)

    return start
