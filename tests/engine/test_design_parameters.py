"""Design parameters drawn per run from the calibrated sets, shared by variants, or fixed at their point values:
fixing them recovers the pure Monte Carlo batch of the point values."""

from __future__ import annotations

import numpy as np
from support import make_scenario, run_model

from sim.spec.doctrine import Calibration

DEPLOY = [{"id": "d", "contributors": ["france"], "type": "non_combat", "size": 2000, "location": "frontline",
           "start_week": 2}]


def _with_sets(doctrine, sets):
    names = ["memory_decay", "rationality"]
    cal = Calibration(method="test", seed=0, parameters=names, sets=sets, source="test sets")
    return doctrine.model_copy(update={"calibration": cal})


def test_each_run_draws_one_calibrated_set_and_variants_share_it(doctrine):
    d = _with_sets(doctrine, [[0.5, 2.0], [0.9, 5.0], [0.7, 3.0]])
    spec = make_scenario(d, deployments=DEPLOY, variants=[{"name": "none", "deployments": []}])
    a = run_model(d, spec, np.arange(600))
    b = run_model(d, spec, np.arange(600), variant="none")
    picked = a.runs["param.design.set"].astype(int)
    assert set(picked.tolist()) == {0, 1, 2}
    assert np.allclose(a.runs["param.design.memory_decay"], np.array([0.5, 0.9, 0.7])[picked])
    assert np.array_equal(a.runs["param.design.set"], b.runs["param.design.set"])


def test_fixed_parameters_recover_the_point_value_batch(doctrine):
    """``design_parameters: fixed`` ignores the calibrated sets: the batch equals one whose only set holds the point
    values, so its intervals are the pure Monte Carlo intervals of those values."""
    point = [[doctrine.parameters["memory_decay"].value, doctrine.parameters["rationality"].value]]
    spread = _with_sets(doctrine, [[0.5, 2.0], [0.9, 5.0]])
    fixed = run_model(spread, make_scenario(spread, deployments=DEPLOY, design_parameters="fixed"), np.arange(400))
    at_point = run_model(_with_sets(doctrine, point), make_scenario(doctrine, deployments=DEPLOY), np.arange(400))
    calibrated = run_model(spread, make_scenario(spread, deployments=DEPLOY), np.arange(400))
    assert fixed.aggregates.to_dict() == at_point.aggregates.to_dict()
    assert not any(k.startswith("param.design.") for k in fixed.runs)
    assert fixed.aggregates.to_dict() != calibrated.aggregates.to_dict()


def test_an_override_fixes_a_calibrated_parameter(doctrine):
    d = _with_sets(doctrine, [[0.5, 2.0], [0.9, 5.0]])
    res = run_model(d, make_scenario(d, overrides={"memory_decay": 0.8}), np.arange(200))
    assert "param.design.memory_decay" not in res.runs and "param.design.rationality" in res.runs
