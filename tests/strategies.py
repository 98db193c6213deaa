"""Hypothesis strategies for the property and fuzz tests: malformed and mutated scenario files.

Scenarios are mutated from the shipped ones, so most examples are near-valid and reach deep into validation: a
key dropped, renamed or duplicated, a value retyped or pushed out of range, a list emptied or an item repeated.
Text strategies give random YAML-like text and the shipped files with characters inserted, deleted or replaced.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.yaml"))
SCENARIO_TEXTS = [p.read_text(encoding="utf-8") for p in SCENARIO_FILES]
SCENARIOS = [yaml.safe_load(t) for t in SCENARIO_TEXTS]

Path_ = tuple[Any, ...]

#: Numbers at and beyond the edges of every range in the schema.
EXTREME_NUMBERS = st.sampled_from([0, -1, 1, -0.0, 0.5, 1.5, 52, 53, 520, 521, 10_000, 10**6, 10**8 + 1, 2**63,
                                   -(2**63), 10**30, 1e308, -1e308, 1e-320, float("nan"), float("inf"),
                                   float("-inf")])

#: Any plain YAML value, small.
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20) | EXTREME_NUMBERS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)

#: Names a key might be misspelled or replaced with.
key_names = st.one_of(
    st.sampled_from(["nme", "Name", "runs ", "chunk-size", "horizon", "deployment", "type_", "sizes", "weeks",
                     "seed\t", "", "1", "__class__", "!!python/object", "<<"]),
    st.text(min_size=1, max_size=12),
)


def paths(data: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every key path in a nested structure of dicts and lists (the root included)."""
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, prefix + (i,))
    return out


def _parent(data: Any, path: Path_) -> Any:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node


def _mutate(draw: st.DrawFn, data: Any) -> Any:
    """Apply one random mutation to ``data`` (in place when possible) and return the result."""
    path = draw(st.sampled_from(paths(data)))
    op = draw(st.sampled_from(["drop", "rename", "retype", "extreme", "empty", "repeat", "add_key"]))
    if not path:  # the root itself
        return draw(plain_values) if op == "retype" else data
    parent, last = _parent(data, path), path[-1]
    value = parent[last]
    if op == "drop":
        del parent[last]
    elif op == "rename" and isinstance(parent, dict):
        parent[draw(key_names)] = parent.pop(last)
    elif op == "retype":
        parent[last] = draw(plain_values)
    elif op == "extreme":
        parent[last] = draw(EXTREME_NUMBERS)
    elif op == "empty" and isinstance(value, (list, dict)):
        parent[last] = type(value)()
    elif op == "repeat" and isinstance(value, list) and value:
        value.append(copy.deepcopy(value[draw(st.integers(0, len(value) - 1))]))
    elif op == "add_key" and isinstance(value, dict):
        value[draw(key_names)] = draw(plain_values)
    else:
        parent[last] = draw(plain_values)
    return data


@st.composite
def mutated_scenarios(draw: st.DrawFn, max_mutations: int = 3) -> Any:
    """A shipped scenario with one to ``max_mutations`` random mutations."""
    data = copy.deepcopy(draw(st.sampled_from(SCENARIOS)))
    for _ in range(draw(st.integers(1, max_mutations))):
        data = _mutate(draw, data)
    return data


#: Characters that mean something in YAML, plus a few that must be refused.
YAML_ALPHABET = st.sampled_from(list(":-[]{},&*!|>'\"#%@?`~ \n\t.0123456789abcnxyz_=+/\\")
                                + ["\x00", "\x07", "\ufeff", "\u2028", "é", "\U0001f600"])

yaml_like_text = st.text(alphabet=YAML_ALPHABET, max_size=200)


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    """A shipped scenario file with characters inserted, deleted or replaced at random places."""
    text = draw(st.sampled_from(SCENARIO_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.text(alphabet=YAML_ALPHABET, min_size=1, max_size=6))
        if op == "insert":
            text = text[:pos] + piece + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + len(piece):]
        else:
            text = text[:pos] + piece + text[pos + len(piece):]
    return text


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    """A shipped scenario file's bytes with some bytes overwritten (binary, bad UTF-8, NULs)."""
    raw = bytearray(draw(st.sampled_from(SCENARIO_TEXTS)).encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw)
