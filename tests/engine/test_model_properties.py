"""Face-validity properties, compared on paired runs. Variants share their random numbers (common random numbers:
the same run indices, so the same keyed draws, go through each variant), so run k of two variants differs only by
the lever. Each property is judged on the paired difference of the two arms, more provocative minus less, with the
95% interval for paired proportions that ``escalation compare`` reports (Newcombe's method 10,
:func:`sim.output.comparison.paired_difference`), computed from each run's first weeks as ``compare`` does:

- "never lowers": the interval's lower bound lies above -TOLERANCE (half a percentage point). This is a claim the
  data must support (the decrease, if any, is smaller than the tolerance), not merely the absence of evidence
  against it, and it is tight enough at 1,000 runs because paired runs mostly agree;
- "raises": where the model must show a clear effect, the lower bound lies above zero.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import ROOT

from sim.engine.model import ChunkResult, simulate
from sim.engine.world import Context
from sim.output.comparison import indicators_from_runs, paired_difference
from sim.output.statistics import wilson_interval
from sim.spec.distributions import Fixed
from sim.spec.loading import load_scenario
from sim.spec.scenario import ScenarioSpec
from sim.spec.vocabulary import OUTCOME_IDS

RUNS = 1000
TOLERANCE = 0.005
ESCALATION = ("nuclear_signalling", "heavier_strikes_on_ukraine", "hybrid_attack_on_nato", "airspace_incident",
              "strike_on_nato_forces_in_ukraine", "strike_on_nato_territory", "nato_russia_war", "nuclear_use")
RUNGS = tuple(range(2, 16))


def scenario(doctrine, **fields) -> ScenarioSpec:
    base = {"name": "property", "title": "Property test", "question": "Does the lever move the outcome the right way?",
            "horizon_weeks": 52, "seed": 7,
            "timeline": [{"week": 0, "actor": "france", "move": "troop_talk"},
                         {"week": 6, "actor": "us", "move": "arms_delivery"}]}
    base.update(fields)
    return ScenarioSpec.model_validate(base, context={"doctrine": doctrine})


def run(doctrine, spec: ScenarioSpec, runs: int = RUNS) -> ChunkResult:
    lev = spec.levers()[0]
    return simulate(Context.build(doctrine, spec, lev), np.arange(runs), lev.name)


def count(result: ChunkResult, outcome: str) -> int:
    return int(result.aggregates.outcome_counts[OUTCOME_IDS.index(outcome)])


def happened(result: ChunkResult, what: str | int) -> np.ndarray:
    """Per run, whether the outcome happened (a name) or the headline reached the rung (a number)."""
    if isinstance(what, int):
        return result.runs["max_rung"] >= what
    _, ind = indicators_from_runs(result.runs)
    return ind[:, OUTCOME_IDS.index(what)]


def paired(more: ChunkResult, less: ChunkResult, what: str | int) -> tuple[float, float, float]:
    """The paired difference P(more) - P(less) of ``what`` over the same runs, with its 95% interval."""
    assert np.array_equal(more.run_ids, less.run_ids), "the arms must hold the same runs"
    a, b = happened(more, what), happened(less, what)
    return paired_difference(int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum()), int((~a & ~b).sum()))


def _message(what: str | int, d: float, lo: float, hi: float, label: str) -> str:
    name = f"P(reach rung {what})" if isinstance(what, int) else f"P({what})"
    return f"{label}: {name} difference {d:+.4f}, paired 95% CI [{lo:+.4f}, {hi:+.4f}]"


def assert_not_lower(more: ChunkResult, less: ChunkResult, what: str | int, label: str = "") -> None:
    d, lo, hi = paired(more, less, what)
    assert lo > -TOLERANCE, _message(what, d, lo, hi, label)


def assert_higher(more: ChunkResult, less: ChunkResult, what: str | int, label: str = "") -> None:
    d, lo, hi = paired(more, less, what)
    assert lo > 0, _message(what, d, lo, hi, label)


def deployment(type_: str, location: str, size: int = 2000, contributors=("france", "poland", "estonia")) -> dict:
    return {"id": "dep", "contributors": list(contributors), "type": type_, "size": size, "location": location,
            "start_week": 4}


# ------------------------------------------------------------------ more provocative or exposed deployments
EXPOSURE_PAIRS = [
    # (less, more, must the effect be clear?)
    (deployment("non_combat", "western"), deployment("non_combat", "frontline"), True),
    (deployment("non_combat", "western"), deployment("non_combat", "central"), False),
    (deployment("non_combat", "central"), deployment("combat", "central"), True),
    (deployment("training_inside", "western"), deployment("air_defence", "western"), True),
    (deployment("non_combat", "western", size=500), deployment("non_combat", "western", size=10000), True),
    # combat troops fight Russian forces at both locations: both arms are struck in almost every run
    (deployment("combat", "central", size=5000), deployment("combat", "frontline", size=5000), False),
    (deployment("reassurance", "western", size=10000), deployment("reassurance", "central", size=10000), True),
]


@pytest.mark.parametrize("less,more,clear", EXPOSURE_PAIRS,
                         ids=[f"{a['type']}-{a['location']}-{a['size']}_vs_{b['type']}-{b['location']}-{b['size']}"
                              for a, b, _ in EXPOSURE_PAIRS])
def test_more_exposed_deployment_never_lowers_strikes_on_forces(doctrine, less, more, clear):
    low = run(doctrine, scenario(doctrine, deployments=[less]))
    high = run(doctrine, scenario(doctrine, deployments=[more]))
    check = assert_higher if clear else assert_not_lower
    check(high, low, "strike_on_nato_forces_in_ukraine")


def test_a_deployment_inside_ukraine_never_lowers_escalation(doctrine):
    none = run(doctrine, scenario(doctrine))
    some = run(doctrine, scenario(doctrine, deployments=[deployment("non_combat", "western")]))
    for oid in ESCALATION:
        assert_not_lower(some, none, oid)
    for oid in ("nuclear_signalling", "heavier_strikes_on_ukraine", "hybrid_attack_on_nato"):
        assert_higher(some, none, oid)


# ------------------------------------------------------------------ Russian resolve
def with_resolve(spec: ScenarioSpec, value: float) -> ScenarioSpec:
    fixed = Fixed(dist="fixed", value=value, source="property test", rationale="resolve held fixed")
    return spec.model_copy(update={"uncertainties": {**spec.uncertainties, "russia.resolve": fixed}})


@pytest.mark.parametrize("name", ["limited_deployment", "long_range_strikes", "air_defence_western_ukraine"])
def test_higher_russian_resolve_never_lowers_escalation(doctrine, name):
    spec = load_scenario(ROOT / "scenarios" / f"{name}.yaml", doctrine)
    # 2,000 runs: strikes on NATO forces (about 6% under limited_deployment) come from red lines and accidents that
    # resolve does not move, so the two arms differ only by noise that must stay within the tolerance
    low = run(doctrine, with_resolve(spec, 0.6), runs=2 * RUNS)
    high = run(doctrine, with_resolve(spec, 0.9), runs=2 * RUNS)
    for what in ESCALATION + RUNGS:
        assert_not_lower(high, low, what, name)
    for oid in ("nuclear_signalling", "heavier_strikes_on_ukraine", "hybrid_attack_on_nato", "airspace_incident"):
        assert_higher(high, low, oid, name)


def test_higher_resolve_never_lowers_the_rung_reached_under_combat_troops(doctrine):
    """With combat troops at the front, higher resolve pushes runs past the lower rungs (war replaces sabotage), so
    the property holds for the rung reached, not for each lower outcome taken alone (docs/model.md, limits)."""
    spec = load_scenario(ROOT / "scenarios" / "full_military_involvement.yaml", doctrine)
    low = run(doctrine, with_resolve(spec, 0.6))
    high = run(doctrine, with_resolve(spec, 0.9))
    for rung in RUNGS:
        assert_not_lower(high, low, rung)
    for oid in ("strike_on_nato_territory", "nato_russia_war", "nuclear_use"):
        assert_not_lower(high, low, oid)
    # the threshold steps come from red lines, whose credibility resolve does not change; what resolve raises is the
    # proportionate answer (docs/model.md 4.2-4.5)
    assert_higher(high, low, "nuclear_signalling")


# ------------------------------------------------------------------ mediation
@pytest.mark.parametrize("fewer,more", [([], ["china", "turkey"]), ([], ["turkey"]), (["turkey"], ["china", "turkey"]),
                                        (["china"], ["china", "turkey"])])
def test_adding_a_mediator_raises_ceasefires_and_deals(doctrine, fewer, more):
    """Each mediator adds its own attempts, so both kinds of agreement come more often."""
    a = run(doctrine, scenario(doctrine, mediators=fewer))
    b = run(doctrine, scenario(doctrine, mediators=more))
    for oid in ("ceasefire", "partial_deal"):
        assert_higher(b, a, oid, f"{fewer} -> {more}")


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


# ------------------------------------------------------------------ deep strikes
@pytest.mark.parametrize("fewer,more", [(["uk", "france"], ["us", "uk", "france"]),
                                        (["us", "uk", "france"], ["us", "uk", "france", "germany"])])
def test_more_suppliers_never_lower_escalation(doctrine, fewer, more):
    """Each supplier that allows deep strikes adds its missiles, so Ukraine strikes deep more often."""
    def spec(suppliers):
        return scenario(doctrine,
                        policies={"deep_strike": {"authorised": True, "from_week": 4, "suppliers": suppliers}})
    a, b = run(doctrine, spec(fewer)), run(doctrine, spec(more))
    for oid in ESCALATION:
        assert_not_lower(b, a, oid, f"{fewer} -> {more}")
    # more deep strikes provoke more: Russia signals and answers in Europe more often (its strikes on Ukraine
    # already come as a campaign in most runs, so they are not asked to rise)
    for oid in ("nuclear_signalling", "hybrid_attack_on_nato"):
        assert_higher(b, a, oid, f"{fewer} -> {more}")


def test_deep_strike_authorisation_never_lowers_escalation(doctrine):
    off = run(doctrine, scenario(doctrine))
    on = run(doctrine, scenario(doctrine, policies={"deep_strike": {"authorised": True, "from_week": 4,
                                                                   "suppliers": ["us", "uk"]}}))
    for oid in ESCALATION:
        assert_not_lower(on, off, oid)
    for oid in ("nuclear_signalling", "heavier_strikes_on_ukraine", "hybrid_attack_on_nato"):
        assert_higher(on, off, oid)


def test_the_paired_check_is_tighter_than_independent_intervals_and_can_fail(doctrine):
    """The comparison the properties rest on: on the same pair of arms the paired interval is never wider than
    Newcombe's for independent samples, and clearly narrower where the arms share events (nuclear signalling comes
    in most runs either way); the reversed claim fails."""
    from sim.output.statistics import newcombe_difference

    off = run(doctrine, scenario(doctrine))
    on = run(doctrine, scenario(doctrine, policies={"deep_strike": {"authorised": True, "from_week": 4,
                                                                   "suppliers": ["us", "uk"]}}))
    width = {}
    for oid in ESCALATION:
        _, plo, phi = paired(on, off, oid)
        _, nlo, nhi = newcombe_difference(count(on, oid), RUNS, count(off, oid), RUNS)
        assert phi - plo <= nhi - nlo + 1e-12, oid
        width[oid] = (phi - plo) / (nhi - nlo)
    assert width["nuclear_signalling"] < 0.8
    with pytest.raises(AssertionError, match="paired 95% CI"):
        assert_not_lower(off, on, "nuclear_signalling", "reversed")
