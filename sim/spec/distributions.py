"""Distributions an uncertainty can take (fixed, uniform, triangular, normal), each with its quantile function.

A run's sampled value is the quantile of a keyed uniform draw, so it is a pure function of the seed and the run.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from sim.spec.frozen import Frozen, Source


# --------------------------------------------------------------------------------------------------- distributions
class _Dist(Frozen):
    source: Source | None = None
    rationale: str | None = None

    def support(self) -> dict[str, float]:
        """The fields that bound the values drawn: the least and the greatest value it can take, by field name."""
        raise NotImplementedError


class Fixed(_Dist):
    """A value that is not sampled."""

    dist: Literal["fixed"]
    value: float

    def quantile(self, u: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """Draws from keyed uniforms ``u`` (normals ``z`` are used by :class:`Normal` only)."""
        return np.full(np.shape(u), self.value)

    def support(self) -> dict[str, float]:
        """Its one value."""
        return {"value": self.value}


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

    def support(self) -> dict[str, float]:
        """Its ends."""
        return {"low": self.low, "high": self.high}

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
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

    def support(self) -> dict[str, float]:
        """Its ends."""
        return {"low": self.low, "high": self.high}

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
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

    def support(self) -> dict[str, float]:
        """The ends it is clipped to (infinite when not given)."""
        return {"low": self.low, "high": self.high}

    @model_validator(mode="after")
    def _finite_mean(self) -> Normal:
        if not (math.isfinite(self.mean) and math.isfinite(self.sd)):
            raise ValueError("mean and sd must be finite numbers")
        if not self.low < self.high:
            raise ValueError(f"low must be below high, found low={self.low}, high={self.high}")
        return self


Distribution = Annotated[Fixed | Uniform | Triangular | Normal, Field(discriminator="dist")]


def outside(dist: Fixed | Uniform | Triangular | Normal, low: float, high: float) -> tuple[str, float] | None:
    """The first field of ``dist`` that lets a draw leave [low, high], with its value; None if every draw stays in.

    >>> outside(Fixed(dist="fixed", value=1e300), 0, 1)
    ('value', 1e+300)
    >>> outside(Normal(dist="normal", mean=0.5, sd=0.1), 0, 1)
    ('low', -inf)
    >>> outside(Uniform(dist="uniform", low=0.2, high=0.9), 0, 1) is None
    True
    """
    for name, value in dist.support().items():
        if not low <= value <= high:
            return name, value
    return None
