"""The doctrine's schema (``configs/``): rungs, actors, red lines and their conditions, responses, deployment types,
locations, move kinds and model parameters, each naming its source.

Every model forbids unknown keys and is frozen; cross-references are checked once, when the doctrine is built.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from sim.spec.distributions import Distribution
from sim.spec.frozen import Frozen, Identifier, Source
from sim.spec.vocabulary import Bloc, Location, Role


# ------------------------------------------------------------------------------------------------------- doctrine
class Sourced(Frozen):
    """A doctrine item: it names its source and says in one line why it is so."""

    source: Source
    rationale: str = Field(min_length=3)


RungMark = Literal[
    "de_escalation",            # talks, deals, ceasefires
    "status_quo",               # the headline axis's floor in peacetime
    "routine_war",              # the Ukraine axis's floor while fighting goes on
    "posture",                  # deployments, arms supply, reinforcements
    "military_incident",        # airspace violations, spill-over, shoot-downs, air-defence engagements
    "vertical_in_ukraine",      # massed strikes or a deep strike: the week's strikes can go astray
    "strike_on_nato_forces",    # a deliberate strike on NATO personnel inside Ukraine
    "strike_on_nato_territory", # a strike on member territory: Article 5 territory
    "nato_attack",              # NATO forces strike Russian forces or territory
    "general_war",              # general conventional war between Russia and NATO
    "nuclear",                  # a nuclear demonstration, ultimatum or use: addresses every party
    "nuclear_detonation",       # a hostile nuclear detonation
    "strategic_nuclear",        # theatre or strategic nuclear war
]


class Rung(Sourced):
    """One rung of the 16-rung ladder (DOMAIN.md section 1)."""

    rung: int = Field(ge=0, le=15)
    id: Identifier
    name: str
    definition: str
    kahn: list[int]
    cameo: str = Field(pattern=r"^[0-9]{2,4}$")
    goldstein: float = Field(ge=-10, le=10)
    mid_hostility: int = Field(ge=1, le=5)
    rivera_category: Literal["de_escalation", "status_quo", "posturing", "non_violent", "violent", "nuclear"]
    severity: float = Field(ge=0, le=100)
    marks: list[RungMark] = []


AttributeName = Literal[
    "resolve",
    "risk_tolerance",
    "war_fatigue",
    "capability",
    "cohesion",
    "hawkishness",
    "article4_propensity",
    "article5_support",
    "deterrence_weight",
    "mediation_propensity",
    "leverage",
]


#: The range every draw of an actor attribute must stay in (docs/model.md section 2): each is a share, a
#: propensity or a weight on the unit interval.
ATTRIBUTE_RANGES: dict[str, tuple[float, float]] = {name: (0.0, 1.0) for name in get_args(AttributeName)}
#: The range of a red line's credibility: a probability.
CREDIBILITY_RANGE = (0.0, 1.0)


#: The model parameters the engine reads (``configs/model.yaml``): a doctrine that lacks one is refused when it is
#: loaded, not with a KeyError mid-batch. A test checks the engine reads these and no others.
REQUIRED_PARAMETERS: tuple[str, ...] = (
    "accident_rate", "air_defence_engagement_rate", "airspace_article4_factor", "alliance_retaliation_rate",
    "article5_threshold", "ceasefire_break_rate", "ceasefire_rate", "china_nuclear_norm", "combat_contact_rate",
    "contributor_target_weight", "deal_relief", "deep_strike_provocation", "deep_strike_rate", "dialogue_boost",
    "discharge_share", "doctrine_threat_threshold", "drone_spillover_gain", "escalation_cost_gain", "expel_rate",
    "hub_target_weight", "hybrid_article4_factor", "launch_area_discount", "launch_area_weight",
    "mediation_danger_gain", "memory_decay", "misperception_sigma", "national_retaliation_rate",
    "nato_act_provocation_share", "nato_nuclear_response_rate", "nuclear_host_discount", "ongoing_deployment_share",
    "partial_deal_rate", "persistent_enforcement_share", "proportionality_width", "proposal_boost",
    "provocation_aversion_scale", "rationality", "reinforce_rate", "response_gain", "shootdown_rate",
    "size_exponent", "spillover_rate", "strategic_strike_rate", "strike_article4_factor", "supplier_discount",
    "territorial_threat_decay", "troop_recapture_gain", "withdrawal_rate",
)
#: The actors the engine addresses by id: Russia, Ukraine, the alliance (which must have the alliance role) and
#: the United States (whose resolve backs the alliance's deterrence).
CORE_ACTORS: tuple[str, ...] = ("russia", "ukraine", "nato", "us")


def attributes_needed(actor: ActorSpec) -> dict[str, tuple[str, ...]]:
    """The attributes the agent that plays ``actor`` samples, by the reason it needs them (sim/engine/agents: the
    same rules that choose an actor's agent class). Empty when no agent class plays the actor.

    >>> from sim.spec.loading import load_doctrine
    >>> attributes_needed(load_doctrine().actor("china"))["mediator role"]
    ('mediation_propensity', 'leverage')
    """
    roles = {r.value for r in actor.roles}
    mediator = ("mediation_propensity", "leverage")
    if actor.id == "russia":
        return {"russia": ("resolve", "risk_tolerance", "war_fatigue", "capability")}
    if actor.id == "ukraine":
        return {"ukraine": ("resolve", "capability", "war_fatigue")}
    if "alliance" in roles:
        return {"alliance role": ("cohesion", "resolve")}
    if actor.bloc is Bloc.NATO:
        member = {"NATO member": ("resolve", "hawkishness", "article4_propensity", "article5_support",
                                  "deterrence_weight")}
        return member | ({"mediator role": mediator} if "mediator" in roles else {})
    for role, needs in (("mediator", mediator), ("dialogue", ("leverage",)), ("supplier", ("capability",)),
                        ("nuclear_host", ("capability",))):
        if role in roles:
            return {f"{role} role": needs}
    return {}


class ActorCodes(Frozen):
    """An actor's codes in event data: its CAMEO actor code and, for a state, its ISO 3166-1 alpha-3 code."""

    cameo: str = Field(pattern=r"^[A-Z]{3}([A-Z]{3}){0,3}$")
    iso3: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    source: Source


class ActorSpec(Sourced):
    """An actor: its bloc, roles and attributes (each a distribution that names its source)."""

    id: Identifier
    name: str
    bloc: Bloc
    roles: list[Role] = []
    codes: ActorCodes | None = None
    attributes: dict[AttributeName, Distribution]

    @model_validator(mode="after")
    def _attributes_sourced(self) -> ActorSpec:
        for name, dist in self.attributes.items():
            if not dist.source:
                raise ValueError(f"attribute '{name}' of actor '{self.id}' has no source")
        return self


class ConditionDeployment(Frozen):
    """True where a deployment of one of ``types`` stands active at one of ``locations``."""

    kind: Literal["deployment"]
    types: list[Identifier] | None = None
    locations: list[Location] | None = None
    min_size: int = Field(default=0, ge=0)


class ConditionDeepStrike(Frozen):
    """True in a week with a Ukrainian deep strike into Russia. With ``western_weapons`` (the default) only a strike
    with Western-supplied weapons counts: one under a deep-strike policy that names suppliers."""

    kind: Literal["deep_strike"]
    western_weapons: bool = True


class ConditionStrategicStrike(Frozen):
    """True in a week with a strike on Russian strategic assets (bombers, early warning, nuclear forces)."""

    kind: Literal["strategic_strike"]


class ConditionTerritorialThreat(Frozen):
    """True where the threat to Russia's territorial integrity is at least ``at_least`` (0 to 1)."""

    kind: Literal["territorial_threat"]
    at_least: float = Field(ge=0, le=1)


class ConditionMove(Frozen):
    """True in a week in which one of the scripted move kinds ``moves`` is made."""

    kind: Literal["move"]
    moves: list[Identifier] = Field(min_length=1)


class ConditionNatoAttack(Frozen):
    """True in a week in which NATO forces strike Russian forces or territory."""

    kind: Literal["nato_attack"]


class ConditionAtWar(Frozen):
    """True where Russia and NATO are at general war."""

    kind: Literal["at_war"]


class ConditionNuclearUse(Frozen):
    """True in a week after NATO uses a nuclear weapon against Russia or its forces."""

    kind: Literal["nato_nuclear_use"]


class ConditionAny(Frozen):
    """True where any of its conditions holds."""

    kind: Literal["any"]
    of: list[Condition] = Field(min_length=1)


class ConditionAll(Frozen):
    """True where all of its conditions hold."""

    kind: Literal["all"]
    of: list[Condition] = Field(min_length=1)


Condition = Annotated[
    ConditionDeployment
    | ConditionDeepStrike
    | ConditionStrategicStrike
    | ConditionTerritorialThreat
    | ConditionMove
    | ConditionNatoAttack
    | ConditionNuclearUse
    | ConditionAtWar
    | ConditionAny
    | ConditionAll,
    Field(discriminator="kind"),
]
ConditionAny.model_rebuild()
ConditionAll.model_rebuild()


class RedLine(Sourced):
    """A declared red line: a condition over the world, the response it threatens and how credible it is."""

    id: Identifier
    actor: Identifier
    statement: str
    said_by: str
    date: str
    condition: Condition
    declared_response: Identifier
    credibility: Distribution
    persistent: bool = False


ResponseTarget = Literal["nato_member", "nato_forces_in_ukraine", "ukraine", "russia", "alliance"]
Requirement = Literal[
    "nato_forces_in_ukraine", "doctrine_permits_nuclear", "nato_retaliated", "at_war", "nuclear_used", "fighting"
]


class ResponseOption(Sourced):
    """One step of a retaliation ladder: its rung, target, lag and what it requires."""

    id: Identifier
    name: str
    side: Literal["russia", "nato"]
    axis: Literal["nato", "ukraine"]
    rung: int = Field(ge=0, le=15)
    target: ResponseTarget
    lag_weeks: tuple[int, int] = (0, 0)
    cost: float = Field(default=0.0, ge=0)
    requires: list[Requirement] = []
    #: ``choice``: weighed every week in Russia's logit choice; ``red_line``: a threshold step taken only to enforce
    #: a declared red line that names it (docs/model.md 4.5).
    decided_by: Literal["choice", "red_line"] = "choice"
    #: for options aimed at a member: which members it can fall on (sim/engine/model.py ``targets``)
    reach: Literal["diplomatic", "hybrid", "airspace", "territory"] | None = None
    #: once the act is first made, it goes on as a campaign: repeated each later week with probability
    #: ``campaign_tempo`` until the campaign ends, with probability ``campaign_end_rate`` a week (0: a single act)
    campaign_tempo: float = Field(default=0.0, ge=0, le=1)
    campaign_end_rate: float = Field(default=0.0, ge=0, le=1)

    @field_validator("lag_weeks")
    @classmethod
    def _lag_ordered(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] <= v[1] <= 12:
            raise ValueError(f"expected 0 <= min <= max <= 12 weeks, found {list(v)}")
        return v


class DeploymentType(Sourced):
    """A kind of Western deployment (DOMAIN.md 2.2): how provocative and how exposed it is, whether it intercepts
    Russian missiles and drones, and whether it fights Russian forces."""

    id: Identifier
    name: str
    provocation: float = Field(ge=0, le=100)
    exposure: float = Field(ge=0, le=1)
    locations: list[Location] = Field(min_length=1)
    intercepts: bool = False
    #: it fights Russian forces: every week of fighting it is in combat with them (docs/model.md 4.7)
    combatant: bool = False


class LocationFactor(Sourced):
    """How a deployment's location scales its provocation and its exposure."""

    location: Location
    provocation: float = Field(ge=0, le=5)
    exposure: float = Field(ge=0, le=5)


class MoveKind(Sourced):
    """A kind of scripted Western or Ukrainian step (timeline moves): its rung and provocation."""

    id: Identifier
    name: str
    rung: int = Field(ge=0, le=15)
    provocation: float = Field(ge=0, le=100)
    territorial_threat: float = Field(default=0.0, ge=0, le=1)
    strategic: bool = False
    #: share of Russia's tension a de-escalatory step discharges (0 to 1)
    tension_relief: float = Field(default=0.0, ge=0, le=1)
    #: weeks a ceasefire proposal stays on the table, raising the ceasefire hazard
    proposal_weeks: int = Field(default=0, ge=0, le=52)


Border = Literal["russia", "belarus", "ukraine", "kaliningrad", "black_sea"]


class GeographyEntry(Sourced):
    """Where a member lies: the states and seas it borders, and how much of the supply to Ukraine crosses it."""

    member: Identifier
    borders: list[Border] = []
    logistics_hub: float = Field(default=0.0, ge=0, le=1)


class ModelParameter(Sourced):
    """A behavioural parameter of the model with its default and the range it may be set in."""

    value: float
    low: float
    high: float

    @model_validator(mode="after")
    def _in_range(self) -> ModelParameter:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value} outside its range [{self.low}, {self.high}]")
        return self


