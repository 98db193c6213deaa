"""What is measured: outcome definitions, per-run first weeks and paths, and mergeable batch aggregates.

An outcome happens in a run the first week an act realises it (or, for ``nato_russia_war``, the first week the
headline axis stands at rung 12 or above). Aggregates are sums, so chunks merge in any order and a million-run
batch never holds all its runs in memory.

>>> lo, hi = wilson_interval(0, 100)
>>> (lo, round(hi, 4))
(0.0, 0.037)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.vocabulary import OUTCOME_IDS

if TYPE_CHECKING:
    from sim.world import World

N_RUNGS = 16
#: Runs whose full headline path is kept in the aggregates, for sample-path charts.
SAMPLE_PATHS = 24


@dataclass(frozen=True)
class OutcomeRule:
    """How an outcome is realised: by one of ``actions`` (by an actor of ``bloc``, if given) or by any act at
    ``min_rung`` or above, or by the headline axis standing at ``headline_at_least``."""

    description: str
    actions: frozenset[str] = frozenset()
    bloc: str | None = None
    min_rung: int | None = None
    headline_at_least: int | None = None


OUTCOMES: dict[str, OutcomeRule] = {
    "nuclear_signalling": OutcomeRule(
        "Russian nuclear signalling: drills, alerts, doctrine moves, a demonstration",
        frozenset({"nuclear_signalling", "nuclear_demonstration"}), "russia"),
    "heavier_strikes_on_ukraine": OutcomeRule(
        "Russian vertical escalation inside Ukraine: massed strikes or a new strike system",
        frozenset({"massed_strikes", "new_weapon_demonstration"}), "russia"),
    "hybrid_attack_on_nato": OutcomeRule(
        "A hybrid attack (sabotage, arson, cables, cyber) on a NATO member's soil",
        frozenset({"hybrid_attack"}), "russia"),
    "airspace_incident": OutcomeRule(
        "An airspace violation, spill-over or shoot-down between Russia and a NATO member",
        frozenset({"airspace_violation", "spillover", "shoot_down_intruder"})),
    "strike_on_nato_forces_in_ukraine": OutcomeRule(
        "A Russian strike, deliberate or accidental, on NATO forces inside Ukraine",
        frozenset({"strike_nato_forces_in_ukraine", "accidental_strike_on_nato_forces"}), "russia"),
    "strike_on_nato_territory": OutcomeRule(
        "A deliberate Russian military strike on NATO territory",
        frozenset({"strike_nato_territory", "general_war", "limited_nuclear_use", "strategic_nuclear_strike"}), "russia"),
    "article4_consultation": OutcomeRule("NATO Article 4 consultations", frozenset({"article4_consultation"})),
    "article5_invoked": OutcomeRule("NATO invokes Article 5", frozenset({"article5_invoked"})),
    "nato_russia_war": OutcomeRule("General conventional war between Russia and NATO (rung 12+)", headline_at_least=12),
    "nuclear_use": OutcomeRule("Any hostile nuclear detonation (rung 14+)", min_rung=14),
    "strategic_nuclear_war": OutcomeRule("Theatre or strategic nuclear war (rung 15)", min_rung=15),
    "partial_deal": OutcomeRule("A mediated partial deal (swap, corridor, moratorium)", frozenset({"partial_deal"})),
    "ceasefire": OutcomeRule("A ceasefire between Russia and Ukraine", frozenset({"ceasefire"})),
}
assert tuple(OUTCOMES) == OUTCOME_IDS, "outcome rules must follow the vocabulary's order"


class OutcomeTracker:
    """Per-replicate first weeks of every outcome and the week-by-week paths of both axes.

    ``first`` is (runs, outcomes) and the paths are (runs, weeks), as views of arrays stored outcome by outcome
    and week by week, so that the weekly writes touch contiguous memory.
    """

    def __init__(self, size: int, horizon: int) -> None:
        self._first = np.full((len(OUTCOME_IDS), size), -1, dtype=np.int16)
        self._headline = np.zeros((horizon, size), dtype=np.int8)
        self._ukraine = np.zeros((horizon, size), dtype=np.int8)
        self._by_action: dict[tuple[str, str, int], list[int]] = {}

    @property
    def first(self) -> np.ndarray:
        """The first week of each outcome per run, -1 where it never happened, shape (runs, outcomes)."""
        return self._first.T

    @property
    def headline(self) -> np.ndarray:
        """The headline axis per run and week, shape (runs, weeks)."""
        return self._headline.T

    @property
    def ukraine(self) -> np.ndarray:
        """The axis of the war inside Ukraine per run and week, shape (runs, weeks)."""
        return self._ukraine.T

    def _matching(self, action: str, bloc: str, rung: int) -> list[int]:
        key = (action, bloc, rung)
        hit = self._by_action.get(key)
        if hit is None:
            hit = []
            for i, rule in enumerate(OUTCOMES.values()):
                by_action = action in rule.actions and (rule.bloc is None or rule.bloc == bloc)
                by_rung = rule.min_rung is not None and rung >= rule.min_rung
                if by_action or by_rung:
                    hit.append(i)
            self._by_action[key] = hit
        return hit

    def mark_act(self, action: str, bloc: str, rung: int, mask: np.ndarray, week: int) -> None:
        """Mark the outcomes an act realises, in the replicates of ``mask``, if not marked before."""
        for i in self._matching(action, bloc, rung):
            col = self._first[i]
            np.copyto(col, week, where=mask & (col < 0), casting="unsafe")

    def record_week(self, world: "World") -> None:
        """Keep this week's axes and mark the outcomes defined on the headline axis."""
        w = world.week
        self._headline[w] = world.headline
        self._ukraine[w] = world.ukraine_axis
        for i, rule in enumerate(OUTCOMES.values()):
            if rule.headline_at_least is not None:
                col = self._first[i]
                np.copyto(col, w, where=(world.headline >= rule.headline_at_least) & (col < 0), casting="unsafe")


