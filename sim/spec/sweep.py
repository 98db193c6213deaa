"""The ``sweep:`` block of a scenario file: lever paths and the values each takes, kept with the scenario.

Each entry maps a lever path (``deployments.<id>.size``, ``policies.deep_strike.from_week``,
``overrides.<parameter>``...) to its values: a list (``[500, 2000, 8000]``) or the same text the command line
takes (``"500..20000:4"``, ``"log:500..20000:4"``, ``"western,frontline"``). The levers and values are checked
against the scenario when the sweep is expanded (:func:`sim.spec.levers.expand`), which names the path or value
that is wrong.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from sim.spec.frozen import Frozen

#: One value of a lever as written in a file.
LeverValue = bool | int | float | str | None


class SweepSpec(Frozen):
    """A grid of lever values: every combination is one point, a variant run on the same random numbers."""

    levers: dict[str, list[LeverValue] | str] = Field(
        min_length=1, description="Each lever path with its values: a list, or the text the command line takes "
        "(a comma list, lo..hi:n or log:lo..hi:n).",
        examples=[{"deployments.eu_engineers.size": [500, 2000, 8000],
                   "deployments.eu_engineers.location": "western,frontline"}])

    @field_validator("levers")
    @classmethod
    def _values_given(cls, v: dict[str, list[LeverValue] | str]) -> dict[str, list[LeverValue] | str]:
        for path, values in v.items():
            if not path.strip():
                raise ValueError("a lever path is empty")
            if isinstance(values, list) and not values:
                raise ValueError(f"lever '{path}' has no values")
            if isinstance(values, str) and not values.strip():
                raise ValueError(f"lever '{path}' has no values")
        return v
