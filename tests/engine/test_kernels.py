"""The compiled kernels and the numpy reference path give the same numbers to the last bit."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from support import ROOT, run_model

from sim.engine import kernels
from sim.engine.kernels import ENGINE_ENV, engine, kernel, use_engine
from sim.engine.model import ChunkResult
from sim.engine.streams import Streams, inverse_cdf
from sim.errors import InputError
from sim.spec.loading import default_scenarios_dir, load_scenario


def _both(doctrine, scenario, variant: str, run_ids) -> tuple[ChunkResult, ChunkResult]:
    out = []
    for name in ("numpy", "numba"):
        with use_engine(name):
            out.append(run_model(doctrine, scenario, run_ids, variant, record_events=True))
    return out[0], out[1]


def _assert_identical(a: ChunkResult, b: ChunkResult) -> None:
    assert a.runs.keys() == b.runs.keys()
    for col in a.runs:
        assert np.array_equal(a.runs[col], b.runs[col]), col
    assert np.array_equal(a.headline, b.headline) and np.array_equal(a.ukraine, b.ukraine)
    da, db = a.aggregates.to_dict(), b.aggregates.to_dict()
    assert da.keys() == db.keys()
    for key in da:
        assert np.array_equal(np.asarray(da[key]), np.asarray(db[key])) if not isinstance(da[key], dict) \
            else da[key] == db[key], key
    assert a.events is not None and b.events is not None and a.events.keys() == b.events.keys()
    for col in a.events:
        assert np.array_equal(np.asarray(a.events[col]), np.asarray(b.events[col])), col
    assert len(a.events["run"]) > 0


@pytest.mark.parametrize(("name", "seed"), [
    ("limited_deployment", None), ("full_military_involvement", 11), ("long_range_strikes", 2024),
    ("backtest_2022_2024", None), ("air_defence_western_ukraine", 5), ("negotiated_pause", 99),
])
def test_paths_identical_on_scenarios_and_seeds(doctrine, name, seed):
    scenario = load_scenario(default_scenarios_dir() / f"{name}.yaml", doctrine)
    if seed is not None:
        scenario = scenario.model_copy(update={"seed": seed})
    variants = [lv.name for lv in scenario.levers()]
    for variant in variants[:2]:
        a, b = _both(doctrine, scenario, variant, np.arange(1500, 3000))
        _assert_identical(a, b)
        assert a.aggregates.outcome_counts.sum() > 0  # something happened to compare


@pytest.mark.parametrize("name", ["negotiated_pause", "full_military_involvement"])
def test_every_parameter_but_the_batch_constants_may_vary_by_run(doctrine, monkeypatch, name):
    """A calibrated parameter arrives as one value per run: given so (here the same value in every run), every
    parameter that BATCH_CONSTANTS does not list gives, on both paths, the results of the plain value."""
    from sim.engine import world
    from sim.spec.doctrine import BATCH_CONSTANTS

    scenario = load_scenario(default_scenarios_dir() / f"{name}.yaml", doctrine).model_copy(
        update={"horizon_weeks": 20, "design_parameters": "fixed"})
    design = world.design_parameters
    reference = {path: _one(doctrine, scenario, path) for path in kernels.ENGINES}
    for parameter in sorted(set(doctrine.parameters) - set(BATCH_CONSTANTS)):
        def per_run(ctx, streams, parameter=parameter):
            params, drawn = design(ctx, streams)
            params[parameter] = np.full(streams.size, float(params[parameter]))
            return params, drawn
        monkeypatch.setattr(world, "design_parameters", per_run)
        for path in kernels.ENGINES:
            _assert_identical(reference[path], _one(doctrine, scenario, path))
    monkeypatch.setattr(world, "design_parameters", design)


def _one(doctrine, scenario, path: str) -> ChunkResult:
    with use_engine(path):
        return run_model(doctrine, scenario, np.arange(150), scenario.baseline_name, record_events=True)


def test_single_run_identical(doctrine):
    """R = 1 (a replay) takes the same kernels over one run."""
    scenario = load_scenario(default_scenarios_dir() / "full_military_involvement.yaml", doctrine)
    for run in (0, 17, 401):
        a, b = _both(doctrine, scenario, scenario.baseline_name, [run])
        assert np.array_equal(a.headline, b.headline) and a.events["action"] == b.events["action"]


def test_uniform_kernel_matches_numpy():
    s = Streams(seed=12345, run_ids=np.arange(50_000))
    rows = np.array([3, 49_999, 0, 12_000])
    with use_engine("numpy"):
        ref = Streams(seed=12345, run_ids=np.arange(50_000))
    assert s.compiled and not ref.compiled
    for week in (-1, 0, 51):
        assert np.array_equal(s.uniform("site", week, 2), ref.uniform("site", week, 2))
        assert np.array_equal(s.uniform_at(rows, "site", week), ref.uniform_at(rows, "site", week))
        where = np.zeros(50_000, dtype=bool)
        where[rows] = True
        got, want = s.uniform("site", week, 1, where=where), ref.uniform("site", week, 1, where=where)
        assert np.array_equal(got, want, equal_nan=True) and np.isnan(got).sum() == 50_000 - len(rows)
        assert np.isnan(s.uniform("site", week, where=np.zeros(50_000, dtype=bool))).all()


def test_inverse_cdf_kernel_matches_numpy():
    rng = np.random.default_rng(3)
    weights = rng.random((20_000, 13)) * (rng.random((20_000, 13)) < 0.6)
    weights[:5] = 0.0  # rows with nothing to choose take the last index, as the reference
    u = rng.random(20_000)
    got = np.empty(20_000, dtype=np.int64)
    kernel("inverse_cdf")(weights, u, got)
    assert np.array_equal(got, inverse_cdf(weights, u))


@pytest.mark.parametrize("weeks", [1, 2, 52])
def test_histogram_kernel_counts_as_the_reference(weeks):
    """A chunk's sums counted by the kernel equal ``Aggregates.from_tracker``'s numpy counts, on random paths with
    outcomes that never happened (-1), first weeks past the horizon (dropped) and a one-week horizon (no
    transitions)."""
    from sim.engine.aggregates import Aggregates
    from sim.engine.outcomes import N_RUNGS
    from sim.spec.vocabulary import OUTCOME_IDS

    rng = np.random.default_rng(weeks)
    runs = 3_000

    class Tracker:
        _first = rng.integers(-1, weeks + 2, size=(len(OUTCOME_IDS), runs)).astype(np.int16)
        _headline = rng.integers(0, N_RUNGS, size=(weeks, runs)).astype(np.int8)
        _ukraine = rng.integers(0, N_RUNGS, size=(weeks, runs)).astype(np.int8)

    ids = np.arange(runs, dtype=np.int64)
    want = Aggregates.from_tracker(Tracker, ids).to_dict()
    got = Aggregates.from_tracker(Tracker, ids, compiled=True).to_dict()
    assert got == want
    assert sum(want["outcome_counts"]) > 0 and sum(map(sum, want["transitions"])) == runs * (weeks - 1)


@pytest.mark.parametrize("rung", [-1, 16])
def test_histogram_kernel_refuses_a_rung_outside_the_ladder(rung):
    """The kernel indexes its counts by rung unchecked: a path outside 0-15 is refused before it is counted, never
    written outside the arrays."""
    from sim.engine.aggregates import Aggregates
    from sim.spec.vocabulary import OUTCOME_IDS

    class Tracker:
        _first = np.full((len(OUTCOME_IDS), 4), -1, np.int16)
        _headline = np.zeros((3, 4), np.int8)
        _ukraine = np.zeros((3, 4), np.int8)

    Tracker._ukraine[2, 1] = rung
    with pytest.raises(ValueError, match="outside 0 to 15"):
        Aggregates.from_tracker(Tracker, np.arange(4), compiled=True)


def test_aggregates_are_the_same_with_and_without_per_run_tables(doctrine):
    """A batch without per-run tables skips their rows only: its aggregates are those of the same runs with them."""
    from sim.batch.bench import baseline_context
    from sim.engine.model import simulate

    scenario = load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine)
    ctx = baseline_context(doctrine, scenario)
    ids = np.arange(2_000, 3_500)
    full = simulate(ctx, ids, "baseline", record_events=True, runs_table=True)
    light = simulate(ctx, ids, "baseline", runs_table=False)
    assert light.runs == {} and light.events is None and full.runs
    assert light.aggregates.to_dict() == full.aggregates.to_dict()
    assert np.array_equal(light.headline, full.headline) and np.array_equal(light.ukraine, full.ukraine)


def test_logit_kernels_match_numpy():
    """Russia's utilities and the draw, compiled around numpy's exp, equal the numpy formula of ``Russia._choose``
    followed by ``Streams.logit_choice``, on random inputs with per-run parameters and runs with no option; the
    options flagged plain (multipliers and deterrence all 1, not nuclear) give the same numbers whether the kernel
    takes the flag or reads their rows of ones."""
    rng = np.random.default_rng(8)
    k, runs = 12, 30_000
    severity, cost = rng.uniform(0, 100, k), rng.uniform(0, 40, k)
    desired, risk = rng.uniform(0, 100, runs), rng.uniform(0, 1, runs)
    mod, det = rng.uniform(0.5, 1.0, (k, runs)), rng.uniform(1.0, 2.0, (k, runs))
    plain = np.isin(np.arange(k), (0, 1, 3, 4))  # the first row among them: the largest starts from a plain row
    mod[plain] = det[plain] = 1.0
    width, rationality = rng.uniform(3, 50, runs), rng.uniform(3, 9, runs)
    nuclear = np.arange(k) >= 9
    norm_lev = rng.uniform(0, 20, runs)
    available = rng.random((k, runs)) < 0.8
    available[:, :10] = False  # no option at all: -1
    by_red_line = np.isin(np.arange(k), (0, 7))  # decided by red lines only: never chosen for proportion
    allowed = available & ~by_red_line[:, None]
    diff = severity[:, None] - desired[None, :]
    util = -(diff * diff) / (2.0 * width * width)
    util -= cost[:, None] * mod * (1.0 - risk)[None, :] * det
    util[nuclear] -= norm_lev[None, :]
    util = np.where(allowed, util * rationality, -np.inf)
    s = Streams(seed=1, run_ids=np.arange(runs))
    with use_engine("numpy"):
        ref = Streams(seed=1, run_ids=np.arange(runs)).logit_choice(util, "c", 4)
    weights, none = np.empty((k, runs)), np.empty(runs, dtype=np.bool_)
    dead = np.empty((k, runs), dtype=np.bool_)
    read = [np.empty((k, runs)), np.empty((k, runs), dtype=np.bool_), np.empty(runs, dtype=np.bool_)]
    kernel("russia_weights")(severity, desired, 2.0 * width * width, cost, mod, risk, det, nuclear, norm_lev,
                             available, by_red_line, rationality, np.zeros(k, dtype=np.bool_), *read)
    kernel("russia_weights")(severity, desired, 2.0 * width * width, cost, mod, risk, det, nuclear, norm_lev,
                             available, by_red_line, rationality, plain, weights, dead, none)
    assert np.array_equal(weights.view(np.int64), read[0].view(np.int64))
    assert np.array_equal(dead, read[1]) and np.array_equal(none, read[2])
    assert none[:10].all() and not none[10:].any()
    scaled = util - np.where(none, 0.0, util.max(axis=0))
    assert np.array_equal(dead, scaled < kernels.DEAD_BELOW) and dead.any() and (dead & np.isfinite(scaled)).any()
    assert np.array_equal(weights[~dead], scaled[~dead]) and (weights[dead] == 0.0).all()
    np.exp(weights, out=weights)
    got = np.empty(runs, dtype=np.int64)
    kernel("draw_columns")(weights, dead, s.uniform("c", 4), none, got)
    assert np.array_equal(got, ref) and (got[:10] == -1).all() and len(np.unique(got[10:])) > 5


def test_mediation_kernel_matches_numpy(doctrine):
    """Each mediator's week compiled (attempts, partial deals, ceasefires) equals the numpy branch of
    ``Mediation.decide`` on the same state, with a proposal on the table and without, calibrated parameters per
    run, and ceasefires made common enough to compare."""
    from sim.engine.model import EscalationModel
    from sim.engine.world import Context

    scenario = load_scenario(default_scenarios_dir() / "negotiated_pause.yaml", doctrine)
    with use_engine("numba"):
        model = EscalationModel(Context.build(doctrine, scenario, scenario.levers()[0]), np.arange(20_000))
    w = model.world
    w.params["ceasefire_rate"] = w.params["ceasefire_rate"] * 50.0  # parameters hold for the chunk: set first
    for _ in range(6):
        model.step()
    w.fighting = np.random.default_rng(4).random(w.size) < 0.8
    mediations = [a.mediation for a in model.agents if getattr(a, "mediation", None) is not None]
    assert len(mediations) >= 2
    deals = ceasefires = 0
    for weeks_left in (0, 3):
        w.proposal_weeks_left = weeks_left
        for mediation in mediations:
            answers = []
            for compiled in (False, True):
                w.compiled = compiled
                mediation.decide()
                answers.append((mediation.deal.copy(), mediation.ceasefire.copy()))
            (deal, ceasefire), (deal_k, ceasefire_k) = answers
            assert np.array_equal(deal, deal_k) and np.array_equal(ceasefire, ceasefire_k)
            deals, ceasefires = deals + int(deal.sum()), ceasefires + int(ceasefire.sum())
    assert deals > 0 and ceasefires > 0


def test_act_kernel_matches_numpy(doctrine):
    """An act's effects compiled (the axes it lifts raised, the outcomes it realises marked) leave the same state,
    and ``World.act`` returns the same runs, as the numpy branch, for acts in none, a few and most of the runs (both
    branches of the kernel), on either axis, with outcomes marked before and not."""
    from sim.engine.model import EscalationModel
    from sim.engine.world import Context

    scenario = load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine)
    size, rng = 5_000, np.random.default_rng(12)
    worlds = []
    for name in ("numpy", "numba"):
        with use_engine(name):
            model = EscalationModel(Context.build(doctrine, scenario, scenario.levers()[0]), np.arange(size))
        for _ in range(8):
            model.step()
        worlds.append(model.world)
    w_ref, w_k = worlds
    assert not w_ref.compiled and w_k.compiled
    L, member = w_ref.L, int(w_ref.member_index[0])
    acts = [  # (actor, target, action, rung, share of the runs)
        ("russia", "ukraine", "massed_strikes", L.first("vertical_in_ukraine"), 0.6),
        ("russia", member, "strike_nato_territory", L.first("vertical_in_ukraine") + 2, 0.01),
        ("russia", "nato", "nuclear_signalling", 3, 0.3),
        ("ukraine", "russia", "deep_strike", L.first("vertical_in_ukraine"), 0.0),
        ("russia", member, "limited_nuclear_use", int(np.flatnonzero(L.has("nuclear_detonation"))[0]), 0.02),
        ("russia", member, "limited_nuclear_use", int(np.flatnonzero(L.has("nuclear_detonation"))[0]), 0.5),
    ]
    before = w_k.headline.copy(), w_k.ukraine_axis.copy(), w_k.outcomes.first.copy()
    for actor, target, action, rung, share in acts:
        mask = rng.random(size) < share
        mask[0] = share > 0  # the first run and the last, where an off-by-one would show
        mask[-1] = share > 0.1
        rows = [w.act(actor, target, action, rung, mask.copy()) for w in worlds]
        assert np.array_equal(rows[0], rows[1]) and rows[1].dtype == np.int64 and len(rows[1]) == mask.sum()
        assert np.array_equal(w_ref.headline, w_k.headline) and np.array_equal(w_ref.ukraine_axis, w_k.ukraine_axis)
        assert np.array_equal(w_ref.outcomes.first, w_k.outcomes.first), action
    for was, now in zip(before, (w_k.headline, w_k.ukraine_axis, w_k.outcomes.first), strict=True):
        assert (was != now).any() and np.any(was[0] != now[0])  # the acts changed every part, run 0 included


def test_exp_is_exactly_zero_below_the_dead_bound():
    """What lets the compiled choice skip numpy's exp where it underflows: below ``DEAD_BELOW`` exp gives +0.0."""
    rng = np.random.default_rng(3)
    x = np.concatenate([[-np.inf, kernels.DEAD_BELOW - 1e-9, -1e308], -rng.uniform(-kernels.DEAD_BELOW, 5e3, 200_000),
                        kernels.DEAD_BELOW - rng.exponential(1.0, 200_000)])
    assert (x < kernels.DEAD_BELOW).all()
    e = np.exp(x)
    assert (e == 0.0).all() and not np.signbit(e).any()
    assert np.exp(kernels.DEAD_BELOW + 1.0) > 0.0  # the bound sits just under where exp stops underflowing


