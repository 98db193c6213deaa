"""The JSON Schema of scenario files, with the doctrine's closed vocabularies filled in as enums.

Editors that read ``# yaml-language-server: $schema=...`` then complete actor ids, deployment types, move kinds,
uncertainty keys and override names while a scenario is typed, and flag unknown ones.
"""

from __future__ import annotations

import json
import math
from typing import Any

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
    _drop_infinite_defaults(schema)
    return schema


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


def schema_text(doctrine: Doctrine) -> str:
    """The schema as the text written to schema/scenario.schema.json."""
    return json.dumps(scenario_schema(doctrine), indent=2, sort_keys=True, allow_nan=False) + "\n"
