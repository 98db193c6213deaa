"""Mediators keep the agent contract, and a ceasefire they broker stops the war in Ukraine until it breaks down."""

from __future__ import annotations

import numpy as np
from engine.agents.contract import AgentContract
from support import make_scenario, run_model

from sim.engine.agents import Mediator


class TestMediator(AgentContract):
    agent = Mediator


def test_a_ceasefire_stops_the_war_in_ukraine(doctrine):
    spec = make_scenario(doctrine, overrides={"ceasefire_rate": 1.0, "ceasefire_break_rate": 0.0},
                         uncertainties={"turkey.mediation_propensity": {"dist": "fixed", "value": 1.0},
                                        "turkey.leverage": {"dist": "fixed", "value": 1.0}})
    res = run_model(doctrine, spec, np.arange(300))
    fw = res.runs["first_week.ceasefire"]
    assert (fw >= 0).mean() > 0.5
    for row in np.flatnonzero(fw >= 0):
        assert (res.ukraine[row, fw[row] + 1:] == 0).all()
        assert (res.ukraine[row, :fw[row]] >= 4).all(), "the routine war is the floor while fighting goes on"
