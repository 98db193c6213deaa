"""Calibration targets (``calibration/targets.yaml``): what the 2022-2024 record shows, as statistics of the
back-test with the interval the record allows for each, and its source."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from sim.errors import InputError
from sim.spec.frozen import Frozen, Identifier, Source
from sim.spec.messages import validation_error
from sim.spec.yaml_reader import parse_yaml, read_text

Statistic = Literal["probability", "median_first_week", "acts_per_run", "acts_per_year", "week_share",
                    "response_share"]


class Target(Frozen):
    """One target: a statistic of a batch of back-test runs and the interval ``[low, high]`` the record allows.

    ``probability`` and ``median_first_week`` read an ``outcome``; ``acts_per_run``, ``acts_per_year`` and
    ``week_share`` count Russian acts of ``action`` in weeks ``from_week`` to ``to_week`` (exclusive); and
    ``response_share`` is the share of runs whose highest Russian rung on ``axis`` in the five weeks from ``week``
    lies within ``rungs``.
    """

    id: Identifier
    statistic: Statistic
    low: float
    high: float
    source: Source
    rationale: str = ""
    outcome: str | None = None
    action: str | None = None
    from_week: int = Field(default=0, ge=0)
    to_week: int | None = Field(default=None, ge=1)
    week: int | None = Field(default=None, ge=0)
    axis: Literal["nato", "ukraine"] | None = None
    rungs: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Target:
        if self.low > self.high:
            raise ValueError(f"target '{self.id}': low {self.low} is above high {self.high}")
        needs = {"probability": ("outcome",), "median_first_week": ("outcome",), "acts_per_run": ("action",),
                 "acts_per_year": ("action",), "week_share": ("action",),
                 "response_share": ("week", "axis", "rungs")}
        for name in needs[self.statistic]:
            if getattr(self, name) is None:
                raise ValueError(f"target '{self.id}': a {self.statistic} target needs '{name}'")
        return self


class Prior(Frozen):
    """A narrower interval to draw a parameter's candidates from than its stated range, with the reason."""

    low: float
    high: float
    rationale: str


class Targets(Frozen):
    priors: dict[Identifier, Prior] = {}
    targets: list[Target] = Field(min_length=1)


def default_targets_path() -> Path:
    """``calibration/targets.yaml`` beside the package."""
    return Path(__file__).resolve().parents[2] / "calibration" / "targets.yaml"


def load_priors(path: str | Path | None = None) -> dict[str, Prior]:
    """The candidates' prior intervals of ``calibration/targets.yaml`` (parameters not named: their stated range)."""
    return _load(path).priors


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Read and validate the calibration targets."""
    return _load(path).targets


def _load(path: str | Path | None) -> Targets:
    path = Path(path) if path is not None else default_targets_path()
    doc = parse_yaml(read_text(path), str(path))
    if not isinstance(doc.data, dict):
        raise InputError("expected a mapping with the key 'targets'", file=path, line=1)
    try:
        return Targets.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, Targets, {str(path): doc}, {"targets": str(path)}) from None
