"""A batch and its chunks: runs cut into fixed-size chunks, each stepped for every variant.

A chunk's result depends only on the batch seed and its run indices (sim/engine/streams.py), so results do not
depend on the chunk size.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.engine.world import Context
from sim.errors import InputError
from sim.spec.doctrine import Doctrine
from sim.spec.scenario import ScenarioSpec


@dataclass(frozen=True)
class Chunk:
    """Runs ``start`` (inclusive) to ``stop`` (exclusive) of a batch: chunk number ``index``."""

    index: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def plan_chunks(runs: int, chunk_size: int) -> list[Chunk]:
    """Cut ``runs`` into chunks of ``chunk_size`` (the last may be shorter).

    >>> [(c.start, c.stop) for c in plan_chunks(10, 4)]
    [(0, 4), (4, 8), (8, 10)]
    """
    return [Chunk(i, s, min(s + chunk_size, runs)) for i, s in enumerate(range(0, runs, chunk_size))]


@dataclass(frozen=True)
class Batch:
    """A fully resolved batch: doctrine, scenario, which variants, how many runs, and what to record."""

    doctrine: Doctrine
    scenario: ScenarioSpec
    variants: tuple[str, ...]
    record_runs: bool = True
    record_events: bool = True

    @property
    def runs(self) -> int:
        return self.scenario.runs

    def contexts(self) -> dict[str, Context]:
        levers = {lv.name: lv for lv in self.scenario.levers()}
        return {v: Context.build(self.doctrine, self.scenario, levers[v]) for v in self.variants}


def select_variants(scenario: ScenarioSpec, names: list[str] | None) -> tuple[str, ...]:
    """The variant names to run: all (baseline first) or those named, checked."""
    known = [lv.name for lv in scenario.levers()]
    if not names:
        return tuple(known)
    for n in names:
        if n not in known:
            raise InputError(f"unknown variant '{n}'", key="--variants", expected="one of: " + ", ".join(known),
                             found=n)
    return tuple(dict.fromkeys(names))


#: Events are recorded by default up to this many runs in all (runs per variant times variants); a larger batch
#: keeps its per-run rows only unless asked.
EVENTS_BY_DEFAULT_UP_TO = 200_000


def default_record_events(runs: int, variants: int) -> bool:
    """Whether a batch of ``runs`` per variant records its events when not told.

    >>> default_record_events(20_000, 10), default_record_events(20_000, 11)
    (True, False)
    """
    return runs * variants <= EVENTS_BY_DEFAULT_UP_TO


def compare_variants(scenario: ScenarioSpec, names: list[str] | None) -> tuple[str, ...]:
    """The variants a comparison of one scenario runs: the baseline first, then those named (default: all).

    Refused (:class:`InputError`) when there is nothing to compare: a scenario without variants, or only the
    baseline named.
    """
    chosen = select_variants(scenario, names)
    variants = tuple(dict.fromkeys([scenario.baseline_name, *chosen]))
    if not scenario.variants:
        raise InputError("nothing to compare: the scenario has no variants", key="--variants",
                         expected="a scenario with variants, or several scenario files", found=scenario.name)
    if len(variants) < 2:
        raise InputError("nothing to compare: only the baseline was named", key="--variants",
                         expected="at least one variant besides the baseline: "
                         + ", ".join(v.name for v in scenario.variants), found=",".join(names or []))
    return variants
