"""docs/model.md keeps up with configs/: every parameter is in its table with the default and range it has."""

from __future__ import annotations

import re
from pathlib import Path

from sim.spec.loading import load_doctrine

ROOT = Path(__file__).resolve().parent.parent


def test_every_parameter_is_documented_with_its_default_and_range():
    text = (ROOT / "docs" / "model.md").read_text()
    rows = {m.group(1): (m.group(2), m.group(3)) for m in
            re.finditer(r"^\| `([a-z0-9_]+)` \| ([^|]+) \| ([^|]+) \|", text, re.M)}
    for name, p in load_doctrine().parameters.items():
        assert name in rows, f"docs/model.md section 7 has no row for {name}"
        assert rows[name] == (f"{p.value:g}", f"{p.low:g} to {p.high:g}"), name
