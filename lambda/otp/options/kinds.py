"""What values an option takes, read from either place it can come from.

A kind parses CDK context (JSON values, or strings when given as ``-c otp.key=value``) for the construct,
and an environment variable (always a string) for the functions; it writes the variable the functions
read, and says in words what it allows, for error messages and the documentation. Patterns are compiled
on first use, so that a cold start pays only for the options it reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, Final

from ..channels import Channel


class Invalid(ValueError):
    """A value the kind does not take: the text says what is allowed (it follows "must be")."""


class Kind:
    """Base class: a kind whose context and environment forms are the same text."""

    allowed: str = ""
    #: How the environment variable spells a value, where it differs from the context's.
    env_form: str = ""

    def from_context(self, value: object) -> Any:
        if not isinstance(value, str):
            raise Invalid(self.allowed)
        return self.from_env(value)

    def from_env(self, raw: str) -> Any:
        raise NotImplementedError

    def to_env(self, value: Any) -> str:
        return str(value)

    def to_json(self, value: Any) -> Any:
        """The value as cdk.json writes it."""
        return value

    def describe(self) -> str:
        return self.allowed


class Optional(Kind):
    """``inner``, or unset: ``None`` in context, an empty variable (CloudFormation cannot omit one)."""

    def __init__(self, inner: Kind) -> None:
        self.inner = inner
        self.allowed = inner.allowed
        self.env_form = inner.env_form

    def from_context(self, value: object) -> Any:
        return None if value is None or value == "" else self.inner.from_context(value)

    def from_env(self, raw: str) -> Any:
        return None if raw == "" else self.inner.from_env(raw)

    def to_env(self, value: Any) -> str:
        return "" if value is None else self.inner.to_env(value)

    def to_json(self, value: Any) -> Any:
        return None if value is None else self.inner.to_json(value)

    def describe(self) -> str:
        return f"{self.inner.describe()}; or unset"


_INTEGER: Final = r"\s*[+-]?[0-9]{1,12}\s*"


class Integer(Kind):
    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self.allowed = f"an integer from {low} to {high}"

    def from_context(self, value: object) -> int:
        if isinstance(value, str):
            return self.from_env(value)
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            raise Invalid(self.allowed)
        return value

    def from_env(self, raw: str) -> int:
        if not re.fullmatch(_INTEGER, raw) or not self.low <= int(raw) <= self.high:
            raise Invalid(self.allowed)
        return int(raw)


class Seconds(Kind):
    """A duration in seconds above 0, with a fraction."""

    def __init__(self, high: float) -> None:
        self.high = high
        self.allowed = f"a number of seconds above 0 and at most {high:g}"

    def from_context(self, value: object) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        return super().from_context(value)  # type: ignore[no-any-return]

    def from_env(self, raw: str) -> float:
        if not re.fullmatch(r"\s*[0-9]{1,6}(\.[0-9]{1,6})?\s*", raw) or not 0 < float(raw) <= self.high:
            raise Invalid(self.allowed)
        return float(raw)


class Text(Kind):
    """A string matching ``pattern`` (a regular expression, or a compiled one), and ``check`` if given."""

    def __init__(
        self,
        pattern: str | re.Pattern[str],
        allowed: str,
        *,
        check: Callable[[str], bool] | None = None,
    ) -> None:
        self._pattern = pattern
        self._check = check
        self.allowed = allowed

    def from_env(self, raw: str) -> str:
        pattern = self._pattern
        if isinstance(pattern, str):
            pattern = self._pattern = re.compile(pattern)
        if not pattern.fullmatch(raw) or (self._check is not None and not self._check(raw)):
            raise Invalid(self.allowed)
        return raw


class Choice(Kind):
    def __init__(
        self, choices: Iterable[str], *, fold_case: bool = False, quoted: bool = True, allowed: str = ""
    ) -> None:
        self.choices = tuple(choices)
        self._fold_case = fold_case
        shown = (f'"{c}"' if quoted else c for c in self.choices)
        self.allowed = allowed or "one of " + ", ".join(shown)

    def from_env(self, raw: str) -> str:
        for choice in self.choices:
            if raw == choice or (self._fold_case and raw.upper() == choice.upper()):
                return choice
        raise Invalid(self.allowed)


class NumberChoice(Kind):
    def __init__(self, choices: Iterable[int], allowed: str) -> None:
        self.choices = tuple(choices)
        self.allowed = allowed + ": " + ", ".join(str(c) for c in self.choices)

    def from_context(self, value: object) -> int:
        if isinstance(value, str):
            return self.from_env(value)
        if isinstance(value, bool) or value not in self.choices:
            raise Invalid(self.allowed)
        assert isinstance(value, int)
        return value

    def from_env(self, raw: str) -> int:
        if not re.fullmatch(_INTEGER, raw) or int(raw) not in self.choices:
            raise Invalid(self.allowed)
        return int(raw)


class Flag(Kind):
    allowed = "true or false"

    def from_context(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        return super().from_context(value)  # type: ignore[no-any-return]

    def from_env(self, raw: str) -> bool:
        text = raw.strip().lower()
        if text not in {"true", "false"}:
            raise Invalid(self.allowed)
        return text == "true"

    def to_env(self, value: Any) -> str:
        return "true" if value else "false"


def _items(value: object, allowed: str) -> list[object]:
    """A list from context: a JSON list, or a string holding one or comma-separated items."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = (
                json.loads(text)
                if text.startswith("[")
                else [p.strip() for p in text.split(",") if p.strip()]
            )
        except json.JSONDecodeError:
            raise Invalid(allowed) from None
    if not isinstance(value, list | tuple):
        raise Invalid(allowed)
    return list(value)


