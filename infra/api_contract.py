"""The HTTP request contract, read from docs/openapi.json.

docs/openapi.json is generated from the handler's own models (``make openapi``; a unit test fails when
it is stale), so building API Gateway's request models from it keeps the two validators identical: a
body API Gateway lets through is one the handler accepts, and the other way round.

API Gateway validates with JSON Schema draft 4. The OpenAPI 3.1 schemas use a small subset of it, which
is converted here; anything outside that subset stops synthesis rather than being silently dropped.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Final

from aws_cdk import aws_apigateway as apigw

OPENAPI_FILE: Final = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"

# Keywords with the same meaning in draft 4, and documentation-only keywords that are dropped.
_KEPT: Final = {"type", "properties", "required", "additionalProperties", "pattern", "enum", "minLength",
                "maxLength", "minimum", "maximum", "items", "anyOf", "description", "title"}  # fmt: skip
_DROPPED: Final = {"examples", "default"}


@cache
def openapi_document(path: Path = OPENAPI_FILE) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def request_body_schema(path: str, method: str = "post") -> dict[str, Any]:
    """The OpenAPI schema of an operation's JSON request body, with its ``$ref`` resolved."""
    document = openapi_document()
    schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return _resolve(schema, document)


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix):
        raise ValueError(f"{OPENAPI_FILE}: unsupported $ref {ref}")
    resolved: dict[str, Any] = document["components"]["schemas"][ref.removeprefix(prefix)]
    return resolved


def to_draft4(schema: dict[str, Any]) -> dict[str, Any]:
    """Convert an OpenAPI 3.1 schema of the supported subset to draft 4 (same keywords, same meaning)."""
    unknown = set(schema) - _KEPT - _DROPPED
    if unknown:
        raise ValueError(
            f"{OPENAPI_FILE}: keywords API Gateway's draft 4 models cannot express: {sorted(unknown)}"
        )
    converted: dict[str, Any] = {k: v for k, v in schema.items() if k in _KEPT}
    if "properties" in converted:
        converted["properties"] = {name: to_draft4(s) for name, s in converted["properties"].items()}
    if "items" in converted:
        converted["items"] = to_draft4(converted["items"])
    if "anyOf" in converted:  # e.g. an optional field: anyOf [{type: string, ...}, {type: null}]
        converted["anyOf"] = [to_draft4(s) for s in converted["anyOf"]]
    return converted


_TYPES: Final = {t.name.lower(): t for t in apigw.JsonSchemaType}
_ARGUMENTS: Final = {
    "required": "required",
    "additionalProperties": "additional_properties",
    "pattern": "pattern",
    "enum": "enum",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minimum": "minimum",
    "maximum": "maximum",
    "description": "description",
    "title": "title",
}


def to_api_gateway(schema: dict[str, Any], *, root: bool = True) -> apigw.JsonSchema:
    """A draft 4 schema (from :func:`to_draft4`) as CDK's JsonSchema."""
    kwargs: dict[str, Any] = {arg: schema[key] for key, arg in _ARGUMENTS.items() if key in schema}
    if root:
        kwargs["schema"] = apigw.JsonSchemaVersion.DRAFT4
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        kwargs["type"] = [_TYPES[t] for t in types] if len(types) > 1 else _TYPES[types[0]]
    if "properties" in schema:
        kwargs["properties"] = {k: to_api_gateway(v, root=False) for k, v in schema["properties"].items()}
    if "items" in schema:
        kwargs["items"] = to_api_gateway(schema["items"], root=False)
    if "anyOf" in schema:
        kwargs["any_of"] = [to_api_gateway(s, root=False) for s in schema["anyOf"]]
    return apigw.JsonSchema(**kwargs)


def language_tags() -> tuple[str, ...]:
    """The Language values POST /otp accepts (AWS's documented OTP languages)."""
    language = request_body_schema("/otp")["properties"]["language"]
    branches = language.get("anyOf", [language])
    return tuple(tag for branch in branches for tag in branch.get("enum", ()))
