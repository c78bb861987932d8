"""End User Messaging's input validation, shared by the sandbox's code operations and code configurations.

Each shape is botocore's ``endusermessaging`` 2026-09-21 model: (pattern, minimum length, maximum length).
A failure is what the service answers: ``ValidationException`` with a ``fieldList`` naming the member by
its JSON path; a missing resource is ``ResourceNotFoundException`` with ``resourceId`` / ``resourceType``,
a clash with a resource's state ``ConflictException`` with the same two members.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from local.faults import NOTIFY_ERROR_STATUS

Shape = tuple[re.Pattern[str], int, int]

DESTINATION: Final[Shape] = (re.compile(r"[\x21-\x22\x24-\x7E]+"), 1, 20)
ORIGINATION: Final[Shape] = (re.compile(r"[A-Za-z0-9_:/+-]+"), 1, 256)
CONFIGURATION_ID_OR_ARN: Final[Shape] = (re.compile(r"[A-Za-z0-9_:/-]+"), 1, 256)
CONFIGURATION_NAME: Final[Shape] = (re.compile(r"[A-Za-z0-9_ -]*[A-Za-z0-9_-][A-Za-z0-9_ -]*"), 1, 64)
CONFIGURATION_SET: Final[Shape] = (re.compile(r"[A-Za-z0-9_-]+"), 1, 256)
REFERENCE: Final[Shape] = (re.compile(r"[A-Za-z0-9_-]+"), 1, 256)
TEMPLATE: Final[Shape] = (re.compile(r"[\s\S]*\S[\s\S]*"), 1, 6000)
LANGUAGE: Final[Shape] = (re.compile(r"\S+"), 2, 35)
VOICE_ID: Final[Shape] = (re.compile(r"[A-Za-z0-9]+"), 1, 64)
NOTIFY_TEMPLATE_ID: Final[Shape] = (re.compile(r"[A-Za-z0-9_-]+"), 1, 256)
WHATSAPP_TEMPLATE: Final[Shape] = (re.compile(r"\S+"), 1, 512)
COUNTRY_PARAMETER: Final[Shape] = (re.compile(r"\S+"), 1, 64)
CONTEXT_KEY: Final[Shape] = (re.compile(r"\S+"), 1, 100)
CONTEXT_VALUE: Final[Shape] = (re.compile(r"\S(?:[\s\S]*\S)?"), 1, 800)
CODE: Final[Shape] = (re.compile(r"[A-Za-z0-9]+"), 4, 8)
CLIENT_TOKEN: Final[Shape] = (re.compile(r"[\x21-\x7E]+"), 1, 128)
NEXT_TOKEN: Final[Shape] = (re.compile(r".+"), 1, 2048)
TAG_KEY: Final[Shape] = (re.compile(r".+"), 1, 128)
TAG_VALUE: Final[Shape] = (re.compile(r".*"), 0, 256)
ARN: Final[Shape] = (re.compile(r"arn:[A-Za-z0-9_:/-]+"), 20, 256)
# The Update* shapes: the same members, where an empty value is the "clear it" sentinel.
UPDATE_TEMPLATE: Final[Shape] = (re.compile(r"([\s\S]*\S[\s\S]*)?"), 0, 6000)
UPDATE_LANGUAGE: Final[Shape] = (re.compile(r"(\S{2,35})?"), 0, 35)
UPDATE_VOICE_ID: Final[Shape] = (re.compile(r"[A-Za-z0-9]*"), 0, 64)
UPDATE_NOTIFY_TEMPLATE_ID: Final[Shape] = (re.compile(r"[A-Za-z0-9_-]*"), 0, 256)
UPDATE_WHATSAPP_TEMPLATE: Final[Shape] = (re.compile(r"\S*"), 0, 512)

CODE_TYPES: Final = ("NUMERIC", "ALPHA", "ALPHANUMERIC")
VOICE_BODY_TYPES: Final = ("TEXT", "SSML")
CODE_LENGTH_RANGE: Final = (4, 8)
VALIDITY_MINUTES_RANGE: Final = (1, 60)
MAX_ATTEMPTS_RANGE: Final = (1, 5)
MAX_RESULTS_RANGE: Final = (1, 100)
CODE_PLACEHOLDER: Final = "{{code}}"
# The service's own rule for Meta template names (the model says it enforces it).
WHATSAPP_NAME_CHARS: Final = re.compile(r"[a-z0-9_]+")


class NotifyCodeError(Exception):
    """An error End User Messaging answers instead of a result, with the members its shape defines."""

    def __init__(self, error_type: str, message: str, **members: Any) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.http_status = NOTIFY_ERROR_STATUS[error_type]
        self.message = message
        self.members = members


def validation_error(path: str, message: str) -> NotifyCodeError:
    return NotifyCodeError(
        "ValidationException", f"{path}: {message}", fieldList=[{"path": path, "message": message}]
    )


def not_found(resource_type: str, resource_id: str) -> NotifyCodeError:
    return NotifyCodeError(
        "ResourceNotFoundException",
        f"{resource_type} {resource_id} not found",
        resourceId=resource_id,
        resourceType=resource_type,
    )


def conflict(resource_type: str, resource_id: str, message: str) -> NotifyCodeError:
    return NotifyCodeError("ConflictException", message, resourceId=resource_id, resourceType=resource_type)


def string_member(raw: Mapping[str, object], name: str, shape: Shape, path: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    pattern, low, high = shape
    where = f"{path}/{name}"
    if not isinstance(value, str):
        raise validation_error(where, "must be a string")
    if not low <= len(value) <= high:
        raise validation_error(where, f"length must be between {low} and {high}")
    if not pattern.fullmatch(value):
        raise validation_error(where, f"must satisfy the pattern {pattern.pattern}")
    return value


def required_member(raw: Mapping[str, object], name: str, shape: Shape, path: str) -> str:
    value = string_member(raw, name, shape, path)
    if value is None:
        raise validation_error(f"{path}/{name}", "is required")
    return value


def integer_member(raw: Mapping[str, object], name: str, bounds: tuple[int, int], path: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise validation_error(f"{path}/{name}", f"must be an integer from {low} to {high}")
    return value


def boolean_member(raw: Mapping[str, object], name: str, path: str) -> bool | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise validation_error(f"{path}/{name}", "must be a boolean")
    return value


def object_member(raw: Mapping[str, object], name: str, path: str) -> Mapping[str, object]:
    value = raw.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise validation_error(f"{path}/{name}", "must be an object")
    return value


def string_map_member(
    raw: Mapping[str, object],
    name: str,
    path: str,
    *,
    keys: Shape,
    values: Shape,
    entries: tuple[int, int],
) -> dict[str, str]:
    mapping = object_member(raw, name, path)
    low, high = entries
    if name in raw and not low <= len(mapping) <= high:
        raise validation_error(f"{path}/{name}", f"must have {low} to {high} entries")
    for key in mapping:
        required_member({"key": key}, "key", keys, f"{path}/{name}")
        required_member(mapping, key, values, f"{path}/{name}")
    return {str(k): str(v) for k, v in mapping.items()}


def enum_member(raw: Mapping[str, object], name: str, allowed: Iterable[str], path: str) -> str | None:
    value = raw.get(name)
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise validation_error(f"{path}/{name}", f"must be one of {', '.join(allowed)}")
    return value if isinstance(value, str) else None


def template_member(raw: Mapping[str, object], name: str, shape: Shape, path: str) -> str | None:
    """An inline template: the model's bounds, and "the template must contain the code placeholder"
    (an empty one, the update's "clear it", needs none)."""
    template = string_member(raw, name, shape, path)
    if template and CODE_PLACEHOLDER not in template:
        raise validation_error(f"{path}/{name}", f"must contain the code placeholder {CODE_PLACEHOLDER}")
    return template


def whatsapp_name_member(raw: Mapping[str, object], shape: Shape, path: str) -> str | None:
    name = string_member(raw, "whatsAppTemplateName", shape, path)
    if name and not WHATSAPP_NAME_CHARS.fullmatch(name):
        raise validation_error(
            f"{path}/whatsAppTemplateName", "must be lowercase letters, digits and underscores"
        )
    return name