class Calibration(Frozen):
    """The calibrated design parameters (``configs/calibration.yaml``): the parameter sets history matching kept on
    the 2022-2024 record (``escalation calibrate``). Each run draws one set; a scenario may fix the parameters
    instead (``design_parameters: fixed``)."""

    method: str
    seed: int = Field(ge=0)
    parameters: list[Identifier] = Field(min_length=1)
    sets: list[list[float]] = Field(min_length=1)
    source: Source
    rationale: str = ""
    summary: dict[str, Any] = {}

    @model_validator(mode="after")
    def _rectangular(self) -> Calibration:
        for i, row in enumerate(self.sets):
            if len(row) != len(self.parameters):
                raise ValueError(f"parameter set {i} has {len(row)} values for {len(self.parameters)} parameters")
            if not all(math.isfinite(v) for v in row):
                raise ValueError(f"parameter set {i} holds a value that is not a finite number")
        return self


#: Parameters of configs/model.yaml that the model takes as one value for a whole batch, with what they set: a
#: calibrated set (configs/calibration.yaml) may not name them. Every other parameter may vary from run to run
#: (tests/engine/test_kernels.py checks that both engine paths take each of them per run).
BATCH_CONSTANTS = {
    "size_exponent": "each deployment's provocation and exposure when the world is built",
    "hub_target_weight": "the members' targeting weights, the same for every run",
    "launch_area_weight": "the members' airspace-targeting weights, the same for every run",
    "contributor_target_weight": "the members' targeting weights, the same for every run",
    "combat_contact_rate": "each combatant deployment's weekly chance of combat, the same for every run",
}


