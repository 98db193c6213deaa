"""NATO: each member's national answers to Russian acts, and the alliance's Article 4 and Article 5 decisions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.agents.base import Actor, at_rows, scatter
from sim.engine.agents.mediators import Mediation
from sim.spec.doctrine import ActorSpec

if TYPE_CHECKING:
    from sim.engine.model import EscalationModel


class Member(Actor):
    """A NATO member answers Russian acts on its soil or its troops by its own appetite: expulsions after sabotage,
    shoot-downs after incursions, national retaliation or withdrawal after its troops are struck, and requests for
    Article 4. Its answers and their rungs are the ``side: nato`` rows of configs/responses.yaml; each answers last
    week's act (their lag is one week). Sources: DOMAIN.md 2.1 member rows; DOMAIN.md 3.1."""

    #: A member's national answers, in the order they are posted.
    ANSWERS = ("expel_diplomats", "shoot_down_intruder", "national_retaliation")

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
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
        self._answers: list[tuple[str, np.ndarray]] = []
        w = self.world  # the deployments with NATO-crewed air defence that this member leads
        self._air_defence = np.flatnonzero(w.dep_intercepts & (w.dep_lead == self.member))

    def decide(self) -> None:
        """Answer last week's acts on this member, in the runs where it was a target only: the rules below read as
        over all runs, but each mask and draw is taken at those rows (``model.struck_pairs()``), and the draws are
        keyed by run, so the values are those of a draw over all runs."""
        if self.mediation is not None:
            self.mediation.decide()
        w, p = self.world, self.p
        nothing = self.model.no_runs()
        self._answers = [(action, nothing) for action in self.ANSWERS]
        pairs = self.model.struck_pairs()
        mine = pairs.of(self.member)
        if mine.start == mine.stop:
            return
        at = pairs.at[mine]  # the runs (positions) where this member was a target last week
        hybrid, airspace, forces, territory = (signal[mine] for signal in pairs.on_member)

        def u(site: str) -> np.ndarray:
            return w.streams.uniform_at(at, f"{self.actor_id}:{site}", w.week)

        def par(name: str) -> np.ndarray | float:
            return at_rows(p[name], at)

        def chance(sel: np.ndarray, site: str, p_answer: np.ndarray | float) -> np.ndarray:
            """``sel & (u(site) < p_answer)``, drawn only when some run is selected (a keyed draw: skipping it
            changes no other)."""
            return sel & (u(site) < p_answer) if sel.any() else sel

        hawk, resolve = self.hawkishness[at], self.resolve[at]
        answers = (
            chance(hybrid, "expel", par("expel_rate") * hawk),
            chance(airspace, "shoot", par("shootdown_rate") * hawk),
            chance(forces & ~w.at_war[at], "retaliate", par("national_retaliation_rate") * hawk * resolve),
        )
        self._answers = [(action, scatter(w.size, at[sel]) if sel.any() else nothing)
                         for action, sel in zip(self.ANSWERS, answers, strict=True)]
        prop = self.article4_propensity[at]
        struck = forces | territory
        request = (
            chance(hybrid, "a4_hybrid", par("hybrid_article4_factor") * prop)
            | chance(airspace, "a4_airspace", par("airspace_article4_factor") * prop)
            | chance(struck, "a4_strike", par("strike_article4_factor") * prop)
        )
        w.article4_request[at[request]] = True
        if forces.any() and len(w.deployments):
            withdraw = forces & (u("withdraw") < par("withdrawal_rate") * (1.0 - resolve))
            deployment = pairs.deployment[mine]
            for d in np.flatnonzero(w.dep_lead == self.member):
                w.withdrawn[at[withdraw & (deployment == d)], d] = True

    def act(self) -> None:
        if self.mediation is not None:
            self.mediation.act()
        post_answers(self, self._answers)
        self._engage_air_defence()

    def _engage_air_defence(self) -> None:
        """The NATO-crewed air defence this member leads meets the week's Russian strikes on Ukraine: with chance
        ``air_defence_engagement_rate`` it engages, a military incident with Russia that Russia perceives as
        participation; from NATO soil the engagement is over the member's own territory, which may then ask for
        Article 4 (DOMAIN.md 2.2 rows 4 and 5; 2.1 Poland row: drones shot down with allied jets and Article 4, Sep
        2025; Romania row: a drone tracked for 50 minutes, not fired on for the risk of debris)."""
        w, p = self.world, self.p
        mine = self._air_defence
        if not len(mine):
            return
        struck = w.now["strikes_on_ukraine"]
        if not struck.any():
            return
        u = self.u("air_defence", where=struck)
        for d in mine:
            engaged = struck & w.dep_active[:, d] & (u < p["air_defence_engagement_rate"])
            if not engaged.any():
                continue
            post_answers(self, [("air_defence_engagement", engaged)])
            if not w.dep_inside[d]:
                free = engaged & (w.now["airspace_target"] < 0)
                w.now["airspace_target"][free] = self.member