@dataclass
class Aggregates:
    """Mergeable sums over the runs of one variant."""

    horizon: int
    runs: int = 0
    outcome_counts: np.ndarray = field(default=None)  # type: ignore[assignment]
    first_week_hist: np.ndarray = field(default=None)  # type: ignore[assignment]
    headline_hist: np.ndarray = field(default=None)  # type: ignore[assignment]
    ukraine_hist: np.ndarray = field(default=None)  # type: ignore[assignment]
    max_rung_hist: np.ndarray = field(default=None)  # type: ignore[assignment]
    max_ukraine_hist: np.ndarray = field(default=None)  # type: ignore[assignment]
    transitions: np.ndarray = field(default=None)  # type: ignore[assignment]
    sample_paths: dict[int, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        W, O = self.horizon, len(OUTCOME_IDS)
        zeros = lambda *shape: np.zeros(shape, dtype=np.int64)  # noqa: E731
        if self.outcome_counts is None:
            self.outcome_counts = zeros(O)
            self.first_week_hist = zeros(O, W)
            self.headline_hist = zeros(W, N_RUNGS)
            self.ukraine_hist = zeros(W, N_RUNGS)
            self.max_rung_hist = zeros(N_RUNGS)
            self.max_ukraine_hist = zeros(N_RUNGS)
            self.transitions = zeros(N_RUNGS, N_RUNGS)

    @classmethod
    def from_tracker(cls, tracker: OutcomeTracker, run_ids: np.ndarray) -> "Aggregates":
        """Summarise one chunk's tracker."""
        first, headline, ukraine = tracker._first, tracker._headline, tracker._ukraine  # (outcomes|weeks, runs)
        W, R = headline.shape
        agg = cls(horizon=W, runs=R)
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
        for row in np.flatnonzero(run_ids < SAMPLE_PATHS):
            agg.sample_paths[int(run_ids[row])] = headline[:, row].tolist()
        return agg

    def merge(self, other: "Aggregates") -> "Aggregates":
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
    def from_dict(cls, d: dict) -> "Aggregates":
        agg = cls(horizon=d["horizon"], runs=d["runs"])
        for k in ("outcome_counts", "first_week_hist", "headline_hist", "ukraine_hist", "max_rung_hist",
                  "max_ukraine_hist", "transitions"):
            setattr(agg, k, np.asarray(d[k], dtype=np.int64))
        agg.sample_paths = {int(k): v for k, v in d["sample_paths"].items()}
        return agg


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval for k successes in n trials (95% by default)."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exact at the edges: the interval always contains the estimate despite rounding
    return (max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p)))


def newcombe_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """Difference p1 - p2 with Newcombe's hybrid score interval (method 10), from two Wilson intervals.

    It treats the two samples as independent, so with common random numbers it is conservative.
    """
    p1, p2 = (k1 / n1 if n1 else 0.0), (k2 / n2 if n2 else 0.0)
    l1, u1 = wilson_interval(k1, n1)
    l2, u2 = wilson_interval(k2, n2)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (d, lo, hi)


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
