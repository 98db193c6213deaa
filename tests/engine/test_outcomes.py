"""Outcomes and paths: rungs stay on the ladder above the status quo; each run's first week of an outcome is the
first week of an act that realises it in the event log; the outcome counts of nuclear use agree with the paths.
Checked over every variant of every shipped scenario (the recordings the agent contract makes, 64 runs each)."""

from __future__ import annotations

import numpy as np
import pytest
from engine.agents.contract import SCENARIOS, recording, shipped_doctrine, variants

from sim.engine.outcomes import OUTCOMES
from sim.spec.vocabulary import OUTCOME_IDS


def results(stem: str):
    """The result of every variant of a shipped scenario, by variant name."""
    return {v: recording(stem, v).result for v in variants(stem)}


@pytest.mark.parametrize("stem", SCENARIOS)
def test_both_axes_stay_on_the_ladder_above_the_status_quo(stem):
    """The headline axis never falls below rung 1 (the status quo with NATO): an act raises it, a week resets it
    to the floor; the axis of the war in Ukraine stays within the ladder."""
    for v, result in results(stem).items():
        assert result.headline.min() >= 1 and result.headline.max() <= 15, v
        assert result.ukraine.min() >= 0 and result.ukraine.max() <= 15, v
        assert result.aggregates.headline_hist[:, 0].sum() == 0, v


@pytest.mark.parametrize("stem", SCENARIOS)
def test_first_weeks_are_the_first_acts_that_realise_them(stem):
    checked = 0
    for v, result in results(stem).items():
        checked += _check_first_weeks(result, v)
    assert checked > 0


def _check_first_weeks(result, variant: str) -> int:
    ev = result.events
    bloc = {a.id: a.bloc.value for a in shipped_doctrine().actors}
    run, week, rung = np.asarray(ev["run"]), np.asarray(ev["week"]), np.asarray(ev["rung"])
    action, actor_bloc = np.asarray(ev["action"]), np.array([bloc[a] for a in ev["actor"]])
    checked = 0
    for oid, rule in OUTCOMES.items():
        first = result.runs["first_week." + oid]
        if rule.state is not None:  # the one state outcome: general war, begun by Russia's general_war act
            assert rule.state == "at_war"
            hit = (action == "general_war") & (actor_bloc == "russia")
        else:
            hit = np.isin(action, list(rule.actions))
            if rule.bloc is not None:
                hit &= actor_bloc == rule.bloc
            if rule.mark is not None:
                hit |= np.isin(rung, [r.rung for r in shipped_doctrine().ladder if rule.mark in r.marks])
        expect = np.full(len(first), np.iinfo(np.int64).max)
        np.minimum.at(expect, np.searchsorted(result.run_ids, run[hit]), week[hit].astype(np.int64))
        expect[expect == np.iinfo(np.int64).max] = -1
        assert np.array_equal(first, expect), (variant, oid)
        checked += int((first >= 0).sum())
    return checked


@pytest.mark.parametrize("stem", SCENARIOS)
def test_nuclear_outcomes_agree_with_the_headline_path(stem):
    """Any act at rung 14 or above raises the headline to its rung, and only such acts lift it there (rung 15 stays
    the floor of a strategic war): nuclear use is the headline reaching 14, a strategic war reaching 15."""
    for v, result in results(stem).items():
        agg = result.aggregates
        assert agg.outcome_counts[OUTCOME_IDS.index("nuclear_use")] == agg.max_rung_hist[14:].sum(), v
        assert agg.outcome_counts[OUTCOME_IDS.index("strategic_nuclear_war")] == agg.max_rung_hist[15], v
