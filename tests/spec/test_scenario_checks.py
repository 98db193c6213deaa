"""The scenario model's own checks, as a user meets them: strict types where lax coercion would surprise, bounded
free text, cross-field errors at the line and key they concern, and an editor text for every schema property."""

from __future__ import annotations

import json

import pytest
from support import error_of, write

from sim.spec.json_schema import scenario_schema

HEAD = "# yaml-language-server: $schema=../schema/scenario.schema.json\nname: t\ntitle: T\nquestion: Q\n"
def _message(tmp_path, text: str, doctrine) -> str:
    """The refusal of a scenario file holding ``text``, from its file name on."""
    return error_of(write(tmp_path, text), doctrine).removeprefix(str(tmp_path) + "/")


DEP = "{id: a, contributors: [france], type: non_combat, size: 2000, location: western}"


@pytest.mark.parametrize(("body", "expected"), [
    ("seed: \"7\"\n", "s.yaml:5: seed: invalid value; expected a whole number; found '7'"),
    ("runs: true\n", "s.yaml:5: runs: invalid value; expected a whole number; found True"),
    ("horizon_weeks: 26.0\n", "s.yaml:5: horizon_weeks: invalid value; expected a whole number; found 26.0"),
    ("deployments:\n  - {id: a, contributors: [france], type: non_combat, size: true, location: western}\n",
     "s.yaml:6: deployments[0].size: invalid value; expected a whole number; found True"),
    ("timeline:\n  - {week: \"3\", actor: us, move: sanctions}\n",
     "s.yaml:6: timeline[0].week: invalid value; expected a whole number; found '3'"),
    ("policies:\n  deep_strike: {authorised: \"yes\"}\n",
     "s.yaml:6: policies.deep_strike.authorised: invalid value; expected true or false; found 'yes'"),
    ("overrides:\n  memory_decay: \"0.9\"\n", "s.yaml:6: overrides.memory_decay: invalid value; expected a number"),
])
def test_values_of_the_wrong_type_are_refused_not_coerced(doctrine, tmp_path, body, expected):
    assert _message(tmp_path, HEAD + body, doctrine).startswith(expected)


@pytest.mark.parametrize(("body", "expected"), [
    ("policies:\n  deep_strike: {from_week: 70}\n",
     "s.yaml:6: policies.deep_strike.from_week: deep strikes from week 70, beyond the horizon of 52 weeks (0 to 51)"),
    ("policies:\n  deep_strike:\n    authorised: true\n\n    from_week: 52\n",
     "s.yaml:9: policies.deep_strike.from_week: deep strikes from week 52"),
    (f"deployments:\n  - {DEP}\n  - id: b\n    contributors: [france]\n    type: non_combat\n    size: 5\n"
     "    location: western\n    start_week: 60\n",
     "s.yaml:12: deployments[1].start_week: deployment 'b' starts in week 60, beyond the horizon"),
    (f"deployments:\n  - {DEP}\n  - {DEP}\n",
     "s.yaml:7: deployments[1].id: deployment id 'a' is used twice (first at deployments[0]); ids must be unique"),
    ("deployments:\n  - {id: a, contributors: [france], type: non_combat, size: 5, location: western,\n"
     "      start_week: 9, end_week: 60}\n",
     "s.yaml:7: deployments[0].end_week: deployment 'a' ends in week 60, beyond the horizon"),
    ("variants:\n  - name: v\n    mediators: []\n  - name: w\n    timeline:\n"
     "      - {week: 1, actor: us, move: sanctions}\n      - {week: 99, actor: us, move: sanctions}\n",
     "s.yaml:11: variants[1].timeline[1].week: variant 'w': move 'sanctions' in week 99 is beyond the horizon"),
    ("variants:\n  - name: v\n    policies:\n      deep_strike: {authorised: true, from_week: 80}\n",
     "s.yaml:8: variants[0].policies.deep_strike.from_week: variant 'v': deep strikes from week 80"),
    ("variants:\n  - name: v\n    mediators: []\n  - name: v\n    mediators: []\n",
     "s.yaml:8: variants[1].name: variant name 'v' is used twice"),
    ("variants:\n  - name: baseline\n    mediators: []\n",
     "s.yaml:6: variants[0].name: variant name 'baseline' is used twice or is the baseline's"),
])
def test_cross_field_errors_name_their_own_line_and_key(doctrine, tmp_path, body, expected):
    assert _message(tmp_path, HEAD + body, doctrine).startswith(expected)


@pytest.mark.parametrize(("key", "limit"), [("title", 200), ("question", 4000), ("description", 4000)])
def test_free_text_is_bounded(doctrine, tmp_path, key, limit):
    body = HEAD.replace(f"\n{key}: ", f"\n_{key}: ") if key != "description" else HEAD
    text = "\n".join(line for line in body.splitlines() if not line.startswith(f"_{key}")) + "\n"
    path = write(tmp_path, text + f"{key}: \"{'x' * (limit + 1)}\"\n")
    message = error_of(path, doctrine)
    assert f": {key}: string should have at most {limit} characters" in message
    assert "xxxxxxxxxx" not in message, "the over-long text is not echoed"
    write(tmp_path, text + f"{key}: \"{'x' * limit}\"\n")


def _properties(schema: dict) -> list[tuple[str, str, dict]]:
    found = [("(top level)", k, v) for k, v in schema["properties"].items()]
    for name, definition in schema["$defs"].items():
        found += [(name, k, v) for k, v in definition.get("properties", {}).items()]
    return found


def test_every_schema_property_has_a_description_and_an_example(doctrine):
    props = _properties(scenario_schema(doctrine))
    assert len(props) > 60
    missing = [f"{owner}.{key}" for owner, key, p in props
               if not (isinstance(p.get("description"), str) and p["description"].strip() and p.get("examples"))]
    assert missing == []


def test_every_example_is_strict_json_and_fits_its_enum(doctrine):
    schema = scenario_schema(doctrine)

    def refuse(constant: str) -> None:
        raise AssertionError(f"the schema holds {constant}")

    json.loads(json.dumps(schema), parse_constant=refuse)
    for owner, key, p in _properties(schema):
        for example in p["examples"]:
            if "enum" in p:
                assert example in p["enum"], f"{owner}.{key}: {example!r}"
