"""The scenario file's schema (``scenarios/``): what is sampled (``uncertainties``), what is chosen (the levers:
``deployments``, ``policies``, ``timeline``, ``mediators`` and their ``variants``), and the batch settings.

Cross-references (actor ids, deployment types, move kinds, parameters) are checked against the doctrine passed as
validation context, so an error names the key it is in.
"""

from __future__ import annotations

import datetime as _dt
import math
import unicodedata
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from sim.spec.distributions import Distribution
from sim.spec.doctrine import Doctrine
from sim.spec.frozen import Frozen, Identifier
from sim.spec.messages import LocatedError
from sim.spec.sweep import SweepSpec
from sim.spec.vocabulary import Bloc, Location, Role

#: A week index: a whole number (strict: ``true`` or ``"7"`` is refused, not read as 1 or 7).
Week = Annotated[int, Field(ge=0, le=10_000, strict=True)]
#: Longest one-line text (a title, a move's note), in characters: charts and terminals show it in full.
MAX_LINE = 200
#: Longest paragraph (a question, a description, a source), in characters.
MAX_TEXT = 4000
#: The variants one scenario holds (a sweep's points are variants too).
MAX_VARIANTS = 100


def _no_control_characters(text: str) -> str:
    """Free text holds no control characters but newlines and tabs: an escape sequence in a title would reach
    terminals, charts and reports.

    >>> _no_control_characters("A title")
    'A title'
    """
    for i, c in enumerate(text):
        if c not in "\n\t" and unicodedata.category(c) == "Cc":
            raise ValueError(f"text must not hold control characters such as terminal escapes; found {c!r} at "
                             f"character {i + 1}")
    return text


#: Free text written by the user (titles, questions, notes): any characters but control characters.
Text = Annotated[str, AfterValidator(_no_control_characters)]


# ------------------------------------------------------------------------------------------------------- scenario
def _doctrine(info: ValidationInfo) -> Doctrine | None:
    return (info.context or {}).get("doctrine") if info.context else None


def _choices(values: Iterable[str]) -> str:
    return ", ".join(values)


class DeploymentSpec(Frozen):
    """A Western deployment: who contributes, of what type, how many, where, from when and under what condition."""

    id: Identifier = Field(description="The deployment's id, unique within its list.", examples=["eu_engineers"])
    contributors: list[Identifier] = Field(
        min_length=1, max_length=64,
        description="NATO members that contribute; the first leads (answers for it, may withdraw it).",
        examples=[["france", "poland"]])
    type: Identifier = Field(
        description="A deployment type of configs/deployments.yaml: it sets how provocative and how exposed the "
        "deployment is.", examples=["non_combat"])
    size: int = Field(ge=1, le=500_000, strict=True, description="Troops; size scales provocation and exposure as "
                      "(size / 1000) ^ size_exponent.", examples=[2000])
    location: Location = Field(description="Where it stands: outside Ukraine, or western, central or frontline "
                               "Ukraine (each type allows some).", examples=["western"])
    start_week: Week = Field(default=0, description="The week it arrives (0 to horizon_weeks - 1).", examples=[4])
    end_week: Week | None = Field(default=None, description="Optional: the week it is withdrawn (after start_week, "
                                  "at most horizon_weeks).", examples=[40])
    condition: Literal["always", "after_ceasefire", "during_fighting"] = Field(
        default="always", description="When it stands: always, only after a ceasefire, or only while fighting "
        "goes on.", examples=["always"])

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
            raise LocatedError(("end_week",), f"end_week ({self.end_week}) must come after start_week "
                               f"({self.start_week})")
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

    authorised: bool = Field(default=False, strict=True, description="Whether Ukraine may strike into Russia with "
                             "Western long-range weapons.", examples=[True])
    from_week: Week = Field(default=0, description="The first week deep strikes are allowed (0 to horizon_weeks - 1).",
                            examples=[10])
    suppliers: list[Identifier] = Field(default=[], max_length=64, description="NATO members whose weapons are used; "
                                        "their soil becomes a likelier target.", examples=[["us", "uk"]])

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

    deep_strike: DeepStrikePolicy = Field(default=DeepStrikePolicy(), description="Ukraine's deep strikes into "
                                          "Russia with Western weapons.",
                                          examples=[{"authorised": True, "from_week": 10, "suppliers": ["us", "uk"]}])


