"""The threat table (docs/threat-model.md): every bound it states names tests, and every test it names
exists."""

from __future__ import annotations

import re

from tests.doc_pages import REPO, page, section

_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def threat_rows() -> list[list[str]]:
    table = section(page("threat-model.md"), "Threat table")
    rows = [line for line in table.strip().splitlines() if line.startswith("|")][2:]  # after the header
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_every_row_states_a_bound_and_names_its_tests() -> None:
    rows = threat_rows()
    assert len(rows) >= 10
    for attack, bound, _keys, proof in rows:
        assert attack, bound
        assert bound, attack
        assert _REFERENCE.search(proof), f"no test named for {attack!r}"


def test_every_test_the_table_names_exists() -> None:
    for *_, proof in threat_rows():
        for path, name in _REFERENCE.findall(proof):
            source = (REPO / path).read_text(encoding="utf-8")
            assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{path}::{name} does not exist"
