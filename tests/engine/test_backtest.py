"""The historical back-test: given the 2022-2024 record's Western and Ukrainian steps, the model must reproduce what
followed (DOMAIN.md 3.1). Each tolerance is checked on the 95% Wilson interval of its outcome, so a pass is not luck
of the draw and a miss is a real miss. Tolerances and their reasons: docs/model.md, section "Back-test"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.engine.model import simulate
from sim.engine.world import Context
from sim.output.statistics import wilson_interval
from sim.spec.loading import load_scenario
from sim.spec.scenario import ScenarioSpec
from sim.spec.vocabulary import OUTCOME_IDS

ROOT = Path(__file__).resolve().parents[2]
RUNS = 4000

#: outcome -> (bound, value): "below" means the upper CI bound must stay below value, "above" the lower bound above.
TOLERANCES: dict[str, tuple[str, float]] = {
    "strike_on_nato_territory": ("below", 0.10),
    "nuclear_use": ("below", 0.02),
    "strategic_nuclear_war": ("below", 0.01),
    "nato_russia_war": ("below", 0.05),
    "article5_invoked": ("below", 0.05),
    "strike_on_nato_forces_in_ukraine": ("below", 0.01),
    "ceasefire": ("below", 0.30),
    "nuclear_signalling": ("above", 0.70),
    "heavier_strikes_on_ukraine": ("above", 0.70),
    "hybrid_attack_on_nato": ("above", 0.30),
    "partial_deal": ("above", 0.50),
}


@pytest.fixture(scope="module")
def backtest(doctrine):
    spec = load_scenario(ROOT / "scenarios" / "backtest_2022_2024.yaml", doctrine)
    lev = spec.levers()[0]
    result = simulate(Context.build(doctrine, spec, lev), np.arange(RUNS), lev.name)
    return spec, result


def _counts(result) -> dict[str, int]:
    return {oid: int(result.aggregates.outcome_counts[i]) for i, oid in enumerate(OUTCOME_IDS)}


def test_backtest_covers_the_record(backtest):
    spec, _ = backtest
    assert spec.start_date is not None and spec.start_date.isoformat() == "2022-02-24"
    assert spec.horizon_weeks >= 148, "the back-test runs to the end of 2024"
    assert spec.deployments == [], "no Western troops were deployed in Ukraine 2022-2024"
    moves = {m.move for m in spec.timeline}
    for kind in ("sanctions", "new_weapon_class", "nuclear_component", "enlargement", "counteroffensive",
                 "bridge_strike", "troop_talk", "strike_permission", "incursion", "transit_restriction"):
        assert kind in moves, f"the record's step '{kind}' is missing from the back-test"
    ds = spec.policies.deep_strike
    assert ds.authorised and ds.from_week == 142, "ATACMS into Russia were permitted in the week of 17 Nov 2024"


@pytest.mark.parametrize("outcome", sorted(TOLERANCES))
def test_backtest_tolerance(backtest, outcome):
    _, result = backtest
    k = _counts(result)[outcome]
    lo, hi = wilson_interval(k, RUNS)
    side, value = TOLERANCES[outcome]
    if side == "below":
        assert hi < value, f"{outcome}: {k}/{RUNS}, 95% CI [{lo:.3f}, {hi:.3f}], upper bound must stay below {value}"
    else:
        assert lo > value, f"{outcome}: {k}/{RUNS}, 95% CI [{lo:.3f}, {hi:.3f}], lower bound must exceed {value}"


def test_backtest_headline_stays_below_rung_9(backtest):
    """The record's highest Russian rung toward NATO was 7 (MQ-9); rung 9 was approached once (Yavoriv)."""
    _, result = backtest
    reached_9 = int(result.aggregates.max_rung_hist[9:].sum())
    _, hi = wilson_interval(reached_9, RUNS)
    assert hi < 0.05, f"{reached_9}/{RUNS} runs reach rung 9 or above toward NATO"


def test_quiet_year_is_not_always_signalled(doctrine):
    """With no Western step at all for 52 weeks, nuclear signalling must not come in nearly every run."""
    spec = ScenarioSpec.model_validate(
        {"name": "quiet_year", "title": "A quiet year", "question": "What happens without provocation?",
         "horizon_weeks": 52, "seed": 11},
        context={"doctrine": doctrine},
    )
    lev = spec.levers()[0]
    result = simulate(Context.build(doctrine, spec, lev), np.arange(RUNS), lev.name)
    k = _counts(result)["nuclear_signalling"]
    _, hi = wilson_interval(k, RUNS)
    assert hi < 0.5, f"nuclear signalling in {k}/{RUNS} quiet years"
