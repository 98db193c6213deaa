"""The model's mechanisms, each tested by what it must do (docs/model.md section 4), with paired differences where
two runs of the same scenario share their random numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.engine.model import EscalationModel, simulate
from sim.engine.world import Context
from sim.output.comparison import paired_difference
from sim.output.statistics import newcombe_difference
from sim.spec.loading import load_doctrine, load_scenario, with_overrides
from sim.spec.vocabulary import OUTCOME_IDS

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="module")
def doctrine():
    return load_doctrine()


def run(doctrine, name: str, n: int, *, seed: int = 11, events: bool = False, **overrides):
    spec = with_overrides(load_scenario(SCENARIOS / f"{name}.yaml", doctrine), doctrine, seed=seed, **overrides)
    levers = spec.levers()[0]
    return simulate(Context.build(doctrine, spec, levers), np.arange(n), levers.name, record_events=events)


def happened(result, outcome: str) -> np.ndarray:
    return result.runs["first_week." + outcome] >= 0


def paired(a, b, outcome: str) -> tuple[float, float, float]:
    """P(outcome | a) - P(outcome | b) with its paired 95% interval (same run indices, same random numbers)."""
    x, y = happened(a, outcome), happened(b, outcome)
    return paired_difference(int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum()), int((~x & ~y).sum()))


def test_a_nuclear_demonstration_alone_is_not_war(doctrine):
    spec = load_scenario(SCENARIOS / "continued_proxy_support.yaml", doctrine)
    model = EscalationModel(Context.build(doctrine, spec, spec.levers()[0]), np.arange(8))
    w = model.world
    w.begin_week(0)
    demo = doctrine.responses[[r.id for r in doctrine.responses].index("nuclear_demonstration")]
    w.act("russia", "nato", "nuclear_demonstration", demo.rung, np.ones(8, dtype=bool))
    w.end_week()
    first = w.outcomes.first
    assert (w.headline == demo.rung).all()
    assert (first[:, OUTCOME_IDS.index("nato_russia_war")] == -1).all()
    assert (first[:, OUTCOME_IDS.index("nuclear_signalling")] == 0).all()


def test_war_is_the_state_of_war(doctrine):
    """Every run counted as a NATO-Russia war went to general war: the act that starts it is in its events."""
    res = run(doctrine, "full_military_involvement", 1500, events=True)
    war = np.flatnonzero(happened(res, "nato_russia_war"))
    assert len(war) > 0
    ev = res.events
    started = {int(r) for r, a in zip(ev["run"], ev["action"], strict=False) if a == "general_war"}
    assert set(res.runs["run"][war].tolist()) <= started


@pytest.mark.parametrize("scenario", ["full_military_involvement", "air_defence_western_ukraine", "backtest_2022_2024"])
def test_airspace_incidents_fall_on_frontline_states(doctrine, scenario):
    res = run(doctrine, scenario, 800, events=True)
    frontline = {g.member for g in doctrine.geography if g.borders}
    events = zip(res.events["target"], res.events["action"], strict=True)
    targets = [t for t, a in events if a in ("airspace_violation", "spillover")]
    assert len(targets) > 20
    assert sum(t in frontline for t in targets) / len(targets) >= 0.9


def test_talks_of_a_negotiated_pause_bring_more_ceasefires(doctrine):
    pause = run(doctrine, "negotiated_pause", 3000)
    proxy = run(doctrine, "continued_proxy_support", 3000)
    d, lo, hi = paired(pause, proxy, "ceasefire")
    assert lo > 0, (d, lo, hi)


def test_ceasefire_proposals_and_restraint_change_the_world(doctrine):
    """No inert move kind: a proposal raises ceasefires, restraint lowers Russia's tension."""
    base = {"timeline": [{"week": 0, "actor": "us", "move": "arms_delivery"}]}
    spec = with_overrides(load_scenario(SCENARIOS / "continued_proxy_support.yaml", doctrine), doctrine, seed=3,
                          variants=[])
    with_moves = {
        name: with_overrides(spec, doctrine, timeline=base["timeline"] + [{"week": 1, "actor": "us", "move": name}])
        for name in ("ceasefire_proposal", "restraint")
    }
    plain = with_overrides(spec, doctrine, timeline=base["timeline"])

    def model_after(sp, weeks):
        m = EscalationModel(Context.build(doctrine, sp, sp.levers()[0]), np.arange(2000))
        for _ in range(weeks):
            m.step()
        return m

    assert model_after(with_moves["restraint"], 2).world.tension.mean() < model_after(plain, 2).world.tension.mean()
    proposal = with_moves["ceasefire_proposal"]
    a = simulate(Context.build(doctrine, proposal, proposal.levers()[0]), np.arange(4000), "p")
    b = simulate(Context.build(doctrine, plain, plain.levers()[0]), np.arange(4000), "q")
    d, lo, _ = paired(a, b, "ceasefire")
    assert lo > 0, d


@pytest.mark.parametrize("actor,attribute,scenario,outcome,direction", [
    ("iran", "capability", "backtest_2022_2024", "airspace_incident", +1),
    ("belarus", "capability", "backtest_2022_2024", "airspace_incident", +1),
    ("india", "leverage", "continued_proxy_support", "ceasefire", +1),
    ("china", "leverage", "continued_proxy_support", "partial_deal", +1),
])
def test_third_countries_move_outcomes(doctrine, actor, attribute, scenario, outcome, direction):
    """Switching a third country's effect off (its attribute fixed at 0) moves an outcome beyond the noise."""
    on = run(doctrine, scenario, 3000)
    off = run(doctrine, scenario, 3000,
              uncertainties={f"{actor}.{attribute}": {"dist": "fixed", "value": 0.0,
                                                       "source": "test: switched off"}})
    d, lo, hi = paired(on, off, outcome)
    assert (lo > 0) if direction > 0 else (hi < 0), (actor, outcome, d, lo, hi)


