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
from sim.spec.doctrine import Doctrine
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
        raise validation_error(exc, Doctrine, docs, root_of) from None
    _DOCTRINE_CACHE[cache_key] = doctrine
    return doctrine


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
        return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})
    except ValidationError as exc:
        raise validation_error(exc, ScenarioSpec, {doc.file: doc}, {}) from None



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


def with_overrides(scenario: ScenarioSpec, doctrine: Doctrine, **changes: Any) -> ScenarioSpec:
    """The scenario with command-line settings (runs, seed, chunk size) applied and validated again."""
    updates = {k: v for k, v in changes.items() if v is not None}
    if not updates:
        return scenario
    data = scenario.model_dump(mode="json", exclude_unset=False)
    data.update(updates)
    try:
        return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})
    except ValidationError as exc:  # report the option that broke it
        first = exc.errors(include_url=False)[0]
        raise InputError(first["msg"], key="--" + str(first["loc"][0]).replace("_", "-")) from None