def _csv(raw: str) -> list[object]:
    return [item.strip() for item in raw.split(",") if item.strip()]


class TextList(Kind):
    """A list of strings, each checked by ``item`` (which may normalise it), in the environment
    comma-separated."""

    def __init__(
        self, item: Callable[[str], str | None], allowed: str, *, non_empty: bool, unique: bool
    ) -> None:
        self._item = item
        self._non_empty = non_empty
        self._unique = unique
        self.allowed = allowed
        self.env_form = "comma-separated"

    def from_context(self, value: object) -> tuple[Any, ...]:
        return self._parse(_items(value, self.allowed))

    def from_env(self, raw: str) -> tuple[Any, ...]:
        return self._parse(_csv(raw))

    def _parse(self, items: list[object]) -> tuple[Any, ...]:
        if self._non_empty and not items:
            raise Invalid(self.allowed)
        parsed: list[Any] = []
        for item in items:
            value = self._item(item) if isinstance(item, str) else None
            if value is None:
                raise Invalid(f"{self.allowed}; {item!r} is not one")
            if not (self._unique and value in parsed):
                parsed.append(value)
        return tuple(parsed)

    def to_env(self, value: Any) -> str:
        return ",".join(value)

    def to_json(self, value: Any) -> Any:
        return [str(item) for item in value]


class IncreasingHours(Kind):
    """1 to ``most`` whole hours, strictly increasing (block lengths): ``[1, 4, 24]`` or ``1,4,24``."""

    def __init__(self, most: int, longest: int) -> None:
        self._most, self._longest = most, longest
        self.allowed = f"a list of 1-{most} increasing whole hours from 1 to {longest}, e.g. [1, 4, 24, 168]"
        self.env_form = "comma-separated"

    def from_context(self, value: object) -> tuple[int, ...]:
        return self._parse(_items(value, self.allowed))

    def from_env(self, raw: str) -> tuple[int, ...]:
        return self._parse(_csv(raw))

    def _parse(self, items: list[object]) -> tuple[int, ...]:
        hours = []
        for item in items:
            if isinstance(item, str) and re.fullmatch(r"\s*[0-9]{1,6}\s*", item):
                item = int(item)
            if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= self._longest:
                raise Invalid(f"{self.allowed}; {item!r} is not one")
            hours.append(item)
        if not 1 <= len(hours) <= self._most or hours != sorted(set(hours)):
            raise Invalid(self.allowed)
        return tuple(hours)

    def to_env(self, value: Any) -> str:
        return ",".join(str(hours) for hours in value)

    def to_json(self, value: Any) -> Any:
        return list(value)