def test_north_korean_troops_shorten_the_threat_to_russian_territory(doctrine):
    spec = with_overrides(load_scenario(SCENARIOS / "backtest_2022_2024.yaml", doctrine), doctrine, seed=5)
    off = with_overrides(spec, doctrine, uncertainties={
        "north_korea.capability": {"dist": "fixed", "value": 0.0, "source": "test: switched off"}})

    def threat_weeks(sp):
        m = EscalationModel(Context.build(doctrine, sp, sp.levers()[0]), np.arange(500))
        total = 0.0
        for _ in range(sp.horizon_weeks):
            m.step()
            total += float((m.world.territorial_threat >= 0.5).mean())
        return total

    assert threat_weeks(spec) < threat_weeks(off)


def test_nato_nuclear_answer_is_one_decision_per_crisis(doctrine):
    """However many Russian nuclear acts a run holds, NATO answers in kind at most once."""
    res = run(doctrine, "full_military_involvement", 3000, events=True,
              overrides={"nato_nuclear_response_rate": 1.0})
    ev = res.events
    answers: dict[int, int] = {}
    for r, a in zip(ev["run"], ev["action"], strict=False):
        if a == "nato_nuclear_response":
            answers[int(r)] = answers.get(int(r), 0) + 1
    assert all(n == 1 for n in answers.values())


def test_the_backtest_has_the_rhythm_of_the_record(doctrine):
    """Nuclear signalling in the first weeks; massed strikes on the grid in many weeks from October 2022 (week 33);
    hybrid attacks on Europe rising into 2024 (week 96 on)."""
    res = run(doctrine, "backtest_2022_2024", 1500, seed=20220224, events=True)
    first_signal = res.runs["first_week.nuclear_signalling"]
    assert np.median(first_signal[first_signal >= 0]) <= 4
    ev = res.events
    weeks = np.asarray(ev["week"])
    actions = np.asarray(ev["action"])
    runs = np.asarray(ev["run"])
    strikes = (actions == "massed_strikes") & (weeks >= 33)
    strike_weeks = len(set(zip(runs[strikes].tolist(), weeks[strikes].tolist(), strict=False)))
    assert strike_weeks / (1500 * (149 - 33)) > 0.25
    hybrid = weeks[actions == "hybrid_attack"]
    assert (hybrid >= 96).sum() > (hybrid < 96).sum()


def _variant(doctrine, name: str, variant: str, n: int, seed: int = 11, **overrides):
    spec = with_overrides(load_scenario(SCENARIOS / f"{name}.yaml", doctrine), doctrine, seed=seed, **overrides)
    levers = next(lv for lv in spec.levers() if lv.name == variant)
    return simulate(Context.build(doctrine, spec, levers), np.arange(n), levers.name)


def test_air_defence_from_nato_soil_meets_russian_strikes(doctrine):
    """Air defence over western Ukraine from NATO territory engages Russian missiles and drones: more airspace
    incidents and more Article 4 requests than with no deployment, on the same random numbers."""
    outside = _variant(doctrine, "air_defence_western_ukraine", "from_nato_territory", 3000)
    none = _variant(doctrine, "air_defence_western_ukraine", "no_deployment", 3000)
    for outcome in ("airspace_incident", "article4_consultation"):
        d, lo, hi = paired(outside, none, outcome)
        assert lo > 0, (outcome, d, lo, hi)


def test_article5_is_a_vote_that_can_split(doctrine):
    """After a strike on member territory Article 5 is not automatic, and a less cohesive alliance invokes it less."""
    def cohesion(value):
        return {"nato.cohesion": {"dist": "fixed", "value": value, "source": "test"}}

    high = run(doctrine, "full_military_involvement", 3000, uncertainties=cohesion(0.95))
    low = run(doctrine, "full_military_involvement", 3000, uncertainties=cohesion(0.6))
    struck = happened(low, "strike_on_nato_territory")
    assert struck.sum() > 50
    assert happened(low, "article5_invoked")[struck].mean() < 0.97
    # cohesion also deters the strike itself, so compare the vote among the runs that were struck
    hit = happened(high, "strike_on_nato_territory")
    k_high, n_high = int(happened(high, "article5_invoked")[hit].sum()), int(hit.sum())
    k_low, n_low = int(happened(low, "article5_invoked")[struck].sum()), int(struck.sum())
    d, lo, hi = newcombe_difference(k_high, n_high, k_low, n_low)
    assert lo > 0, (d, lo, hi)


def test_russia_answers_nato_nuclear_use_by_its_doctrine(doctrine):
    """NATO nuclear use crosses the doctrine's plainest condition: Russia answers with a strategic strike in most
    runs where NATO used nuclear weapons (credibility 0.6-0.95)."""
    res = run(doctrine, "full_military_involvement", 6000, events=True, overrides={"nato_nuclear_response_rate": 1.0})
    ev = res.events
    nato_nuclear = {int(r) for r, a in zip(ev["run"], ev["action"], strict=True) if a == "nato_nuclear_response"}
    assert len(nato_nuclear) >= 10
    answered = {int(r) for r, a in zip(ev["run"], ev["action"], strict=True) if a == "strategic_nuclear_strike"}
    assert len(nato_nuclear & answered) / len(nato_nuclear) > 0.5