def post_answers(actor: Actor, answers: list[tuple[str, np.ndarray]]) -> None:
    """Post NATO answers (option ids of configs/responses.yaml) toward Russia: each adds a share of its severity to
    Russia's provocation from the posture rungs up, strikes on Russian forces count as NATO attacks, and a nuclear
    detonation as NATO nuclear use (the condition of Russia's doctrinal red line)."""
    w = actor.world
    share, L = actor.p["nato_act_provocation_share"], w.L
    for action, mask in answers:
        if not mask.any():
            continue
        rung = w.ctx.response(action).rung
        w.act(actor.index, w.russia, action, rung, mask)
        if rung >= L.first("posture"):
            w.provocation += np.where(mask, share * w.ctx.severity[rung], 0.0)
        if rung >= L.first("nato_attack"):
            w.now["nato_attack"] |= mask
            w.nato_retaliated |= mask
        if L.has("nuclear_detonation")[rung]:
            w.nuclear_used |= mask
            w.now["nato_nuclear"] |= mask


class Alliance(Actor):
    """The alliance's collective decisions: Article 4 when a member asks; Article 5 by a vote of the members after a
    strike on member territory, each member backing it with probability support^(1/cohesion), so that a less
    cohesive alliance can split; collective retaliation, flank reinforcement; and one decision per crisis whether
    to answer Russian nuclear use in kind. Sources: DOMAIN.md 3.1; seed 004_44b9cfa060f9e693.txt (Article 5);
    seed 001_3227528b8a3d3f35.txt (leaders divided); DOMAIN.md 7 (Swift Centre: 11% US nuclear strike within 90
    days of Russian use)."""

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.cohesion = self.attribute("cohesion")
        self.resolve = self.attribute("resolve")
        self.nuclear_decided = np.zeros(self.world.size, dtype=bool)
        self._answers: list[tuple[str, np.ndarray]] = []

    def decide(self) -> None:
        w, p, model = self.world, self.p, self.model
        prev = w.prev
        article4 = w.article4_request.copy()
        struck = (prev["territory_target"] >= 0) & ~w.article5
        yes = np.zeros(w.size)
        if struck.any():  # the vote is taken only where a member was struck, by the same keyed draws
            at = np.flatnonzero(struck)
            votes = np.zeros(len(at))
            exponent = 1.0 / self.cohesion[at]
            for k, member in enumerate(model.members):
                backing = member.article5_support[at] ** exponent
                votes += backing > w.streams.uniform_at(at, f"{self.actor_id}:article5_vote", w.week, k)
            yes[at] = votes
        article5 = struck & (yes / len(model.members) >= p["article5_threshold"])
        w.article5 |= article5
        retaliate = article5 & (self.u("retaliate", where=article5) < p["alliance_retaliation_rate"] * self.resolve)
        incident = (prev["hybrid_target"] >= 0) | (prev["airspace_target"] >= 0)
        reinforce = incident & (self.u("reinforce", where=incident) < p["reinforce_rate"])
        # Russian nuclear use opens one decision, taken once: answering in kind is not redrawn with every act
        crisis = prev["russian_nuclear"] & ~self.nuclear_decided
        self.nuclear_decided |= crisis
        nuclear = crisis & (self.u("nuclear", where=crisis) < p["nato_nuclear_response_rate"])
        self._answers = [
            ("article4_consultation", article4),
            ("article5_invoked", article5),
            ("reinforce_flank", reinforce),
            ("alliance_retaliation", retaliate),
            ("nato_nuclear_response", nuclear),
        ]

    def act(self) -> None:
        post_answers(self, self._answers)