class TimelineMove(Frozen):
    """A scripted step: in week ``week`` actor ``actor`` makes a move of kind ``move``."""

    week: Week = Field(description="The week of the move (0 to horizon_weeks - 1).", examples=[2])
    actor: Identifier = Field(description="Who makes it: a NATO member, the alliance or Ukraine.", examples=["us"])
    move: Identifier = Field(description="A kind of move of configs/moves.yaml (its rung, provocation and effects).",
                             examples=["new_weapon_class"])
    note: Text = Field(default="", max_length=MAX_LINE, description="A free note for readers (not used by the model).",
                      examples=["HIMARS"])

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

    name: Identifier = Field(description="The variant's id, unique in the file and different from baseline_name.",
                             examples=["frontline"])
    description: Text = Field(default="", max_length=MAX_TEXT, description="What this option changes, for readers.",
                             examples=["The same units near the front"])
    deployments: list[DeploymentSpec] | None = Field(
        default=None, max_length=200, description="Replaces the scenario's deployments (omit to keep them).",
        examples=[[{"id": "eu_engineers", "contributors": ["france", "poland"], "type": "non_combat", "size": 2000,
                    "location": "frontline"}]])
    policies: Policies | None = Field(default=None, description="Replaces the scenario's policies (omit to keep them).",
                                      examples=[{"deep_strike": {"authorised": True, "from_week": 10}}])
    timeline: list[TimelineMove] | None = Field(
        default=None, max_length=2000, description="Replaces the scenario's timeline (omit to keep it).",
        examples=[[{"week": 2, "actor": "us", "move": "new_weapon_class"}]])
    mediators: list[Identifier] | None = Field(
        default=None, max_length=64, description="Replaces the active mediators; [] for none (omit to keep them).",
        examples=[[]])
    overrides: dict[str, float] | None = Field(
        default=None, description="Values of configs/model.yaml parameters for this variant, over the scenario's "
        "own overrides (a sweep over overrides.<parameter> writes them).", examples=[{"size_exponent": 0.5}])

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


#: The chunk size chosen for a batch that gives none. A chunk pays its weekly steps' Python once whatever its size,
#: so larger chunks run faster, up to about ``AUTO_CHUNK_MAX`` runs, beyond which nothing more is gained
#: (benchmarks/RESULTS.md, "Fourth round"). With per-run tables a chunk's rows and acts are held by its
#: worker and by the writer, and ``AUTO_CHUNK_MIN`` keeps such a batch within 1 GiB; without them, a large batch is
#: cut into ``AUTO_CHUNKS`` chunks between the two bounds, so that the workers still share the work evenly.
AUTO_CHUNK_MIN = 10_000
AUTO_CHUNK_MAX = 25_000
AUTO_CHUNKS = 40


