"""docs/sources.md and the citations: every `source` in configs/ (rungs, actors and their attributes and codes, red
lines and their credibilities, responses, deployment types, locations, moves, geography, parameters, event codes) and
every scenario's `sources` and uncertainties cite at least one entry by key; every key cited has an entry; every entry
is cited; and the bibliography's reader refuses a malformed file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from sim.errors import InputError
from sim.spec.event_coding import load_event_coding
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario
from sim.spec.sources import cited_keys, default_sources_file, load_sources, parse_sources, resolve
from sim.spec.targets import load_targets

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = load_sources()


def _sources(x: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every (place, source string) in a config object: each item's `source`, each scenario's `sources`."""
    if isinstance(x, BaseModel):
        for name in type(x).model_fields:
            value = getattr(x, name)
            if name == "source" and value is not None:
                yield where, value
            elif name == "sources":
                for i, s in enumerate(value):
                    yield f"{where}.sources[{i}]", s
            else:
                yield from _sources(value, f"{where}.{name}")
    elif isinstance(x, dict):
        for k, v in x.items():
            yield from _sources(v, f"{where}.{k}")
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield from _sources(v, f"{where}[{getattr(v, 'id', i)}]")


def _all_sources() -> list[tuple[str, str]]:
    doctrine = load_doctrine(ROOT / "configs")
    found = list(_sources(doctrine, "configs"))
    for path in sorted(default_scenarios_dir().glob("*.yaml")):
        found += list(_sources(load_scenario(path, doctrine), f"scenarios/{path.name}"))
    found += [(f"calibration/targets.yaml.{t.id}", t.source) for t in load_targets()]
    found += list(_sources(load_event_coding(ROOT / "configs", doctrine), "configs/events.yaml"))
    return found


SOURCES = _all_sources()


def test_the_walk_reaches_every_kind_of_sourced_item():
    places = " ".join(where for where, _ in SOURCES)
    assert len(SOURCES) > 280
    for part in ("configs.ladder", "configs.actors", ".attributes.", "configs.red_lines", ".credibility",
                 "configs.responses", "configs.deployment_types", "configs.locations", "configs.moves",
                 "configs.geography", "configs.parameters", ".sources[", "scenarios/limited_deployment.yaml.uncert",
                 "configs.calibration", "calibration/targets.yaml.row_26", ".codes", "configs/events.yaml.codes",
                 "configs/events.yaml.acts"):
        assert part in places, part


def test_every_source_cites_an_entry_and_every_key_resolves():
    problems = []
    for where, source in SOURCES:
        found, unknown = resolve(source, ENTRIES)
        if not found and not unknown:
            problems.append(f"{where}: cites no [key]: {source!r}")
        for key in unknown:
            problems.append(f"{where}: [{key}] has no entry in docs/sources.md")
    assert not problems, "\n".join(problems)


def test_no_source_still_points_at_an_unshipped_file():
    for where, source in SOURCES:
        for stale in ("DOMAIN.md", "DESIGN.md", ".txt"):
            assert stale not in source, f"{where}: {source!r}"


def test_every_entry_is_cited():
    cited = {key for _, source in SOURCES for key in cited_keys(source)}
    dead = sorted(set(ENTRIES) - cited)
    assert not dead, "entries of docs/sources.md that nothing cites: " + ", ".join(dead)


def test_every_entry_gives_its_fields():
    assert default_sources_file() == ROOT / "docs" / "sources.md"
    assert len(ENTRIES) >= 25
    for key, e in ENTRIES.items():
        assert e.key == key
        assert all(len(v) >= 4 for v in (e.by, e.title, e.date, e.gives)), key
        assert e.url is None or e.url.startswith("http"), key
        assert e.line().startswith(f"{key}: {e.by}, {e.title}, {e.date}: ")
    for key in ("design", "record-2022-2024", "seed-000-legitimate-targets", "kahn-1965"):
        assert key in ENTRIES


def test_cited_keys_ignore_marks_and_repeat_each_key_once():
    assert cited_keys("[design] ladder rung 4; [record-2022-2024] row 27 [D]; [design] [M] [D: the share]") == \
        ["design", "record-2022-2024"]
    assert cited_keys("DOMAIN.md 3 row 26") == []


_ENTRY = "### `good-key`\n\n- **By:** someone\n- **Title:** a title\n- **Date:** 2024\n- **Gives:** a line\n\nText.\n"


def test_the_reader_reads_an_entry_and_ignores_other_text():
    entries = parse_sources("# Sources\n\nIntro with `### not a heading`.\n\n## Group\n\n" + _ENTRY)
    assert list(entries) == ["good-key"]
    assert entries["good-key"].url is None and entries["good-key"].gives == "a line"


@pytest.mark.parametrize("text,message", [
    ("### Not a key\n", "a '###' heading that is not an entry key"),
    ("### `Bad_Key`\n", "a '###' heading that is not an entry key"),
    (_ENTRY + _ENTRY, "entry 'good-key' given twice"),
    (_ENTRY.replace("- **Gives:** a line\n", ""), "entry 'good-key' lacks Gives"),
    (_ENTRY.replace("**Date:**", "**When:**"), "entry 'good-key': not a field"),
    (_ENTRY.replace("- **Date:** 2024\n", "- **Date:** 2024\n- **Date:** 2025\n"), "field Date given twice"),
    (_ENTRY.replace("- **By:** someone", "- **By:**"), "entry 'good-key': not a field"),
])
def test_the_reader_refuses_a_malformed_bibliography(text, message):
    with pytest.raises(InputError, match=message):
        parse_sources(text, "sources.md")


def test_a_missing_bibliography_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read the bibliography"):
        load_sources(tmp_path / "absent.md")
