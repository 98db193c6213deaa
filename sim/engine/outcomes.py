"""What a run realises: outcome definitions, and the tracker of each run's first weeks and paths.

Each outcome is defined here once, by the act or the state it names: it happens in a run the first week an act
realises it (an act of a listed kind, or any act on a rung carrying a given ladder mark), or the first week the world
holds a named state (``nato_russia_war``: Russia and NATO are at general war). A nuclear demonstration lifts the
headline axis but is not war.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.spec.vocabulary import OUTCOME_IDS

if TYPE_CHECKING:
    from sim.engine.world import World


N_RUNGS = 16
#: Runs whose full headline path is kept in the aggregates, for sample-path charts.
SAMPLE_PATHS = 24


@dataclass(frozen=True)
class OutcomeRule:
    """How an outcome is realised: by one of ``actions`` (by an actor of ``bloc``, if given), by any act on a rung
    carrying the ladder mark ``mark`` (configs/ladder.yaml), or by the world's boolean state ``state`` holding."""

    description: str
    actions: frozenset[str] = frozenset()
    bloc: str | None = None
    mark: str | None = None
    state: str | None = None


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
        "An airspace violation, spill-over, shoot-down or air-defence engagement between Russia and a NATO member",
        frozenset({"airspace_violation", "spillover", "shoot_down_intruder", "air_defence_engagement"})),
    "strike_on_nato_forces_in_ukraine": OutcomeRule(
        "A Russian strike on NATO forces inside Ukraine: deliberate, accidental, or combat with NATO combat troops",
        frozenset({"strike_nato_forces_in_ukraine", "accidental_strike_on_nato_forces", "combat_with_nato_forces"}),
        "russia"),
    "strike_on_nato_territory": OutcomeRule(
        "A deliberate Russian military strike on NATO territory",
        frozenset({"strike_nato_territory", "general_war", "limited_nuclear_use", "strategic_nuclear_strike"}),
        "russia"),
    "article4_consultation": OutcomeRule("NATO Article 4 consultations", frozenset({"article4_consultation"})),
    "article5_invoked": OutcomeRule("NATO invokes Article 5", frozenset({"article5_invoked"})),
    "nato_russia_war": OutcomeRule("General war between Russia and NATO: Russia has gone to war with the alliance",
                                   state="at_war"),
    "nuclear_use": OutcomeRule("Any hostile nuclear detonation", mark="nuclear_detonation"),
    "strategic_nuclear_war": OutcomeRule("Theatre or strategic nuclear war", mark="strategic_nuclear"),
    "partial_deal": OutcomeRule("A mediated partial deal (swap, corridor, moratorium)", frozenset({"partial_deal"})),
    "ceasefire": OutcomeRule("A ceasefire between Russia and Ukraine", frozenset({"ceasefire"})),
}
assert tuple(OUTCOMES) == OUTCOME_IDS, "outcome rules must follow the vocabulary's order"


class OutcomeTracker:
    """Per-replicate first weeks of every outcome and the week-by-week paths of both axes.

    ``first`` is (runs, outcomes) and the paths are (runs, weeks), as views of arrays stored outcome by outcome
    and week by week, so that the weekly writes touch contiguous memory.
    """

    def __init__(self, size: int, horizon: int, marks: dict[str, np.ndarray]) -> None:
        self._marks = marks  # ladder mark -> bool per rung
        self._first = np.full((len(OUTCOME_IDS), size), -1, dtype=np.int16)
        self._headline = np.zeros((horizon, size), dtype=np.int8)
        self._ukraine = np.zeros((horizon, size), dtype=np.int8)
        self._by_action: dict[tuple[str, str, int], np.ndarray] = {}

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

    @property
    def by_outcome(self) -> np.ndarray:
        """The first weeks as stored, (outcomes, runs), for the compiled act kernel to write in place."""
        return self._first

    def matching(self, action: str, bloc: str, rung: int) -> np.ndarray:
        """The outcomes an act of ``action`` by ``bloc`` at ``rung`` realises, as indices (read-only; worked out
        once per kind of act)."""
        key = (action, bloc, rung)
        hit = self._by_action.get(key)
        if hit is None:
            found = []
            for i, rule in enumerate(OUTCOMES.values()):
                by_action = action in rule.actions and (rule.bloc is None or rule.bloc == bloc)
                by_rung = rule.mark is not None and bool(self._marks[rule.mark][rung])
                if by_action or by_rung:
                    found.append(i)
            hit = self._by_action[key] = np.array(found, dtype=np.int64)
            hit.flags.writeable = False
        return hit

    def mark_act(self, action: str, bloc: str, rung: int, where: np.ndarray, week: int) -> None:
        """Mark the outcomes an act realises, in the replicates ``where`` selects (a mask, or their positions), if
        not marked before."""
        for i in self.matching(action, bloc, rung):
            col = self._first[i]
            if where.dtype == np.bool_:
                np.copyto(col, week, where=where & (col < 0), casting="unsafe")
            else:
                col[where[col[where] < 0]] = week

    def record_week(self, world: World) -> None:
        """Keep this week's axes and mark the outcomes defined by a state of the world."""
        w = world.week
        self._headline[w] = world.headline
        self._ukraine[w] = world.ukraine_axis
        for i, rule in enumerate(OUTCOMES.values()):
            if rule.state is not None:
                col = self._first[i]
                np.copyto(col, w, where=getattr(world, rule.state) & (col < 0), casting="unsafe")