def _region(code: str) -> str | None:
    """An ISO 3166-1 alpha-2 code (upper-cased). Only the construct checks that phonenumbers knows it:
    importing its region list costs a cold start, and the construct has already checked."""
    return code.upper() if re.fullmatch(r"[A-Za-z]{2}", code) else None


def countries() -> TextList:
    return TextList(
        _region,
        'a non-empty list of ISO 3166-1 alpha-2 region codes with phone numbers, e.g. ["US", "CA"]',
        non_empty=True,
        unique=True,
    )


def prefixes() -> TextList:
    return TextList(
        lambda p: p if re.fullmatch(r"\+[0-9]{1,14}", p) else None,
        'a list of E.164 prefixes ("+" and 1-14 digits), e.g. ["+1900", "+4470"]',
        non_empty=False,
        unique=False,
    )


def channels(offered: Iterable[str]) -> TextList:
    names = tuple(offered)
    return TextList(
        lambda c: Channel(c.upper()) if c.upper() in names else None,
        f'a non-empty list of {", ".join(names)}, e.g. ["SMS", "VOICE"]',
        non_empty=True,
        unique=True,
    )


#: (ISO country, codes per hour, codes per day)
CountryBudget = tuple[str, int, int]


class CountryBudgets(Kind):
    """Per-country send budgets: ``{"GB": {"perHour": 50, "perDay": 200}}`` in context,
    ``GB:50:200,IN:10:40`` in the environment."""

    allowed = (
        'an object of ISO country codes to {"perHour": n, "perDay": n}, '
        'e.g. {"GB": {"perHour": 50, "perDay": 200}}'
    )
    env_form = "`GB:50:200,IN:10:40`: a country, its hourly and its daily budget"
    _MOST: Final = 10_000_000

    def from_context(self, value: object) -> tuple[CountryBudget, ...]:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError:
                raise Invalid(self.allowed) from None
        if isinstance(value, list | tuple) and all(
            isinstance(v, list | tuple) and len(v) == 3 for v in value
        ):
            # (country, per hour, per day) items: the form the options hold, as a construct argument
            value = {country: {"perHour": hour, "perDay": day} for country, hour, day in value}
        if not isinstance(value, dict):
            raise Invalid(self.allowed)
        budgets = []
        for country, caps in value.items():
            if (
                not isinstance(country, str)
                or _region(country) is None
                or not isinstance(caps, dict)
                or set(caps) != {"perHour", "perDay"}
                or not all(
                    isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= self._MOST
                    for v in caps.values()
                )
            ):
                raise Invalid(f"{self.allowed}; {country!r} is not one")
            budgets.append((country.upper(), caps["perHour"], caps["perDay"]))
        return self._unique(budgets)

    def from_env(self, raw: str) -> tuple[CountryBudget, ...]:
        budgets = []
        for item in _csv(raw):
            parts = str(item).split(":")
            if (
                len(parts) != 3
                or not re.fullmatch(r"[A-Z]{2}", parts[0])
                or not all(re.fullmatch(r"[0-9]{1,8}", p) and 1 <= int(p) <= self._MOST for p in parts[1:])
            ):
                raise Invalid("COUNTRY:PER_HOUR:PER_DAY items such as GB:50:200,IN:10:40")
            budgets.append((parts[0], int(parts[1]), int(parts[2])))
        return self._unique(budgets)

    def _unique(self, budgets: list[CountryBudget]) -> tuple[CountryBudget, ...]:
        if len({country for country, _, _ in budgets}) != len(budgets):
            raise Invalid(f"{self.allowed}, naming each country once")
        return tuple(sorted(budgets))

    def to_env(self, value: Any) -> str:
        return ",".join(f"{country}:{hour}:{day}" for country, hour, day in value)

    def to_json(self, value: Any) -> Any:
        return {country: {"perHour": hour, "perDay": day} for country, hour, day in value}
