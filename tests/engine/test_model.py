"""Model invariants: rungs stay on the ladder, red lines fire only when their condition holds, R = 1 agrees with a
row of R = N, the same seed gives the same numbers, and the Mesa structure is one agent per actor."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from support import make_scenario, run_model

from sim.engine.agents import agent_class
from sim.engine.model import EscalationModel
from sim.engine.world import Context
from sim.spec.vocabulary import OUTCOME_IDS

DEPLOY = [{"id": "d", "contributors": ["france", "poland"], "type": "non_combat", "size": 3000,
           "location": "frontline", "start_week": 2}]
TIMELINE = [{"week": 1, "actor": "us", "move": "new_weapon_class"}, {"week": 5, "actor": "uk", "move": "troop_talk"}]


@pytest.fixture(scope="module")
def busy(doctrine):
    return make_scenario(doctrine, deployments=DEPLOY, timeline=TIMELINE,
                         policies={"deep_strike": {"authorised": True, "from_week": 3}})


def test_one_mesa_agent_per_actor(doctrine, busy):
    lv = busy.levers()[0]
    model = EscalationModel(Context.build(doctrine, busy, lv), np.arange(4))
    assert isinstance(model, mesa.Model)
    ids = sorted(a.actor_id for a in model.agents)
    assert ids == sorted(doctrine.ids("actors"))
    assert all(isinstance(a, mesa.Agent) for a in model.agents)
    assert all(getattr(a, "resolve", np.zeros(4)).shape == (4,) for a in model.agents)


def test_every_actor_has_an_agent_class(doctrine):
    for spec in doctrine.actors:
        assert agent_class(spec) is not None


def test_rungs_stay_on_the_ladder(doctrine, busy):
    res = run_model(doctrine, busy, np.arange(400), record_events=True)
    assert res.headline.min() >= 0 and res.headline.max() <= 15
    assert res.ukraine.min() >= 0 and res.ukraine.max() <= 15
    assert np.isin(np.asarray(res.events["rung"]), np.arange(16)).all()
    assert (res.runs["max_rung"] == res.headline.max(axis=1)).all()


def test_first_weeks_are_within_the_horizon_and_consistent_with_paths(doctrine, busy):
    res = run_model(doctrine, busy, np.arange(400))
    for oid in OUTCOME_IDS:
        fw = res.runs["first_week." + oid]
        assert ((fw == -1) | ((fw >= 0) & (fw < busy.horizon_weeks))).all()
    war = res.runs["first_week.nato_russia_war"]
    assert ((war >= 0) == (res.headline.max(axis=1) >= 12)).all()


def test_r1_agrees_with_every_row_of_rn(doctrine, busy):
    ids = np.arange(40, 100)
    batch = run_model(doctrine, busy, ids, record_events=True)
    for row in (0, 7, 33, 59):
        single = run_model(doctrine, busy, ids[row:row + 1], record_events=True)
        assert np.array_equal(single.headline[0], batch.headline[row])
        assert np.array_equal(single.ukraine[0], batch.ukraine[row])
        for key, col in single.runs.items():
            assert np.array_equal(col[0], batch.runs[key][row]), key
        mine = np.asarray(batch.events["run"]) == ids[row]
        assert list(np.asarray(batch.events["action"])[mine]) == list(single.events["action"])


def test_same_seed_same_numbers_other_seed_other_numbers(doctrine, busy):
    a = run_model(doctrine, busy, np.arange(300))
    b = run_model(doctrine, busy, np.arange(300))
    assert np.array_equal(a.headline, b.headline)
    c = run_model(doctrine, busy.model_copy(update={"seed": busy.seed + 1}), np.arange(300))
    assert not np.array_equal(a.headline, c.headline)


def test_red_lines_fire_only_when_their_condition_holds(doctrine, busy):
    lv = busy.levers()[0]
    model = EscalationModel(Context.build(doctrine, busy, lv), np.arange(300))
    fired_any = False
    for _ in range(busy.horizon_weeks):
        w = model.world
        w.begin_week(model.week)
        model.agents.do("perceive")
        for rule in model.russia.red_lines:
            crossed = rule.crossed(w)
            bonus = rule.commitment(w)
            assert not (bonus[~crossed] > 0).any(), rule.spec.id
            fired_any |= bool((bonus > 0).any())
        model.week += 1
        w.end_week()
    assert fired_any


def test_deployment_red_line_never_fires_without_deployments(doctrine):
    quiet = make_scenario(doctrine, timeline=TIMELINE)
    res = run_model(doctrine, quiet, np.arange(500))
    assert (res.runs["first_week.strike_on_nato_forces_in_ukraine"] == -1).all()


def test_variants_share_random_numbers(doctrine):
    """Common random numbers: sampled parameters are identical across variants of one scenario."""
    spec = make_scenario(doctrine, deployments=DEPLOY, variants=[{"name": "none", "deployments": []}])
    a = run_model(doctrine, spec, np.arange(200))
    b = run_model(doctrine, spec, np.arange(200), variant="none")
    for key in a.runs:
        if key.startswith("param."):
            assert np.array_equal(a.runs[key], b.runs[key])
    assert not np.array_equal(a.headline, b.headline)


def test_uncertainty_overrides_the_actor_distribution(doctrine):
    spec = make_scenario(doctrine, uncertainties={"russia.resolve": {"dist": "fixed", "value": 0.42}})
    res = run_model(doctrine, spec, np.arange(50))
    assert np.allclose(res.runs["param.russia.resolve"], 0.42)


def test_a_ceasefire_stops_the_war_in_ukraine(doctrine):
    spec = make_scenario(doctrine, overrides={"ceasefire_rate": 1.0, "ceasefire_break_rate": 0.0},
                         uncertainties={"turkey.mediation_propensity": {"dist": "fixed", "value": 1.0},
                                        "turkey.leverage": {"dist": "fixed", "value": 1.0}})
    res = run_model(doctrine, spec, np.arange(300))
    fw = res.runs["first_week.ceasefire"]
    assert (fw >= 0).mean() > 0.5
    for row in np.flatnonzero(fw >= 0)[:50]:
        assert (res.ukraine[row, fw[row] + 1:] == 0).all()


def test_scripted_western_steps_show_on_the_headline_axis(doctrine):
    """A scripted move at rung 8 and a deployment start (rung 4) raise that week's headline rung."""
    spec = make_scenario(doctrine, timeline=[{"week": 3, "actor": "us", "move": "strike_permission"}],
                         deployments=[{"id": "d", "contributors": ["uk"], "type": "training_inside", "size": 500,
                                       "location": "western", "start_week": 6}])
    res = run_model(doctrine, spec, np.arange(100))
    assert (res.headline[:, 3] >= 8).all()
    assert (res.headline[:, 6] >= 4).all()


def test_troops_red_lines_ignore_forces_outside_ukraine(doctrine):
    """Air defence on NATO soil is not 'NATO troops in Ukraine': those red lines never cross for it."""
    spec = make_scenario(doctrine, deployments=[{"id": "ad", "contributors": ["poland"], "type": "air_defence",
                                                 "size": 800, "location": "outside", "start_week": 1}])
    lv = spec.levers()[0]
    model = EscalationModel(Context.build(doctrine, spec, lv), np.arange(50))
    lines = {r.spec.id: r for r in model.russia.red_lines}
    for _ in range(5):
        model.step()
    w = model.world
    assert w.dep_active.all()
    assert not lines["nato_troops_in_ukraine"].crossed(w).any()
    assert not lines["nato_crewed_air_defence"].crossed(w).any()