def auto_chunk_size(runs: int, tables: bool = True) -> int:
    """Runs per chunk for a batch of ``runs`` that gives no chunk size, with per-run ``tables`` or aggregates only
    (results do not depend on it).

    >>> [auto_chunk_size(n) for n in (500, 20_000, 1_000_000)]
    [500, 10000, 10000]
    >>> [auto_chunk_size(n, tables=False) for n in (500, 20_000, 400_000, 600_000, 1_000_000, 10**8)]
    [500, 10000, 10000, 15000, 25000, 25000]
    """
    if tables:
        return min(runs, AUTO_CHUNK_MIN)
    fortieth = -(-runs // AUTO_CHUNKS)
    return min(runs, max(AUTO_CHUNK_MIN, min(AUTO_CHUNK_MAX, -(-fortieth // 1000) * 1000)))


class ScenarioSpec(Frozen):
    """A scenario file: a world to simulate, its levers, its uncertainties and its batch settings."""

    _auto_chunk_size: bool = PrivateAttr(default=False)

    name: Identifier = Field(description="The scenario's id (a-z, 0-9, _); the results sub-folder.",
                             examples=["limited_deployment"])
    title: Text = Field(min_length=1, max_length=MAX_LINE, description="One line for charts and reports.",
                       examples=["A limited European deployment to western Ukraine"])
    question: Text = Field(min_length=1, max_length=MAX_TEXT, description="The question the scenario answers.",
                          examples=["Does a small non-combat deployment in western Ukraine raise the risk of a "
                                    "Russian strike on NATO forces?"])
    description: Text = Field(default="", max_length=MAX_TEXT, description="Longer context for readers.",
                             examples=["European engineers and trainers in western Ukraine from week 4."])
    sources: list[Annotated[Text, Field(max_length=MAX_TEXT)]] = Field(
        default=[], max_length=100, description="The seed articles and DOMAIN.md sections the scenario draws on.",
        examples=[["seed-000-legitimate-targets", "DOMAIN.md 4.2"]])
    start_date: _dt.date | None = Field(default=None, description="The calendar date of week 0, for labels and the "
                                        "date column of events.parquet.", examples=["2022-02-24"])
    horizon_weeks: int = Field(default=52, ge=1, le=520, strict=True,
                               description="Weeks simulated (1-520); one step is one week.", examples=[52])
    runs: int = Field(default=10_000, ge=1, le=100_000_000, strict=True, description="Runs per variant (1-10^8).",
                      examples=[20000])
    seed: int = Field(default=0, ge=0, le=2**63 - 1, strict=True, description="The root seed (a whole number >= 0): "
                      "run k of the batch is a function of the seed and k only.", examples=[20250301])
    chunk_size: int = Field(default=AUTO_CHUNK_MIN, ge=1, le=1_000_000, strict=True,
                            description="Runs per task (1-10^6); it does not change results. Left out: 10,000 (or "
                            "the runs, if fewer), and without per-run tables (--no-runs) a fortieth of a batch of "
                            "more than 400,000 runs, up to 25,000.", examples=[5000])
    baseline_name: Identifier = Field(default="baseline", description="The name of the variant the file's own "
                                      "levers form.", examples=["baseline"])
    deployments: list[DeploymentSpec] = Field(default=[], max_length=200, description="Western deployments.",
                                              examples=[[{"id": "eu_engineers", "contributors": ["france", "poland"],
                                                          "type": "non_combat", "size": 2000,
                                                          "location": "western", "start_week": 4}]])
    policies: Policies = Field(default=Policies(), description="Standing Western policies.",
                               examples=[{"deep_strike": {"authorised": True, "from_week": 10,
                                                          "suppliers": ["us", "uk"]}}])
    timeline: list[TimelineMove] = Field(default=[], max_length=2000, description="Scripted Western and Ukrainian "
                                         "moves.", examples=[[{"week": 2, "actor": "us", "move": "new_weapon_class",
                                                              "note": "HIMARS"}]])
    mediators: list[Identifier] | None = Field(default=None, max_length=64, description="The mediators that are "
                                               "active (default: all; [] for none).", examples=[["turkey"]])
    uncertainties: dict[str, Distribution] = Field(
        default={}, max_length=500, description="actor.attribute: distribution, replacing that attribute's "
        "distribution in configs/actors.yaml.",
        examples=[{"russia.resolve": {"dist": "triangular", "low": 0.5, "mode": 0.75, "high": 0.95}}])
    overrides: dict[str, Annotated[float, Field(strict=True)]] = Field(
        default={}, max_length=500, description="parameter: value for parameters of configs/model.yaml, within "
        "their ranges.", examples=[{"memory_decay": 0.9}])
    #: ``calibrated``: each run draws the design parameters from configs/calibration.yaml, so intervals carry what the
    #: record leaves open; ``fixed``: every run uses the point values of configs/model.yaml (pure Monte Carlo).
    design_parameters: Literal["calibrated", "fixed"] = Field(
        default="calibrated", description="calibrated: each run draws one of the calibrated parameter sets of "
        "configs/calibration.yaml; fixed: every run uses the point values of configs/model.yaml.",
        examples=["calibrated"])
    variants: list[Variant] = Field(
        default=[], max_length=MAX_VARIANTS, description="Alternative levers, each compared with the baseline using "
        "the same random numbers.", examples=[[{"name": "no_mediation", "mediators": []}]])
    sweep: SweepSpec | None = Field(
        default=None, description="A sweep over lever values kept with the scenario: `escalation sweep FILE` runs "
        "it (docs/sweeps.md).", examples=[{"levers": {"deployments.eu_engineers.size": "500,2000,8000"}}])

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
    def _chunk_size_from_runs(self) -> ScenarioSpec:
        """A chunk size left out is chosen from the number of runs (:func:`auto_chunk_size`, as for a batch with
        per-run tables; :func:`sim.output.plans.plan_run` chooses again for one without)."""
        if "chunk_size" not in self.model_fields_set:
            object.__setattr__(self, "chunk_size", auto_chunk_size(self.runs))  # a default, not a setting given
            self._auto_chunk_size = True
        return self

    @property
    def chunk_size_chosen(self) -> bool:
        """Whether the chunk size was chosen from the number of runs rather than given."""
        return self._auto_chunk_size

    @model_validator(mode="after")
    def _weeks_within_horizon(self) -> ScenarioSpec:
        """Every lever's week lies inside the horizon, ids are unique: each failure names its own key."""
        h = self.horizon_weeks
        span = f"the horizon of {h} weeks (0 to {h - 1})"
        owners: list[tuple[tuple[str | int, ...], str, Variant | ScenarioSpec]] = [((), "", self)]
        owners += [(("variants", i), f"variant '{v.name}': ", v) for i, v in enumerate(self.variants)]
        for at, where, levers in owners:
            seen: dict[str, int] = {}
            for i, d in enumerate(levers.deployments or []):
                here = at + ("deployments", i)
                if d.start_week >= h:
                    raise LocatedError(here + ("start_week",), f"{where}deployment '{d.id}' starts in week "
                                       f"{d.start_week}, beyond {span}")
                if d.end_week is not None and d.end_week > h:
                    raise LocatedError(here + ("end_week",), f"{where}deployment '{d.id}' ends in week {d.end_week}, "
                                       f"beyond {span}; omit end_week to keep it to the end")
                if d.id in seen:
                    raise LocatedError(here + ("id",), f"{where}deployment id '{d.id}' is used twice (first at "
                                       f"deployments[{seen[d.id]}]); ids must be unique")
                seen[d.id] = i
            for i, m in enumerate(levers.timeline or []):
                if m.week >= h:
                    raise LocatedError(at + ("timeline", i, "week"), f"{where}move '{m.move}' in week {m.week} is "
                                       f"beyond {span}")
            policies = levers.policies
            if policies is not None and policies.deep_strike.from_week >= h:
                raise LocatedError(at + ("policies", "deep_strike", "from_week"),
                                   f"{where}deep strikes from week {policies.deep_strike.from_week}, beyond {span}")
        names = [self.baseline_name] + [v.name for v in self.variants]
        for i, name in enumerate(names[1:]):
            if name in names[: i + 1]:
                raise LocatedError(("variants", i, "name"), f"variant name '{name}' is used twice or is the "
                                   f"baseline's ('{self.baseline_name}'); variant names must be unique")
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
