"""Typed, frozen schema of the doctrine (``configs/``) and of scenario files (``scenarios/``).

Every model forbids unknown keys and is frozen: a misspelled key is an error, not a silently ignored default, and
nothing downstream can change a loaded config. Cross-references (actor ids, deployment types, move kinds, response
options) are checked against the doctrine passed as validation context, so a scenario error names the key it is in.

Scenario files keep apart what is sampled (``uncertainties``), what is chosen (the levers: ``deployments``,
``policies``, ``timeline``, ``mediators``, and their ``variants``) and what is measured (the outcomes, fixed in code).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from sim.vocabulary import Bloc, Location, Role

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64)]
Source = Annotated[str, Field(min_length=3, max_length=2000)]
Week = Annotated[int, Field(ge=0, le=10_000)]


class Frozen(BaseModel):
    """Base of every config model: unknown keys are errors, values cannot change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------------- distributions
class _Dist(Frozen):
    source: Source | None = None
    rationale: str | None = None


class Fixed(_Dist):
    """A value that is not sampled."""

    dist: Literal["fixed"]
    value: float

    def quantile(self, u: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """Draws from keyed uniforms ``u`` (normals ``z`` are used by :class:`Normal` only)."""
        return np.full(np.shape(u), self.value)


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    def quantile(self, u: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """Inverse CDF.

        >>> Uniform(dist="uniform", low=1, high=3).quantile(np.array([0.5]))
        array([2.])
        """
        return self.low + (self.high - self.low) * np.asarray(u)

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if not self.low <= self.high:
            raise ValueError(f"low must not exceed high, found low={self.low}, high={self.high}")
        return self


class Triangular(_Dist):
    """Triangular on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    def quantile(self, u: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """Inverse CDF of the triangular distribution."""
        a, c, b = self.low, self.mode, self.high
        u = np.asarray(u)
        if b == a:
            return np.full(u.shape, a)
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)

    @model_validator(mode="after")
    def _ordered(self) -> "Triangular":
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"expected low <= mode <= high, found {self.low}, {self.mode}, {self.high}")
        return self


class Normal(_Dist):
    """Normal(mean, sd), clipped to [low, high]."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    low: float = -math.inf
    high: float = math.inf

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=True)

    def quantile(self, u: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """Clipped normal draws from keyed standard normals ``z``."""
        if z is None:
            raise ValueError("a normal distribution needs standard normal draws")
        return np.clip(self.mean + self.sd * z, self.low, self.high)

    @model_validator(mode="after")
    def _finite_mean(self) -> "Normal":
        if not (math.isfinite(self.mean) and math.isfinite(self.sd)):
            raise ValueError("mean and sd must be finite numbers")
        if not self.low < self.high:
            raise ValueError(f"low must be below high, found low={self.low}, high={self.high}")
        return self


Distribution = Annotated[Union[Fixed, Uniform, Triangular, Normal], Field(discriminator="dist")]


# ------------------------------------------------------------------------------------------------------- doctrine
class Sourced(Frozen):
    """A doctrine item: it names its source and says in one line why it is so."""

    source: Source
    rationale: str = Field(min_length=3)


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


class ActorSpec(Sourced):
    """An actor: its bloc, roles and attributes (each a distribution that names its source)."""

    id: Identifier
    name: str
    bloc: Bloc
    roles: list[Role] = []
    attributes: dict[AttributeName, Distribution]

    @model_validator(mode="after")
    def _attributes_sourced(self) -> "ActorSpec":
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
    """True in a week with a Ukrainian deep strike into Russia (with Western weapons unless said otherwise)."""

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


class ConditionAny(Frozen):
    """True where any of its conditions holds."""

    kind: Literal["any"]
    of: list["Condition"] = Field(min_length=1)


class ConditionAll(Frozen):
    """True where all of its conditions hold."""

    kind: Literal["all"]
    of: list["Condition"] = Field(min_length=1)


Condition = Annotated[
    Union[
        ConditionDeployment,
        ConditionDeepStrike,
        ConditionStrategicStrike,
        ConditionTerritorialThreat,
        ConditionMove,
        ConditionNatoAttack,
        ConditionAny,
        ConditionAll,
    ],
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

    @field_validator("lag_weeks")
    @classmethod
    def _lag_ordered(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] <= v[1] <= 12:
            raise ValueError(f"expected 0 <= min <= max <= 12 weeks, found {list(v)}")
        return v


class DeploymentType(Sourced):
    """A kind of Western deployment (DOMAIN.md 2.2): how provocative and how exposed it is."""

    id: Identifier
    name: str
    provocation: float = Field(ge=0, le=100)
    exposure: float = Field(ge=0, le=1)
    locations: list[Location] = Field(min_length=1)


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


class ModelParameter(Sourced):
    """A behavioural parameter of the model with its default and the range it may be set in."""

    value: float
    low: float
    high: float

    @model_validator(mode="after")
    def _in_range(self) -> "ModelParameter":
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value} outside its range [{self.low}, {self.high}]")
        return self


class Doctrine(Frozen):
    """Everything in ``configs/``: the ladder, actors, red lines, responses, deployments, moves, parameters."""

    ladder: list[Rung]
    actors: list[ActorSpec]
    red_lines: list[RedLine]
    responses: list[ResponseOption]
    deployment_types: list[DeploymentType]
    locations: list[LocationFactor]
    moves: list[MoveKind]
    parameters: dict[Identifier, ModelParameter]

    @model_validator(mode="after")
    def _consistent(self) -> "Doctrine":
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


# ------------------------------------------------------------------------------------------------------- scenario
def _doctrine(info: ValidationInfo) -> Doctrine | None:
    return (info.context or {}).get("doctrine") if info.context else None


def _choices(values: list[str]) -> str:
    return ", ".join(values)


class DeploymentSpec(Frozen):
    """A Western deployment: who contributes, of what type, how many, where, from when and under what condition."""

    id: Identifier
    contributors: list[Identifier] = Field(min_length=1)
    type: Identifier
    size: int = Field(ge=1, le=500_000)
    location: Location
    start_week: Week = 0
    end_week: Week | None = None
    condition: Literal["always", "after_ceasefire", "during_fighting"] = "always"

    @field_validator("contributors")
    @classmethod
    def _known_contributors(cls, v: list[str], info: ValidationInfo) -> list[str]:
        doctrine = _doctrine(info)
        if doctrine is not None:
            members = doctrine.members()
            for c in v:
                if c not in members:
                    raise ValueError(f"unknown contributor '{c}'; expected NATO members: {_choices(members)}")
        if len(set(v)) != len(v):
            raise ValueError("a contributor is listed twice")
        return v

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str, info: ValidationInfo) -> str:
        doctrine = _doctrine(info)
        if doctrine is not None and v not in doctrine.ids("deployment_types"):
            raise ValueError(
                f"unknown deployment type '{v}'; expected one of: {_choices(doctrine.ids('deployment_types'))}"
            )
        return v

    @model_validator(mode="after")
    def _coherent(self, info: ValidationInfo) -> "DeploymentSpec":
        if self.end_week is not None and self.end_week <= self.start_week:
            raise ValueError(f"end_week ({self.end_week}) must come after start_week ({self.start_week})")
        doctrine = _doctrine(info)
        if doctrine is not None:
            for t in doctrine.deployment_types:
                if t.id == self.type and self.location not in t.locations:
                    raise ValueError(
                        f"a '{self.type}' deployment cannot stand at '{self.location.value}'; "
                        f"expected one of: {_choices([loc.value for loc in t.locations])}"
                    )
        return self


class DeepStrikePolicy(Frozen):
    """Whether Ukraine may strike deep into Russia with Western long-range weapons, from which week, whose."""

    authorised: bool = False
    from_week: Week = 0
    suppliers: list[Identifier] = []

    @field_validator("suppliers")
    @classmethod
    def _known_suppliers(cls, v: list[str], info: ValidationInfo) -> list[str]:
        doctrine = _doctrine(info)
        if doctrine is not None:
            members = doctrine.members()
            for s in v:
                if s not in members:
                    raise ValueError(f"unknown supplier '{s}'; expected NATO members: {_choices(members)}")
        return v


class Policies(Frozen):
    """Standing Western policies (levers)."""

    deep_strike: DeepStrikePolicy = DeepStrikePolicy()


class TimelineMove(Frozen):
    """A scripted step: in week ``week`` actor ``actor`` makes a move of kind ``move``."""

    week: Week
    actor: Identifier
    move: Identifier
    note: str = ""

    @field_validator("actor")
    @classmethod
    def _known_actor(cls, v: str, info: ValidationInfo) -> str:
        doctrine = _doctrine(info)
        if doctrine is not None:
            allowed = [a.id for a in doctrine.actors if a.bloc in (Bloc.NATO, Bloc.UKRAINE)]
            if v not in allowed:
                raise ValueError(f"unknown actor '{v}' for a scripted move; expected one of: {_choices(allowed)}")
        return v

    @field_validator("move")
    @classmethod
    def _known_move(cls, v: str, info: ValidationInfo) -> str:
        doctrine = _doctrine(info)
        if doctrine is not None and v not in doctrine.ids("moves"):
            raise ValueError(f"unknown move '{v}'; expected one of: {_choices(doctrine.ids('moves'))}")
        return v


def _check_mediators(v: list[str] | None, info: ValidationInfo) -> list[str] | None:
    doctrine = _doctrine(info)
    if doctrine is not None and v is not None:
        allowed = [a.id for a in doctrine.actors if Role.MEDIATOR in a.roles]
        for m in v:
            if m not in allowed:
                raise ValueError(f"unknown mediator '{m}'; expected one of: {_choices(allowed)}")
    return v


class Variant(Frozen):
    """An alternative set of levers; what it does not name is taken from the scenario's own levers."""

    name: Identifier
    description: str = ""
    deployments: list[DeploymentSpec] | None = None
    policies: Policies | None = None
    timeline: list[TimelineMove] | None = None
    mediators: list[Identifier] | None = None

    _mediators = field_validator("mediators")(_check_mediators)


class Levers(Frozen):
    """The resolved levers of one variant: what the analyst chooses."""

    name: Identifier
    description: str = ""
    deployments: list[DeploymentSpec]
    policies: Policies
    timeline: list[TimelineMove]
    mediators: list[Identifier] | None


class ScenarioSpec(Frozen):
    """A scenario file: a world to simulate, its levers, its uncertainties and its batch settings."""

    name: Identifier
    title: str = Field(min_length=1)
    question: str = Field(min_length=1)
    description: str = ""
    sources: list[str] = []
    start_date: _dt.date | None = None
    horizon_weeks: int = Field(default=52, ge=1, le=520)
    runs: int = Field(default=10_000, ge=1, le=100_000_000)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    chunk_size: int = Field(default=10_000, ge=1, le=1_000_000)
    baseline_name: Identifier = "baseline"
    deployments: list[DeploymentSpec] = []
    policies: Policies = Policies()
    timeline: list[TimelineMove] = []
    mediators: list[Identifier] | None = None
    uncertainties: dict[str, Distribution] = {}
    overrides: dict[str, float] = {}
    variants: list[Variant] = []

    _mediators = field_validator("mediators")(_check_mediators)

    @field_validator("uncertainties")
    @classmethod
    def _known_uncertainties(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        doctrine = _doctrine(info)
        if doctrine is not None:
            for key in v:
                actor, _, attr = key.partition(".")
                ids = doctrine.ids("actors")
                if actor not in ids:
                    raise ValueError(f"unknown actor '{actor}' in '{key}'; expected 'actor.attribute' with an actor of: {_choices(ids)}")
                attrs = sorted(doctrine.actor(actor).attributes)
                if attr not in attrs:
                    raise ValueError(f"unknown attribute '{attr}' of '{actor}'; expected one of: {_choices(attrs)}")
        return v

    @field_validator("overrides")
    @classmethod
    def _known_overrides(cls, v: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        doctrine = _doctrine(info)
        for key, value in v.items():
            if not math.isfinite(value):
                raise ValueError(f"override '{key}' must be a finite number, found {value}")
            if doctrine is not None:
                if key not in doctrine.parameters:
                    raise ValueError(f"unknown parameter '{key}'; expected one of: {_choices(sorted(doctrine.parameters))}")
                p = doctrine.parameters[key]
                if not p.low <= value <= p.high:
                    raise ValueError(f"override '{key}' = {value} is outside its range [{p.low}, {p.high}]")
        return v

    @model_validator(mode="after")
    def _weeks_within_horizon(self) -> "ScenarioSpec":
        h = self.horizon_weeks
        for where, levers in [("", self)] + [(f"variant '{v.name}': ", v) for v in self.variants]:
            for d in levers.deployments or []:
                if d.start_week >= h:
                    raise ValueError(f"{where}deployment '{d.id}' starts in week {d.start_week}, beyond the horizon of {h} weeks (0 to {h - 1})")
            for m in levers.timeline or []:
                if m.week >= h:
                    raise ValueError(f"{where}move '{m.move}' in week {m.week} is beyond the horizon of {h} weeks (0 to {h - 1})")
            ids = [d.id for d in levers.deployments or []]
            if len(set(ids)) != len(ids):
                raise ValueError(f"{where}deployment ids must be unique, found {ids}")
        names = [self.baseline_name] + [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique and differ from the baseline '{self.baseline_name}', found {names}")
        if self.policies.deep_strike.authorised and self.policies.deep_strike.from_week >= h:
            raise ValueError(f"deep strikes authorised from week {self.policies.deep_strike.from_week}, beyond the horizon of {h} weeks")
        return self

    def levers(self) -> list[Levers]:
        """The levers of the baseline and of every variant, fully resolved, baseline first."""
        base = Levers(
            name=self.baseline_name,
            description="the scenario as written",
            deployments=self.deployments,
            policies=self.policies,
            timeline=self.timeline,
            mediators=self.mediators,
        )
        out = [base]
        for v in self.variants:
            out.append(
                Levers(
                    name=v.name,
                    description=v.description,
                    deployments=v.deployments if v.deployments is not None else self.deployments,
                    policies=v.policies if v.policies is not None else self.policies,
                    timeline=v.timeline if v.timeline is not None else self.timeline,
                    mediators=v.mediators if v.mediators is not None else self.mediators,
                )
            )
        return out
