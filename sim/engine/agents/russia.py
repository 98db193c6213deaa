"""Russia: tension from Western steps, a logit choice of proportionate answers on two axes, red lines enforced by
their declared response, lags and accidents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.agents.base import Actor
from sim.engine.kernels import kernel, per_run
from sim.engine.red_lines import RedLineRule, compile_red_lines
from sim.engine.world import World
from sim.spec.doctrine import ActorSpec

if TYPE_CHECKING:
    from sim.engine.model import EscalationModel

#: The world's signal that an act of each reach sets (the member it fell on), which that member then answers.
_SIGNAL = {"hybrid": "hybrid_target", "airspace": "airspace_target", "territory": "territory_target"}


class ResponseAxis:
    """Russia's options on one axis, as arrays: rung, severity, cost, lags, requirements, how each is decided."""

    def __init__(self, world: World, axis: str) -> None:
        opts = [r for r in world.ctx.doctrine.responses if r.side == "russia" and r.axis == axis]
        self.options = opts
        self.ids = [o.id for o in opts]
        self.rung = np.array([o.rung for o in opts])
        self.severity = world.ctx.severity[self.rung]
        self.cost = np.array([o.cost for o in opts])
        self.lag_lo = np.array([o.lag_weeks[0] for o in opts])
        self.lag_hi = np.array([o.lag_weeks[1] for o in opts])
        self.by_red_line = np.array([o.decided_by == "red_line" for o in opts], dtype=bool)
        self.nuclear = world.L.has("nuclear")[self.rung] & (self.cost > 0)  # the options China's norm weighs on
        L = world.L
        #: the options NATO's answer deters: the alliance for its territory and above, the contributors of the
        #: forces struck below it (``Russia._deterrence``); the others' deterrence is 1
        self.alliance = self.rung >= L.first("strike_on_nato_territory")
        self.forces = L.has("strike_on_nato_forces")[self.rung] & ~self.alliance  # the alliance's answer comes first
        self.tempo = np.array([o.campaign_tempo for o in opts])
        self.campaign_end = np.array([o.campaign_end_rate for o in opts])
        self.campaign = np.zeros((len(opts), world.size), dtype=bool)  # campaigns under way, per option and run
        self.baseline = int(np.argmin(self.rung))  # the option that is no act: hold / routine war
        # the answers scheduled per week slot (a ring over the longest lag) and run: -1 where none
        self.pending = np.full((int(self.lag_hi.max()) + 1, world.size), -1, dtype=np.int16)
        #: this week's deterrence of each option per run (``Russia._deterrence``)
        self.deterrence: np.ndarray | None = None
        #: the choice's per-run terms that hold for the batch (``Russia._choice_terms``), once computed
        self.choice_terms: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def position(self, option_id: str) -> int:
        return self.ids.index(option_id)


