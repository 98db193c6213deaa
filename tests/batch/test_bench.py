"""The performance harness, and the fast paths of the engine it measures: they must compute the same numbers.

The engine's speed comes from drawing only where a draw is needed, from option-major logit choices and from loops
over short axes instead of numpy's row-wise reductions. These tests pin each of those to its plain definition, and
the harness's own output to its contract (``escalation bench --json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.batch.bench import TreeMemory, doubled_roster, measure_batch, with_horizon
from sim.cli.app import app
from sim.engine.model import simulate
from sim.engine.streams import Streams
from sim.engine.world import Context
from sim.spec.loading import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "limited_deployment.yaml"


def run_model(doctrine, scenario, run_ids, variant: str | None = None, record_events: bool = False):
    """Simulate one variant (default: the baseline) of ``scenario`` over ``run_ids``."""
    levers = {lv.name: lv for lv in scenario.levers()}
    lv = levers[variant or scenario.baseline_name]
    return simulate(Context.build(doctrine, scenario, lv), np.asarray(run_ids), lv.name, record_events)


# ------------------------------------------------------------------------------------------------ draws
def test_masked_draws_equal_full_draws_where_selected():
    s = Streams(seed=99, run_ids=np.arange(1000, 3000))
    full = s.uniform("site", week=5, k=2)
    mask = s.uniform("mask", week=0) < 0.1
    part = s.uniform("site", week=5, k=2, where=mask)
    assert np.array_equal(part[mask], full[mask])
    assert np.isnan(part[~mask]).all()
    none = s.uniform("site", week=5, k=2, where=np.zeros(2000, dtype=bool))
    assert np.isnan(none).all() and not none.flags.writeable


def test_a_subset_of_runs_draws_what_the_whole_draws():
    s = Streams(seed=4, run_ids=np.arange(500))
    rows = np.array([3, 17, 250, 499])
    sub = s.take(rows)
    assert np.array_equal(sub.uniform("x", 7), s.uniform("x", 7)[rows])
    assert np.array_equal(sub.normal("y", 2), s.normal("y", 2)[rows])
    assert np.array_equal(sub.integers(1, 3, "z", 1), s.integers(1, 3, "z", 1)[rows])
    assert np.array_equal(Streams(4, rows).uniform("x", 7), sub.uniform("x", 7))


def _logit_reference(util_rk: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The textbook computation, run by run: softmax over the finite utilities, then inverse CDF."""
    out = np.full(len(u), -1)
    for r in range(len(u)):
        row = util_rk[r]
        if not np.isfinite(row).any():
            continue
        w = np.exp(row - row[np.isfinite(row)].max())
        cdf = np.cumsum(w / w.sum())
        out[r] = min(int((u[r] * cdf[-1] >= cdf).sum()), len(row) - 1)
    return out


def test_logit_choice_matches_the_run_by_run_definition():
    s = Streams(seed=8, run_ids=np.arange(3000))
    util = np.stack([s.normal("util", 0, k) * 3.0 for k in range(6)])
    util[1, s.uniform("off1") < 0.5] = -np.inf
    util[:, s.uniform("alloff") < 0.05] = -np.inf
    fast = s.logit_choice(util, "choice", week=3)
    reference = _logit_reference(util.T, s.uniform("choice", 3))
    assert np.array_equal(fast, reference)
    assert (fast[~np.isfinite(util).any(axis=0)] == -1).all()
    assert not ((fast == 1) & (util[1] == -np.inf)).any()


def test_logit_choice_frequencies_follow_the_softmax():
    n = 200_000
    s = Streams(seed=2, run_ids=np.arange(n))
    util = np.array([0.0, 1.0, -np.inf, 2.0])[:, None] * np.ones(n)
    freq = np.bincount(s.logit_choice(util, "f"), minlength=4) / n
    expected = np.exp([0.0, 1.0, -np.inf, 2.0])
    expected /= expected.sum()
    assert np.allclose(freq, expected, atol=0.004)
    assert freq[2] == 0.0


def test_categorical_draws_in_proportion_to_unnormalised_weights():
    n = 100_000
    s = Streams(seed=3, run_ids=np.arange(n))
    draws = s.categorical(np.tile([2.0, 0.0, 6.0, 2.0], (n, 1)), "c")
    assert np.allclose(np.bincount(draws, minlength=4) / n, [0.2, 0.0, 0.6, 0.2], atol=0.005)


# ------------------------------------------------------------------------------------------------ engine
@pytest.mark.parametrize("variant", ["baseline", "frontline_engineers", "trainers_inside", "no_deployment"])
def test_a_run_alone_equals_its_row_in_any_chunk(doctrine, variant):
    spec = load_scenario(SCENARIO, doctrine)
    whole = run_model(doctrine, spec, np.arange(0, 600), variant, record_events=True)
    halves = [run_model(doctrine, spec, np.arange(a, b), variant) for a, b in ((0, 250), (250, 600))]
    for col in whole.runs:
        assert np.array_equal(whole.runs[col], np.concatenate([h.runs[col] for h in halves])), col
    assert np.array_equal(whole.headline, np.concatenate([h.headline for h in halves]))
    for k in (0, 137, 599):
        alone = run_model(doctrine, spec, [k], variant)
        assert np.array_equal(alone.headline[0], whole.headline[k])
        assert np.array_equal(alone.ukraine[0], whole.ukraine[k])
        for col in alone.runs:
            assert np.array_equal(alone.runs[col], whole.runs[col][k:k + 1]), col
    assert whole.aggregates.outcome_counts.sum() > 0


