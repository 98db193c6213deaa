"""Every shipped scenario validates and runs a small batch; every one points editors at the schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.loading import load_scenario
from sim.runner import Batch, execute, select_variants

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))


def test_the_default_and_a_no_deployment_scenario_are_shipped():
    names = {p.name for p in SCENARIOS}
    assert "limited_deployment.yaml" in names
    assert len(SCENARIOS) >= 2


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_validates_and_runs(path, doctrine):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schema/scenario.schema.json"
    spec = load_scenario(path, doctrine)
    assert spec.name == path.stem
    assert spec.question.strip() and spec.sources
    small = spec.model_copy(update={"runs": 60, "chunk_size": 60})
    batch = Batch(doctrine, small, select_variants(small, None), record_runs=False, record_events=False)
    out = execute(batch, executor="serial")
    for v in batch.variants:
        agg = out.aggregates[v]
        assert agg.runs == 60
        assert agg.headline_hist.sum() == 60 * spec.horizon_weeks
        assert np.all(agg.outcome_counts <= 60)
