"""The model: one Mesa agent per actor stepped stage by stage in roster order; R = 1 agrees with a row of R = N and
with any split into chunks; the same seed gives the same numbers; variants share their random numbers; the
target draw by deployment pattern equals the run-by-run draw; a finished model is freed at once."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from support import ROOT, make_scenario, run_model

from sim.engine.agents import DialogueVoice, Mediator, Member, NuclearHost, Supplier, Ukraine
from sim.engine.agents.nato import Alliance
from sim.engine.agents.russia import Russia
from sim.engine.model import STAGES, EscalationModel, simulate
from sim.engine.world import Context
from sim.spec.loading import load_scenario

SCENARIO = ROOT / "scenarios" / "limited_deployment.yaml"
DEPLOY = [{"id": "d", "contributors": ["france", "poland"], "type": "non_combat", "size": 3000,
           "location": "frontline", "start_week": 2}]
TIMELINE = [{"week": 1, "actor": "us", "move": "new_weapon_class"}, {"week": 5, "actor": "uk", "move": "troop_talk"}]
#: Roster order within a stage: standing third-country effects, mediators, initiators, then those who answer.
FAMILY_ORDER = [(NuclearHost, Supplier, DialogueVoice), (Mediator,), (Ukraine,), (Russia,), (Member,), (Alliance,)]


@pytest.fixture(scope="module")
def busy(doctrine):
    return make_scenario(doctrine, deployments=DEPLOY, timeline=TIMELINE,
                         policies={"deep_strike": {"authorised": True, "from_week": 3}})


def test_one_mesa_agent_per_actor_stepped_stage_by_stage_in_roster_order(doctrine, busy):
    model = EscalationModel(Context.build(doctrine, busy, busy.levers()[0]), np.arange(4))
    assert isinstance(model, mesa.Model)
    assert sorted(a.actor_id for a in model.agents) == sorted(doctrine.ids("actors"))
    calls: list[tuple[str, type]] = []
    for agent in model.agents:
        for stage in STAGES:
            method = getattr(agent, stage)
            setattr(agent, stage, lambda m=method, s=stage, a=agent: (calls.append((s, type(a))), m()))
    model.step()
    assert len(calls) == len(STAGES) * len(doctrine.actors), "every stage of every agent, once a week"
    stages = [s for s, _ in calls]
    assert stages == sorted(stages, key=STAGES.index), "all agents perceive, then all decide, then all act"
    for stage in STAGES:
        rank = [next(i for i, fam in enumerate(FAMILY_ORDER) if cls in fam) for s, cls in calls if s == stage]
        assert rank == sorted(rank), stage
    assert model.steps == 1 and model.week == 0 and model.running


def _levers(doctrine):
    spec = load_scenario(SCENARIO, doctrine)
    return [(spec, lv.name) for lv in spec.levers()]


@pytest.fixture(scope="module")
def r1_cases(doctrine, busy):
    return {"busy": (busy, "baseline"), **{f"limited_deployment-{v}": (s, v) for s, v in _levers(doctrine)}}


@pytest.mark.parametrize("case", ["busy", "limited_deployment-baseline", "limited_deployment-frontline_engineers",
                                  "limited_deployment-trainers_inside", "limited_deployment-no_deployment"])
def test_a_run_alone_equals_its_row_in_any_chunk(doctrine, r1_cases, case):
    """R = 1 runs the same array code as R = N: one run stepped alone, or the runs cut into chunks, give the very
    paths, per-run columns and events of the whole."""
    spec, variant = r1_cases[case]
    whole = run_model(doctrine, spec, np.arange(0, 240), variant, record_events=True)
    assert whole.aggregates.outcome_counts.sum() > 0
    halves = [run_model(doctrine, spec, np.arange(a, b), variant, record_events=True) for a, b in ((0, 90), (90, 240))]
    for col in whole.runs:
        assert np.array_equal(whole.runs[col], np.concatenate([h.runs[col] for h in halves])), col
    assert np.array_equal(whole.headline, np.concatenate([h.headline for h in halves]))
    assert np.array_equal(whole.ukraine, np.concatenate([h.ukraine for h in halves]))
    for key in whole.events:
        assert list(whole.events[key]) == [x for h in halves for x in h.events[key]], key
    run_col = np.asarray(whole.events["run"])
    for k in (0, 137, 239):
        alone = run_model(doctrine, spec, [k], variant, record_events=True)
        assert np.array_equal(alone.headline[0], whole.headline[k])
        assert np.array_equal(alone.ukraine[0], whole.ukraine[k])
        for col in alone.runs:
            assert np.array_equal(alone.runs[col], whole.runs[col][k:k + 1]), col
        mine = run_col == k
        for key in ("week", "actor", "target", "action", "rung"):
            assert list(np.asarray(whole.events[key])[mine]) == list(alone.events[key]), (k, key)


def test_runs_stepped_in_any_order_give_their_events_sorted_by_run_then_week(doctrine, busy):
    """The events of runs given out of order (and not from 0) come sorted by run id, then week, each run's acts in
    the order they have when the same runs are stepped in order."""
    ids = np.arange(40, 160)
    ordered = run_model(doctrine, busy, ids, "baseline", record_events=True).events
    shuffled = run_model(doctrine, busy, np.random.default_rng(3).permutation(ids), "baseline",
                         record_events=True).events
    run, week = np.asarray(shuffled["run"]), np.asarray(shuffled["week"])
    assert len(run) > 1000 and set(run.tolist()) <= set(ids.tolist())
    assert np.all(np.diff(run) >= 0) and np.all((np.diff(week) >= 0) | (np.diff(run) > 0))
    for key in ordered:
        assert list(ordered[key]) == list(shuffled[key]), key
    assert {str(shuffled.coded(c)[0].dtype) for c in ("actor", "target", "action")} == {"int8"}


def test_same_seed_same_numbers_other_seed_other_numbers(doctrine, busy):
    a = run_model(doctrine, busy, np.arange(300))
    b = run_model(doctrine, busy, np.arange(300))
    assert np.array_equal(a.headline, b.headline) and a.aggregates.to_dict() == b.aggregates.to_dict()
    c = run_model(doctrine, busy.model_copy(update={"seed": busy.seed + 1}), np.arange(300))
    assert not np.array_equal(a.headline, c.headline)
    assert not np.array_equal(a.runs["param.russia.resolve"], c.runs["param.russia.resolve"])


def test_variants_share_their_random_numbers(doctrine):
    """Common random numbers: variants of one scenario sample the same parameters and step the very same paths
    until their levers differ (a deployment starting in week 30), and other paths after."""
    late = [{"id": "late", "contributors": ["france", "poland", "estonia"], "type": "non_combat", "size": 2000,
             "location": "western", "start_week": 30}]
    spec = make_scenario(doctrine, horizon_weeks=52, deployments=late, variants=[{"name": "none", "deployments": []}],
                         timeline=[{"week": 0, "actor": "france", "move": "troop_talk"}])
    a = run_model(doctrine, spec, np.arange(500))
    b = run_model(doctrine, spec, np.arange(500), variant="none")
    params = [k for k in a.runs if k.startswith("param.")]
    assert params and all(np.array_equal(a.runs[k], b.runs[k]) for k in params)
    assert np.array_equal(a.headline[:, :30], b.headline[:, :30])
    assert np.array_equal(a.ukraine[:, :30], b.ukraine[:, :30])
    assert not np.array_equal(a.headline[:, 30:], b.headline[:, 30:])


def test_recording_the_events_changes_no_result(doctrine, busy):
    ctx = Context.build(doctrine, busy, busy.levers()[0])
    quiet = simulate(ctx, np.arange(100), "baseline", record_events=False)
    loud = simulate(ctx, np.arange(100), "baseline", record_events=True)
    assert quiet.events is None and len(loud.events["run"]) > 0
    assert np.array_equal(quiet.headline, loud.headline)
    assert quiet.aggregates.to_dict() == loud.aggregates.to_dict()
    assert all(np.array_equal(quiet.runs[k], loud.runs[k]) for k in quiet.runs)


def test_targets_follow_geography_and_roles(doctrine):
    """Each kind of act falls only where its weights allow, in proportion to them: airspace acts on the members that
    border Russia, Belarus, Kaliningrad or the Black Sea, spill-over on Ukraine's neighbours; sabotage on any member,
    contributors of troops in Ukraine and suppliers of deep-strike weapons weighing more."""
    spec = make_scenario(doctrine, name="targets", horizon_weeks=12, runs=100, seed=5, deployments=[
        {"id": "a", "contributors": ["france"], "type": "non_combat", "size": 2000, "location": "western",
         "start_week": 0},
    ], policies={"deep_strike": {"authorised": True, "from_week": 0, "suppliers": ["uk"]}})
    model = EscalationModel(Context.build(doctrine, spec, spec.levers()[0]), np.arange(20_000))
    model.step()
    w = model.world
    geo = {g.member: g for g in doctrine.geography}
    members = w.members
    everyone = np.ones(w.size, dtype=bool)
    for kind, allowed in (("airspace", {"russia", "belarus", "kaliningrad", "black_sea"}), ("spillover", {"ukraine"})):
        hit = {members[i] for i in np.unique(model.targets(kind, everyone))}
        assert hit == {m for m in members if allowed & set(geo[m].borders)}, kind
    weights = model._target_weights("hybrid", np.arange(w.size))
    share = np.bincount(model.targets("hybrid", everyone), minlength=len(members)) / w.size
    assert np.allclose(share, (weights / weights.sum(axis=1, keepdims=True)).mean(axis=0), atol=0.01)
    assert share[members.index("france")] > share[members.index("italy")]
    assert share[members.index("uk")] > share[members.index("italy")]


def test_struck_pairs_say_which_member_was_signalled(doctrine, busy):
    """The week's struck pairs say, per signal and member, whether any of that member's pairs carries the signal,
    as each member's own slice of them does; over weeks where several members are struck by several signals."""
    model = EscalationModel(Context.build(doctrine, busy, busy.levers()[0]), np.arange(20_000))
    seen = np.zeros((4, len(model.members)), dtype=bool)
    for _ in range(busy.horizon_weeks):
        model.step()
        pairs = model.struck_pairs()
        for k, on in enumerate(pairs.on_member):
            for m in range(len(model.members)):
                assert pairs.signalled[k][m] == bool(on[pairs.of(m)].any()), (k, m)
                seen[k, m] |= pairs.signalled[k][m]
    assert seen[:3].any(axis=1).all() and (seen.sum(axis=1) > 1).any()  # several signals, several members


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
