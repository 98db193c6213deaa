"""Red lines: each compiled condition crosses exactly when, in each run, the world gives it cause (a deployment
arriving, a listed move, last week's deep strike, strategic strike or NATO attack), and an enforced crossing makes
its declared response likelier."""

from __future__ import annotations

import numpy as np
import pytest
from support import make_scenario, run_model

from sim.engine.model import EscalationModel
from sim.engine.world import Context
from sim.output.comparison import indicators_from_runs, paired_difference
from sim.spec.distributions import Fixed
from sim.spec.vocabulary import OUTCOME_IDS

DEPLOY = {"id": "d", "contributors": ["france", "poland"], "type": "non_combat", "size": 3000, "location": "frontline",
          "start_week": 2}
TIMELINE = [{"week": 1, "actor": "us", "move": "new_weapon_class"}, {"week": 5, "actor": "uk", "move": "troop_talk"},
            {"week": 9, "actor": "us", "move": "arms_delivery"}]
RUNS = 300


def _run(doctrine, spec):
    model = EscalationModel(Context.build(doctrine, spec, spec.levers()[0]), np.arange(RUNS), record_events=True)
    model.run_model()
    return model.world.events(), model.world.red_line_log()


def _first_week(events, pick) -> dict[int, int]:
    """Per run, the first week of an event that ``pick(actor, action, rung)`` selects."""
    out: dict[int, int] = {}
    for run, week, actor, action, rung in zip(events["run"], events["week"], events["actor"], events["action"],
                                              events["rung"], strict=False):
        if pick(actor, action, int(rung)):
            out.setdefault(int(run), int(week))
    return out


def _expected(doctrine, spec, events) -> dict[str, dict[int, list[int]]]:
    """Per red line and run, the weeks it must be logged as crossed: a state condition on its first cause (once),
    a move condition in the week of every listed move."""
    horizon, runs = spec.horizon_weeks, range(RUNS)
    nato = {a.id for a in doctrine.actors if a.bloc.value == "nato"}
    after = {  # a cause seen in week w is read as last week's signal in week w + 1
        "deep_strike": _first_week(events, lambda a, act, r: act == "deep_strike"),
        "strategic_strike": _first_week(events, lambda a, act, r: act == "strategic_strike"),
        "nato_attack": _first_week(events, lambda a, act, r: a in nato and r >= 11),
        "at_war": _first_week(events, lambda a, act, r: act == "general_war"),
        "nato_nuclear_use": _first_week(events, lambda a, act, r: act == "nato_nuclear_response"),
    }
    out = {}
    for rl in doctrine.red_lines:
        cond = rl.condition
        if cond.kind == "deployment":
            hit = ((cond.types is None or DEPLOY["type"] in cond.types) and DEPLOY["size"] >= cond.min_size
                   and (cond.locations is None or DEPLOY["location"] in [loc.value for loc in cond.locations]))
            out[rl.id] = {r: [DEPLOY["start_week"]] if hit else [] for r in runs}
        elif cond.kind == "move":
            weeks = sorted({m["week"] for m in TIMELINE if m["move"] in cond.moves})
            out[rl.id] = {r: weeks for r in runs}
        elif cond.kind in after:
            first = after[cond.kind]
            out[rl.id] = {r: [first[r] + 1] if r in first and first[r] + 1 < horizon else [] for r in runs}
        elif cond.kind == "territorial_threat":
            assert cond.at_least > 0
            out[rl.id] = {r: [] for r in runs}  # no move of the timeline threatens territory
        else:
            raise AssertionError(f"red line {rl.id}: no expectation for a '{cond.kind}' condition; add one")
    return out


