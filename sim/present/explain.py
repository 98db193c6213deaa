"""Explain one doctrine item: what it is, its parameters, its source and the bibliography entries it cites
(docs/sources.md), its rationale, and the scenarios that use it.

An id may name a rung (its id or number), an actor, an actor's attribute (``russia.resolve``), a red line, a
response option, a deployment type, a location, a scripted move kind, a model parameter or an outcome.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from sim.engine.outcomes import OUTCOMES
from sim.errors import InputError, SimError
from sim.spec.doctrine import Doctrine
from sim.spec.loading import default_scenarios_dir, load_scenario
from sim.spec.scenario import ScenarioSpec
from sim.spec.sources import SourceEntry, load_sources, resolve

_GROUPS = (
    ("rung", "ladder"),
    ("actor", "actors"),
    ("red line", "red_lines"),
    ("response option", "responses"),
    ("deployment type", "deployment_types"),
    ("scripted move", "moves"),
)


#: Prefixes that pick one kind when an id names items of several kinds (``response:hybrid_attack``).
PREFIXES = {"rung": "rung", "actor": "actor", "attribute": "actor attribute", "red_line": "red line",
            "response": "response option", "deployment_type": "deployment type", "move": "scripted move",
            "location": "location", "parameter": "model parameter", "outcome": "outcome"}


def _candidates(doctrine: Doctrine) -> dict[str, list[tuple[str, Any]]]:
    """Every explainable id with the kinds and items it names (an id may name several)."""
    found: dict[str, list[tuple[str, Any]]] = {}

    def add(key: str, kind: str, item: Any) -> None:
        found.setdefault(key, []).append((kind, item))

    for kind, group in _GROUPS:
        for item in getattr(doctrine, group):
            add(item.id, kind, item)
    for r in doctrine.ladder:
        add(str(r.rung), "rung", r)
    for a in doctrine.actors:
        for name, dist in a.attributes.items():
            add(f"{a.id}.{name}", "actor attribute", dist)
    for f in doctrine.locations:
        add(f.location.value, "location", f)
    for pname, p in doctrine.parameters.items():
        add(pname, "model parameter", p)
    for oid, rule in OUTCOMES.items():
        add(oid, "outcome", rule)
    return found


def _uses(item_id: str, spec: ScenarioSpec) -> bool:
    """Whether a scenario mentions ``item_id`` anywhere in its levers, uncertainties or overrides."""
    def walk(x: Any) -> bool:
        if isinstance(x, dict):
            return any(k == item_id or walk(v) for k, v in x.items())
        if isinstance(x, list):
            return any(walk(v) for v in x)
        return x == item_id
    data = spec.model_dump(mode="json", exclude={"name", "title", "question", "description", "sources"})
    return walk(data)


def explain(item_id: str, doctrine: Doctrine, scenarios_dir: Path | None = None) -> dict[str, Any]:
    """The explanation of one item as a plain dict: kind, id, fields, source, rationale, scenarios using it."""
    found = _candidates(doctrine)
    wanted, _, bare = item_id.partition(":") if ":" in item_id else ("", "", item_id)
    if wanted and wanted not in PREFIXES:
        raise InputError(f"unknown kind '{wanted}'", key="ID", expected="one of: " + ", ".join(PREFIXES))
    matches = [m for m in found.get(bare, []) if not wanted or m[0] == PREFIXES[wanted]]
    if not matches:
        close = difflib.get_close_matches(bare, list(found), n=3)
        raise InputError(f"no doctrine item or outcome '{item_id}'", key="ID",
                         expected=("one of: " + ", ".join(close)) if close else "an id shown by 'escalation list'",
                         hint="'escalation list' shows every id")
    (kind, item), others = matches[0], [k for k, _ in matches[1:]]
    item_id = bare
    if kind == "outcome":
        fields = {"description": item.description, "actions": sorted(item.actions), "bloc": item.bloc,
                  "mark": item.mark, "state": item.state}
        source, rationale = "sim/engine/outcomes.py (outcome definitions); [design] (outcomes with stable ids)", \
            item.description
    else:
        fields = item.model_dump(mode="json", exclude={"source", "rationale"})
        source, rationale = item.source, item.rationale
    used_by: list[str] = []
    if kind in ("rung", "red line", "response option", "outcome", "location"):
        used_by = ["every scenario (doctrine that applies throughout)"]
    else:  # actors, attributes, deployment types, moves, parameters: the scenarios that name it
        for path in sorted((scenarios_dir or default_scenarios_dir()).glob("*.yaml")):
            try:
                spec = load_scenario(path, doctrine)
            except SimError:
                continue
            if _uses(item_id, spec):
                used_by.append(spec.name)
        if not used_by and kind in ("actor", "actor attribute", "model parameter"):
            used_by = ["every scenario (as its default)"]
    also = [f"{next(p for p, k in PREFIXES.items() if k == other)}:{item_id}" for other in others]
    references, unresolved = cited_entries(source)
    return {"id": item_id, "kind": kind, "fields": fields, "source": source,
            "references": [entry_dict(e) for e in references], "unresolved": unresolved, "rationale": rationale,
            "scenarios": used_by, "also": also}


def cited_entries(source: str) -> tuple[list[SourceEntry], list[str]]:
    """The bibliography entries a source cites, and the keys it cites that docs/sources.md does not hold (all of
    them if the bibliography cannot be read)."""
    try:
        entries = load_sources()
    except InputError:
        entries = {}
    return resolve(source, entries)


def entry_dict(entry: SourceEntry) -> dict[str, Any]:
    """A bibliography entry as a plain dict, with its one-line form."""
    return {"key": entry.key, "by": entry.by, "title": entry.title, "date": entry.date, "url": entry.url,
            "gives": entry.gives, "line": entry.line()}


def catalogue(doctrine: Doctrine) -> dict[str, list[Any]]:
    """Every id a scenario file can use: actors, rungs, deployment types, red lines, moves and outcomes, and the
    shipped scenario files."""
    d = doctrine
    return {
        "actors": [{"id": a.id, "name": a.name, "bloc": a.bloc.value, "roles": [r.value for r in a.roles]}
                   for a in d.actors],
        "rungs": [{"rung": r.rung, "id": r.id, "name": r.name, "severity": r.severity} for r in d.ladder],
        "deployment_types": [{"id": t.id, "name": t.name, "locations": [loc.value for loc in t.locations]}
                             for t in d.deployment_types],
        "red_lines": [{"id": r.id, "actor": r.actor, "statement": r.statement, "declared_response": r.declared_response}
                      for r in d.red_lines],
        "moves": [{"id": m.id, "name": m.name, "rung": m.rung} for m in d.moves],
        "outcomes": [{"id": k, "description": v.description} for k, v in OUTCOMES.items()],
        "scenarios": sorted(p.name for p in default_scenarios_dir().glob("*.yaml")),
    }
