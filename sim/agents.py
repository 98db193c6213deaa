"""The actors as Mesa agents. Each agent's state is a set of numpy arrays over the R replicates of its model.

Every week runs in three agent stages, each over all agents in roster order, then the model resolves the week:

- ``perceive``: read the world (Russia updates its tension; third countries set their standing effects);
- ``decide``: choose (Russia schedules responses with lags; members and the alliance answer last week's Russian
  acts; Ukraine decides deep strikes; mediators try for deals);
- ``act``: post the acts that fall due this week to the world.

Rules cite their source; equations are in docs/model.md. No method loops over replicates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.config import ActorSpec, Normal
from sim.rules import RedLineRule, compile_red_lines
from sim.world import World

if TYPE_CHECKING:
    from sim.model import EscalationModel


class Actor(mesa.Agent):
    """Base of every actor agent: its spec, its sampled attributes and no-op stages."""

    model: "EscalationModel"

    def __init__(self, model: "EscalationModel", spec: ActorSpec) -> None:
        super().__init__(model)
        self.spec = spec
        self.actor_id = spec.id
        self.index = model.world.ctx.index(spec.id)

    @property
    def world(self) -> World:
        return self.model.world

    @property
    def p(self) -> dict[str, float]:
        return self.model.world.ctx.params

    def attribute(self, name: str) -> np.ndarray:
        """This actor's attribute ``name``, sampled once per run (the scenario's uncertainty overrides it)."""
        key = f"{self.actor_id}.{name}"
        dist = self.world.ctx.scenario.uncertainties.get(key) or self.spec.attributes[name]
        s = self.world.streams
        z = s.normal("param:" + key, week=-1) if isinstance(dist, Normal) else None
        values = dist.quantile(s.uniform("param:" + key, week=-1), z)
        self.model.sampled[key] = values
        return values

    def u(self, site: str, k: int = 0, where: np.ndarray | None = None) -> np.ndarray:
        """This week's keyed uniforms for a named draw site of this actor (only in the runs ``where`` selects)."""
        return self.world.streams.uniform(f"{self.actor_id}:{site}", self.world.week, k, where)

    def perceive(self) -> None:
        """Read the world."""

    def decide(self) -> None:
        """Choose this week's moves."""

    def act(self) -> None:
        """Post this week's acts."""


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

    def __init__(self, model: "EscalationModel", spec: ActorSpec) -> None:
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
        """Tension: T_t = decay * T_{t-1} + P_t * exp(sigma * z); log-normal misperception lowers as often as it raises."""
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
            now["territory_target"][mask & (now["territory_target"] < 0)] = targets[mask & (now["territory_target"] < 0)]
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


