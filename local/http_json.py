"""JSON responses and request bodies for the sandbox's WSGI apps."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request, Response


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json",
    )


class BodyError(ValueError):
    """The request body is not the JSON object the route needs."""


def json_object_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body counts as ``{}`` (what boto3 sends for no members)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyError(f"body is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise BodyError("body must be a JSON object")
    return parsed
