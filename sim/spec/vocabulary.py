"""Closed vocabularies defined once: blocs, locations, actor roles, distribution kinds and the outcome ids.

Everything else (which actor is a NATO member, which rung is nuclear) is derived from these and from the doctrine
files, never retyped.

>>> Bloc.parse("nato") is Bloc.NATO
True
>>> Location.FRONTLINE.inside_ukraine
True
"""

from __future__ import annotations

from enum import StrEnum

from sim.errors import InputError


class _Vocabulary(StrEnum):
    """A string enum with a strict parser that names the valid choices."""

    @classmethod
    def parse(cls, text: str, *, key: str | None = None):
        try:
            return cls(text)
        except ValueError:
            raise InputError(
                f"unknown {cls.__name__.lower()}",
                key=key,
                expected="one of: " + ", ".join(m.value for m in cls),
                found=text,
            ) from None


class Bloc(_Vocabulary):
    """The side an actor stands on in the escalation dyads (DESIGN.md section 3)."""

    RUSSIA = "russia"  # Russia and its formal allies (Belarus, the Union State)
    UKRAINE = "ukraine"
    NATO = "nato"  # NATO members and the alliance itself
    THIRD = "third"  # third countries: mediators, suppliers, bystanders


class Location(_Vocabulary):
    """Where a deployment stands: outside Ukraine, or in one of three zones inside it."""

    OUTSIDE = "outside"
    WESTERN = "western"
    CENTRAL = "central"
    FRONTLINE = "frontline"

    @property
    def inside_ukraine(self) -> bool:
        return self is not Location.OUTSIDE


class Role(_Vocabulary):
    """What an actor can do beyond its bloc's default behaviour."""

    NUCLEAR_POWER = "nuclear_power"
    MEDIATOR = "mediator"
    SUPPLIER = "supplier"
    DRONE_SUPPLIER = "drone_supplier"
    TROOP_SUPPLIER = "troop_supplier"
    LAUNCH_AREA = "launch_area"
    NUCLEAR_HOST = "nuclear_host"
    ALLIANCE = "alliance"
    DIALOGUE = "dialogue"


#: Stable outcome ids, in report order (DESIGN.md section 3). Their definitions live in sim/outcomes.py.
OUTCOME_IDS: tuple[str, ...] = (
    "nuclear_signalling",
    "heavier_strikes_on_ukraine",
    "hybrid_attack_on_nato",
    "airspace_incident",
    "strike_on_nato_forces_in_ukraine",
    "strike_on_nato_territory",
    "article4_consultation",
    "article5_invoked",
    "nato_russia_war",
    "nuclear_use",
    "strategic_nuclear_war",
    "partial_deal",
    "ceasefire",
)