def test_engine_selection(monkeypatch):
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert engine() == "numba"
    monkeypatch.setenv(ENGINE_ENV, "NumPy ")
    assert engine() == "numpy"
    with use_engine("numba"):
        assert engine() == "numba"
    assert engine() == "numpy"
    monkeypatch.setenv(ENGINE_ENV, "fortran")
    with pytest.raises(InputError, match="expected numba or numpy; found 'fortran'"):
        engine()
    with pytest.raises(InputError), use_engine("c"):
        pass


def test_the_cache_on_disk_holds_every_kernel_once_warmed_up(monkeypatch):
    """After a warm-up the kernels are in numba's cache next to their source (what tells a command it need not
    announce a compile); with the cache elsewhere it cannot be told."""
    kernels.warm_up()
    assert kernels.compiled_on_disk() is True
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/nowhere")
    assert kernels.compiled_on_disk() is None


def test_warm_up_reports_seconds():
    assert kernels.warm_up() >= 0.0


def test_command_line_refuses_an_unknown_engine_before_starting(tmp_path):
    env = dict(os.environ, ESCALATION_ENGINE="fortran", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(ROOT / "scenarios" / "limited_deployment.yaml"),
                           "--runs", "100", "--no-charts", "--out", str(tmp_path)], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: unknown engine in $ESCALATION_ENGINE; expected numba or numpy; found 'fortran'"]
    assert not list(tmp_path.iterdir()), "nothing written"
