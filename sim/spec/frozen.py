"""The base of every config object (frozen, typed data that forbids unknown keys) and its common field types.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64)]
Source = Annotated[str, Field(min_length=3, max_length=2000)]
Week = Annotated[int, Field(ge=0, le=10_000)]


class Frozen(BaseModel):
    """Base of every config model: unknown keys are errors, values cannot change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
