"""The scenario file's schema (``scenarios/``): what is sampled (``uncertainties``), what is chosen (the levers:
``deployments``, ``policies``, ``timeline``, ``mediators`` and their ``variants``), and the batch settings.

Cross-references (actor ids, deployment types, move kinds, parameters) are checked against the doctrine passed as
validation context, so an error names the key it is in.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sim.spec.distributions import Distribution
from sim.spec.doctrine import Doctrine
from sim.spec.frozen import Frozen, Identifier, Week
from sim.spec.sweep import SweepSpec
from sim.spec.vocabulary import Bloc, Location, Role


# ------------------------------------------------------------------------------------------------------- scenario
def _doctrine(info: ValidationInfo) -> Doctrine | None:
    return (info.context or {}).get("doctrine") if info.context else None


def _choices(values: Iterable[str]) -> str:
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
    def _coherent(self, info: ValidationInfo) -> DeploymentSpec:
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
    #: Parameter values of configs/model.yaml for this variant, over the scenario's own overrides.
    overrides: dict[str, float] | None = None

    _mediators = field_validator("mediators")(_check_mediators)

    @field_validator("overrides")
    @classmethod
    def _known_overrides(cls, v: dict[str, float] | None, info: ValidationInfo) -> dict[str, float] | None:
        return None if v is None else _check_overrides(v, info)


class Levers(Frozen):
    """The resolved levers of one variant: what the analyst chooses."""

    name: Identifier
    description: str = ""
    deployments: list[DeploymentSpec]
    policies: Policies
    timeline: list[TimelineMove]
    mediators: list[Identifier] | None
    #: The scenario's overrides with the variant's over them.
    overrides: dict[str, float] = {}


def _check_overrides(v: dict[str, float], info: ValidationInfo) -> dict[str, float]:
    doctrine = _doctrine(info)
    for key, value in v.items():
        if not math.isfinite(value):
            raise ValueError(f"override '{key}' must be a finite number, found {value}")
        if doctrine is not None:
            if key not in doctrine.parameters:
                raise ValueError(f"unknown parameter '{key}'; expected one of: "
                                 f"{_choices(sorted(doctrine.parameters))}")
            p = doctrine.parameters[key]
            if not p.low <= value <= p.high:
                raise ValueError(f"override '{key}' = {value} is outside its range [{p.low}, {p.high}]")
    return v


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
    #: ``calibrated``: each run draws the design parameters from configs/calibration.yaml, so intervals carry what the
    #: record leaves open; ``fixed``: every run uses the point values of configs/model.yaml (pure Monte Carlo).
    design_parameters: Literal["calibrated", "fixed"] = "calibrated"
    variants: list[Variant] = []
    #: A sweep over lever values kept with the scenario (``escalation sweep`` runs it).
    sweep: SweepSpec | None = None

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
                    raise ValueError(f"unknown actor '{actor}' in '{key}'; expected 'actor.attribute' with an actor "
                                     f"of: {_choices(ids)}")
                attrs = sorted(doctrine.actor(actor).attributes)
                if attr not in attrs:
                    raise ValueError(f"unknown attribute '{attr}' of '{actor}'; expected one of: {_choices(attrs)}")
        return v

    @field_validator("overrides")
    @classmethod
    def _known_overrides(cls, v: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        return _check_overrides(v, info)

    @model_validator(mode="after")
    def _weeks_within_horizon(self) -> ScenarioSpec:
        h = self.horizon_weeks
        for where, levers in [("", self)] + [(f"variant '{v.name}': ", v) for v in self.variants]:
            for d in levers.deployments or []:
                if d.start_week >= h:
                    raise ValueError(f"{where}deployment '{d.id}' starts in week {d.start_week}, beyond the horizon "
                                     f"of {h} weeks (0 to {h - 1})")
            for m in levers.timeline or []:
                if m.week >= h:
                    raise ValueError(f"{where}move '{m.move}' in week {m.week} is beyond the horizon of {h} weeks "
                                     f"(0 to {h - 1})")
            ids = [d.id for d in levers.deployments or []]
            if len(set(ids)) != len(ids):
                raise ValueError(f"{where}deployment ids must be unique, found {ids}")
        names = [self.baseline_name] + [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique and differ from the baseline '{self.baseline_name}', "
                             f"found {names}")
        if self.policies.deep_strike.authorised and self.policies.deep_strike.from_week >= h:
            raise ValueError(f"deep strikes authorised from week {self.policies.deep_strike.from_week}, beyond the "
                             f"horizon of {h} weeks")
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
            overrides=self.overrides,
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
                    overrides={**self.overrides, **(v.overrides or {})},
                )
            )
        return out
