"""The shared state of R replicates stepped in lockstep: levers, state arrays, this week's acts and the event log.

Agents read the world and post acts to it; an act has an actor, a target, an action and a rung, and is applied to
the replicates selected by a boolean mask. The world classifies each act into the two escalation axes (Russia with
its allies against NATO with its members; Russia against Ukraine), marks the outcomes it realises and, when asked,
records it as an event row. Nothing here loops over replicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.engine import kernels
from sim.engine.outcomes import OutcomeTracker
from sim.engine.streams import Streams
from sim.spec.doctrine import Doctrine, ResponseOption
from sim.spec.scenario import Levers, ScenarioSpec
from sim.spec.vocabulary import Bloc

NO_TARGET = -1
#: The states and seas a member can border (configs/geography.yaml), in column order of ``World.borders``.
BORDERS = ("russia", "belarus", "ukraine", "kaliningrad", "black_sea")


class Ladder:
    """Rung meanings as the model reads them: for each ladder mark, a bool per rung, and the first rung carrying it.

    >>> from sim.spec.loading import load_doctrine
    >>> L = Ladder(load_doctrine())
    >>> L.first("general_war"), bool(L.has("nuclear")[13]), bool(L.has("nuclear_detonation")[13])
    (12, True, False)
    """

    def __init__(self, doctrine: Doctrine) -> None:
        marks: set[str] = {m for r in doctrine.ladder for m in r.marks}
        self._marks: dict[str, np.ndarray] = {
            m: np.array([m in r.marks for r in doctrine.ladder], dtype=bool) for m in sorted(marks)}
        self._first = {m: int(np.flatnonzero(has)[0]) for m, has in self._marks.items()}

    def has(self, mark: str) -> np.ndarray:
        """A bool per rung: whether the rung carries ``mark``."""
        return self._marks[mark]

    def first(self, mark: str) -> int:
        """The lowest rung carrying ``mark``."""
        return self._first[mark]

    def marks(self) -> dict[str, np.ndarray]:
        return dict(self._marks)


@dataclass(frozen=True)
class Context:
    """Everything fixed for one batch and variant: doctrine, scenario, levers, parameters (overrides applied)."""

    doctrine: Doctrine
    scenario: ScenarioSpec
    levers: Levers
    params: dict[str, float]
    actor_ids: tuple[str, ...]
    severity: np.ndarray = field(repr=False)
    ladder: Ladder = field(repr=False)

    @classmethod
    def build(cls, doctrine: Doctrine, scenario: ScenarioSpec, levers: Levers) -> Context:
        params = {k: p.value for k, p in doctrine.parameters.items()}
        params.update(levers.overrides)
        severity = np.array([r.severity for r in doctrine.ladder], dtype=np.float64)
        return cls(doctrine, scenario, levers, params, tuple(doctrine.ids("actors")), severity, Ladder(doctrine))

    def response(self, option_id: str) -> ResponseOption:
        """The response option with this id (configs/responses.yaml)."""
        return next(r for r in self.doctrine.responses if r.id == option_id)

    def index(self, actor_id: str) -> int:
        return self.actor_ids.index(actor_id)


def design_parameters(ctx: Context, streams: Streams) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The parameters of these runs: the point values of configs/model.yaml (with the scenario's overrides), and,
    unless the scenario fixes them, the design parameters of one calibrated set per run (configs/calibration.yaml),
    drawn by the run's key so that variants share them. Returns the parameters (a float, or an array over runs for
    a calibrated one) and the calibrated values drawn, by name (empty when fixed)."""
    params: dict[str, Any] = dict(ctx.params)
    cal = ctx.doctrine.calibration
    if ctx.scenario.design_parameters == "fixed":
        return params, {}
    sets = np.asarray(cal.sets, dtype=np.float64)
    pick = np.minimum((streams.uniform("param:calibration", week=-1) * len(sets)).astype(np.int64), len(sets) - 1)
    drawn = {"set": pick.astype(np.float64)}
    for j, name in enumerate(cal.parameters):
        if name not in ctx.levers.overrides:
            params[name] = drawn[name] = sets[pick, j]
    return params, drawn


