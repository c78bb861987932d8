"""The documentation against the repository: the README's links lead somewhere, and the reference tables
name everything the code reads or reports. (`make docs` checks the site's own links, strictly; the README
is outside the site.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from otp import settings
from otp.domain.reasons import RejectReason
from otp.options.declaration import fields
from tests.doc_pages import README, REPO, headings, page, section, slug

# [text](target) and ![alt](target), outside code spans; the target ends at whitespace or ')'.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _prose(text: str) -> str:
    """The text outside fenced code blocks and code spans, where a Markdown link is a link."""
    kept, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            kept.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def relative_links(text: str) -> list[str]:
    return [
        target
        for target in _LINK.findall(_prose(text))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto: ...
    ]


def _anchors(path: Path) -> set[str]:
    return {slug(title) for _, _, title in headings(path.read_text(encoding="utf-8"))}


def test_the_readme_links_to_the_docs_pages():
    links = relative_links(README.read_text(encoding="utf-8"))
    pages = {link.split("#", 1)[0] for link in links}
    # Every page of the site is reachable from the README
    assert {f"docs/{path.name}" for path in (REPO / "docs").glob("*.md") if path.name != "index.md"} <= pages


@pytest.mark.parametrize("target", sorted(set(relative_links(README.read_text(encoding="utf-8")))))
def test_every_relative_link_of_the_readme_points_at_an_existing_file_and_heading(target: str):
    # Given a relative link of the README (as GitHub and PyPI readers follow it)
    path_part, _, anchor = target.partition("#")
    path = (REPO / path_part).resolve() if path_part else README

    # Then the file exists inside the repository, and the heading the anchor names exists in it
    assert path.is_relative_to(REPO), target
    assert path.exists(), f"README links to {target}, which does not exist"
    if anchor:
        assert path.suffix == ".md", target
        assert anchor in _anchors(path), f"README links to {target}: no such heading in {path_part}"


def test_the_link_check_sees_a_broken_link():
    # The check above must be able to fail: a link to a missing page and one to a missing heading
    text = "See [a](docs/nope.md) and [b](docs/http-api.md#no-such-heading), not `[c](code.md)`."
    assert relative_links(text) == ["docs/nope.md", "docs/http-api.md#no-such-heading"]
    assert not (REPO / "docs/nope.md").exists()
    assert "no-such-heading" not in _anchors(REPO / "docs/http-api.md")


def test_the_readme_stays_an_introduction():
    # The reference lives in docs/; the README introduces, sets up, and points there
    assert len(README.read_text(encoding="utf-8").splitlines()) < 250


def test_every_refusal_reason_is_documented():
    # Given the refusal reasons table of the observability page
    table = section(page("observability.md"), "Refusal reasons")
    rows = [line for line in table.splitlines() if line.startswith("|")][2:]  # after the header
    documented = {name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])}

    # Then it names every Reason the code can report, and no other
    assert documented == {reason.value for reason in RejectReason}


def test_every_environment_variable_the_functions_read_is_documented():
    # Given the Lambda environment table of the configuration reference
    table = section(page("configuration.md"), "Lambda environment")
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))

    # Then every variable otp.settings reads has a row, and so has every old name it still accepts
    read = {f.option.env for f in fields(settings.Settings) if f.option.env} | set(settings.RENAMED_VARIABLES)
    assert read <= documented, sorted(read - documented)
