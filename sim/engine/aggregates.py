"""Mergeable batch aggregates: sums over runs, so chunks merge in any order and a million-run batch never holds all
its runs in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.engine import kernels
from sim.engine.outcomes import N_RUNGS, SAMPLE_PATHS, OutcomeTracker
from sim.spec.vocabulary import OUTCOME_IDS


@dataclass
class Aggregates:
    """Mergeable sums over the runs of one variant."""

    horizon: int
    runs: int = 0
    # the sums start at zero, shaped by the horizon; they are set from data by from_tracker, merge and from_dict
    outcome_counts: np.ndarray = field(init=False)
    first_week_hist: np.ndarray = field(init=False)
    headline_hist: np.ndarray = field(init=False)
    ukraine_hist: np.ndarray = field(init=False)
    max_rung_hist: np.ndarray = field(init=False)
    max_ukraine_hist: np.ndarray = field(init=False)
    transitions: np.ndarray = field(init=False)
    sample_paths: dict[int, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        weeks, outcomes = self.horizon, len(OUTCOME_IDS)

        def zeros(*shape: int) -> np.ndarray:
            return np.zeros(shape, dtype=np.int64)

        self.outcome_counts = zeros(outcomes)
        self.first_week_hist = zeros(outcomes, weeks)
        self.headline_hist = zeros(weeks, N_RUNGS)
        self.ukraine_hist = zeros(weeks, N_RUNGS)
        self.max_rung_hist = zeros(N_RUNGS)
        self.max_ukraine_hist = zeros(N_RUNGS)
        self.transitions = zeros(N_RUNGS, N_RUNGS)

    @classmethod
    def from_tracker(cls, tracker: OutcomeTracker, run_ids: np.ndarray, compiled: bool = False) -> Aggregates:
        """Summarise one chunk's tracker (``compiled``: counted by the compiled kernel, to the same sums)."""
        first, headline, ukraine = tracker._first, tracker._headline, tracker._ukraine  # (outcomes|weeks, runs)
        W, R = headline.shape
        agg = cls(horizon=W, runs=R)
        if compiled:
            # the kernel indexes its counts by rung unchecked: a rung outside the ladder is refused here, not written
            # outside the arrays (the doctrine allows rungs 0 to 15 only, so this never holds for the engine's paths)
            if headline.size and not (min(headline.min(), ukraine.min()) >= 0
                                      and max(headline.max(), ukraine.max()) < N_RUNGS):
                raise ValueError(f"a path holds a rung outside 0 to {N_RUNGS - 1}")
            kernels.kernel("histograms")(first, headline, ukraine, agg.outcome_counts, agg.first_week_hist,
                                         agg.headline_hist, agg.ukraine_hist, agg.max_rung_hist,
                                         agg.max_ukraine_hist, agg.transitions)
            agg._sample_paths(headline, run_ids)
            return agg
        happened = first >= 0
        agg.outcome_counts = happened.sum(axis=1).astype(np.int64)
        for i in range(len(OUTCOME_IDS)):
            agg.first_week_hist[i] = np.bincount(first[i][happened[i]], minlength=W)[:W]
        week_idx = np.arange(W, dtype=np.int64)[:, None] * N_RUNGS
        agg.headline_hist = np.bincount((week_idx + headline).ravel(), minlength=W * N_RUNGS).reshape(W, N_RUNGS)
        agg.ukraine_hist = np.bincount((week_idx + ukraine).ravel(), minlength=W * N_RUNGS).reshape(W, N_RUNGS)
        agg.max_rung_hist = np.bincount(headline.max(axis=0), minlength=N_RUNGS)
        agg.max_ukraine_hist = np.bincount(ukraine.max(axis=0), minlength=N_RUNGS)
        if W > 1:
            pairs = headline[:-1].astype(np.int64) * N_RUNGS + headline[1:]
            agg.transitions = np.bincount(pairs.ravel(), minlength=N_RUNGS * N_RUNGS).reshape(N_RUNGS, N_RUNGS)
        agg._sample_paths(headline, run_ids)
        return agg

    def _sample_paths(self, headline: np.ndarray, run_ids: np.ndarray) -> None:
        for row in np.flatnonzero(run_ids < SAMPLE_PATHS):
            self.sample_paths[int(run_ids[row])] = headline[:, row].tolist()

    def merge(self, other: Aggregates) -> Aggregates:
        """Add another chunk's sums into this one (in place) and return self."""
        if other.horizon != self.horizon:
            raise ValueError("cannot merge aggregates of different horizons")
        self.runs += other.runs
        for name in ("outcome_counts", "first_week_hist", "headline_hist", "ukraine_hist", "max_rung_hist",
                     "max_ukraine_hist", "transitions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.sample_paths.update(other.sample_paths)
        return self

    def to_dict(self) -> dict:
        """Plain lists, for JSON and for the pickles that carry chunk results between processes."""
        return {
            "horizon": self.horizon,
            "runs": self.runs,
            **{k: getattr(self, k).tolist() for k in ("outcome_counts", "first_week_hist", "headline_hist",
                                                       "ukraine_hist", "max_rung_hist", "max_ukraine_hist",
                                                       "transitions")},
            "sample_paths": {str(k): v for k, v in sorted(self.sample_paths.items())},
        }

    @classmethod
    def from_dict(cls, d: dict) -> Aggregates:
        agg = cls(horizon=d["horizon"], runs=d["runs"])
        for k in ("outcome_counts", "first_week_hist", "headline_hist", "ukraine_hist", "max_rung_hist",
                  "max_ukraine_hist", "transitions"):
            setattr(agg, k, np.asarray(d[k], dtype=np.int64))
        agg.sample_paths = {int(k): v for k, v in d["sample_paths"].items()}
        return agg
