"""Face-validity properties. Variants are compared with common random numbers: the same run indices, so the same
keyed draws, go through each variant. A property "never lowers P" passes unless the 95% Newcombe interval of the
difference lies wholly below zero (the interval treats the samples as independent, so with common random numbers it
is conservative: the test is not flaky); where the model must show a clear effect, the interval must lie wholly
above zero, so the test can fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.engine.model import simulate
from sim.engine.world import Context
from sim.output.statistics import newcombe_difference, wilson_interval
from sim.spec.distributions import Fixed
from sim.spec.loading import load_doctrine, load_scenario
from sim.spec.scenario import ScenarioSpec
from sim.spec.vocabulary import OUTCOME_IDS

ROOT = Path(__file__).resolve().parents[2]
RUNS = 3000
IDX = {oid: i for i, oid in enumerate(OUTCOME_IDS)}
ESCALATION = ("nuclear_signalling", "heavier_strikes_on_ukraine", "hybrid_attack_on_nato", "airspace_incident",
              "strike_on_nato_forces_in_ukraine", "strike_on_nato_territory", "nato_russia_war", "nuclear_use")


@pytest.fixture(scope="module")
def doctrine():
    return load_doctrine()


def scenario(doctrine, **fields) -> ScenarioSpec:
    base = {"name": "property", "title": "Property test", "question": "Does the lever move the outcome the right way?",
            "horizon_weeks": 52, "seed": 7,
            "timeline": [{"week": 0, "actor": "france", "move": "troop_talk"},
                         {"week": 6, "actor": "us", "move": "arms_delivery"}]}
    base.update(fields)
    return ScenarioSpec.model_validate(base, context={"doctrine": doctrine})


def run(doctrine, spec: ScenarioSpec, runs: int = RUNS):
    lev = spec.levers()[0]
    return simulate(Context.build(doctrine, spec, lev), np.arange(runs), lev.name)


def count(result, outcome: str) -> int:
    return int(result.aggregates.outcome_counts[IDX[outcome]])


def reached(result, rung: int) -> int:
    return int(result.aggregates.max_rung_hist[rung:].sum())


def assert_not_lower(k_more: int, k_less: int, n: int, what: str) -> None:
    d, lo, hi = newcombe_difference(k_more, n, k_less, n)
    assert hi >= 0, f"{what}: {k_more}/{n} vs {k_less}/{n}, difference {d:+.4f}, 95% CI [{lo:+.4f}, {hi:+.4f}]"


def assert_higher(k_more: int, k_less: int, n: int, what: str) -> None:
    d, lo, hi = newcombe_difference(k_more, n, k_less, n)
    assert lo > 0, f"{what}: {k_more}/{n} vs {k_less}/{n}, difference {d:+.4f}, 95% CI [{lo:+.4f}, {hi:+.4f}]"


def deployment(type_: str, location: str, size: int = 2000, contributors=("france", "poland", "estonia")) -> dict:
    return {"id": "dep", "contributors": list(contributors), "type": type_, "size": size, "location": location,
            "start_week": 4}


# ------------------------------------------------------------------ more provocative or exposed deployments
EXPOSURE_PAIRS = [
    # (less, more, must the effect be clear?)
    (deployment("non_combat", "western"), deployment("non_combat", "frontline"), True),
    (deployment("non_combat", "western"), deployment("non_combat", "central"), False),
    (deployment("non_combat", "central"), deployment("combat", "central"), True),
    (deployment("training_inside", "western"), deployment("air_defence", "western"), False),
    (deployment("non_combat", "western", size=500), deployment("non_combat", "western", size=10000), False),
    (deployment("combat", "central", size=5000), deployment("combat", "frontline", size=5000), False),
    (deployment("reassurance", "western", size=10000), deployment("reassurance", "central", size=10000), False),
]


@pytest.mark.parametrize("less,more,clear", EXPOSURE_PAIRS,
                         ids=[f"{a['type']}-{a['location']}-{a['size']}_vs_{b['type']}-{b['location']}-{b['size']}"
                              for a, b, _ in EXPOSURE_PAIRS])
def test_more_exposed_deployment_never_lowers_strikes_on_forces(doctrine, less, more, clear):
    k_less = count(run(doctrine, scenario(doctrine, deployments=[less])), "strike_on_nato_forces_in_ukraine")
    k_more = count(run(doctrine, scenario(doctrine, deployments=[more])), "strike_on_nato_forces_in_ukraine")
    assert_not_lower(k_more, k_less, RUNS, "P(strike_on_nato_forces_in_ukraine)")
    if clear:
        assert_higher(k_more, k_less, RUNS, "P(strike_on_nato_forces_in_ukraine)")


def test_a_deployment_inside_ukraine_never_lowers_escalation(doctrine):
    none = run(doctrine, scenario(doctrine))
    some = run(doctrine, scenario(doctrine, deployments=[deployment("non_combat", "western")]))
    for oid in ESCALATION:
        assert_not_lower(count(some, oid), count(none, oid), RUNS, f"P({oid})")
    assert_higher(count(some, "hybrid_attack_on_nato"), count(none, "hybrid_attack_on_nato"), RUNS, "P(hybrid)")


# ------------------------------------------------------------------ Russian resolve
def with_resolve(spec: ScenarioSpec, value: float) -> ScenarioSpec:
    fixed = Fixed(dist="fixed", value=value, source="property test", rationale="resolve held fixed")
    return spec.model_copy(update={"uncertainties": {**spec.uncertainties, "russia.resolve": fixed}})


@pytest.mark.parametrize("name", ["limited_deployment", "long_range_strikes", "air_defence_western_ukraine"])
def test_higher_russian_resolve_never_lowers_escalation(doctrine, name):
    spec = load_scenario(ROOT / "scenarios" / f"{name}.yaml", doctrine)
    low = run(doctrine, with_resolve(spec, 0.6))
    high = run(doctrine, with_resolve(spec, 0.9))
    for oid in ESCALATION:
        assert_not_lower(count(high, oid), count(low, oid), RUNS, f"{name}: P({oid})")
    for rung in range(2, 16):
        assert_not_lower(reached(high, rung), reached(low, rung), RUNS, f"{name}: P(reach rung {rung})")
    assert_higher(count(high, "hybrid_attack_on_nato"), count(low, "hybrid_attack_on_nato"), RUNS, f"{name}: P(hybrid)")


def test_higher_resolve_never_lowers_the_rung_reached_under_combat_troops(doctrine):
    """With combat troops at the front, higher resolve pushes runs past the lower rungs (war replaces sabotage), so
    the property holds for the rung reached, not for each lower outcome taken alone (docs/model.md, limits)."""
    spec = load_scenario(ROOT / "scenarios" / "full_military_involvement.yaml", doctrine)
    low = run(doctrine, with_resolve(spec, 0.6))
    high = run(doctrine, with_resolve(spec, 0.9))
    for rung in range(2, 16):
        assert_not_lower(reached(high, rung), reached(low, rung), RUNS, f"P(reach rung {rung})")
    for oid in ("strike_on_nato_territory", "nato_russia_war", "nuclear_use"):
        assert_not_lower(count(high, oid), count(low, oid), RUNS, f"P({oid})")


# ------------------------------------------------------------------ mediation
@pytest.mark.parametrize("fewer,more", [([], ["china", "turkey"]), ([], ["turkey"]), (["turkey"], ["china", "turkey"]),
                                        (["china"], ["china", "turkey"])])
def test_adding_a_mediator_never_lowers_ceasefire(doctrine, fewer, more):
    a = run(doctrine, scenario(doctrine, mediators=fewer))
    b = run(doctrine, scenario(doctrine, mediators=more))
    assert_not_lower(count(b, "ceasefire"), count(a, "ceasefire"), RUNS, f"P(ceasefire) {fewer} -> {more}")
    assert_not_lower(count(b, "partial_deal"), count(a, "partial_deal"), RUNS, f"P(partial_deal) {fewer} -> {more}")
    if not fewer:
        assert_higher(count(b, "ceasefire"), count(a, "ceasefire"), RUNS, "P(ceasefire) with mediators")


def test_mediation_gives_deals_far_more_often_than_ceasefires(doctrine):
    r = run(doctrine, scenario(doctrine, mediators=["china", "turkey"]))
    assert count(r, "partial_deal") > 3 * count(r, "ceasefire")


# ------------------------------------------------------------------ no provocation at all
def test_no_provocation_stays_on_the_bottom_rungs(doctrine):
    """No deployments, no moves, no deep strikes, no Ukrainian strikes on strategic assets: the headline path stays
    at or below rung 7 (incidents) in more than 95% of runs, and nothing from rung 9 up happens."""
    spec = scenario(doctrine, timeline=[], deployments=[], overrides={"strategic_strike_rate": 0.0})
    r = run(doctrine, spec, runs=4000)
    low_runs = int(r.aggregates.max_rung_hist[:8].sum())
    lo, _ = wilson_interval(low_runs, 4000)
    assert lo > 0.95, f"{low_runs}/4000 runs stay at or below rung 7"
    assert int(r.aggregates.max_rung_hist[9:].sum()) == 0
    for oid in ("strike_on_nato_territory", "nato_russia_war", "nuclear_use", "strike_on_nato_forces_in_ukraine"):
        assert count(r, oid) == 0, oid
    _, hi = wilson_interval(count(r, "nuclear_signalling"), 4000)
    assert hi < 0.5


def test_no_provocation_with_default_ukrainian_behaviour(doctrine):
    """With Ukraine's rare strikes on strategic assets left on (the default), the path still stays low."""
    r = run(doctrine, scenario(doctrine, timeline=[], deployments=[]), runs=4000)
    lo, _ = wilson_interval(int(r.aggregates.max_rung_hist[:8].sum()), 4000)
    assert lo > 0.95


