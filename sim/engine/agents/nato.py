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
        """Draw this member's answers to last week's acts on it, in the runs where it was a target only (its pairs
        of ``model.struck_pairs()``); the rules are applied to every member's pairs at once, when the last member
        has drawn (:class:`MembersAnswer`). The draws are keyed by run, so the values are those of a draw over all
        runs, and each member draws at its own sites, in its own stage."""
        if self.mediation is not None:
            self.mediation.decide()
        self._answers = [(action, self.model.no_runs()) for action in self.ANSWERS]
        self.model.members_answer().draw(self)

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


class MembersAnswer:
    """One week of the members' national answers, the rules of :class:`Member` applied to every member's pairs of
    ``model.struck_pairs()`` at once. Each member draws its uniforms at its own pairs in its own stage
    (:meth:`draw`, a site only where some pair may need it: a keyed draw skipped changes no other); the last to draw
    applies the rules, to all pairs together, which gives each pair the value a member's own pass gives it:

    - expel diplomats after sabotage: hybrid & u < expel_rate x hawkishness;
    - shoot down an intruder: airspace & u < shootdown_rate x hawkishness;
    - national retaliation after its troops are struck, short of war: forces & ~at_war & u <
      national_retaliation_rate x hawkishness x resolve;
    - ask for Article 4 after sabotage, an incursion or a strike: u < factor x article4_propensity, each;
    - withdraw the struck deployment it leads: forces & u < withdrawal_rate x (1 - resolve).

    Nothing between the members' stages reads what the answers write (the Article 4 requests, the withdrawals):
    the alliance decides after every member (``sim/engine/model.py``, ``_ORDER``)."""

    #: The draw sites of a member's answers, each named ``<member>:<site>``; see the rules above.
    SITES = ("expel", "shoot", "retaliate", "a4_hybrid", "a4_airspace", "a4_strike", "withdraw")

    def __init__(self, model: EscalationModel) -> None:
        self.model = model
        self.pairs = model.struck_pairs()
        self.u = np.full((len(self.SITES), len(self.pairs.at)), np.nan)
        self.members = {m.member: m for m in model.members}
        self.waiting = set(self.members)

    def draw(self, member: Member) -> None:
        """A member's draws at its pairs; the rules run once every member has drawn."""
        pairs, mine = self.pairs, self.pairs.of(member.member)
        if mine.start < mine.stop:
            at = pairs.at[mine]
            hybrid, airspace, forces, territory = (signalled[member.member] for signalled in pairs.signalled)
            needed = (hybrid, airspace, forces, hybrid, airspace, forces or territory,
                      forces and len(member.world.deployments) > 0)
            for i, site in enumerate(self.SITES):
                if needed[i]:
                    self.u[i, mine] = member.u_at(at, site)
        self.waiting.discard(member.member)
        if not self.waiting:
            self._apply()

    def _apply(self) -> None:
        model = self.model
        w, p, pairs = model.world, model.world.params, self.pairs
        if not len(pairs.at):
            return
        at, who = pairs.at, pairs.member
        hybrid, airspace, forces, territory = pairs.on_member
        u = dict(zip(self.SITES, self.u, strict=True))

        def par(name: str) -> np.ndarray | float:
            return at_rows(p[name], at)

        hawk, resolve, prop = (model.member_attribute(name)[who, at]
                               for name in ("hawkishness", "resolve", "article4_propensity"))
        # a NaN draw (a site not drawn) is never below its chance, and its pair is not selected anyway
        answers = (
            hybrid & (u["expel"] < par("expel_rate") * hawk),
            airspace & (u["shoot"] < par("shootdown_rate") * hawk),
            forces & ~w.at_war[at] & (u["retaliate"] < par("national_retaliation_rate") * hawk * resolve),
        )
        for j, sel in enumerate(answers):
            for k in np.unique(who[sel]).tolist():
                mine = pairs.of(k)
                self.members[k]._answers[j] = (Member.ANSWERS[j], scatter(w.size, at[mine][sel[mine]]))
        request = (
            (hybrid & (u["a4_hybrid"] < par("hybrid_article4_factor") * prop))
            | (airspace & (u["a4_airspace"] < par("airspace_article4_factor") * prop))
            | ((forces | territory) & (u["a4_strike"] < par("strike_article4_factor") * prop))
        )
        w.article4_request[at[request]] = True
        if len(w.deployments):
            withdraw = forces & (u["withdraw"] < par("withdrawal_rate") * (1.0 - resolve))
            deployment = pairs.deployment.astype(np.intp)
            led = withdraw & (deployment >= 0)  # the struck deployment, where the struck member leads it
            led[led] = w.dep_lead[deployment[led]] == who[led]
            w.withdrawn[at[led], deployment[led]] = True


def post_answers(actor: Actor, answers: list[tuple[str, np.ndarray]]) -> None:
    """Post NATO answers (option ids of configs/responses.yaml) toward Russia: each adds a share of its severity to
    Russia's provocation from the posture rungs up, strikes on Russian forces count as NATO attacks, and a nuclear
    detonation as NATO nuclear use (the condition of Russia's doctrinal red line)."""
    w = actor.world
    share, L = actor.p["nato_act_provocation_share"], w.L
    nothing = actor.model.no_runs()  # most weeks' answers of most members: not looked at run by run
    for action, mask in answers:
        if mask is nothing or not mask.any():
            continue
        rung = w.ctx.response(action).rung
        rows = w.act(actor.index, w.russia, action, rung, mask)
        if rung >= L.first("posture"):  # at its runs only: elsewhere the provocation would gain 0.0
            w.provocation[rows] += at_rows(share, rows) * w.ctx.severity[rung]
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
