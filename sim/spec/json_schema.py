"""The JSON Schema of scenario files, with the doctrine's closed vocabularies filled in as enums.

Editors that read ``# yaml-language-server: $schema=...`` then complete actor ids, deployment types, move kinds,
uncertainty keys and override names while a scenario is typed, and flag unknown ones.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel

from sim.spec.doctrine import Doctrine
from sim.spec.scenario import ScenarioSpec
from sim.spec.vocabulary import Role


def scenario_schema(doctrine: Doctrine) -> dict[str, Any]:
    """The scenario format's JSON Schema, vocabularies from ``doctrine``."""
    schema = ScenarioSpec.model_json_schema()
    schema["title"] = "Escalation scenario"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    defs = schema.get("$defs", {})
    members = doctrine.members()
    movers = [a.id for a in doctrine.actors if a.bloc.value in ("nato", "ukraine")]
    mediators = [a.id for a in doctrine.actors if Role.MEDIATOR in a.roles]
    uncert_keys = sorted(f"{a.id}.{k}" for a in doctrine.actors for k in a.attributes)

    def enum_items(prop: dict[str, Any], values: list[str]) -> None:
        for variant in prop.get("anyOf", [prop]):
            if variant.get("type") == "array":
                variant["items"] = {"type": "string", "enum": values}

    dep = defs["DeploymentSpec"]["properties"]
    dep["type"]["enum"] = doctrine.ids("deployment_types")
    enum_items(dep["contributors"], members)
    enum_items(defs["DeepStrikePolicy"]["properties"]["suppliers"], members)
    mv = defs["TimelineMove"]["properties"]
    mv["actor"]["enum"] = movers
    mv["move"]["enum"] = doctrine.ids("moves")
    for owner in (schema["properties"], defs["Variant"]["properties"]):
        enum_items(owner["mediators"], mediators)
    schema["properties"]["uncertainties"]["propertyNames"] = {"enum": uncert_keys}
    schema["properties"]["overrides"]["propertyNames"] = {"enum": sorted(doctrine.parameters)}
    for kind, fields in _DISTRIBUTION_FIELDS.items():
        for key, (description, example) in fields.items():
            prop = defs[kind]["properties"][key]
            prop.setdefault("description", description)
            prop.setdefault("examples", [example])
    _drop_infinite_defaults(schema)
    return schema


_SOURCE = ("Where the distribution comes from: keys of docs/sources.md in square brackets with a locator, or a "
           "DOMAIN.md section.", "[record-actors] Russia row")
_RATIONALE = ("Why these values, for readers.", "High but bounded.")
#: What each field of an uncertainty's distribution means (the distribution classes are shared with the doctrine
#: files, so their editor text is kept here, with the scenario format's).
_DISTRIBUTION_FIELDS: dict[str, dict[str, tuple[str, Any]]] = {
    "Fixed": {"dist": ("fixed: the value is not sampled.", "fixed"), "value": ("The value every run uses.", 0.6),
              "source": _SOURCE, "rationale": _RATIONALE},
    "Uniform": {"dist": ("uniform: every value in [low, high] equally likely.", "uniform"),
                "low": ("The smallest value.", 0.5), "high": ("The largest value (at least low).", 0.9),
                "source": _SOURCE, "rationale": _RATIONALE},
    "Triangular": {"dist": ("triangular: on [low, high], most likely at mode.", "triangular"),
                   "low": ("The smallest value.", 0.5), "mode": ("The most likely value (low <= mode <= high).", 0.75),
                   "high": ("The largest value.", 0.95), "source": _SOURCE, "rationale": _RATIONALE},
    "Normal": {"dist": ("normal: Normal(mean, sd), clipped to [low, high].", "normal"),
               "mean": ("The mean.", 0.7), "sd": ("The standard deviation (above 0).", 0.1),
               "low": ("Optional lower clip (default: none).", 0.0),
               "high": ("Optional upper clip (default: none; above low).", 1.0),
               "source": _SOURCE, "rationale": _RATIONALE},
}


def _drop_infinite_defaults(node: Any) -> None:
    """Remove defaults that JSON cannot hold (a normal distribution's unbounded ``low`` and ``high``): strict JSON
    has no Infinity, and editors refuse a schema that writes it."""
    if isinstance(node, dict):
        default = node.get("default")
        if isinstance(default, float) and not math.isfinite(default):
            del node["default"]
        for value in node.values():
            _drop_infinite_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _drop_infinite_defaults(value)


def json_data(model: BaseModel) -> dict[str, Any]:
    """A validated model's data as strict JSON can hold it: unbounded defaults (a normal distribution's infinite
    ``low`` and ``high``) are left out, so validating the data again restores them.

    >>> from sim.spec.distributions import Normal
    >>> json_data(Normal(dist="normal", mean=0, sd=1))["dist"], "low" in json_data(Normal(dist="normal", mean=0, sd=1))
    ('normal', False)
    """
    return _finite(model.model_dump(mode="json"))


def _finite(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _finite(v) for k, v in node.items() if not (isinstance(v, float) and not math.isfinite(v))}
    if isinstance(node, list):
        return [_finite(v) for v in node]
    return node


def schema_text(doctrine: Doctrine) -> str:
    """The schema as the text written to schema/scenario.schema.json."""
    return json.dumps(scenario_schema(doctrine), indent=2, sort_keys=True, allow_nan=False) + "\n"