# ------------------------------------------------------------------ common random numbers
def test_a_run_replays_alone(doctrine):
    """A run gives the same path whatever other runs are stepped beside it."""
    spec = scenario(doctrine, deployments=[deployment("non_combat", "western")])
    lev = spec.levers()[0]
    ctx = Context.build(doctrine, spec, lev)
    whole = simulate(ctx, np.arange(200), lev.name)
    part = simulate(ctx, np.arange(50, 80), lev.name)
    assert np.array_equal(whole.headline[50:80], part.headline)


# ------------------------------------------------------------------ deep strikes
@pytest.mark.parametrize("fewer,more", [(["uk", "france"], ["us", "uk", "france"]),
                                        (["us", "uk", "france"], ["us", "uk", "france", "germany"])])
def test_more_suppliers_never_lower_escalation(doctrine, fewer, more):
    """Each supplier that allows deep strikes adds its missiles, so Ukraine strikes deep more often."""
    def spec(suppliers):
        return scenario(doctrine, policies={"deep_strike": {"authorised": True, "from_week": 4, "suppliers": suppliers}})
    a, b = run(doctrine, spec(fewer)), run(doctrine, spec(more))
    for oid in ESCALATION:
        assert_not_lower(count(b, oid), count(a, oid), RUNS, f"P({oid}) {fewer} -> {more}")
    assert_higher(count(b, "hybrid_attack_on_nato"), count(a, "hybrid_attack_on_nato"), RUNS, "P(hybrid)")


def test_deep_strike_authorisation_never_lowers_escalation(doctrine):
    off = run(doctrine, scenario(doctrine))
    on = run(doctrine, scenario(doctrine, policies={"deep_strike": {"authorised": True, "from_week": 4,
                                                                   "suppliers": ["us", "uk"]}}))
    for oid in ESCALATION:
        assert_not_lower(count(on, oid), count(off, oid), RUNS, f"P({oid})")
    assert_higher(count(on, "nuclear_signalling"), count(off, "nuclear_signalling"), RUNS, "P(nuclear_signalling)")


def test_variants_share_their_draws(doctrine):
    """Two variants that differ only by a deployment starting in week 30 have identical paths before week 30."""
    quiet = scenario(doctrine)
    late = scenario(doctrine, deployments=[{**deployment("non_combat", "western"), "start_week": 30}])
    a, b = run(doctrine, quiet, runs=500), run(doctrine, late, runs=500)
    assert np.array_equal(a.headline[:, :30], b.headline[:, :30])
    assert np.array_equal(a.ukraine[:, :30], b.ukraine[:, :30])
    assert not np.array_equal(a.headline[:, 30:], b.headline[:, 30:])
