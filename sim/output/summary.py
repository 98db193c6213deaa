"""The summary of a batch's aggregates: outcome probabilities with intervals, first-week statistics, rungs reached and
the weekly share of runs at or above each rung.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.aggregates import Aggregates
from sim.engine.outcomes import N_RUNGS, OUTCOMES
from sim.output.statistics import wilson_interval
from sim.spec.vocabulary import OUTCOME_IDS

if TYPE_CHECKING:
    pass


def summarise(agg: Aggregates, rung_names: list[str]) -> dict:
    """The JSON summary of one variant: outcome probabilities with 95% Wilson CIs and first-week statistics,
    the probability of reaching each rung, and per week the share of runs at or above each rung."""
    n = agg.runs
    outcomes = {}
    for i, oid in enumerate(OUTCOME_IDS):
        k = int(agg.outcome_counts[i])
        lo, hi = wilson_interval(k, n)
        hist = agg.first_week_hist[i]
        outcomes[oid] = {
            "description": OUTCOMES[oid].description,
            "count": k,
            "probability": k / n if n else 0.0,
            "ci95": [lo, hi],
            "first_week": _week_stats(hist) if k else None,
        }
    # probability of reaching rung r = share of runs whose max is >= r
    reach = np.cumsum(agg.max_rung_hist[::-1])[::-1]
    rungs = []
    for r in range(N_RUNGS):
        k = int(reach[r])
        lo, hi = wilson_interval(k, n)
        rungs.append({"rung": r, "name": rung_names[r], "probability": k / n if n else 0.0, "ci95": [lo, hi]})
    at_or_above = share_at_or_above(agg.headline_hist, n)
    ukr_or_above = share_at_or_above(agg.ukraine_hist, n)
    return {
        "runs": n,
        "outcomes": outcomes,
        "rung_reached": rungs,
        "share_at_or_above_by_week": np.round(at_or_above, 6).tolist(),
        "ukraine_axis_share_at_or_above_by_week": np.round(ukr_or_above, 6).tolist(),
    }


def share_at_or_above(hist: np.ndarray, n: int) -> np.ndarray:
    """Per week, the share of ``n`` runs at or above each rung, from a (weeks, rungs) histogram.

    >>> share_at_or_above(np.array([[1, 2, 1]]), 4).tolist()
    [[1.0, 0.75, 0.25]]
    """
    return np.cumsum(hist[:, ::-1], axis=1)[:, ::-1] / max(n, 1)


def _week_stats(hist: np.ndarray) -> dict:
    k = int(hist.sum())
    weeks = np.arange(len(hist))
    cdf = np.cumsum(hist)

    def q(p: float) -> int:
        return int(np.searchsorted(cdf, p * k, side="left"))

    return {"mean": float((weeks * hist).sum() / k), "median": q(0.5), "p10": q(0.1), "p90": q(0.9)}