def test_the_tracker_views_are_runs_by_weeks(doctrine):
    spec = load_scenario(SCENARIO, doctrine)
    res = run_model(doctrine, spec, np.arange(50))
    assert res.headline.shape == (50, spec.horizon_weeks)
    assert np.array_equal(res.runs["max_rung"], res.headline.max(axis=1))
    assert res.aggregates.headline_hist.sum() == 50 * spec.horizon_weeks
    assert res.aggregates.headline_hist[3].sum() == 50


# ------------------------------------------------------------------------------------------------ harness
def test_doubled_roster_twins_every_member_and_runs(doctrine):
    twins = doubled_roster(doctrine)
    assert len(twins.members()) == 2 * len(doctrine.members())
    assert len(twins.actors) == len(doctrine.actors) + len(doctrine.members())
    spec = load_scenario(SCENARIO, doctrine)
    ctx = Context.build(twins, spec, spec.levers()[0])
    res = simulate(ctx, np.arange(200), "baseline")
    assert res.aggregates.runs == 200


def test_with_horizon_keeps_the_baseline_and_drops_later_moves(doctrine):
    spec = load_scenario(SCENARIO, doctrine)
    short = with_horizon(spec, doctrine, 10)
    assert short.horizon_weeks == 10 and not short.variants
    assert all(m.week < 10 for m in short.timeline)
    assert with_horizon(spec, doctrine, 104).horizon_weeks == 104


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


def test_bench_quick_json_reports_its_contract():
    result = CliRunner().invoke(app, ["bench", "--quick", "--json", "--workers", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("runs_per_second", "per_run_loop_runs_per_second", "speedup", "peak_rss_mib",
                "lockstep_runs_per_second", "machine", "scaling"):
        assert key in data, key
    assert data["runs_per_second"] > 0 and data["peak_rss_mib"] > 0
    assert data["loop_rows_equal_lockstep"] is True
    assert data["speedup"] > 10  # lockstep beats the per-run loop by far, even on a busy machine
    assert [row["weeks"] for row in data["scaling"]["weeks"]] == [26, 52, 104]
    assert [row["roster"] for row in data["scaling"]["actors"]] == ["roster", "doubled roster"]
    assert data["scaling"]["actors"][1]["actors"] > data["scaling"]["actors"][0]["actors"]
    assert all(row["merged_runs"] == row["runs"] for dim in data["scaling"].values() for row in dim)


def test_member_targets_by_pattern_equal_run_by_run_weights(doctrine):
    """Russia's target draw groups runs by which deployments stand; it must equal the draw over each run's own
    weights, with overlapping contributors, staggered starts and withdrawals making the patterns differ."""
    from sim.engine.model import EscalationModel
    from sim.spec.scenario import ScenarioSpec

    spec = ScenarioSpec.model_validate({
        "name": "patterns", "title": "t", "question": "q?", "horizon_weeks": 30, "runs": 100, "seed": 5,
        "deployments": [
            {"id": "a", "contributors": ["france", "poland"], "type": "non_combat", "size": 2000, "location": "frontline", "start_week": 2},
            {"id": "b", "contributors": ["uk", "france"], "type": "training_inside", "size": 1000, "location": "western", "start_week": 6},
            {"id": "c", "contributors": ["estonia"], "type": "training_outside", "size": 500, "location": "outside", "start_week": 1},
        ],
        "policies": {"deep_strike": {"authorised": True, "from_week": 10, "suppliers": ["us", "uk"]}},
    }, context={"doctrine": doctrine})
    ctx = Context.build(doctrine, spec, spec.levers()[0])
    model = EscalationModel(ctx, np.arange(3000))
    seen_patterns = set()
    for _ in range(spec.horizon_weeks):
        model.step()
        model.week -= 1  # look at the week just stepped: its cached draw and its standing deployments
        w = model.world
        inside = np.flatnonzero(w.dep_inside)
        standing = w.dep_active[:, inside]
        seen_patterns |= {tuple(r) for r in standing.tolist()}
        direct = w.streams.categorical(model._target_weights(standing, inside), "russia:target", w.week)
        assert np.array_equal(model.target_members(), direct)
        model.week += 1
    assert len(seen_patterns) >= 3


def test_a_finished_model_is_freed_at_once(doctrine):
    """A worker steps thousands of chunks: each model, with its arrays, must be gone when its chunk is done, without
    waiting for the garbage collector (Mesa 3.3 would keep every model alive otherwise)."""
    import gc
    import weakref

    from sim.engine import model as model_module

    spec = load_scenario(SCENARIO, doctrine)
    ctx = Context.build(doctrine, spec, spec.levers()[0])
    seen: list[weakref.ref] = []
    original = model_module.EscalationModel.__init__

    def remember(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(weakref.ref(self))

    gc.disable()
    try:
        model_module.EscalationModel.__init__ = remember  # type: ignore[method-assign]
        for start in (0, 100, 200):
            simulate(ctx, np.arange(start, start + 100), "baseline")
        assert len(seen) == 3
        assert all(ref() is None for ref in seen)  # nothing, not even mesa.Agent._ids, holds them
    finally:
        model_module.EscalationModel.__init__ = original  # type: ignore[method-assign]
        gc.enable()


def test_with_horizon_keeps_late_levers_valid():
    """A scenario whose levers lie beyond a shorter horizon (the back-test) still gives a valid baseline."""
    from pathlib import Path

    from sim.batch.bench import with_horizon
    from sim.spec.loading import load_doctrine, load_scenario

    root = Path(__file__).resolve().parents[2]
    d = load_doctrine(root / "configs")
    s = load_scenario(root / "scenarios" / "backtest_2022_2024.yaml", d)
    short = with_horizon(s, d, 26)
    assert short.horizon_weeks == 26 and short.variants == []
    assert all(m.week < 26 for m in short.timeline)
    assert short.policies.deep_strike.from_week <= 25
