"""Reading a request body: bounded JSON parsing, then checks driven by the API's schemas (otp.api_schema).

Every refusal is an :class:`InvalidBody` whose detail names only the API's own fields and rules: never a
key or a value of the request, which may be a phone number or a code. A body is refused before it is
parsed when it is larger than any valid one could be, and the parser refuses what would make it crash
or disagree with API Gateway's validator (nesting deeper than Python's recursion limit, integers of
thousands of digits, NaN and Infinity, a member named twice), so a malformed body is always a small 400.

The checks cover the subset of JSON Schema the API uses (type, properties, required,
additionalProperties false, pattern, enum, anyOf, min/maxLength, minimum/maximum, items, min/maxItems)
and report every failing field, in the
wording pydantic used before (``phoneNumber: String should match pattern '...'``). They are built once
per schema at import: no code generation, no compile step at start-up beyond three regular expressions.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

# A valid body is under 200 bytes; this leaves room for formatting while a hostile body is refused
# before any parsing, whatever its size up to Lambda's 6 MB.
MAX_BODY_BYTES: Final = 4096
# The API's only numbers are small (a fallback's afterSeconds): more digits than this can only be an attack
# on int() (CPython refuses above 4,300 digits with a ValueError; below that, parsing huge integers is
# quadratic).
MAX_INTEGER_DIGITS: Final = 32

NOT_JSON: Final = "body: must be a JSON object, sent as UTF-8 text with Content-Type application/json"
_UTF_8: Final = frozenset({"utf-8", "utf8"})


@lru_cache(maxsize=32)  # clients send one or two spellings; a hostile variety only evicts
def is_utf8_json(content_type: str) -> bool:
    """True for ``application/json`` with no charset or a UTF-8 one: the body is read as UTF-8, so a
    body declared in another charset (``charset=latin-1``) would be read as something it is not."""
    media_type, *parameters = (part.strip() for part in content_type.lower().split(";"))
    if media_type != "application/json":
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in _UTF_8:
            return False
    return True


class InvalidBody(ValueError):
    """The body is not a request this API accepts; ``detail`` names fields and rules, never values."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# --------------------------------------------------------------------------------------------- parsing


def _no_constants(name: str) -> Any:
    raise InvalidBody("body: NaN and Infinity are not JSON numbers")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise InvalidBody(f"body: numbers must have at most {MAX_INTEGER_DIGITS} digits")
    return int(text)


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        # API Gateway's validator and this parser might each keep a different one of the two values.
        raise InvalidBody("body: a member name appears more than once (duplicate members)")
    return members


_DECODER: Final = json.JSONDecoder(
    parse_int=_bounded_int, parse_constant=_no_constants, object_pairs_hook=_unique_members
)


def _text_of(body: str | None, *, base64_encoded: bool) -> str:
    if body is None:
        raise InvalidBody(NOT_JSON)
    if len(body) > (MAX_BODY_BYTES * 4 // 3 + 4 if base64_encoded else MAX_BODY_BYTES):
        raise InvalidBody(f"body: must be at most {MAX_BODY_BYTES} bytes")
    if not base64_encoded:
        if len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
            raise InvalidBody(f"body: must be at most {MAX_BODY_BYTES} bytes")
        return body
    try:
        raw = base64.b64decode(body, validate=True)
        if len(raw) > MAX_BODY_BYTES:
            raise InvalidBody(f"body: must be at most {MAX_BODY_BYTES} bytes")
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidBody(NOT_JSON) from None


def parse_json_body(body: str | None, *, base64_encoded: bool = False) -> Any:
    """The JSON value of an API Gateway body, or InvalidBody. Nothing the caller sent is echoed."""
    text = _text_of(body, base64_encoded=base64_encoded)
    try:
        return _DECODER.decode(text)
    except InvalidBody:
        raise
    except RecursionError:
        raise InvalidBody("body: nested too deeply") from None
    except ValueError:  # JSONDecodeError, and int() refusing a number
        raise InvalidBody(NOT_JSON) from None


# ------------------------------------------------------------------------------------------ validation

# An error message for a value, or None when it conforms.
Check = Callable[[Any], "str | None"]

_TYPES: Final[Mapping[str, tuple[Callable[[Any], bool], str]]] = {
    "string": (lambda v: isinstance(v, str), "Input should be a valid string"),
    "boolean": (lambda v: isinstance(v, bool), "Input should be a valid boolean"),
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "Input should be a valid integer"),
    "null": (lambda v: v is None, "Input should be null"),
    "object": (lambda v: isinstance(v, dict), "Input should be an object"),
    "array": (lambda v: isinstance(v, list), "Input should be a valid list"),
}