class Ukraine(Actor):
    """Ukraine strikes deep into Russia with Western weapons when authorised, and now and then hits strategic assets.

    Sources: DOMAIN.md 2.1 Ukraine row; DOMAIN.md 3 rows 24, 26; seed 004_44b9cfa060f9e693.txt (Zelensky urged the
    US and UK to allow ATACMS and Storm Shadow strikes); DOMAIN.md 10 (Spiderweb).
    """

    def __init__(self, model: "EscalationModel", spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.resolve = self.attribute("resolve")
        self.capability = self.attribute("capability")
        self.war_fatigue = self.attribute("war_fatigue")

    def supply(self) -> np.ndarray:
        """The long-range strike supply of the authorising suppliers: the sum of their sampled ``capability``
        (1 where the policy names no supplier). DOMAIN.md 3 row 26: ATACMS (US) and Storm Shadow (UK) were used
        within days of each other; each supplier's own permission adds its missiles."""
        suppliers = self.world.ctx.levers.policies.deep_strike.suppliers
        if not suppliers:
            return np.ones(self.world.size)
        return sum(m.capability for m in self.model.members if m.actor_id in suppliers)

    def act(self) -> None:
        w, p = self.world, self.p
        if w.deep_strike_authorised:
            chance = p["deep_strike_rate"] * self.capability * self.supply()
            deep = w.fighting & (self.u("deep_strike") < chance)
            w.now["deep_strike"] |= deep
            w.provocation += np.where(deep, p["deep_strike_provocation"], 0.0)
            w.act(self.index, w.russia, "deep_strike", 8, deep)
        strategic = w.fighting & (self.u("strategic_strike") < p["strategic_strike_rate"])
        if strategic.any():
            move = next(m for m in w.ctx.doctrine.moves if m.id == "strategic_strike")
            w.now["strategic_strike"] |= strategic
            w.strategic_recent[strategic] = 4
            w.provocation += np.where(strategic, move.provocation, 0.0)
            w.act(self.index, w.russia, "strategic_strike", 8, strategic)


class Member(Actor):
    """A NATO member answers Russian acts on its soil or its troops by its own appetite: expulsions after sabotage,
    shoot-downs after incursions, national retaliation or withdrawal after its troops are struck, and requests for
    Article 4. Sources: DOMAIN.md 2.1 member rows; DOMAIN.md 3.1."""

    def __init__(self, model: "EscalationModel", spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.member = self.world.members.index(spec.id)
        self.resolve = self.attribute("resolve")
        self.hawkishness = self.attribute("hawkishness")
        self.article4_propensity = self.attribute("article4_propensity")
        self.article5_support = self.attribute("article5_support")
        self.deterrence_weight = self.attribute("deterrence_weight")
        # long-range strike weapons the member can supply (0 for members that have none to give)
        self.capability = self.attribute("capability") if "capability" in spec.attributes else np.zeros(self.world.size)
        self.mediation = Mediation(self) if "mediator" in {r.value for r in spec.roles} else None
        self._answers: list[tuple[str, int, np.ndarray]] = []

    def decide(self) -> None:
        if self.mediation is not None:
            self.mediation.decide()
        w, p = self.world, self.p
        prev, m = w.prev, self.member
        hybrid = prev["hybrid_target"] == m
        airspace = prev["airspace_target"] == m
        forces = prev["forces_target"] == m
        territory = prev["territory_target"] == m
        hawk = self.hawkishness
        self._answers = [
            ("expel_diplomats", 3, hybrid & (self.u("expel", where=hybrid) < p["expel_rate"] * hawk)),
            ("shoot_down_intruder", 7, airspace & (self.u("shoot", where=airspace) < p["shootdown_rate"] * hawk)),
            ("national_retaliation", 11, forces & ~w.at_war
             & (self.u("retaliate", where=forces) < p["national_retaliation_rate"] * hawk * self.resolve)),
        ]
        prop = self.article4_propensity
        w.article4_request |= (
            (hybrid & (self.u("a4_hybrid", where=hybrid) < p["hybrid_article4_factor"] * prop))
            | (airspace & (self.u("a4_airspace", where=airspace) < p["airspace_article4_factor"] * prop))
            | ((forces | territory) & (self.u("a4_strike", where=forces | territory) < p["strike_article4_factor"] * prop))
        )
        if forces.any() and len(w.deployments):
            leads = np.flatnonzero(w.dep_lead == m)
            withdraw = forces & (self.u("withdraw", where=forces) < p["withdrawal_rate"] * (1.0 - self.resolve))
            for d in leads:
                w.withdrawn[:, d] |= withdraw & (prev["forces_deployment"] == d)

    def act(self) -> None:
        if self.mediation is not None:
            self.mediation.act()
        w, share = self.world, self.p["nato_act_provocation_share"]
        for action, rung, mask in self._answers:
            if not mask.any():
                continue
            w.act(self.index, w.russia, action, rung, mask)
            w.provocation += np.where(mask, share * w.ctx.severity[rung], 0.0)
            if rung >= 11:
                w.now["nato_attack"] |= mask
                w.nato_retaliated |= mask


class Alliance(Actor):
    """The alliance's collective decisions: Article 4 when a member asks, Article 5 by (near) consensus after a
    strike on member territory, collective retaliation, flank reinforcement, and a rare nuclear answer to Russian
    nuclear use. Sources: DOMAIN.md 3.1; seed 004_44b9cfa060f9e693.txt (Article 5); DOMAIN.md 7 (Swift Centre)."""

    def __init__(self, model: "EscalationModel", spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.cohesion = self.attribute("cohesion")
        self.resolve = self.attribute("resolve")
        self._answers: list[tuple[str, int, np.ndarray]] = []

    def decide(self) -> None:
        w, p, model = self.world, self.p, self.model
        prev = w.prev
        article4 = w.article4_request.copy()
        struck = (prev["territory_target"] >= 0) & ~w.article5
        yes = np.zeros(w.size)
        for k, member in enumerate(model.members):
            yes += member.article5_support > self.u("article5_vote", k, where=struck)
        article5 = struck & (yes / len(model.members) >= p["article5_threshold"])
        w.article5 |= article5
        retaliate = article5 & (self.u("retaliate", where=article5) < p["alliance_retaliation_rate"] * self.resolve)
        incident = (prev["hybrid_target"] >= 0) | (prev["airspace_target"] >= 0)
        reinforce = incident & (self.u("reinforce", where=incident) < p["reinforce_rate"])
        nuclear = prev["russian_nuclear"] & (self.u("nuclear", where=prev["russian_nuclear"]) < p["nato_nuclear_response_rate"])
        self._answers = [
            ("article4_consultation", 1, article4),
            ("article5_invoked", 2, article5),
            ("reinforce_flank", 4, reinforce),
            ("alliance_retaliation", 11, retaliate),
            ("nato_nuclear_response", 14, nuclear),
        ]

    def act(self) -> None:
        w, share = self.world, self.p["nato_act_provocation_share"]
        for action, rung, mask in self._answers:
            if not mask.any():
                continue
            w.act(self.index, w.russia, action, rung, mask)
            if rung >= 3:
                w.provocation += np.where(mask, share * w.ctx.severity[rung], 0.0)
            if rung >= 11:
                w.now["nato_attack"] |= mask
                w.nato_retaliated |= mask
            if rung >= 14:
                w.nuclear_used |= mask


class Mediation:
    """Mediation by one actor (China; Turkey, also a NATO member): attempts grow with danger and yield partial
    deals (swaps, corridors, moratoria) far more often than a ceasefire. Sources: DOMAIN.md 2.3 and its model
    implication; seed 001_3227528b8a3d3f35.txt ('Negotiated Pause: Diplomatic intermediaries (possibly China or
    Turkey)')."""

    def __init__(self, agent: Actor) -> None:
        self.agent = agent
        self.propensity = agent.attribute("mediation_propensity")
        self.leverage = agent.attribute("leverage")
        mediators = agent.world.ctx.levers.mediators
        self.active = mediators is None or agent.actor_id in mediators
        self.deal = self.ceasefire = np.zeros(agent.world.size, dtype=bool)

    def decide(self) -> None:
        a = self.agent
        w, p, model = a.world, a.p, a.model
        if not self.active:
            return
        danger = np.maximum(w.ctx.severity[w.headline], w.ctx.severity[w.ukraine_axis]) / 100.0
        attempt = w.fighting & (a.u("mediation_attempt") < self.propensity * (1.0 + p["mediation_danger_gain"] * danger))
        lift = w.dialogue_lift * self.leverage
        fatigue = 0.5 * (model.russia.war_fatigue + model.ukraine.war_fatigue)
        self.deal = attempt & (a.u("mediation_deal", where=attempt) < p["partial_deal_rate"] * lift)
        self.ceasefire = attempt & (a.u("mediation_ceasefire", where=attempt) < p["ceasefire_rate"] * lift * fatigue)

    def act(self) -> None:
        a = self.agent
        w = a.world
        if not self.active:
            return
        if self.deal.any():
            w.act(a.index, w.russia, "partial_deal", 0, self.deal)
            w.tension *= np.where(self.deal, 1.0 - a.p["deal_relief"], 1.0)
        if self.ceasefire.any():
            w.act(a.index, w.russia, "ceasefire", 0, self.ceasefire)
            w.ceasefire |= self.ceasefire
            w.fighting &= ~self.ceasefire
            w.at_war &= ~self.ceasefire


class Mediator(Actor):
    """A third-country mediator (China): mediates, and its leverage backs the norm against nuclear use.
    Source: DOMAIN.md 2.1 China row (12-point paper: 'nuclear weapons must not be used')."""

    def __init__(self, model: "EscalationModel", spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.mediation = Mediation(self)

    def perceive(self) -> None:
        if self.mediation.active:
            np.maximum(self.world.china_leverage, self.mediation.leverage, out=self.world.china_leverage)

    def decide(self) -> None:
        self.mediation.decide()

    def act(self) -> None:
        self.mediation.act()


class DialogueVoice(Actor):
    """A third country that calls for dialogue (India) lifts the success of mediation in proportion to its leverage.
    Source: DOMAIN.md 2.1 India row; seed 001_3227528b8a3d3f35.txt (India urged dialogue)."""

    def __init__(self, model: "EscalationModel", spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.leverage = self.attribute("leverage")

    def perceive(self) -> None:
        self.world.dialogue_lift = 1.0 + self.p["dialogue_boost"] * self.leverage


class Supplier(Actor):
    """A supplier (Iran's drones, North Korea's troops and shells) cheapens Russia's massed strikes.
    Sources: DOMAIN.md 2.1 Iran and North Korea rows."""

    def __init__(self, model: "EscalationModel", spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.capability = self.attribute("capability")

    def perceive(self) -> None:
        np.maximum(self.world.supplier_capability, self.capability, out=self.world.supplier_capability)


class NuclearHost(Actor):
    """A host of Russian nuclear weapons (Belarus) cheapens Russian nuclear signalling.
    Source: DOMAIN.md 2.1 Belarus row; DOMAIN.md 3 row 14."""

    def __init__(self, model: "EscalationModel", spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.capability = self.attribute("capability")

    def perceive(self) -> None:
        np.maximum(self.world.host_capability, self.capability, out=self.world.host_capability)


def agent_class(spec: ActorSpec) -> type[Actor]:
    """The agent class that plays an actor, from its bloc and roles (the registry is complete: a test checks)."""
    roles = {r.value for r in spec.roles}
    if spec.id == "russia":
        return Russia
    if spec.id == "ukraine":
        return Ukraine
    if "alliance" in roles:
        return Alliance
    if spec.bloc.value == "nato":
        return Member
    if "mediator" in roles:
        return Mediator
    if "dialogue" in roles:
        return DialogueVoice
    if "supplier" in roles:
        return Supplier
    if "nuclear_host" in roles:
        return NuclearHost
    raise ValueError(f"no agent class plays actor '{spec.id}' (bloc {spec.bloc.value}, roles {sorted(roles)})")

