"""Helpers for tests: the repository root, small scenarios built in code, a one-call model run, scenario files
written and refused, and an alias bomb."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.engine.model import ChunkResult, simulate
from sim.engine.world import Context
from sim.errors import InputError
from sim.spec.doctrine import Doctrine
from sim.spec.loading import load_scenario
from sim.spec.scenario import ScenarioSpec

ROOT = Path(__file__).resolve().parent.parent


def make_scenario(doctrine: Doctrine, **fields) -> ScenarioSpec:
    """A validated scenario from keyword fields (name, title and question filled in)."""
    data = {"name": "test", "title": "test", "question": "test?", "horizon_weeks": 26, "runs": 200, "seed": 3}
    data.update(fields)
    return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})


def run_model(doctrine: Doctrine, scenario: ScenarioSpec, run_ids, variant: str | None = None,
              record_events: bool = False) -> ChunkResult:
    """Simulate the named variant (default: baseline) over ``run_ids``."""
    levers = {lv.name: lv for lv in scenario.levers()}
    lv = levers[variant or scenario.baseline_name]
    return simulate(Context.build(doctrine, scenario, lv), np.asarray(run_ids), lv.name, record_events)


def laughs(levels: int = 9) -> str:
    """A billion-laughs document: ``levels`` lines, each an anchored list of nine aliases of the line before."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    names = "abcdefghijklmnop"
    for i in range(1, levels):
        lines.append(f"{names[i]}: &{names[i]} [" + ", ".join([f"*{names[i - 1]}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    """Write ``text`` to a file ``name`` in ``tmp_path``."""
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def error_of(path: Path, doctrine) -> str:
    """The message with which loading the scenario file ``path`` is refused."""
    with pytest.raises(InputError) as info:
        load_scenario(path, doctrine)
    return str(info.value)
