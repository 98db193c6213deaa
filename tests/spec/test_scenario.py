"""Every shipped scenario validates and runs a small batch; every one points editors at the schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.batch.chunks import Batch, select_variants
from sim.batch.executors import execute
from sim.spec.loading import load_scenario
from sim.spec.vocabulary import OUTCOME_IDS

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


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
        # invariants that tie the outcome counts to the paths: a war is the headline at rung 12 or above, and
        # nuclear use or a strategic war put the headline at rung 14 or 15 in their week
        war = agg.outcome_counts[OUTCOME_IDS.index("nato_russia_war")]
        assert war == agg.max_rung_hist[12:].sum()
        assert agg.outcome_counts[OUTCOME_IDS.index("strategic_nuclear_war")] == agg.max_rung_hist[15]
        assert agg.outcome_counts[OUTCOME_IDS.index("nuclear_use")] <= agg.max_rung_hist[14:].sum()
        # the status quo is the floor of the headline axis while there is no war
        assert agg.headline_hist[:, 0].sum() == 0
        assert np.all(agg.first_week_hist.sum(axis=1) == agg.outcome_counts)