class Doctrine(Frozen):
    """Everything in ``configs/``: the ladder, actors, red lines, responses, deployments, moves, parameters."""

    ladder: list[Rung]
    actors: list[ActorSpec]
    red_lines: list[RedLine]
    responses: list[ResponseOption]
    deployment_types: list[DeploymentType]
    locations: list[LocationFactor]
    moves: list[MoveKind]
    geography: list[GeographyEntry]
    parameters: dict[Identifier, ModelParameter]
    calibration: Calibration

    @model_validator(mode="after")
    def _consistent(self) -> Doctrine:
        if [r.rung for r in self.ladder] != list(range(16)):
            raise ValueError("the ladder must list rungs 0 to 15 in order")
        for group, items in (
            ("actors", self.actors),
            ("red_lines", self.red_lines),
            ("responses", self.responses),
            ("deployment_types", self.deployment_types),
            ("moves", self.moves),
        ):
            ids = [i.id for i in items]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate ids in {group}: {', '.join(dupes)}")
        if sorted(f.location.value for f in self.locations) != sorted(loc.value for loc in Location):
            raise ValueError("locations must give one factor for each of: " + ", ".join(loc.value for loc in Location))
        for mv in self.moves:
            if not (mv.provocation or mv.territorial_threat or mv.strategic or mv.tension_relief or mv.proposal_weeks):
                raise ValueError(f"move '{mv.id}' changes nothing: give it a provocation, a territorial threat, "
                                 "strategic, tension_relief or proposal_weeks")
        for name in self.calibration.parameters:
            if name not in self.parameters:
                raise ValueError(f"calibration.yaml names an unknown parameter '{name}'")
            if name in BATCH_CONSTANTS:
                raise ValueError(f"calibration.yaml names '{name}', which holds for a whole batch (it sets "
                                 f"{BATCH_CONSTANTS[name]}) and cannot vary from run to run")
        for i, row in enumerate(self.calibration.sets):
            for name, value in zip(self.calibration.parameters, row, strict=True):
                par = self.parameters[name]
                if not par.low <= value <= par.high:
                    raise ValueError(f"calibration.yaml set {i}: {name} = {value} lies outside its range "
                                     f"{par.low}-{par.high}")
        placed = [g.member for g in self.geography]
        missing = sorted(set(self.members()) - set(placed))
        if missing:
            raise ValueError("geography.yaml places no entry for members: " + ", ".join(missing))
        dupes = sorted({m for m in placed if placed.count(m) > 1})
        if dupes:
            raise ValueError("geography.yaml places members twice: " + ", ".join(dupes))
        actor_ids = {a.id for a in self.actors}
        response_ids = {r.id for r in self.responses}
        types = {t.id for t in self.deployment_types}
        move_ids = {m.id for m in self.moves}
        for rl in self.red_lines:
            if rl.actor not in actor_ids:
                raise ValueError(f"red line '{rl.id}': unknown actor '{rl.actor}'")
            if rl.declared_response not in response_ids:
                raise ValueError(f"red line '{rl.id}': unknown declared_response '{rl.declared_response}'")
            for cond in _walk(rl.condition):
                if isinstance(cond, ConditionDeployment):
                    for t in cond.types or []:
                        if t not in types:
                            raise ValueError(f"red line '{rl.id}': unknown deployment type '{t}'")
                if isinstance(cond, ConditionMove):
                    for m in cond.moves:
                        if m not in move_ids:
                            raise ValueError(f"red line '{rl.id}': unknown move '{m}'")
        return self

    def actor(self, actor_id: str) -> ActorSpec:
        """The actor with this id."""
        for a in self.actors:
            if a.id == actor_id:
                return a
        raise KeyError(actor_id)

    def ids(self, group: str) -> list[str]:
        """The ids of one group of items, in file order (``actors``, ``deployment_types``, ...)."""
        return [item.id for item in getattr(self, group)]

    def members(self) -> list[str]:
        """NATO member ids: NATO-bloc actors that are not the alliance itself."""
        return [a.id for a in self.actors if a.bloc is Bloc.NATO and Role.ALLIANCE not in a.roles]


def _walk(cond: Any):
    yield cond
    for sub in getattr(cond, "of", None) or []:
        yield from _walk(sub)
