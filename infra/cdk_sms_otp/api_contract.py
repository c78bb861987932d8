"""The HTTP request contract, read from the Lambda code's own declaration of it.

``lambda/otp/api_schema.py`` holds the API's JSON schemas as plain data; the handler validates requests
with them and docs/openapi.json is generated from them (``make openapi``). Building API Gateway's
request models from the same module keeps the two validators identical: a body API Gateway lets
through is one the handler accepts, and the other way round. The module is dependency-free, so it is
loaded by file path (``lambda`` is a Python keyword and ``otp`` is not on the CDK app's import path).

API Gateway validates with JSON Schema draft 4. The OpenAPI 3.1 schemas use a small subset of it, which
is converted here; anything outside that subset stops synthesis rather than being silently dropped.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Final

from aws_cdk import aws_apigateway as apigw

from cdk_sms_otp.lambda_source import OTP_PACKAGE, load_module

API_SCHEMA_FILE: Final = OTP_PACKAGE / "api_schema.py"

# Keywords with the same meaning in draft 4, and documentation-only keywords that are dropped.
_KEPT: Final = {"type", "properties", "required", "additionalProperties", "pattern", "enum", "minLength",
                "maxLength", "minimum", "maximum", "items", "minItems", "maxItems", "anyOf", "description",
                "title"}  # fmt: skip
_DROPPED: Final = {"examples", "default"}


@cache
def _api_schema(path: Path = API_SCHEMA_FILE) -> Any:
    return load_module(path, "_otp_api_schema")


def request_body_schema(path: str, method: str = "post") -> dict[str, Any]:
    """The JSON schema of the request body of ``method`` ``path`` (e.g. POST ``/otp``)."""
    schema: dict[str, Any] = _api_schema().request_schema(path, method)
    return schema


def request_parameters(path: str, method: str) -> dict[str, bool]:
    """API Gateway's ``method.request.<in>.<name>`` -> required, for the operation's path and query
    parameters: API Gateway then refuses a request without a required one (as "included and not blank")."""
    declared: list[dict[str, Any]] = _api_schema().parameters(path, method)
    where = {"path": "path", "query": "querystring"}
    return {f"method.request.{where[p['in']]}.{p['name']}": bool(p["required"]) for p in declared}


def status_path() -> str:
    """The status and cancel operations' resource path (``/otp/{referenceId}``)."""
    path: str = _api_schema().STATUS_PATH
    return path


def to_draft4(schema: dict[str, Any]) -> dict[str, Any]:
    """Convert an OpenAPI 3.1 schema of the supported subset to draft 4 (same keywords, same meaning)."""
    unknown = set(schema) - _KEPT - _DROPPED
    if unknown:
        raise ValueError(
            f"{API_SCHEMA_FILE}: keywords API Gateway's draft 4 models cannot express: {sorted(unknown)}"
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
    "minItems": "min_items",
    "maxItems": "max_items",
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
