"""docs/model.md keeps up with configs/: every parameter is in its table with the default and range it has, and
every response option and red line has its row (the tables are printed by scripts/doc_tables.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.spec.loading import load_doctrine

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
DOCTRINE = load_doctrine()


def _rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for m in re.finditer(r"^\| `([a-z0-9_]+)`[^|]*\|(.*)\|$", TEXT, re.M):
        rows.setdefault(m.group(1), []).append(m.group(2))
    return rows


ROWS = _rows()


@pytest.mark.parametrize("name", list(DOCTRINE.parameters))
def test_every_parameter_is_documented_with_its_default_and_range(name):
    p = DOCTRINE.parameters[name]
    cells = [[c.strip() for c in row.split("|")] for row in ROWS.get(name, [])]
    assert any(c[:2] == [f"{p.value:g}", f"{p.low:g} to {p.high:g}"] for c in cells), \
        f"docs/model.md section 7 has no row for {name} with default {p.value:g} and range {p.low:g} to {p.high:g}"


@pytest.mark.parametrize("item", [r.id for r in DOCTRINE.responses] + [rl.id for rl in DOCTRINE.red_lines])
def test_every_response_option_and_red_line_has_a_row(item):
    assert item in ROWS, f"docs/model.md section 8 has no row for {item}"
