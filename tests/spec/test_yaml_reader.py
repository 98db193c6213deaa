"""The YAML reader: exact messages naming file and line, line numbers of nested keys, alias bombs refused fast
and aliases within the limit read as plain data."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support import ROOT, error_of, laughs, write

from sim.errors import InputError
from sim.spec.loading import load_scenario
from sim.spec.yaml_reader import parse_yaml

SHIPPED = ROOT / "scenarios" / "limited_deployment.yaml"


def test_billion_laughs_parse_is_fast() -> None:
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="expands to"):
        parse_yaml(laughs(16), "bomb.yaml")  # 9**16 nodes when expanded
    assert time.perf_counter() - t0 < 0.2


def test_alias_within_the_limit_is_accepted(tmp_path: Path) -> None:
    text = SHIPPED.read_text().replace("    contributors: [france, poland, estonia]",
                                       "    contributors: &who [france, poland, estonia]")
    text = text.replace("{id: eu_engineers, contributors: [france, poland, estonia], type: non_combat, size: 2000, "
                        "location: frontline",
                        "{id: eu_engineers, contributors: *who, type: non_combat, size: 2000, location: frontline")
    assert "*who" in text
    spec = load_scenario(write(tmp_path, text, "scenario.yaml"))
    assert spec.variants[1].deployments[0].contributors == ["france", "poland", "estonia"]


def test_invalid_yaml_names_line(tmp_path, doctrine):
    path = write(tmp_path, "name: t\ntitle: [unclosed\n")
    msg = error_of(path, doctrine)  # the wording after the line is libyaml's or PyYAML's, whichever is installed
    assert msg.startswith(f"{path}:3: invalid YAML: ") and "expected ',' or ']'" in msg


def test_duplicate_key_is_an_error(tmp_path, doctrine):
    path = write(tmp_path, "name: t\nname: u\n")
    assert error_of(path, doctrine) == (
        f"{path}:2: name: duplicate key 'name' (first at line 1). Each key may appear once in a mapping"
    )


def test_python_object_tag_is_refused(tmp_path, doctrine):
    path = write(tmp_path, "name: !!python/object/apply:os.system ['echo hacked']\n")
    msg = error_of(path, doctrine)
    assert msg.startswith(f"{path}:1: name: a YAML tag that is not plain data is refused")
    assert msg.endswith("found <the tag !!python/object/apply:os.system>")


def test_lines_are_tracked_for_nested_keys():
    doc = parse_yaml("a:\n  b:\n    - x: 1\n      y: 2\n", "f.yaml")
    assert doc.lines[("a", "b", 0, "y")] == 4
    assert doc.line_of(("a", "b", 0, "y", "deeper")) == 4
