"""The performance harness (``escalation bench``): its doubled roster, shortened scenarios and memory readings.

The engine's fast paths it measures are pinned to their plain definitions in tests/engine (test_streams.py,
test_model.py); the command's JSON contract is checked in tests/cli/test_app.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import ROOT

from sim.batch.bench import TreeMemory, doubled_roster, measure_batch, with_horizon
from sim.engine.model import simulate
from sim.engine.world import Context
from sim.spec.loading import load_scenario

SCENARIO = ROOT / "scenarios" / "limited_deployment.yaml"


def test_doubled_roster_twins_every_member_and_the_twins_take_part(doctrine):
    twins = doubled_roster(doctrine)
    assert len(twins.members()) == 2 * len(doctrine.members())
    assert len(twins.actors) == len(doctrine.actors) + len(doctrine.members())
    assert all(twins.actor(m + "_twin").roles == doctrine.actor(m).roles for m in doctrine.members())
    spec = load_scenario(SCENARIO, doctrine)
    res = simulate(Context.build(twins, spec, spec.levers()[0]), np.arange(200), "baseline", record_events=True)
    twin_targets = {t for t in res.events["target"] if t.endswith("_twin")}
    assert twin_targets, "Russia's acts against NATO members never reach a twin: the twins would only add weight"


@pytest.mark.parametrize("stem, weeks", [("limited_deployment", 10), ("limited_deployment", 104),
                                         ("backtest_2022_2024", 26)])
def test_with_horizon_gives_a_valid_baseline_without_later_levers(doctrine, stem, weeks):
    """Moves and deployments past the new horizon are dropped, a later deep-strike authorisation moves into its
    last week (the back-test's lies in week 142), and the variants go."""
    spec = load_scenario(ROOT / "scenarios" / f"{stem}.yaml", doctrine)
    short = with_horizon(spec, doctrine, weeks)
    assert short.horizon_weeks == weeks and short.variants == []
    assert all(m.week < weeks for m in short.timeline)
    assert all(d.start_week < weeks for d in short.deployments)
    assert short.policies.deep_strike.from_week <= weeks - 1
    kept = [m for m in spec.timeline if m.week < weeks]
    assert short.timeline == kept, "moves inside the horizon are kept as they were"


def test_measure_batch_merges_every_run_and_sees_its_memory(doctrine):
    spec = load_scenario(SCENARIO, doctrine)
    row = measure_batch(doctrine, spec, 1_200, workers=1, executor="serial")
    assert row["merged_runs"] == 1_200 and row["runs_per_second"] > 0
    assert 20 < row["peak_rss_mib"] < 4096


def test_tree_memory_counts_this_process():
    with TreeMemory(interval=0.01) as mem:
        block = np.ones(40 * 1024 * 1024 // 8)  # 40 MiB, touched
        block.sum()
    assert mem.peak > 40 * 1024 * 1024