def _quoted_choices(values: list[Any]) -> str:
    quoted = [f"'{value}'" for value in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _value_check(schema: Mapping[str, Any]) -> Check:
    """Checks for one value (a member of the body), built once from its schema."""
    if "anyOf" in schema:
        branches = [_value_check(branch) for branch in schema["anyOf"]]

        def any_of(value: Any) -> str | None:
            errors = [check(value) for check in branches]
            if None in errors:
                return None
            # Optional fields (a branch of type null): the error of the branch that is not null.
            return next((error for error in errors if error != _TYPES["null"][1]), errors[0])

        return any_of
    checks: list[Check] = []
    if "type" in schema:
        is_type, message = _TYPES[schema["type"]]
        checks.append(lambda value: None if is_type(value) else message)
    if "enum" in schema:
        allowed = frozenset(schema["enum"])
        choices = f"Input should be {_quoted_choices(schema['enum'])}"
        checks.append(lambda value: None if value in allowed else choices)
    if "minLength" in schema:
        shortest = schema["minLength"]
        too_short = f"String should have at least {shortest} characters"
        checks.append(lambda value: None if len(value) >= shortest else too_short)
    if "maxLength" in schema:
        longest = schema["maxLength"]
        too_long = f"String should have at most {longest} characters"
        checks.append(lambda value: None if len(value) <= longest else too_long)
    if "pattern" in schema:
        # fullmatch: Python's `$` also matches before a final newline, JSON Schema's (ECMA 262) does not.
        matches = re.compile(schema["pattern"]).fullmatch
        mismatch = f"String should match pattern '{schema['pattern']}'"
        checks.append(lambda value: None if matches(value) else mismatch)
    if "minimum" in schema:
        low = schema["minimum"]
        below = f"Input should be greater than or equal to {low}"
        checks.append(lambda value: None if value >= low else below)
    if "maximum" in schema:
        high = schema["maximum"]
        above = f"Input should be less than or equal to {high}"
        checks.append(lambda value: None if value <= high else above)
    if "minItems" in schema:
        fewest = schema["minItems"]
        too_few = f"List should have at least {fewest} item{'s' if fewest != 1 else ''}"
        checks.append(lambda value: None if len(value) >= fewest else too_few)
    if "maxItems" in schema:
        most = schema["maxItems"]
        too_many = f"List should have at most {most} item{'s' if most != 1 else ''}"
        checks.append(lambda value: None if len(value) <= most else too_many)
    if "items" in schema:
        item = _value_check(schema["items"])

        def each_item(value: Any) -> str | None:
            for index, member in enumerate(value):
                error = item(member)
                if error is not None:
                    return f"item {index}: {error}"
            return None

        checks.append(each_item)
    if "properties" in schema:
        nested = _ObjectCheck(schema)
        checks.append(lambda value: "; ".join(nested.errors(value)) or None)

    def all_of(value: Any) -> str | None:
        # In order, stopping at the first failure: a later check may assume the type an earlier one proved.
        for check in checks:
            error = check(value)
            if error is not None:
                return error
        return None

    return all_of


class _ObjectCheck:
    """The members of an object schema (no additional properties): every rule broken, by member."""

    def __init__(self, schema: Mapping[str, Any], where: str = "members") -> None:
        if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
            raise ValueError("request schemas must be objects without additional properties")
        self._members = {name: _value_check(member) for name, member in schema["properties"].items()}
        self._required = frozenset(schema.get("required", ()))
        self._extra = f"{where} other than {', '.join(self._members)} are not permitted"

    def errors(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return [_TYPES["object"][1]]
        errors = []
        for name, check in self._members.items():
            if name in body:
                error = check(body[name])
                if error is not None:
                    errors.append(f"{name}: {error}")
            elif name in self._required:
                errors.append(f"{name}: Field required")
        if not body.keys() <= self._members.keys():
            errors.append(self._extra)
        return errors


class BodyValidator(_ObjectCheck):
    """Validates a request body (a JSON object) against one schema of otp.api_schema."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        super().__init__(schema, "body: members")

    def errors(self, body: Any) -> list[str]:
        """Every rule the body breaks, as ``field: rule`` texts; empty when it conforms."""
        if not isinstance(body, dict):
            return [NOT_JSON]
        return super().errors(body)

    def validated(self, body: Any) -> dict[str, Any]:
        """The body itself when it conforms; InvalidBody naming every broken rule otherwise."""
        errors = self.errors(body)
        if errors:
            raise InvalidBody("; ".join(errors))
        result: dict[str, Any] = body
        return result


# ------------------------------------------------------------------------------ path and query parameters


class ParameterReader:
    """Reads an operation's path and query parameters by their schemas (``otp.api_schema.parameters``).

    As for bodies, every refusal names the API's parameters and rules only: a query parameter the
    operation does not declare, a parameter given twice (API Gateway would pass on only one of the
    values), a missing required one, or a value its schema refuses.
    """

    def __init__(self, declared: Sequence[Mapping[str, Any]]) -> None:
        self._declared = {
            (parameter["in"], parameter["name"]): (
                _value_check(parameter["schema"]),
                bool(parameter["required"]),
            )
            for parameter in declared
        }
        self._query_names = {name for where, name in self._declared if where == "query"}
        names = ", ".join(sorted(self._query_names)) or "none"
        self._extra = f"query: parameters other than {names} are not permitted"

    def read(self, path: Mapping[str, str], query: Mapping[str, list[str]]) -> dict[str, str]:
        """``{name: value}`` of the parameters present; InvalidBody naming every broken rule otherwise."""
        errors = []
        values = {}
        for (where, name), (check, required) in self._declared.items():
            given = [path[name]] if where == "path" and name in path else list(query.get(name) or [])
            if not given:
                if required:
                    errors.append(f"{name}: Field required")
                continue
            if len(given) > 1:
                errors.append(f"{name}: must be given once")
                continue
            error = check(given[0])
            if error is not None:
                if where == "query" and given[0][:1] == " ":
                    error += " (a + in a query string must be sent as %2B)"
                errors.append(f"{name}: {error}")
                continue
            values[name] = given[0]
        if not set(query) <= self._query_names:
            errors.append(self._extra)
        if errors:
            raise InvalidBody("; ".join(errors))
        return values
