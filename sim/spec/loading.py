"""Loading the doctrine folder and scenario files into frozen, validated config objects.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.errors import InputError
from sim.spec.distributions import outside
from sim.spec.doctrine import (
    ATTRIBUTE_RANGES,
    CORE_ACTORS,
    CREDIBILITY_RANGE,
    REQUIRED_PARAMETERS,
    Doctrine,
    attributes_needed,
)
from sim.spec.messages import kind_of, validation_error
from sim.spec.scenario import ScenarioSpec
from sim.spec.yaml_reader import Document, parse_yaml, read_text

DOCTRINE_FILES: dict[str, tuple[str, ...]] = {
    "ladder.yaml": ("ladder",),
    "actors.yaml": ("actors",),
    "red_lines.yaml": ("red_lines",),
    "responses.yaml": ("responses",),
    "deployments.yaml": ("deployment_types", "locations"),
    "moves.yaml": ("moves",),
    "geography.yaml": ("geography",),
    "calibration.yaml": ("calibration",),
    "model.yaml": ("parameters",),
}



def default_configs_dir() -> Path:
    """The doctrine folder: ``$ESCALATION_CONFIGS`` if set, else ``configs/`` beside the package."""
    env = os.environ.get("ESCALATION_CONFIGS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "configs"


def default_scenarios_dir() -> Path:
    """The folder of shipped scenarios, beside the package."""
    return Path(__file__).resolve().parents[2] / "scenarios"


# ------------------------------------------------------------------------------------------------------ loaders
_DOCTRINE_CACHE: dict[tuple[str, float], Doctrine] = {}


def load_doctrine(configs: str | Path | None = None) -> Doctrine:
    """Load and validate every doctrine file in ``configs`` (default: :func:`default_configs_dir`)."""
    folder = Path(configs) if configs is not None else default_configs_dir()
    if not folder.is_dir():
        raise InputError("doctrine folder not found", file=folder,
                         expected="a folder with " + ", ".join(DOCTRINE_FILES))
    stamp = max((folder / f).stat().st_mtime for f in DOCTRINE_FILES if (folder / f).exists()) if any(
        (folder / f).exists() for f in DOCTRINE_FILES
    ) else 0.0
    cache_key = (str(folder.resolve()), stamp)
    if cache_key in _DOCTRINE_CACHE:
        return _DOCTRINE_CACHE[cache_key]
    merged: dict[str, Any] = {}
    docs: dict[str, Document] = {}
    root_of: dict[str, str] = {}
    for name, keys in DOCTRINE_FILES.items():
        path = folder / name
        doc = parse_yaml(read_text(path), str(path))
        if not isinstance(doc.data, dict):
            raise InputError("expected a mapping", file=path, line=1, expected="keys: " + ", ".join(keys))
        for k in doc.data:
            if k not in keys:
                raise InputError(f"unknown key '{k}'", file=path, line=doc.lines.get((k,)),
                                 expected="one of: " + ", ".join(keys))
        for k in keys:
            if k not in doc.data:
                raise InputError(f"missing required key '{k}'", file=path, line=1)
            merged[k] = doc.data[k]
            root_of[k] = str(path)
        docs[str(path)] = doc
    try:
        doctrine = Doctrine.model_validate(merged)
    except ValidationError as exc:
        err = validation_error(exc, Doctrine, docs, root_of)
        first = exc.errors(include_url=False)[0]
        if not first["loc"]:  # a check across the files: name the file the message is about, not the first one
            key = _doctrine_key_named(first["msg"])
            raise InputError(err.message, file=root_of.get(key, folder), expected=err.expected,
                             found=err.found) from None
        raise err from None
    check_doctrine(doctrine, docs, root_of)
    _DOCTRINE_CACHE[cache_key] = doctrine
    return doctrine


#: Words by which a message of a check across the doctrine's files names the top-level key it is about.
_CROSS_CHECK_WORDS: tuple[tuple[str, str], ...] = (
    ("calibration.yaml", "calibration"), ("geography.yaml", "geography"), ("red line", "red_lines"),
    ("duplicate ids in actors", "actors"), ("duplicate ids in red_lines", "red_lines"),
    ("duplicate ids in responses", "responses"), ("duplicate ids in deployment_types", "deployment_types"),
    ("duplicate ids in moves", "moves"), ("locations must", "locations"), ("move '", "moves"), ("ladder", "ladder"),
)


def _doctrine_key_named(message: str) -> str:
    for words, key in _CROSS_CHECK_WORDS:
        if words in message:
            return key
    return ""


def _where(docs: dict[str, Document], root_of: dict[str, str], path: tuple[Any, ...]) -> dict[str, Any]:
    """``file`` and ``line`` of a key path of the merged doctrine, for an InputError."""
    file = root_of.get(path[0], "")
    doc = docs.get(file)
    return {"file": file or None, "line": doc.line_of(path) if doc else None}


def _key_path(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_doctrine(doctrine: Doctrine, docs: dict[str, Document], root_of: dict[str, str]) -> None:
    """Refuse a doctrine that validates but that the model cannot run, naming the file, line and key: a model
    parameter the engine reads is missing, a core actor (Russia, Ukraine, the alliance) is missing, an actor lacks
    an attribute its agent samples (a mediator without its propensity, say) or is played by no agent, or a
    distribution lets an attribute or a credibility leave its range."""
    missing = [name for name in REQUIRED_PARAMETERS if name not in doctrine.parameters]
    if missing:
        raise InputError(f"missing model parameter '{missing[0]}'", **_where(docs, root_of, ("parameters",)),
                         key="parameters", expected="every parameter the model reads: " + ", ".join(missing),
                         hint="Add it with its value, range and source")
    ids = doctrine.ids("actors")
    for core in CORE_ACTORS:
        if core not in ids:
            raise InputError(f"missing core actor '{core}'", **_where(docs, root_of, ("actors",)), key="actors",
                             expected="actors " + ", ".join(CORE_ACTORS) + " (the model addresses them by id)")
    for i, actor in enumerate(doctrine.actors):
        at = ("actors", i)
        if actor.id == "us" and actor.bloc.value != "nato":
            raise InputError("the actor 'us' must be a NATO member", **_where(docs, root_of, at),
                             key=_key_path((*at, "bloc")), expected="nato", found=actor.bloc.value)
        if actor.id == "nato" and "alliance" not in {r.value for r in actor.roles}:
            raise InputError("the alliance actor 'nato' lacks the alliance role", **_where(docs, root_of, at),
                             key=_key_path((*at, "roles")), expected="roles including alliance",
                             found=[r.value for r in actor.roles])
        needed = attributes_needed(actor)
        if not needed:
            raise InputError(f"no agent plays actor '{actor.id}'", **_where(docs, root_of, at),
                             key=_key_path((*at, "roles")),
                             expected="a NATO-bloc actor, or one with a mediator, dialogue, supplier, nuclear_host "
                             "or alliance role", found=[r.value for r in actor.roles])
        for why, names in needed.items():
            for name in names:
                if name not in actor.attributes:
                    raise InputError(f"actor '{actor.id}' lacks the attribute '{name}' (needed by its {why})",
                                     **_where(docs, root_of, (*at, "attributes")),
                                     key=_key_path((*at, "attributes")), expected=", ".join(names))
        for name, dist in actor.attributes.items():
            low, high = ATTRIBUTE_RANGES[name]
            _check_range(dist, low, high, f"attribute '{name}'", docs.get(root_of.get("actors", "")),
                         (*at, "attributes", name))
    for i, rl in enumerate(doctrine.red_lines):
        _check_range(rl.credibility, *CREDIBILITY_RANGE, "credibility", docs.get(root_of.get("red_lines", "")),
                     ("red_lines", i, "credibility"))


def _check_range(dist: Any, low: float, high: float, what: str, doc: Document | None,
                 path: tuple[Any, ...]) -> None:
    bad = outside(dist, low, high)
    if bad is None:
        return
    field, value = bad
    cut = (f"Give it low: {low:g} and high: {high:g} (a normal is cut there)"
           if dist.dist == "normal" and field in ("low", "high") else None)
    raise InputError(f"the {what} must stay within its range [{low:g}, {high:g}]",
                     file=doc.file if doc else None, line=doc.line_of((*path, field)) if doc else None,
                     key=_key_path((*path, field)), expected=f"a {dist.dist} distribution within [{low:g}, {high:g}]",
                     found=f"<{field}: {value:g}>", hint=cut)


def scenario_from_data(data: Any, doctrine: Doctrine, doc: Document) -> ScenarioSpec:
    """Validate parsed scenario data against the doctrine."""
    if not isinstance(data, dict):
        raise InputError(
            "expected a mapping of scenario keys at the top level",
            file=doc.file,
            line=1,
            found=f"<{kind_of(data)}>",
        )
    try:
        spec = ScenarioSpec.model_validate(data, context={"doctrine": doctrine})
    except ValidationError as exc:
        raise validation_error(exc, ScenarioSpec, {doc.file: doc}, {}) from None
    for key, dist in spec.uncertainties.items():  # each must keep its attribute within the attribute's range
        low, high = ATTRIBUTE_RANGES[key.partition(".")[2]]
        _check_range(dist, low, high, f"uncertainty '{key}'", doc, ("uncertainties", key))
    if spec.sweep is not None:
        _check_sweep(spec, doctrine, doc)
    return spec


def _check_sweep(spec: ScenarioSpec, doctrine: Doctrine, doc: Document) -> None:
    """The ``sweep:`` block's lever paths and values resolved against the scenario, as ``escalation sweep`` does."""
    from sim.spec.levers import resolve_grid

    assert spec.sweep is not None
    levers = dict(spec.sweep.levers)
    for path, values in levers.items():
        try:
            resolve_grid(spec, doctrine, {path: values}, "")
        except InputError as exc:
            raise InputError(exc.message, file=doc.file, line=doc.line_of(("sweep", "levers", path)),
                             key=f"sweep.levers.{path}", expected=exc.expected, found=exc.found,
                             hint=exc.hint) from None
    try:
        resolve_grid(spec, doctrine, levers, "")
    except InputError as exc:
        raise InputError(exc.message, file=doc.file, line=doc.line_of(("sweep", "levers")), key="sweep.levers",
                         expected=exc.expected, found=exc.found, hint=exc.hint) from None



