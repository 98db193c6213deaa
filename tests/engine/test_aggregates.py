"""Aggregates: the histograms of a chunk's paths and first weeks, mergeable in any order into those of the whole."""

from __future__ import annotations

import numpy as np
import pytest
from support import ROOT, run_model

from sim.engine.aggregates import Aggregates
from sim.engine.outcomes import SAMPLE_PATHS
from sim.spec.loading import load_scenario
from sim.spec.vocabulary import OUTCOME_IDS


@pytest.fixture(scope="module")
def spec(doctrine):
    return load_scenario(ROOT / "scenarios" / "limited_deployment.yaml", doctrine)


def test_aggregates_are_the_histograms_of_the_paths(doctrine, spec):
    res = run_model(doctrine, spec, np.arange(10, 60))
    agg, head, ukr = res.aggregates, res.headline, res.ukraine
    assert head.shape == ukr.shape == (50, spec.horizon_weeks)
    for w in (0, 3, spec.horizon_weeks - 1):
        assert np.array_equal(agg.headline_hist[w], np.bincount(head[:, w], minlength=16))
        assert np.array_equal(agg.ukraine_hist[w], np.bincount(ukr[:, w], minlength=16))
    assert np.array_equal(agg.max_rung_hist, np.bincount(head.max(axis=1), minlength=16))
    assert np.array_equal(agg.max_ukraine_hist, np.bincount(ukr.max(axis=1), minlength=16))
    moves = np.zeros((16, 16), dtype=np.int64)
    np.add.at(moves, (head[:, :-1].ravel(), head[:, 1:].ravel()), 1)
    assert np.array_equal(agg.transitions, moves)
    for i, oid in enumerate(OUTCOME_IDS):
        fw = res.runs["first_week." + oid]
        assert agg.outcome_counts[i] == (fw >= 0).sum()
        assert np.array_equal(agg.first_week_hist[i], np.bincount(fw[fw >= 0], minlength=spec.horizon_weeks))
    assert sorted(agg.sample_paths) == list(range(10, SAMPLE_PATHS))
    assert all(agg.sample_paths[r] == head[r - 10].tolist() for r in agg.sample_paths)


def test_chunks_merge_in_any_order_into_the_whole(doctrine, spec):
    whole = run_model(doctrine, spec, np.arange(90)).aggregates
    parts = [run_model(doctrine, spec, np.arange(a, b)).aggregates for a, b in ((0, 20), (20, 55), (55, 90))]
    for order in ((0, 1, 2), (2, 0, 1)):
        merged = Aggregates(horizon=spec.horizon_weeks)
        for i in order:
            merged.merge(parts[i])
        assert merged.to_dict() == whole.to_dict()
    assert Aggregates.from_dict(whole.to_dict()).to_dict() == whole.to_dict()
    with pytest.raises(ValueError, match="different horizons"):
        merged.merge(Aggregates(horizon=spec.horizon_weeks + 1))
