"""Russia: tension from Western steps and red lines, a logit choice of answers on two axes, lags and accidents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.agents.base import Actor
from sim.engine.red_lines import RedLineRule, compile_red_lines
from sim.engine.world import World
from sim.spec.doctrine import ActorSpec

if TYPE_CHECKING:
    from sim.engine.model import EscalationModel


class ResponseAxis:
    """Russia's options on one axis, as arrays: rung, severity, cost, lags, requirements."""

    def __init__(self, world: World, axis: str) -> None:
        opts = [r for r in world.ctx.doctrine.responses if r.side == "russia" and r.axis == axis]
        self.options = opts
        self.ids = [o.id for o in opts]
        self.rung = np.array([o.rung for o in opts])
        self.severity = world.ctx.severity[self.rung]
        self.cost = np.array([o.cost for o in opts])
        self.lag_lo = np.array([o.lag_weeks[0] for o in opts])
        self.lag_hi = np.array([o.lag_weeks[1] for o in opts])
        self.baseline = int(np.argmin(self.rung))  # the option that is no act: hold / routine war
        self.pending = np.full((world.size, int(self.lag_hi.max()) + 1), -1, dtype=np.int16)

    def position(self, option_id: str) -> int:
        return self.ids.index(option_id)


class Russia(Actor):
    """Russia perceives Western steps with noise, checks its red lines and answers on two axes by a logit choice.

    Utilities weigh proportionality to the perceived provocation, the option's cost scaled by fear of NATO's answer,
    and the commitment of an enforced red line; answers come with lags (rhetoric at once, nuclear signalling in 1-3
    weeks, sabotage after weeks of preparation). Sources: DOMAIN.md 0.1-0.4, 3.1 and 4.3 (CNA: calibrated damage);
    DOMAIN.md 5.1 RAND RB-A2807-1 (fear of NATO's military response); DESIGN.md section 3 (quantal response).
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
        self.perceived = np.zeros(w.size)
        self.chosen: dict[str, np.ndarray] = {}

    def perceive(self) -> None:
        """Tension: T_t = decay * T_{t-1} + P_t * exp(sigma * z); log-normal misperception lowers as often as it
        raises."""
        w = self.world
        noise = np.exp(self.p["misperception_sigma"] * w.streams.normal("russia:misperception", w.week))
        self.perceived = w.provocation * noise
        w.provocation[:] = 0.0
        w.tension *= self.p["memory_decay"]
        w.tension += self.perceived

    def _deterrence(self, axis: ResponseAxis) -> np.ndarray:
        """How much NATO's answer deters each option, shape (K, R): 1 below rung 9, rising with who would answer."""
        model, w = self.model, self.world
        det = np.ones((len(axis.ids), w.size))
        forces_det = model.contributor_deterrence()
        alliance_det = model.alliance_deterrence()
        det[axis.rung == 9] = 0.5 + forces_det
        det[axis.rung >= 10] = 0.5 + alliance_det
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

    def _choose(self, axis: ResponseAxis, name: str, commit: np.ndarray) -> np.ndarray:
        """Logit choice: U = -(S_k - D)^2 / (2 w^2) - c_k (1 - risk_tolerance) d_k + commitment; P ~ exp(lambda U).

        Arrays are (options, runs): one contiguous row per option."""
        w, p = self.world, self.p
        desired = p["response_gain"] * self.resolve * w.tension
        width = p["proportionality_width"]
        diff = axis.severity[:, None] - desired[None, :]
        util = -(diff * diff) / (2.0 * width * width)
        cost = axis.cost[:, None] * self._cost_modifiers(axis)
        util -= cost * (1.0 - self.risk_tolerance)[None, :] * self._deterrence(axis)
        util += commit
        if (axis.rung == 9).any():
            util[axis.rung == 9] += p["exposure_weight"] * w.exposure()
        avail = self._available(axis)
        util = np.where(avail, util * p["rationality"], -np.inf)
        return w.streams.logit_choice(util, f"russia:choice:{name}", w.week)

    def _cost_modifiers(self, axis: ResponseAxis) -> np.ndarray:
        """Per-run cost multipliers and additions: Belarus hosting cheapens signalling, suppliers cheapen massed
        strikes, China's norm makes nuclear options dearer (DOMAIN.md 2.1 Belarus, Iran, North Korea, China rows)."""
        w, p = self.world, self.p
        mod = np.ones((len(axis.ids), w.size))
        for k, oid in enumerate(axis.ids):
            if oid == "nuclear_signalling":
                mod[k] = 1.0 - p["nuclear_host_discount"] * w.host_capability
            elif oid == "massed_strikes":
                mod[k] = 1.0 - p["supplier_discount"] * w.supplier_capability
            elif axis.rung[k] >= 13 and axis.cost[k] > 0:
                mod[k] = 1.0 + p["china_nuclear_norm"] * w.china_leverage / axis.cost[k]
        return mod

    def decide(self) -> None:
        """Check red lines, choose an answer on each axis and schedule it after its lag."""
        w = self.world
        commit_nato = np.zeros((len(self.nato_axis.ids), w.size))
        commit_ukr = np.zeros((len(self.ukraine_axis.ids), w.size))
        for rule in self.red_lines:
            bonus = rule.commitment(w)
            if rule.declared_response in self.nato_axis.ids:
                commit_nato[self.nato_axis.position(rule.declared_response)] += bonus
            else:
                commit_ukr[self.ukraine_axis.position(rule.declared_response)] += bonus
        for name, axis, commit in (("nato", self.nato_axis, commit_nato), ("ukraine", self.ukraine_axis, commit_ukr)):
            choice = self._choose(axis, name, commit)
            self.chosen[name] = choice
            self._schedule(axis, choice, name)

    def _schedule(self, axis: ResponseAxis, choice: np.ndarray, name: str) -> None:
        w = self.world
        act = (choice >= 0) & (choice != axis.baseline)
        if not act.any():
            return
        rows = np.flatnonzero(act)
        c = choice[rows]
        lag = w.streams.take(rows).integers(axis.lag_lo[c], axis.lag_hi[c], f"russia:lag:{name}", w.week)
        slot = (w.week + lag) % axis.pending.shape[1]
        current = axis.pending[rows, slot]
        cur_rung = np.where(current >= 0, axis.rung[np.maximum(current, 0)], -1)
        better = axis.rung[c] > cur_rung
        axis.pending[rows[better], slot[better]] = c[better]

    def act(self) -> None:
        """Post the answers due this week; massed strikes may hit NATO forces or stray into NATO airspace."""
        w, model = self.world, self.model
        targets = model.target_members()
        struck = np.zeros(w.size, dtype=bool)  # Russian strikes on Ukraine at rung 8 or above this week
        for name, axis in (("nato", self.nato_axis), ("ukraine", self.ukraine_axis)):
            slot = w.week % axis.pending.shape[1]
            fired = axis.pending[:, slot].copy()
            axis.pending[:, slot] = -1
            if not (fired >= 0).any():
                continue
            avail = self._available(axis)  # a scheduled act lapses if its preconditions no longer hold
            for k, oid in enumerate(axis.ids):
                mask = (fired == k) & avail[k]
                if k == axis.baseline or not mask.any():
                    continue
                self._fire(oid, int(axis.rung[k]), mask, targets)
                if name == "ukraine" and axis.rung[k] >= 8:
                    struck |= mask
        self._accidents(struck)

    def _fire(self, oid: str, rung: int, mask: np.ndarray, targets: np.ndarray) -> None:
        w, model = self.world, self.model
        now = w.now
        member_actor = w.member_index
        if oid in ("hybrid_attack", "airspace_violation", "coercion", "strike_nato_territory", "limited_nuclear_use"):
            field = {"hybrid_attack": "hybrid_target", "airspace_violation": "airspace_target",
                     "strike_nato_territory": "territory_target", "limited_nuclear_use": "territory_target"}.get(oid)
            if field:
                now[field][mask] = targets[mask]
            w.act(self.index, member_actor[targets], oid, rung, mask)
        elif oid == "strike_nato_forces_in_ukraine":
            mask = mask & w.forces_in_ukraine()
            dep, lead = model.most_exposed_deployment()
            now["forces_target"][mask] = lead[mask]
            now["forces_deployment"][mask] = dep[mask]
            w.act(self.index, member_actor[np.maximum(lead, 0)], oid, rung, mask)
        elif oid in ("massed_strikes", "new_weapon_demonstration", "nuclear_use_in_ukraine"):
            w.act(self.index, w.ukraine, oid, rung, mask)
        else:  # threats, signalling, war, demonstrations and strategic strikes address the alliance
            w.act(self.index, w.nato, oid, rung, mask)
        if oid == "general_war":
            w.at_war |= mask
            untargeted = mask & (now["territory_target"] < 0)
            now["territory_target"][untargeted] = targets[untargeted]
        if rung >= 14:
            w.nuclear_used |= mask
            now["russian_nuclear"] |= mask
        if rung >= 15:
            w.strategic_war |= mask

    def _accidents(self, struck: np.ndarray) -> None:
        """Inadvertent escalation: in a week of Russian strikes on Ukraine at rung 8 or above (``struck``), they hit
        exposed NATO forces (accident_rate x exposure) or stray into a frontline member's airspace (spillover_rate).
        Only Russia's own strikes count: a Ukrainian deep strike lifts the Ukraine axis but fires no Russian missile.
        DOMAIN.md 3 rows 3 and 9; 2.1 Romania row."""
        w, p, model = self.world, self.p, self.model
        if not struck.any():
            return
        exposure = w.exposure()
        hit = struck & (self.u("accident", where=struck) < p["accident_rate"] * exposure)
        if hit.any():
            dep, lead = model.most_exposed_deployment()
            w.now["forces_target"][hit] = lead[hit]
            w.now["forces_deployment"][hit] = dep[hit]
            w.act(self.index, w.member_index[np.maximum(lead, 0)], "accidental_strike_on_nato_forces", 9, hit)
        stray = struck & (self.u("spillover", where=struck) < p["spillover_rate"])
        if stray.any():
            frontline = np.flatnonzero(w.frontline)
            pick = frontline[np.minimum((self.u("spillover_target") * len(frontline)).astype(int), len(frontline) - 1)]
            w.now["airspace_target"][stray] = pick[stray]
            w.act(self.index, w.member_index[pick], "spillover", 7, stray)
