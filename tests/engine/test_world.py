"""The world: it posts exactly the scenario's levers (each scripted move in its week, each deployment when it
arrives) at their doctrine rungs, and scripted Western steps raise that week's headline rung in every run."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from engine.agents.contract import SCENARIOS, recording, shipped_doctrine, variants
from support import make_scenario, run_model


@pytest.mark.parametrize("stem", SCENARIOS)
def test_the_world_posts_exactly_the_levers(stem):
    moves = {m.id: m for m in shipped_doctrine().moves}
    for variant in variants(stem):
        rec = recording(stem, variant)
        levers = {lv.name: lv for lv in rec.spec.levers()}[variant]
        horizon, everyone = rec.spec.horizon_weeks, sorted(rec.run_ids.tolist())
        posted = [a for a in rec.acts if a.poster is None]
        assert all(a.action.startswith(("move:", "deploy:")) for a in posted), {a.action for a in posted}
        assert all(set(a.targets) == {"russia"} for a in posted)
        scripted = Counter((a.week, a.actor, a.action, a.rung) for a in posted if a.action.startswith("move:"))
        expected = Counter((m.week, m.actor, "move:" + m.move, moves[m.move].rung) for m in levers.timeline
                           if m.week < horizon)
        assert scripted == expected, variant
        assert all(sorted(a.runs.tolist()) == everyone for a in posted if a.action.startswith("move:"))
        arrivals = [a for a in posted if a.action.startswith("deploy:")]
        for a in arrivals:
            assert a.rung == 4
            assert any(a.action == "deploy:" + d.type and a.actor == d.contributors[0] and d.start_week <= a.week
                       and (d.end_week is None or a.week < d.end_week) for d in levers.deployments), (variant, a.action)
        for d in levers.deployments:
            if d.condition == "always" and d.start_week < horizon:
                reach = {r for a in arrivals if (a.week, a.actor, a.action) == (d.start_week, d.contributors[0],
                                                                                "deploy:" + d.type)
                         for r in a.runs.tolist()}
                assert sorted(reach) == everyone, (variant, d.id)


def test_scripted_western_steps_show_on_the_headline_axis(doctrine):
    """A scripted move at rung 8 and a deployment start (rung 4) raise that week's headline rung."""
    spec = make_scenario(doctrine, timeline=[{"week": 3, "actor": "us", "move": "strike_permission"}],
                         deployments=[{"id": "d", "contributors": ["uk"], "type": "training_inside", "size": 500,
                                       "location": "western", "start_week": 6}])
    res = run_model(doctrine, spec, np.arange(100))
    assert (res.headline[:, 3] >= 8).all()
    assert (res.headline[:, 6] >= 4).all()
