"""Red lines compiled from their YAML conditions into array predicates over the world (never ``eval``).

A condition is a small closed grammar (``deployment``, ``deep_strike``, ``strategic_strike``,
``territorial_threat``, ``move``, ``nato_attack``, ``at_war``, ``nato_nuclear_use``, ``any``, ``all``); each
compiles to a function of the world returning one bool per replicate. A new crossing is enforced with the line's
credibility times Russia's restraint before the answer it would draw; an enforced crossing is answered by the
line's declared response (docs/model.md section 4.5). A persistent line (a standing deployment) can be enforced
again each later week it stays crossed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.engine import kernels
from sim.spec.doctrine import (
    ConditionAll,
    ConditionAny,
    ConditionAtWar,
    ConditionDeepStrike,
    ConditionDeployment,
    ConditionMove,
    ConditionNatoAttack,
    ConditionNuclearUse,
    ConditionStrategicStrike,
    ConditionTerritorialThreat,
    RedLine,
)

if TYPE_CHECKING:
    from sim.engine.agents.base import Actor
    from sim.engine.world import World

Predicate = Callable[["World"], np.ndarray]


def compile_condition(cond, world: World) -> Predicate:
    """Compile a red-line condition into a predicate ``world -> bool[R]``."""
    if isinstance(cond, ConditionDeployment):
        idx = np.array(
            [
                i
                for i, d in enumerate(world.deployments)
                if (cond.types is None or d.type in cond.types)
                and (cond.locations is None or d.location in cond.locations)
                and d.size >= cond.min_size
            ],
            dtype=np.int64,
        )
        if idx.size == 0:
            return lambda w: np.zeros(w.size, dtype=bool)
        return lambda w: np.asarray(w.dep_active[:, idx].any(axis=1))
    if isinstance(cond, ConditionDeepStrike):
        if cond.western_weapons and not world.ctx.levers.policies.deep_strike.suppliers:
            # no supplier authorised the strikes: they use no Western weapons and never cross this line
            return lambda w: np.zeros(w.size, dtype=bool)
        return lambda w: w.prev["deep_strike"]
    if isinstance(cond, ConditionStrategicStrike):
        return lambda w: w.prev["strategic_strike"] | w.now["strategic_strike"]
    if isinstance(cond, ConditionTerritorialThreat):
        level = cond.at_least
        return lambda w: w.territorial_threat >= level
    if isinstance(cond, ConditionMove):
        kinds = set(cond.moves)
        return lambda w: np.full(w.size, bool(kinds & w.moves))
    if isinstance(cond, ConditionNatoAttack):
        return lambda w: w.prev["nato_attack"]
    if isinstance(cond, ConditionAtWar):
        return lambda w: w.at_war
    if isinstance(cond, ConditionNuclearUse):
        return lambda w: w.prev["nato_nuclear"]
    if isinstance(cond, (ConditionAny, ConditionAll)):
        parts = [compile_condition(c, world) for c in cond.of]
        combine = np.logical_or if isinstance(cond, ConditionAny) else np.logical_and
        def both(w: World) -> np.ndarray:
            out = parts[0](w).copy()
            for part in parts[1:]:
                combine(out, part(w), out=out)
            return out
        return both
    raise TypeError(f"unknown condition {type(cond).__name__}")


def _repeatable(cond) -> bool:
    """Move conditions cross anew with every listed move; state conditions cross once, then only persist."""
    if isinstance(cond, (ConditionAny, ConditionAll)):
        return all(_repeatable(c) for c in cond.of)
    return isinstance(cond, ConditionMove)


@dataclass
class RedLineRule:
    """One compiled red line of an actor: predicate, sampled credibility, declared response and memory."""

    spec: RedLine
    predicate: Predicate
    credibility: np.ndarray
    repeatable: bool
    ever: np.ndarray
    persistent_share: float | np.ndarray
    first_draw: np.ndarray

    def __post_init__(self) -> None:
        #: ``persistent_share`` per run, as the compiled path takes it
        self.share = kernels.per_run(self.persistent_share, len(self.ever))

    @property
    def declared_response(self) -> str:
        return self.spec.declared_response

    def crossed(self, world: World) -> np.ndarray:
        """Where the line's condition holds this week."""
        return self.predicate(world)

    def enforced(self, world: World, restraint: np.ndarray | float) -> np.ndarray:
        """Where Russia enforces the line this week: on a new crossing with probability credibility x restraint;
        while a persistent line stays crossed, each later week with that probability times its weekly share."""
        crossed = self.crossed(world)
        new = crossed if self.repeatable else crossed & ~self.ever
        self.ever |= crossed
        u = world.streams.uniform(f"redline:{self.spec.id}", world.week, where=crossed)
        chance = self.credibility * restraint
        # a state line's first crossing draws once per run, whatever the week it comes in: variants that move the
        # crossing keep the same draw for it (common random numbers)
        enforced = new & ((u if self.repeatable else self.first_draw) < chance)
        if self.spec.persistent:
            pressed = crossed & ~new & (u < chance * self.persistent_share)
            enforced |= pressed
        if world.record_events:  # the story of a run names the lines crossed and enforced
            world.note_red_line(self.spec.id, "crossed", new)
            world.note_red_line(self.spec.id, "enforced", new & enforced)
            if self.spec.persistent:
                world.note_red_line(self.spec.id, "pressed", crossed & ~new & enforced)
        return enforced


    def impose(self, world: World, exposed: np.ndarray, deterrence: np.ndarray, available: np.ndarray,
               rungs: np.ndarray, k: int, choice: np.ndarray) -> None:
        """Enforce the line this week (:meth:`enforced`, with Russia's restraint min(1, exposed / deterrence)):
        where it is enforced and its declared answer, option ``k`` of ``rungs``, is ``available``, that answer
        replaces ``choice`` (in place) if it stands higher on the ladder. One compiled pass on the compiled path
        (sim/engine/kernels.py), which works out the restraint only in the runs that cross the line."""
        if not world.compiled:
            enforced = self.enforced(world, np.minimum(1.0, exposed / deterrence)) & available
            if enforced.any():
                current = np.where(choice >= 0, rungs[np.maximum(choice, 0)], -1)
                np.copyto(choice, k, where=enforced & (rungs[k] > current))
            return
        crossed = self.crossed(world)
        if not crossed.any():  # nothing crosses it this week: nothing to draw, enforce or remember
            return
        new, enforced = np.empty(world.size, dtype=np.bool_), np.empty(world.size, dtype=np.bool_)
        s = world.streams
        kernels.kernel("enforce_red_line")(
            crossed, self.ever, s.keys, s.offset(f"redline:{self.spec.id}", world.week), self.repeatable,
            self.first_draw, self.credibility, exposed, deterrence, self.spec.persistent, self.share, available,
            rungs, k,
            choice, new, enforced)
        if world.record_events:
            world.note_red_line(self.spec.id, "crossed", new)
            world.note_red_line(self.spec.id, "enforced", new & enforced)
            if self.spec.persistent:
                world.note_red_line(self.spec.id, "pressed", crossed & ~new & enforced)


def compile_red_lines(world: World, actor: Actor) -> list[RedLineRule]:
    """Compile the red lines declared by ``actor``; credibilities are sampled per run like any attribute."""
    rules = []
    p = world.params
    for rl in world.ctx.doctrine.red_lines:
        if rl.actor != actor.actor_id:
            continue
        key = f"{rl.id}.credibility"
        u = world.streams.uniform("param:" + key, week=-1)
        z = world.streams.normal("param:" + key, week=-1) if rl.credibility.dist == "normal" else None
        cred = rl.credibility.quantile(u, z)
        actor.model.sampled[key] = cred
        rules.append(
            RedLineRule(
                spec=rl,
                predicate=compile_condition(rl.condition, world),
                credibility=cred,
                repeatable=_repeatable(rl.condition),
                ever=np.zeros(world.size, dtype=bool),
                persistent_share=p["persistent_enforcement_share"],
                first_draw=world.streams.uniform(f"redline:{rl.id}:first", week=-1),
            )
        )
    return rules
