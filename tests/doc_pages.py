"""The documentation, read by the tests that hold it to the code: README.md and the pages in docs/."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def page(name: str) -> str:
    """The Markdown source of docs/<name>."""
    return (DOCS / name).read_text(encoding="utf-8")


def headings(text: str) -> list[tuple[int, int, str]]:
    """(line index, level, title) of every Markdown heading, skipping fenced code blocks (whose comments
    start with '#')."""
    found: list[tuple[int, int, str]] = []
    fenced = False
    for index, line in enumerate(text.splitlines()):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := _HEADING.match(line)):
            found.append((index, len(match.group(1)), match.group(2)))
    return found


def section(text: str, title: str) -> str:
    """The lines under the heading ``title`` (exactly as written), up to the next heading of the same or
    a higher level. Fails loudly when the heading is missing: a test must not pass on an empty section."""
    lines = text.splitlines()
    found = headings(text)
    for position, (start, level, name) in enumerate(found):
        if name == title:
            end = next((i for i, lvl, _ in found[position + 1 :] if lvl <= level), len(lines))
            return "\n".join(lines[start + 1 : end])
    raise AssertionError(f"no heading {title!r}: the page was reorganised, update the test that reads it")


def slug(title: str) -> str:
    """The anchor MkDocs gives a heading (Python-Markdown toc's default slugify; GitHub's agrees for
    plain titles): ASCII, lowercase, punctuation dropped, runs of spaces and hyphens to one hyphen."""
    text = unicodedata.normalize("NFKD", title.replace("`", "")).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)