def load_scenario(path: str | Path, doctrine: Doctrine | None = None) -> ScenarioSpec:
    """Read, parse and validate one scenario file."""
    doctrine = doctrine or load_doctrine()
    text = read_text(path)
    doc = parse_yaml(text, str(path))
    return scenario_from_data(doc.data, doctrine, doc)


def canonical_hash(*objects: BaseModel) -> str:
    """A short stable hash of validated configs (their JSON with sorted keys)."""
    h = hashlib.sha256()
    for obj in objects:
        h.update(json.dumps(obj.model_dump(mode="json"), sort_keys=True).encode())
    return h.hexdigest()[:12]


def editable_data(scenario: ScenarioSpec) -> dict[str, Any]:
    """The scenario as data to change and validate again: a chunk size chosen from the number of runs is left out,
    so that it is chosen again from the runs the new scenario has."""
    data = scenario.model_dump(mode="json", exclude_unset=False)
    if scenario.chunk_size_chosen:
        del data["chunk_size"]
    return data


def with_overrides(scenario: ScenarioSpec, doctrine: Doctrine, **changes: Any) -> ScenarioSpec:
    """The scenario with command-line settings (runs, seed, chunk size) applied and validated again."""
    updates = {k: v for k, v in changes.items() if v is not None}
    if not updates:
        return scenario
    data = editable_data(scenario)
    data.update(updates)
    try:
        return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})
    except ValidationError as exc:  # report the option that broke it (a check of the whole scenario: the options given)
        first = exc.errors(include_url=False)[0]
        field = str(first["loc"][0]) if first["loc"] else None
        names = [field] if field in updates else sorted(updates)
        raise InputError(first["msg"], key=", ".join("--" + n.replace("_", "-") for n in names)) from None