def test_each_line_crosses_exactly_when_the_world_gives_it_cause(doctrine):
    spec = make_scenario(doctrine, deployments=[DEPLOY], timeline=TIMELINE,
                         policies={"deep_strike": {"authorised": True, "from_week": 3, "suppliers": ["us"]}},
                         overrides={"strategic_strike_rate": 0.05})
    events, log = _run(doctrine, spec)
    expected = _expected(doctrine, spec, events)
    crossed: dict[str, dict[int, list[int]]] = {rl.id: {r: [] for r in range(RUNS)} for rl in doctrine.red_lines}
    for row in log:
        if row["event"] == "crossed":
            crossed[row["red_line"]][row["run"]].append(row["week"])
    for line, by_run in expected.items():
        assert crossed[line] == by_run, line
    causes = {line for line, by_run in expected.items() if any(by_run.values())}
    assert {"nato_troops_in_ukraine", "long_range_strikes", "strategic_assets", "troops_talk"} <= causes


def test_without_deployments_no_troops_line_crosses_and_no_forces_are_struck(doctrine):
    events, log = _run(doctrine, make_scenario(doctrine, timeline=TIMELINE))
    troops = {rl.id for rl in doctrine.red_lines if rl.condition.kind == "deployment"}
    assert not [row for row in log if row["red_line"] in troops]
    assert "strike_nato_forces_in_ukraine" not in events["action"]
    assert any(row["red_line"] == "troops_talk" for row in log), "the other lines are still checked"


def test_troops_lines_ignore_forces_outside_ukraine(doctrine):
    """Air defence on NATO soil is not 'NATO troops in Ukraine': those red lines never cross for it."""
    spec = make_scenario(doctrine, deployments=[{"id": "ad", "contributors": ["poland"], "type": "air_defence",
                                                 "size": 800, "location": "outside", "start_week": 1}])
    model = EscalationModel(Context.build(doctrine, spec, spec.levers()[0]), np.arange(50))
    lines = {r.spec.id: r for r in model.russia.red_lines}
    for _ in range(5):
        model.step()
    w = model.world
    assert w.dep_active.all()
    assert not lines["nato_troops_in_ukraine"].crossed(w).any()
    assert not lines["nato_crewed_air_defence"].crossed(w).any()


def _credibility(doctrine, line: str, value: float):
    fixed = Fixed(dist="fixed", value=value, source="red-line test", rationale="credibility held fixed")
    return doctrine.model_copy(update={"red_lines": [rl.model_copy(update={"credibility": fixed}) if rl.id == line
                                                     else rl for rl in doctrine.red_lines]})


@pytest.mark.parametrize("line, move, outcome", [
    ("troops_talk", "troop_talk", "nuclear_signalling"),
    ("western_weapons_convoys", "arms_delivery", "heavier_strikes_on_ukraine"),
])
def test_an_enforced_line_makes_its_declared_response_likelier(doctrine, line, move, outcome):
    """The same runs (common random numbers) with the line always enforced and never enforced: the paired 95%
    interval of the difference in its declared response's outcome lies above zero."""
    spec = make_scenario(doctrine, timeline=[{"week": 3, "actor": "us", "move": move}])
    i = OUTCOME_IDS.index(outcome)
    kept, dropped = (indicators_from_runs(run_model(_credibility(doctrine, line, c), spec, np.arange(1000)).runs)[1]
                     [:, i] for c in (1.0, 0.0))
    d, lo, hi = paired_difference(int((kept & dropped).sum()), int((kept & ~dropped).sum()),
                                  int((~kept & dropped).sum()), int((~kept & ~dropped).sum()))
    assert lo > 0, f"{line}: P({outcome}) enforced minus never enforced {d:+.4f}, 95% CI [{lo:+.4f}, {hi:+.4f}]"


def test_the_long_range_line_needs_western_weapons(doctrine):
    """`western_weapons: true`: deep strikes cross the long-range line only when a Western supplier allows them."""
    crossed = {}
    for suppliers in ([], ["us"]):
        spec = make_scenario(doctrine, policies={"deep_strike": {"authorised": True, "from_week": 1,
                                                                 "suppliers": suppliers}})
        events, log = _run(doctrine, spec)
        assert "deep_strike" in events["action"], "Ukraine strikes deep either way"
        crossed[bool(suppliers)] = any(r["red_line"] == "long_range_strikes" and r["event"] == "crossed" for r in log)
    assert crossed == {False: False, True: True}