class World:
    """The state of ``streams.size`` replicates of one scenario variant.

    Args:
        ctx: the batch context.
        streams: the keyed random draws of these replicates.
        record_events: keep an event row for every act (for events.parquet and traces).
    """

    def __init__(self, ctx: Context, streams: Streams, record_events: bool = False) -> None:
        self.ctx = ctx
        self.streams = streams
        self.size = R = streams.size
        #: whether the compiled kernels run (sim/engine/kernels.py), else the numpy reference
        self.compiled = kernels.engine() == "numba"
        self.params, self.design = design_parameters(ctx, streams)
        self.week = 0
        self.horizon = ctx.scenario.horizon_weeks
        doctrine = ctx.doctrine
        self.blocs = np.array([doctrine.actor(a).bloc.value for a in ctx.actor_ids])
        self._bloc_of = tuple(self.blocs.tolist())  # plain strings: looked up for every act
        self._lifted: dict[tuple[str, str, int], tuple[bool, bool]] = {}  # see _axes_lifted
        self.members = doctrine.members()
        self.member_index = np.array([ctx.index(m) for m in self.members])
        geo = {g.member: g for g in doctrine.geography}
        self.borders = np.array([[b in geo[m].borders for b in BORDERS] for m in self.members], dtype=bool)
        self.frontline = self.borders.any(axis=1)  # borders Russia, Belarus, Ukraine, Kaliningrad or the Black Sea
        self.logistics_hub = np.array([geo[m].logistics_hub for m in self.members])
        self.L = ctx.ladder
        self.russia, self.ukraine, self.nato = ctx.index("russia"), ctx.index("ukraine"), ctx.index("nato")

        # deployments: levers compiled to per-deployment constants
        types = {t.id: t for t in doctrine.deployment_types}
        locs = {f.location: f for f in doctrine.locations}
        deps = ctx.levers.deployments
        size_exp = self.params["size_exponent"]
        self.deployments = deps
        self.dep_inside = np.array([d.location.inside_ukraine for d in deps], dtype=bool)
        size_factor = np.array([(d.size / 1000.0) ** size_exp for d in deps])
        self.dep_provocation = np.array(
            [types[d.type].provocation * locs[d.location].provocation for d in deps]
        ) * size_factor if deps else np.zeros(0)
        self.dep_exposure = np.array(
            [types[d.type].exposure * locs[d.location].exposure for d in deps]
        ) * size_factor if deps else np.zeros(0)
        self.dep_intercepts = np.array([types[d.type].intercepts for d in deps], dtype=bool)
        self.dep_combatant = np.array([types[d.type].combatant for d in deps], dtype=bool)
        self.dep_lead = np.array([self.members.index(d.contributors[0]) for d in deps], dtype=np.int64)
        self.dep_contributors = np.zeros((len(deps), len(self.members)), dtype=bool)
        for i, d in enumerate(deps):
            for c in d.contributors:
                self.dep_contributors[i, self.members.index(c)] = True

        # state arrays over replicates
        self.tension = np.zeros(R)
        self.provocation = np.zeros(R)  # accumulated since Russia last perceived
        self.territorial_threat = np.zeros(R)
        self.fighting = np.ones(R, dtype=bool)
        self.ceasefire = np.zeros(R, dtype=bool)
        self.at_war = np.zeros(R, dtype=bool)
        self.nato_retaliated = np.zeros(R, dtype=bool)
        self.nuclear_used = np.zeros(R, dtype=bool)
        self.strategic_war = np.zeros(R, dtype=bool)
        self.article5 = np.zeros(R, dtype=bool)
        self.withdrawn = np.zeros((R, len(deps)), dtype=bool)
        self.dep_active = np.zeros((R, len(deps)), dtype=bool)
        self.dep_started = np.zeros(len(deps), dtype=bool)
        self.moves: set[str] = set()
        self.deep_strike_authorised = False
        self.strategic_recent = np.zeros(R, dtype=np.int16)  # weeks left in which a strategic strike counts
        # context that third-country agents set each week
        self.host_capability = np.zeros(R)
        self.supplier_capability = np.zeros(R)
        self.dialogue_lift = np.ones(R)
        self.china_leverage = np.zeros(R)
        self.launch_area = np.zeros(R)      # a neighbour's territory lent for drone launches (Belarus)
        self.drone_supply = np.zeros(R)     # strike drones supplied to Russia (Iran)
        self.troop_supply = np.zeros(R)     # troops lent to Russia for its own territory (North Korea)
        self.proposal_weeks_left = 0        # a scripted ceasefire proposal still on the table
        self.perceived = np.zeros(R)        # the provocation Russia perceived this week

        # this week's and last week's signals and axes
        self.headline = np.full(R, self.L.first("status_quo"), dtype=np.int8)
        self.ukraine_axis = np.full(R, self.L.first("routine_war"), dtype=np.int8)
        self.prev_headline = self.headline.copy()
        self.prev_ukraine_axis = self.ukraine_axis.copy()
        self._fresh_signals()
        self.prev = self._signals
        self.article4_request = np.zeros(R, dtype=bool)
        self._derived: dict[str, np.ndarray] = {}

        self.outcomes = OutcomeTracker(R, self.horizon, self.L.marks())
        self.record_events = record_events
        #: each act as posted: the positions of its runs, week, actor, targets, action, rung
        self._events: list[tuple[np.ndarray, int, int, np.ndarray, str, int]] = []
        self._red_line_log: list[tuple[np.ndarray, int, str, str]] = []

    # ------------------------------------------------------------------ weekly bookkeeping
    def _fresh_signals(self) -> None:
        R = self.size
        self._signals = {
            "hybrid_target": np.full(R, NO_TARGET, dtype=np.int16),
            "airspace_target": np.full(R, NO_TARGET, dtype=np.int16),
            "territory_target": np.full(R, NO_TARGET, dtype=np.int16),
            "forces_target": np.full(R, NO_TARGET, dtype=np.int16),
            "forces_deployment": np.full(R, NO_TARGET, dtype=np.int16),
            "deep_strike": np.zeros(R, dtype=bool),
            "strategic_strike": np.zeros(R, dtype=bool),
            "nato_attack": np.zeros(R, dtype=bool),
            "russian_nuclear": np.zeros(R, dtype=bool),
            "nato_nuclear": np.zeros(R, dtype=bool),
            "strikes_on_ukraine": np.zeros(R, dtype=bool),  # Russian strikes at the vertical rungs this week
            "incident": np.zeros(R, dtype=bool),
        }

    @property
    def now(self) -> dict[str, np.ndarray]:
        """This week's signals (Russian acts, Ukrainian strikes, NATO attacks)."""
        return self._signals

    def begin_week(self, week: int) -> None:
        """Open week ``week``: set the floors of both axes, then apply the scripted levers (their acts count)."""
        self.week = week
        self._fresh_signals()
        self.article4_request[:] = False
        ctx, p = self.ctx, self.params
        # the threat to Russia's territory fades; troops lent to Russia for its own ground speed the recapture
        # (DOMAIN.md 3 row 24: Kursk retaken with about 11,000 North Korean troops)
        self.territorial_threat *= p["territorial_threat_decay"] * (1.0 - p["troop_recapture_gain"] * self.troop_supply)
        self.proposal_weeks_left = max(0, self.proposal_weeks_left - 1)
        np.maximum(self.strategic_recent - 1, 0, out=self.strategic_recent)

        # axis floors first, so that this week's scripted acts raise them: the status quo with NATO,
        # the routine war in Ukraine, a war with NATO, a nuclear war
        L = self.L
        self.headline = np.where(self.at_war, L.first("general_war"), L.first("status_quo")).astype(np.int8)
        self.headline[self.strategic_war] = L.first("strategic_nuclear")
        self.ukraine_axis = np.where(self.fighting, L.first("routine_war"), L.first("de_escalation")).astype(np.int8)

        # scripted moves of this week
        moves = {m.id: m for m in ctx.doctrine.moves}
        self.moves = set()
        for mv in ctx.levers.timeline:
            if mv.week != week:
                continue
            kind = moves[mv.move]
            self.moves.add(mv.move)
            everyone = np.ones(self.size, dtype=bool)
            self.act(mv.actor, "russia", "move:" + mv.move, kind.rung, everyone)
            self.provocation += kind.provocation
            if kind.territorial_threat:
                np.minimum(self.territorial_threat + kind.territorial_threat, 1.0, out=self.territorial_threat)
            if kind.strategic:
                self.now["strategic_strike"][:] = True
                self.strategic_recent[:] = 4
            if kind.tension_relief:  # a step back discharges part of Russia's tension (DOMAIN.md 3 row 2)
                self.tension *= 1.0 - kind.tension_relief
            if kind.proposal_weeks:
                self.proposal_weeks_left = max(self.proposal_weeks_left, kind.proposal_weeks)

        # a general war with NATO provokes every week, as NATO's own acts do: the alliance's forces are fighting
        # Russia's (DOMAIN.md 8 Plan A phase 0: a nuclear 'warning shot' to halt a NATO advance in a conventional war)
        war = L.first("general_war")
        self.provocation += np.where(self.at_war, p["nato_act_provocation_share"] * ctx.severity[war], 0.0)

        # policies
        ds = ctx.levers.policies.deep_strike
        self.deep_strike_authorised = ds.authorised and week >= ds.from_week

        # deployments: scheduled window, condition on the ceasefire, not withdrawn
        ongoing = p["ongoing_deployment_share"]
        for i, d in enumerate(self.deployments):
            scheduled = d.start_week <= week and (d.end_week is None or week < d.end_week)
            if not scheduled:
                self.dep_active[:, i] = False
                continue
            if d.condition == "after_ceasefire":
                cond = self.ceasefire
            elif d.condition == "during_fighting":
                cond = self.fighting
            else:
                cond = np.ones(self.size, dtype=bool)
            active = cond & ~self.withdrawn[:, i]
            starting = active & ~self.dep_active[:, i]
            if starting.any():
                self.act(d.contributors[0], "russia", "deploy:" + d.type, L.first("posture"), starting)
                self.provocation += np.where(starting, self.dep_provocation[i], 0.0)
            if self.dep_inside[i]:
                self.provocation += np.where(active & ~starting, ongoing * self.dep_provocation[i], 0.0)
            self.dep_active[:, i] = active
        self._derived = {}  # the standing deployments are set for the week: derived state is computed afresh


    def end_week(self) -> None:
        """Close the week: record the axes and outcomes, keep this week's signals as last week's."""
        self.outcomes.record_week(self)
        self.prev = self._signals
        self.prev_headline = self.headline.copy()
        self.prev_ukraine_axis = self.ukraine_axis.copy()

    # ------------------------------------------------------------------ derived state
    def _memo(self, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A state derived from the week's standing deployments, computed once a week (read-only)."""
        out = self._derived.get(name)
        if out is None:
            out = self._derived[name] = compute()
            out.flags.writeable = False
        return out

    def forces_in_ukraine(self) -> np.ndarray:
        """True where NATO forces of any deployment stand inside Ukraine."""
        return self._memo("forces_in_ukraine", self._forces_in_ukraine)

    def _forces_in_ukraine(self) -> np.ndarray:
        out = np.zeros(self.size, dtype=bool)
        for d in np.flatnonzero(self.dep_inside):  # a loop over deployments: row-wise any() is slow
            out |= self.dep_active[:, d]
        return out

    def exposure(self) -> np.ndarray:
        """Total exposure of the NATO forces standing inside Ukraine."""
        return self._memo("exposure", self._exposure)

    def _exposure(self) -> np.ndarray:
        out = np.zeros(self.size)
        for d in np.flatnonzero(self.dep_inside):
            out += np.where(self.dep_active[:, d], self.dep_exposure[d], 0.0)
        return out

    def doctrine_permits_nuclear(self) -> np.ndarray:
        """Where the doctrine's permissive thresholds are met (DOMAIN.md 4.2): war with NATO, a NATO attack,
        a critical territorial threat, a recent strike on strategic assets, or nuclear use by the other side."""
        return (
            self.at_war
            | self.nato_retaliated
            | self.nuclear_used
            | (self.territorial_threat >= self.params["doctrine_threat_threshold"])
            | (self.strategic_recent > 0)
        )

    # ------------------------------------------------------------------ acts
    def act(self, actor: str | int, target: str | int | np.ndarray, action: str, rung: int,
            mask: np.ndarray) -> np.ndarray:
        """Post an act of ``actor`` toward ``target`` at ``rung`` in the replicates where ``mask`` holds; returns
        their positions (``np.flatnonzero(mask)``), for the caller's own writes at those runs.

        Most acts happen in a few runs: their effects are then written at those runs only (``rows``); an act in
        many runs is written over all of them under the mask. Both give the same state, on either path (the
        compiled one is ``kernels._act``)."""
        rows = mask.nonzero()[0]  # np.flatnonzero of a 1-D mask, without its two Python layers
        if not len(rows):
            return rows
        a = actor if isinstance(actor, (int, np.integer)) else self.ctx.index(actor)
        t: int | np.ndarray = self.ctx.index(target) if isinstance(target, str) else target
        abloc = self._bloc_of[a]
        tbloc = self._bloc_of[t] if isinstance(t, (int, np.integer)) else Bloc.NATO.value
        headline, ukraine = self._axes_lifted(abloc, tbloc, rung)
        if self.compiled:
            kernels.kernel("act")(mask, rows, rung, headline, self.headline, ukraine, self.ukraine_axis,
                                  self.outcomes.by_outcome, self.outcomes.matching(action, abloc, rung), self.week)
        else:
            sparse = 4 * len(rows) < self.size
            for lifted, axis in ((headline, self.headline), (ukraine, self.ukraine_axis)):
                if not lifted:
                    continue
                # the act lifts the axis to its rung where it stands lower
                if sparse:
                    axis[rows] = np.maximum(axis[rows], np.int8(rung))
                else:
                    np.maximum(axis, np.int8(rung), out=axis, where=mask)
            self.outcomes.mark_act(action, abloc, rung, rows if sparse else mask, self.week)
        if self.record_events:
            tt = np.full(len(rows), t, dtype=np.int16) if isinstance(t, (int, np.integer)) else t[rows].astype(np.int16)
            self._events.append((rows, self.week, int(a), tt, action, rung))
        return rows

    def _axes_lifted(self, abloc: str, tbloc: str, rung: int) -> tuple[bool, bool]:
        """Which axes an act between these blocs at ``rung`` lifts: the headline (Russia-NATO, or any nuclear rung)
        and the war inside Ukraine (Russia-Ukraine, or a Russian nuclear detonation). Worked out once per kind of
        act (acts are posted thousands of times a chunk)."""
        key = (abloc, tbloc, rung)
        lifted = self._lifted.get(key)
        if lifted is None:
            pair, L = {abloc, tbloc}, self.L
            lifted = (pair == {Bloc.RUSSIA.value, Bloc.NATO.value} or bool(L.has("nuclear")[rung]),
                      pair == {Bloc.RUSSIA.value, Bloc.UKRAINE.value}
                      or (bool(L.has("nuclear_detonation")[rung]) and abloc == Bloc.RUSSIA.value))
            self._lifted[key] = lifted
        return lifted

    def note_red_line(self, red_line: str, event: str, mask: np.ndarray) -> None:
        """Log a red-line ``event`` (crossed, enforced, pressed) in the replicates of ``mask``, when recording."""
        if self.record_events and mask.any():
            self._red_line_log.append((self.streams.run_ids[mask], self.week, red_line, event))

    def red_line_log(self) -> list[dict[str, int | str]]:
        """The logged red-line events as rows {run, week, red_line, event}, sorted by run and week."""
        rows: list[dict[str, int | str]] = [{"run": int(r), "week": week, "red_line": rl, "event": ev}
                                            for runs, week, rl, ev in self._red_line_log for r in runs]
        return sorted(rows, key=lambda row: (row["run"], row["week"]))

    def events(self) -> Events:
        """The recorded events, sorted by run and week, as integer codes (see :class:`Events`)."""
        if not self._events:
            empty = np.zeros(0, np.int16)
            return Events(np.zeros(0, np.int64), empty, empty, empty, empty, np.zeros(0, np.int8),
                          self.ctx.actor_ids, ())
        acts = self._events
        pos = np.concatenate([e[0] for e in acts])  # the runs' positions in the chunk
        counts = [len(e[0]) for e in acts]  # each act's runs share its week, actor, action and rung
        action_codes = sorted({e[4] for e in acts})
        code = {a: i for i, a in enumerate(action_codes)}
        # by run, then week, then the order acts were posted: acts are posted week after week, so a stable sort by
        # run alone gives it; sorting each run's rank among these runs (fewer than 2**16 in a chunk: a radix sort)
        ids = self.streams.run_ids
        by_rank = np.argsort(ids, kind="stable")
        rank = np.empty(len(ids), dtype=np.uint16 if len(ids) <= 1 << 16 else np.int64)
        rank[by_rank] = np.arange(len(ids))
        ranks = rank[pos]
        order = np.argsort(ranks, kind="stable")
        # each event as one number, (its act, its target), taken in that order: the act's week, actor, action and
        # rung are then read from the acts' own short columns, and every run's events are together, its id repeated
        bits = len(self.ctx.actor_ids).bit_length()
        target = np.concatenate([e[3] for e in acts])
        key = np.repeat(np.arange(len(acts), dtype=np.int32) << bits, counts)
        key |= np.where(target >= 0, target, self.nato)
        key = key[order]
        act = key >> bits
        run = np.repeat(ids[by_rank], np.bincount(ranks, minlength=len(ids)))

        def of_act(values: list[int], dtype: type) -> np.ndarray:
            return np.array(values, dtype=dtype)[act]

        actors, actions = _code_type(self.ctx.actor_ids), _code_type(action_codes)
        return Events(run, of_act([e[1] for e in acts], np.int16), of_act([e[2] for e in acts], actors),
                      (key & ((1 << bits) - 1)).astype(actors), of_act([code[e[4]] for e in acts], actions),
                      of_act([e[5] for e in acts], np.int8), self.ctx.actor_ids, tuple(action_codes))


class Events(Mapping[str, Any]):
    """A chunk's events, one per act, as columns: run, week, actor, target, action, rung.

    Actors, targets and actions are held as small integer codes into ``actor_ids`` and ``actions`` (a chunk's events
    cross from a worker to the main process as a few compact arrays instead of lists of strings); reading the column
    ``actor``, ``target`` or ``action`` gives its text, decoded here, the one place codes become names.
    :meth:`coded` gives a column's codes and labels as they are.

    >>> ev = Events(np.array([4, 4]), np.array([0, 2], np.int16), np.array([1, 0], np.int16),
    ...             np.array([0, 1], np.int16), np.array([0, 0], np.int16), np.array([3, 5], np.int8),
    ...             ("russia", "ukraine"), ("strike",))
    >>> ev["actor"], ev["action"], list(ev)
    (['ukraine', 'russia'], ['strike', 'strike'], ['run', 'week', 'actor', 'target', 'action', 'rung'])
    """

    COLUMNS = ("run", "week", "actor", "target", "action", "rung")

    def __init__(self, run: np.ndarray, week: np.ndarray, actor: np.ndarray, target: np.ndarray,
                 action: np.ndarray, rung: np.ndarray, actor_ids: tuple[str, ...], actions: tuple[str, ...]) -> None:
        self._numbers = {"run": run, "week": week, "rung": rung}
        self._codes = {"actor": (_small(actor, actor_ids), actor_ids), "target": (_small(target, actor_ids), actor_ids),
                       "action": (_small(action, actions), actions)}

    def coded(self, column: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """The codes of a text column (``actor``, ``target``, ``action``) and the labels they index."""
        return self._codes[column]

    def __getitem__(self, column: str) -> Any:
        if column in self._numbers:
            return self._numbers[column]
        codes, labels = self._codes[column]
        return np.asarray(labels, dtype=object)[codes].tolist() if len(codes) else []

    def __iter__(self) -> Iterator[str]:
        return iter(self.COLUMNS)

    def __len__(self) -> int:
        return len(self.COLUMNS)


def _code_type(labels: tuple[str, ...] | list[str]) -> type:
    """One byte a code when there are few enough labels (as there are actors and actions), two otherwise."""
    return np.int8 if len(labels) <= 127 else np.int16


def _small(codes: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Codes in the type :func:`_code_type` gives (no copy when they have it already)."""
    return codes.astype(_code_type(labels), copy=False)
