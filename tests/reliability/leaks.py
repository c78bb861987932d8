"""Records what the service shows the world, and finds OTP codes or full phone numbers in it."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers

# Lines the sandbox prints about itself: the console is the one place codes may appear by design.
SANDBOX_OWN_LINE = re.compile(r"^\[sandbox\] ")


def _token(text: str) -> re.Pattern[str]:
    """``text`` standing alone: not a piece of a longer run of letters or digits (ids, timestamps)."""
    return re.compile(rf"(?<![0-9A-Za-z]){re.escape(text)}(?![0-9A-Za-z])")


def number_forms(e164: str) -> set[str]:
    """The ways a full number can be written: +E.164, digits only, and the national number."""
    forms = {e164, e164.lstrip("+")}
    with contextlib.suppress(phonenumbers.NumberParseException):
        forms.add(phonenumbers.national_significant_number(phonenumbers.parse(e164, None)))
    return {form for form in forms if len(form) >= 7}


@dataclass
class Recorder:
    """Everything a flow produced that leaves the service: responses, log lines, metrics."""

    outputs: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: str) -> None:
        self.outputs.append((where, text))

    def add_console(self, where: str, console: str) -> None:
        for line in console.splitlines():
            if not SANDBOX_OWN_LINE.match(line):
                self.add(where, line)

    def find(self, codes: Iterable[str], numbers: Iterable[str]) -> list[str]:
        """Every recorded output that contains a code or a full phone number, with what it contains."""
        # (label, pattern); a label never shows the secret itself, not even in a failure message
        patterns = [(f"code {code[:2]}****", _token(code)) for code in codes]
        for number in numbers:
            label = f"number +{number[1:3]}…{number[-2:]}"
            patterns += [(label, _token(form)) for form in number_forms(number)]
        found = []
        for where, text in self.outputs:
            found += sorted({f"{label} in {where}" for label, pattern in patterns if pattern.search(text)})
        return found