class Russia(Actor):
    """Russia perceives Western steps with noise and answers on two axes.

    Each week it wants an answer of severity D = S_top (1 - exp(-g resolve T / S_top)): proportionate to its
    tension T and bounded by the top of the ladder. A logit choice weighs proportionality to D against each option's
    cost, scaled by fear of the answer it would draw; the answer it takes discharges the tension it meets. Threshold
    steps against NATO (strikes on its forces or territory, war) are never chosen for proportion: they come only
    when a declared red line that names them is enforced, with the line's credibility times Russia's restraint
    before NATO's answer. Answers come with lags (rhetoric at once, nuclear signalling in 1-3 weeks, sabotage after
    weeks of preparation). Sources: DOMAIN.md 0.1-0.4, 3.1 and 4.3 (CNA: calibrated damage); DOMAIN.md 5.1
    RAND RB-A2807-1 (fear of NATO's military response); DESIGN.md section 3 (quantal response; tension saturates on
    the ladder and is discharged by the answer that meets it).
    """

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.resolve = self.attribute("resolve")
        self.risk_tolerance = self.attribute("risk_tolerance")
        self.war_fatigue = self.attribute("war_fatigue")
        self.capability = self.attribute("capability")
        w = self.world
        self.red_lines: list[RedLineRule] = compile_red_lines(w, self)
        self.nato_axis = ResponseAxis(w, "nato")
        self.ukraine_axis = ResponseAxis(w, "ukraine")
        self.desired = np.zeros(w.size)
        self._reach = {o.id: o.reach for o in w.ctx.doctrine.responses if o.side == "russia"}
        self._top = float(w.ctx.severity.max())
        self._discharge_share = per_run(self.p["discharge_share"], w.size)  # per run, as the compiled path takes it
        # the numerator of restraint below the forces' threshold; read-only, as the exposure is (the compiled pass
        # then takes one array type)
        self._ones = np.ones(w.size)
        self._ones.flags.writeable = False

    def perceive(self) -> None:
        """Tension: T_t = decay * T_{t-1} + P_t * exp(sigma * z); log-normal misperception lowers as often as it
        raises."""
        w = self.world
        noise = np.exp(self.p["misperception_sigma"] * w.streams.normal("russia:misperception", w.week))
        w.perceived = w.provocation * noise
        w.provocation[:] = 0.0
        w.tension *= self.p["memory_decay"]
        w.tension += w.perceived
        # the answer Russia wants saturates at the top of the ladder (severity 0-100)
        self.desired = self._top * -np.expm1(-self.p["response_gain"] * self.resolve * w.tension / self._top)

    def _deterrence(self, axis: ResponseAxis) -> np.ndarray:
        """How much NATO's answer deters each option, shape (K, R): 1 below a strike on NATO forces, then rising with
        who would answer (the contributors of the forces struck; the alliance for its territory and above)."""
        model, w = self.model, self.world
        alliance, forces = axis.alliance, axis.forces
        det = axis.deterrence
        if det is None:  # the alliance's deterrence is sampled once per run: its rows are set once
            det = axis.deterrence = np.ones((len(axis.ids), w.size))
            if alliance.any():
                det[alliance] = 0.5 + model.alliance_deterrence()
        if forces.any():  # the contributors standing in Ukraine change from week to week
            det[forces] = 0.5 + model.contributor_deterrence()
        return det

    def _available(self, axis: ResponseAxis) -> np.ndarray:
        w = self.world
        checks = {
            "nato_forces_in_ukraine": w.forces_in_ukraine,
            "doctrine_permits_nuclear": w.doctrine_permits_nuclear,
            "nato_retaliated": lambda: w.nato_retaliated,
            "at_war": lambda: w.at_war,
            "nuclear_used": lambda: w.nuclear_used,
            "fighting": lambda: w.fighting,
        }
        cache: dict[str, np.ndarray] = {}
        avail = np.ones((len(axis.ids), w.size), dtype=bool)
        for k, opt in enumerate(axis.options):
            for req in opt.requires:
                if req not in cache:
                    cache[req] = checks[req]()
                avail[k] &= cache[req]
        return avail

    def _choose(self, axis: ResponseAxis, name: str, avail: np.ndarray, det: np.ndarray) -> np.ndarray:
        """Logit choice: U = -(S_k - D)^2 / (2 w^2) - c_k m_k (1 - risk_tolerance) d_k - n_k; P ~ exp(lambda U).

        ``m_k`` are third countries' cost multipliers, ``n_k`` China's norm against nuclear options. Options decided
        by red lines are left out. Arrays are (options, runs): one contiguous row per option."""
        w, p = self.world, self.p
        width = p["proportionality_width"]
        nuclear = axis.nuclear
        if w.compiled:  # the same arithmetic, fused into two kernels around numpy's exp (sim/engine/kernels.py)
            weights = np.empty((len(axis.ids), w.size))
            dead = np.empty((len(axis.ids), w.size), dtype=np.bool_)
            none = np.empty(w.size, dtype=np.bool_)
            denom, mod, norm_lev, rationality, plain = self._choice_terms(axis)
            kernel("russia_weights")(axis.severity, self.desired, denom, axis.cost, mod, self.risk_tolerance, det,
                                     nuclear, norm_lev, avail, axis.by_red_line, rationality, plain, weights, dead,
                                     none)
            np.exp(weights, out=weights)
            choice = np.empty(w.size, dtype=np.int64)
            kernel("draw_columns")(weights, dead, w.streams.uniform(f"russia:choice:{name}", w.week), none, choice)
            return choice
        diff = axis.severity[:, None] - self.desired[None, :]
        util = -(diff * diff) / (2.0 * width * width)
        cost = axis.cost[:, None] * self._cost_modifiers(axis)
        util -= cost * (1.0 - self.risk_tolerance)[None, :] * det
        if nuclear.any():  # DOMAIN.md 2.1 China row: 'nuclear weapons must not be used'
            util[nuclear] -= p["china_nuclear_norm"] * w.china_leverage[None, :]
        util = np.where(avail & ~axis.by_red_line[:, None], util * p["rationality"], -np.inf)
        return w.streams.logit_choice(util, f"russia:choice:{name}", w.week)

    def _choice_terms(self, axis: ResponseAxis) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The per-run terms of the choice that hold for the whole batch, as the kernel takes them: 2 w^2, the cost
        multipliers, China's norm times its leverage, lambda, and the options whose cost term is plainly
        c_k (1 - risk_tolerance) (multipliers all 1, not deterred, not nuclear). Third countries' effects are
        standing (set from sampled attributes in their ``perceive``, which runs before Russia's, the same every
        week), so they are computed once, at the first choice."""
        terms = axis.choice_terms
        if terms is None:
            w, p = self.world, self.p
            width = p["proportionality_width"]
            mod = self._cost_modifiers(axis)
            plain = (mod == 1.0).all(axis=1) & ~axis.alliance & ~axis.forces & ~axis.nuclear
            terms = axis.choice_terms = (
                per_run(2.0 * width * width, w.size), mod,
                per_run(p["china_nuclear_norm"] * w.china_leverage, w.size), per_run(p["rationality"], w.size), plain)
        return terms

    def _cost_modifiers(self, axis: ResponseAxis) -> np.ndarray:
        """Per-run cost multipliers from third countries: Belarus hosting cheapens signalling and, as a launch area,
        airspace probing; suppliers cheapen massed strikes (DOMAIN.md 2.1 Belarus, Iran and North Korea rows)."""
        w, p = self.world, self.p
        mod = np.ones((len(axis.ids), w.size))
        for k, oid in enumerate(axis.ids):
            if oid == "nuclear_signalling":
                mod[k] = 1.0 - p["nuclear_host_discount"] * w.host_capability
            elif oid == "airspace_violation":
                mod[k] = 1.0 - p["launch_area_discount"] * w.launch_area
            elif oid == "massed_strikes":
                mod[k] = 1.0 - p["supplier_discount"] * w.supplier_capability
        return mod

    def _exposed(self, axis: ResponseAxis, k: int) -> np.ndarray:
        """What makes declared option ``k`` worth its risk, the numerator of Russia's restraint min(1, E/d) before
        NATO's deterrence d (docs/model.md 4.5): the exposure E of NATO forces in Ukraine for a strike on them, 1
        below (min(1, 1/d) is 1 for options NATO's answer does not deter) and for the alliance's territory."""
        w = self.world
        if w.L.has("strike_on_nato_forces")[axis.rung[k]]:
            return w.exposure()
        return self._ones

    def decide(self) -> None:
        """Choose an answer on each axis, let enforced red lines impose their declared answers, discharge the tension
        the answers meet and schedule them after their lags."""
        w = self.world
        choices = {}
        for name, axis in (("nato", self.nato_axis), ("ukraine", self.ukraine_axis)):
            avail = self._available(axis)
            det = self._deterrence(axis)
            choice = self._choose(axis, name, avail, det)
            for rule in self.red_lines:
                if rule.declared_response not in axis.ids:
                    continue
                k = axis.position(rule.declared_response)
                rule.impose(w, self._exposed(axis, k), det[k], avail[k], axis.rung, k, choice)
            choices[name] = (axis, choice)
        self._discharge(choices["nato"][1], choices["ukraine"][1])
        for name, (axis, choice) in choices.items():
            self._schedule(axis, choice, name)

    def _discharge(self, nato: np.ndarray, ukraine: np.ndarray) -> None:
        """The answers met the tension: discharge the share of the desired severity they carry (DESIGN.md 3)."""
        w = self.world
        if w.compiled:
            na, ua = self.nato_axis, self.ukraine_axis
            kernel("discharge")(nato, na.severity, na.baseline, ukraine, ua.severity, ua.baseline, self.desired,
                                self._discharge_share, w.tension)
            return
        answered = np.zeros(w.size)
        for axis, choice in ((self.nato_axis, nato), (self.ukraine_axis, ukraine)):
            acted = (choice >= 0) & (choice != axis.baseline)
            answered += np.where(acted, axis.severity[np.maximum(choice, 0)] - axis.severity[axis.baseline], 0.0)
        share = np.minimum(1.0, answered / np.maximum(self.desired, 1e-9))
        w.tension *= 1.0 - self.p["discharge_share"] * share

    def _schedule(self, axis: ResponseAxis, choice: np.ndarray, name: str) -> None:
        """Schedule each run's answer after a lag drawn uniformly in its option's range; of two answers due the
        same week, the higher on the ladder stands."""
        w = self.world
        site = f"russia:lag:{name}"
        if w.compiled:
            kernel("schedule")(choice, axis.baseline, axis.lag_lo, axis.lag_hi, axis.rung, w.streams.keys,
                               w.streams.offset(site, w.week), w.week, axis.pending)
            return
        act = (choice >= 0) & (choice != axis.baseline)
        if not act.any():
            return
        rows = np.flatnonzero(act)
        c = choice[rows]
        lag = w.streams.integers_at(rows, axis.lag_lo[c], axis.lag_hi[c], site, w.week)
        slot = (w.week + lag) % axis.pending.shape[0]
        current = axis.pending[slot, rows]
        cur_rung = np.where(current >= 0, axis.rung[np.maximum(current, 0)], -1)
        better = axis.rung[c] > cur_rung
        axis.pending[slot[better], rows[better]] = c[better]

    def act(self) -> None:
        """Post the answers due this week; strikes on Ukraine may hit NATO forces, stray into NATO airspace or meet
        NATO air defence."""
        w = self.world
        struck = np.zeros(w.size, dtype=bool)  # Russian strikes on Ukraine at the vertical rungs this week
        vertical = w.L.first("vertical_in_ukraine")
        for name, axis in (("nato", self.nato_axis), ("ukraine", self.ukraine_axis)):
            slot = w.week % axis.pending.shape[0]
            fired = axis.pending[slot].copy()
            axis.pending[slot] = -1
            if not (fired >= 0).any() and not axis.campaign.any():
                continue
            avail = self._available(axis)  # a scheduled act lapses if its preconditions no longer hold
            due = np.bincount(fired.astype(np.intp) + 1, minlength=len(axis.ids) + 1)[1:] > 0
            for k, oid in enumerate(axis.ids):
                if not due[k] and axis.tempo[k] <= 0:  # nothing fired and no campaign: no act of this option
                    continue
                mask = (fired == k) & avail[k]
                if axis.tempo[k] > 0:
                    mask |= self._campaign(axis, name, k, avail[k], mask)
                if k == axis.baseline or not mask.any():
                    continue
                self._fire(oid, int(axis.rung[k]), mask)
                if name == "ukraine" and axis.rung[k] >= vertical:
                    struck |= mask
        self._accidents(struck)
        self._combat()

    def _campaign(self, axis: ResponseAxis, name: str, k: int, avail: np.ndarray, fired: np.ndarray) -> np.ndarray:
        """The week's acts of a campaign under way (massed strikes in waves, a sabotage campaign): a campaign starts
        when its option is first fired, repeats each later week with its tempo while its preconditions hold, and
        ends at its weekly end rate. Returns where it strikes this week (besides ``fired``)."""
        running = axis.campaign[k]
        if running.any():
            ended = running & (self.u(f"campaign_end:{axis.ids[k]}", where=running) < axis.campaign_end[k])
            running &= ~ended
        again = running & ~fired & avail & (self.u(f"campaign:{axis.ids[k]}", where=running) < axis.tempo[k])
        running |= fired
        return again

    def _fire(self, oid: str, rung: int, mask: np.ndarray) -> None:
        w, model = self.world, self.model
        now, L = w.now, w.L
        member_actor = w.member_index
        reach = self._reach[oid]
        if reach is not None:
            targets = model.targets("hybrid" if reach == "diplomatic" else reach, mask)
            if reach in _SIGNAL:
                now[_SIGNAL[reach]][mask] = targets[mask]
            w.act(self.index, member_actor[targets], oid, rung, mask)
        elif L.has("strike_on_nato_forces")[rung]:
            mask = mask & w.forces_in_ukraine()
            dep, lead = model.most_exposed_deployment()
            now["forces_target"][mask] = lead[mask]
            now["forces_deployment"][mask] = dep[mask]
            w.act(self.index, member_actor[np.maximum(lead, 0)], oid, rung, mask)
        elif self.ukraine_axis.ids.count(oid):
            w.act(self.index, w.ukraine, oid, rung, mask)
        else:  # threats, signalling, war, demonstrations and strategic strikes address the alliance
            w.act(self.index, w.nato, oid, rung, mask)
        if L.has("general_war")[rung]:
            w.at_war |= mask
            free = mask & (now["territory_target"] < 0)
            now["territory_target"][free] = model.targets("territory", free)[free]
        if L.has("nuclear_detonation")[rung]:
            w.nuclear_used |= mask
            now["russian_nuclear"] |= mask
        if L.has("strategic_nuclear")[rung]:
            w.strategic_war |= mask

    def _accidents(self, struck: np.ndarray) -> None:
        """Inadvertent escalation in a week of Russian strikes on Ukraine at the vertical rungs (``struck``): they hit
        exposed NATO forces (accident_rate x exposure) or stray into a neighbouring member's airspace (spillover_rate,
        raised by supplied strike drones); NATO air defence may meet them (``Member.act``). Only Russia's own strikes
        count: a Ukrainian deep strike lifts the Ukraine axis but fires no Russian missile. DOMAIN.md 3 rows 3 and 9;
        2.1 Romania, Iran and Poland rows; 2.2 air defence rows."""
        w, p, model = self.world, self.p, self.model
        if not struck.any():
            return
        exposure = w.exposure()
        hit = struck & (self.u("accident", where=struck) < p["accident_rate"] * exposure)
        if hit.any():
            dep, lead = model.most_exposed_deployment()
            w.now["forces_target"][hit] = lead[hit]
            w.now["forces_deployment"][hit] = dep[hit]
            w.act(self.index, w.member_index[np.maximum(lead, 0)], "accidental_strike_on_nato_forces",
                  w.L.first("strike_on_nato_forces"), hit)
        rate = p["spillover_rate"] * (1.0 + p["drone_spillover_gain"] * w.drone_supply)
        stray = struck & (self.u("spillover", where=struck) < rate)
        if stray.any():
            pick = model.targets("spillover", stray)
            w.now["airspace_target"][stray] = pick[stray]
            w.act(self.index, w.member_index[pick], "spillover", w.L.first("military_incident"), stray)
        w.now["strikes_on_ukraine"] |= struck

    def _combat(self) -> None:
        """Combat troops at war with Russia's forces: every week of fighting, each combatant deployment standing in
        Ukraine is in combat with them with chance ``combat_contact_rate x exposure`` (capped at 1), a strike on
        NATO forces that its lead contributor may answer (seed 000: 'a direct Russia-NATO confrontation')."""
        w, p, _model = self.world, self.p, self.model
        for d in np.flatnonzero(w.dep_combatant & w.dep_inside):
            standing = w.fighting & w.dep_active[:, d]
            if not standing.any():
                continue
            chance = min(1.0, p["combat_contact_rate"] * float(w.dep_exposure[d]))
            contact = standing & (self.u(f"combat:{d}", where=standing) < chance)
            free = contact & (w.now["forces_target"] < 0)
            w.now["forces_target"][free] = w.dep_lead[d]
            w.now["forces_deployment"][free] = d
            w.act(self.index, int(w.member_index[w.dep_lead[d]]), "combat_with_nato_forces",
                  w.L.first("strike_on_nato_forces"), contact)
