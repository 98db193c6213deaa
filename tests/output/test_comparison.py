"""Paired comparison under common random numbers: Newcombe's interval for paired proportions, its coverage, and the
indicators it is computed from."""

from __future__ import annotations

import numpy as np
import pytest
from support import make_scenario, run_model

from sim.output import comparison as compare
from sim.output.statistics import newcombe_difference
from sim.spec.vocabulary import OUTCOME_IDS


def test_paired_interval_contains_the_difference_and_flips_with_the_arms():
    d, lo, hi = compare.paired_difference(40, 12, 3, 45)
    assert lo < d < hi and d == pytest.approx(0.09)
    d2, lo2, hi2 = compare.paired_difference(40, 3, 12, 45)
    assert (d2, lo2, hi2) == pytest.approx((-d, -hi, -lo))


def test_paired_interval_is_tighter_than_the_independent_one_when_pairs_agree():
    a, b, c, d = 300, 6, 2, 692  # strongly correlated arms, as under common random numbers
    n = a + b + c + d
    _, plo, phi_ = compare.paired_difference(a, b, c, d)
    _, nlo, nhi = newcombe_difference(a + b, n, a + c, n)
    assert phi_ - plo < 0.5 * (nhi - nlo)


def test_paired_interval_covers_the_true_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    p_both, p_first, p_second = 0.3, 0.06, 0.03
    true = p_first - p_second
    hits, reps = 0, 600
    for _ in range(reps):
        counts = rng.multinomial(300, [p_both, p_first, p_second, 1 - p_both - p_first - p_second])
        _, lo, hi = compare.paired_difference(*map(int, counts))
        hits += lo <= true <= hi
    assert 0.92 <= hits / reps <= 0.99


def test_identical_arms_differ_by_exactly_zero():
    happened = np.random.default_rng(1).random((200, len(OUTCOME_IDS))) < 0.3
    c = compare.from_indicators({"a": happened, "b": happened.copy()}, "a")
    for oid in OUTCOME_IDS:
        diff = c["differences"]["b"][oid]
        assert diff["difference"] == 0.0
        assert -0.02 < diff["ci95"][0] <= 0.0 <= diff["ci95"][1] < 0.02
    assert c["method"] == "paired"


def test_indicators_from_runs_pair_the_runs_of_two_variants(doctrine):
    """The per-run indicators give each variant's outcome counts, and the paired table of a variant against itself
    has no discordant run."""
    spec = make_scenario(doctrine, runs=300, deployments=[
        {"id": "d", "contributors": ["france"], "type": "non_combat", "size": 3000, "location": "frontline"}],
        variants=[{"name": "none", "deployments": []}])
    arms = {}
    for variant in ("baseline", "none"):
        res = run_model(doctrine, spec, np.arange(300)[::-1], variant)  # any order of runs: rows keep their ids
        ids, happened = compare.indicators_from_runs(res.runs)
        assert np.array_equal(ids, np.arange(300)[::-1])
        assert np.array_equal(happened.sum(axis=0), res.aggregates.outcome_counts)
        arms[variant] = happened[np.argsort(ids)]
    c = compare.from_indicators(arms, "baseline")
    forces = c["differences"]["none"]["strike_on_nato_forces_in_ukraine"]
    assert forces["difference"] < 0 and forces["ci95"][1] < 0, "no troops in Ukraine, no strike on them"
    same = compare.from_indicators({"a": arms["none"], "b": arms["none"]}, "a")
    assert all(same["differences"]["b"][oid]["difference"] == 0.0 for oid in OUTCOME_IDS)
