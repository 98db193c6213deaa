"""Lever paths into a scenario, their values, and a sweep expanded into one variant per grid point.

A lever path names one chosen quantity of a scenario: ``deployments.<id>.<field>`` for a field of one of its
deployments, ``policies.deep_strike.<field>``, ``mediators``, or ``overrides.<parameter>`` for a parameter of
configs/model.yaml. The paths are derived from the pydantic models of the levers (:class:`Levers` and the models
of its fields), so a field added there is a lever here. Values are a comma list (``500,2000,8000``), a linear
range ``lo..hi:n`` (n points) or a logarithmic one ``log:lo..hi:n``; integer fields take integers (a range is
rounded, repeated values dropped); a list field (contributors, suppliers, mediators) joins its items with ``+``.

:func:`expand` turns a grid of levers into a scenario whose variants are the grid's points (every combination, the
first lever varying slowest), each validated like any scenario: a point is a variant, so points share their random
numbers exactly as the variants of ``escalation compare`` do.

>>> parse_range("500..2000:4", LeverKind("int"))
[500, 1000, 1500, 2000]
>>> parse_range("log:1..100:3", LeverKind("float"))
[1.0, 10.0, 100.0]
"""

from __future__ import annotations

import copy
import enum
import itertools
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from sim.errors import InputError
from sim.spec.doctrine import Doctrine
from sim.spec.scenario import MAX_VARIANTS, Levers, ScenarioSpec

#: Prefix of the variant names of a sweep's points (``point_1``, ``point_2``...).
POINT = "point_"
#: The fields of :class:`Levers` that are not levers.
_NOT_LEVERS = ("name", "description")

_RANGE = re.compile(r"^(log:)?\s*([-+]?[0-9.eE+-]+)\s*\.\.\s*([-+]?[0-9.eE+-]+)\s*:\s*([0-9]+)$")


@dataclass(frozen=True)
class LeverKind:
    """What values a lever takes: ``int``, ``float``, ``bool``, ``text`` (with its choices, if closed) or ``list``."""

    kind: str
    choices: tuple[str, ...] = ()
    optional: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float")


def _plain(annotation: Any) -> Any:
    """The type inside ``Annotated[...]``."""
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated else annotation


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """The type without ``None`` and ``Annotated``, and whether ``None`` was allowed."""
    annotation = _plain(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        return (_plain(args[0]) if len(args) == 1 else annotation), optional
    return annotation, False


def _kind(annotation: Any) -> LeverKind | None:
    """The kind of a leaf field, or None for a field that holds models (not a single lever)."""
    ann, optional = _strip_optional(annotation)
    origin = typing.get_origin(ann)
    if ann is bool:
        return LeverKind("bool", optional=optional)
    if ann is int:
        return LeverKind("int", optional=optional)
    if ann is float:
        return LeverKind("float", optional=optional)
    if ann is str:
        return LeverKind("text", optional=optional)
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return LeverKind("text", tuple(str(m.value) for m in ann), optional)
    if origin is typing.Literal:
        return LeverKind("text", tuple(str(a) for a in typing.get_args(ann)), optional)
    if origin is list:
        (item,) = typing.get_args(ann) or (str,)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return None
        return LeverKind("list", optional=optional)
    return None


def _model_leaves(model: type[BaseModel], prefix: str) -> dict[str, LeverKind]:
    """Every leaf field of ``model`` (recursing into sub-models), as ``prefix.field`` paths."""
    out: dict[str, LeverKind] = {}
    for name, info in model.model_fields.items():
        ann, _ = _strip_optional(info.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(_model_leaves(ann, f"{prefix}.{name}"))
            continue
        kind = _kind(info.annotation)
        if kind is not None:
            out[f"{prefix}.{name}"] = kind
    return out


def lever_paths(spec: ScenarioSpec, doctrine: Doctrine) -> dict[str, LeverKind]:
    """Every lever path of this scenario and the kind of value it takes, derived from the levers' models.

    A list of models with an ``id`` (the deployments) gives one set of paths per item of the scenario's own list;
    a list of models without one (the scripted timeline) is not a lever; a mapping of numbers (the overrides) gives
    one path per parameter of the doctrine.
    """
    base = spec.levers()[0]
    out: dict[str, LeverKind] = {}
    for name, info in Levers.model_fields.items():
        if name in _NOT_LEVERS:
            continue
        ann, _ = _strip_optional(info.annotation)
        origin = typing.get_origin(ann)
        if origin is dict:
            for p in sorted(doctrine.parameters):
                out[f"{name}.{p}"] = LeverKind("float")
            continue
        if origin is list:
            (item,) = typing.get_args(ann)
            if isinstance(item, type) and issubclass(item, BaseModel):
                if "id" not in item.model_fields:
                    continue
                for entry in getattr(base, name):
                    leaves = _model_leaves(item, f"{name}.{entry.id}")
                    out.update({k: v for k, v in leaves.items() if not k.endswith(".id")})
                continue
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(_model_leaves(ann, name))
            continue
        kind = _kind(info.annotation)
        if kind is not None:
            out[name] = kind
    return out


def describe_paths(paths: Iterable[str]) -> str:
    """The valid lever paths in a short form: the overrides as ``overrides.<parameter>``."""
    plain = [p for p in paths if not p.startswith("overrides.")]
    return ", ".join(plain + ["overrides.<parameter of configs/model.yaml>"])


# ------------------------------------------------------------------------------------------------- values
def _number(text: str, kind: LeverKind, path: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"lever '{path}' takes numbers", key=path, expected=f"{kind.kind} values",
                         found=text) from None
    if not np.isfinite(value):
        raise InputError(f"lever '{path}' takes finite numbers", key=path, found=text)
    if kind.kind == "int":
        if value != round(value):
            raise InputError(f"lever '{path}' takes integers", key=path, expected="a whole number", found=text)
        return int(round(value))
    return value


def parse_range(text: str, kind: LeverKind, path: str = "lever") -> list[Any]:
    """The values of a range ``lo..hi:n`` (linear) or ``log:lo..hi:n`` (logarithmic): n points from lo to hi,
    rounded and without repeats for an integer lever."""
    m = _RANGE.match(text.strip())
    if m is None:
        raise InputError(f"lever '{path}' has a malformed range", key=path,
                         expected="lo..hi:n or log:lo..hi:n", found=text)
    if not kind.numeric:
        raise InputError(f"lever '{path}' takes {kind.kind} values, not a range", key=path,
                         expected="a comma list" + (" of: " + ", ".join(kind.choices) if kind.choices else ""),
                         found=text)
    log, lo_text, hi_text, n_text = m.groups()
    lo, hi, n = float(_number(lo_text, LeverKind("float"), path)), float(_number(hi_text, LeverKind("float"), path)), \
        int(n_text)
    if n < 1:
        raise InputError(f"lever '{path}' needs at least one point in its range", key=path, found=text)
    if n > MAX_VARIANTS:
        raise InputError(f"lever '{path}' asks for {n:,} points in its range; a sweep has at most {MAX_VARIANTS}",
                         key=path, expected=f"at most {MAX_VARIANTS} points", found=text)
    if log:
        if lo <= 0 or hi <= 0:
            raise InputError(f"a logarithmic range of lever '{path}' needs positive bounds", key=path, found=text)
        grid = np.geomspace(lo, hi, n)
    else:
        grid = np.linspace(lo, hi, n)
    if kind.kind == "int":
        return list(dict.fromkeys(int(round(x)) for x in grid))
    return [float(round(x, 12)) for x in grid]


def _token(value: Any, kind: LeverKind, path: str) -> Any:
    """One value of a lever, as given (text from the command line, or a YAML scalar), typed for its field."""
    text = str(value).strip() if not isinstance(value, bool) else str(value).lower()
    if kind.optional and text.lower() in ("none", "null"):
        return None
    if kind.numeric:
        if isinstance(value, bool):
            raise InputError(f"lever '{path}' takes numbers", key=path, found=value)
        return _number(text, kind, path)
    if kind.kind == "bool":
        if text.lower() in ("true", "yes", "on"):
            return True
        if text.lower() in ("false", "no", "off"):
            return False
        raise InputError(f"lever '{path}' takes true or false", key=path, expected="true, false", found=text)
    if kind.kind == "list":
        return [item.strip() for item in text.split("+") if item.strip()]
    if kind.choices and text not in kind.choices:
        raise InputError(f"lever '{path}' has no value '{text}'", key=path,
                         expected="one of: " + ", ".join(kind.choices), found=text)
    if not text:
        raise InputError(f"lever '{path}' has an empty value", key=path)
    return text


def parse_values(values: str | list[Any], kind: LeverKind, path: str) -> list[Any]:
    """A lever's values from the command line or a file: a range, a comma list, or a list of scalars."""
    if isinstance(values, str):
        text = values.strip()
        if ".." in text:
            return parse_range(text, kind, path)
        items: list[Any] = [t for t in text.split(",")]
        if any(not t.strip() for t in items):
            raise InputError(f"lever '{path}' has an empty value in its list", key=path,
                             expected="values separated by commas", found=values)
    else:
        items = list(values)
    parsed = [_token(v, kind, path) for v in items]
    unique: list[Any] = []
    for v in parsed:
        if v not in unique:
            unique.append(v)
    if not unique:
        raise InputError(f"lever '{path}' has no values", key=path)
    return unique


def parse_lever(text: str) -> tuple[str, str]:
    """A ``--lever PATH=VALUES`` option as (path, values text).

    >>> parse_lever("deployments.a.size = 1,2")
    ('deployments.a.size', '1,2')
    """
    path, sep, values = text.partition("=")
    if not sep or not path.strip() or not values.strip():
        raise InputError("a lever is PATH=VALUES", key="--lever", expected="e.g. deployments.<id>.size=500,2000",
                         found=text)
    return path.strip(), values.strip()


def resolve_grid(spec: ScenarioSpec, doctrine: Doctrine, levers: dict[str, str | list[Any]],
                 where: str = "--lever") -> dict[str, list[Any]]:
    """Each lever path checked against the scenario and its values parsed: ``{path: [values]}`` in order."""
    paths = lever_paths(spec, doctrine)
    if not levers:
        raise InputError("a sweep needs at least one lever", key=where,
                         expected="--lever PATH=VALUES or a sweep: block in the scenario file")
    grid: dict[str, list[Any]] = {}
    for path, values in levers.items():
        if path not in paths:
            expected = ("overrides.<parameter> with a parameter of configs/model.yaml: "
                        + ", ".join(sorted(p.removeprefix("overrides.") for p in paths if p.startswith("overrides.")))
                        if path.startswith("overrides.") else "one of: " + describe_paths(paths))
            raise InputError(f"unknown lever '{path}'", key=where, expected=expected, found=path)
        try:
            grid[path] = parse_values(values, paths[path], path)
        except InputError as exc:
            exc.key = f"{where} {path}" if where else path
            raise InputError(exc.message, key=exc.key, expected=exc.expected, found=exc.found) from None
    size = 1
    for v in grid.values():
        size *= len(v)
    if size > MAX_VARIANTS:
        sizes = " x ".join(str(len(v)) for v in grid.values())
        raise InputError(f"the sweep has {size:,} points ({sizes}); a scenario holds at most {MAX_VARIANTS} "
                         "variants, so use fewer values", key=where, found=str(size),
                         expected=f"at most {MAX_VARIANTS} points")
    return grid


# ------------------------------------------------------------------------------------------------- points
def _set(data: dict[str, Any], path: str, value: Any) -> None:
    """Set one lever of a variant's data (the resolved levers as JSON-ready dicts)."""
    head, _, rest = path.partition(".")
    if head == "deployments":
        dep_id, _, field = rest.partition(".")
        for d in data["deployments"]:
            if d["id"] == dep_id:
                d[field] = value
        return
    if head == "overrides":
        data["overrides"][rest] = value
        return
    if not rest:
        data[head] = value
        return
    node = data[head]
    *parents, leaf = rest.split(".")
    for p in parents:
        node = node[p]
    node[leaf] = value


def value_at(levers: Levers, path: str, doctrine: Doctrine) -> Any:
    """The value a lever path has in resolved levers, JSON-ready (a list as ``a+b``, a location as its name)."""
    head, _, rest = path.partition(".")
    if head == "overrides":
        return float(levers.overrides.get(rest, doctrine.parameters[rest].value))
    if head == "deployments":
        dep_id, _, field = rest.partition(".")
        node: Any = next(d for d in levers.deployments if d.id == dep_id)
        parts = [field]
    else:
        node = levers
        parts = [head, *rest.split(".")] if rest else [head]
    for p in parts:
        node = getattr(node, p)
    if isinstance(node, enum.Enum):
        return node.value
    if isinstance(node, list):
        return "+".join(str(x) for x in node)
    return node


def point_label(values: dict[str, Any]) -> str:
    """A point's values in a short form: the last part of each path with its value.

    >>> point_label({"deployments.a.size": 500, "deployments.a.location": "western"})
    'size=500, location=western'
    """
    return ", ".join(f"{p.rsplit('.', 1)[-1]}={v}" for p, v in values.items())


def _json(value: Any) -> Any:
    return "+".join(value) if isinstance(value, list) else value


def _variant(base: dict[str, Any], name: str, values: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(base)
    for path, value in values.items():
        _set(data, path, value)
    return dict(data, name=name, description=point_label({p: _json(v) for p, v in values.items()}))


def _validate(data: dict[str, Any], doctrine: Doctrine, what: str, key: str) -> ScenarioSpec:
    try:
        return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        msg = str(first["msg"]).removeprefix("Value error, ")
        loc = ".".join(str(x) for x in first["loc"][2:])
        raise InputError(f"{what} is not a valid scenario: {msg}" + (f" (at {loc})" if loc else ""),
                         key=key) from None


def expand(spec: ScenarioSpec, doctrine: Doctrine, grid: dict[str, list[Any]], where: str = "--lever") -> ScenarioSpec:
    """The scenario whose variants are the grid's points (``point_1``... in grid order, the first lever varying
    slowest), each a variant over the scenario's own levers with the point's values set; its ``sweep`` block holds
    the grid. Each value is validated on its own first (so an error names its lever and value), then each point."""
    base_levers = spec.levers()[0]
    base = base_levers.model_dump(mode="json", exclude={"name", "description"})
    base["overrides"] = {}  # a point's overrides lie over the scenario's own
    data = spec.model_dump(mode="json")
    data["sweep"] = {"levers": {p: [_json(v) for v in values] for p, values in grid.items()}}
    for path, values in grid.items():
        for value in values:
            probe = dict(data, variants=[_variant(base, POINT + "1", {path: value})])
            _validate(probe, doctrine, f"lever '{path}' = {_json(value)!r}", f"{where} {path}".strip())
    points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
    if len(points) > MAX_VARIANTS:
        sizes = " x ".join(str(len(v)) for v in grid.values())
        raise InputError(f"the sweep has {len(points):,} points ({sizes}); a scenario holds at most {MAX_VARIANTS} "
                         "variants, so use fewer values", key=where, found=str(len(points)),
                         expected=f"at most {MAX_VARIANTS} points")
    data["variants"] = [_variant(base, f"{POINT}{i + 1}", values) for i, values in enumerate(points)]
    if len(points) == 1:
        return _validate(data, doctrine, f"the sweep point {point_label(points[0])}", where)
    try:
        return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})
    except ValidationError as exc:  # a combination of valid values that is not: name its point
        first = exc.errors(include_url=False)[0]
        i = int(first["loc"][1]) if first["loc"][:1] == ("variants",) else 0
        _validate(dict(data, variants=[data["variants"][i]]), doctrine,
                  f"the sweep point {point_label({p: _json(v) for p, v in points[i].items()})}", where)
        raise  # pragma: no cover - the point alone fails as well


def point_names(spec: ScenarioSpec) -> list[str]:
    """The variant names of an expanded sweep's points, in grid order (empty if the scenario is not one)."""
    names = [v.name for v in spec.variants]
    if spec.sweep is None or names != [f"{POINT}{i + 1}" for i in range(len(names))]:
        return []
    grid = spec.sweep.levers.values()  # an expanded sweep holds each lever's values as a list, one point a cell
    if not all(isinstance(v, list) for v in grid) or len(names) != int(np.prod([len(v) for v in grid])):
        return []
    return names


def sweep_points(spec: ScenarioSpec, doctrine: Doctrine) -> dict[str, dict[str, Any]]:
    """For an expanded sweep, each point's lever values ``{variant: {path: value}}``; empty for any other
    scenario."""
    names = point_names(spec)
    if not names or spec.sweep is None:
        return {}
    levers = {lv.name: lv for lv in spec.levers()}
    try:
        return {n: {p: value_at(levers[n], p, doctrine) for p in spec.sweep.levers} for n in names}
    except (AttributeError, KeyError, StopIteration):  # variants that merely look like points of another grid
        return {}


def sweep_scenario(spec: ScenarioSpec, doctrine: Doctrine, levers: list[str] | None = None,
                   file: str | None = None) -> ScenarioSpec:
    """The expanded sweep of a scenario: from ``--lever PATH=VALUES`` options, or else from its ``sweep:`` block."""
    if levers:
        given: dict[str, str | list[Any]] = {}
        for text in levers:
            path, values = parse_lever(text)
            if path in given:
                raise InputError(f"lever '{path}' is given twice", key="--lever", found=text)
            given[path] = values
        return expand(spec, doctrine, resolve_grid(spec, doctrine, given, "--lever"), "--lever")
    if spec.sweep is None:
        raise InputError("no levers to sweep", file=file, key="--lever",
                         expected="--lever PATH=VALUES, or a sweep: block in the scenario file",
                         hint="Valid paths: " + describe_paths(lever_paths(spec, doctrine)))
    where = "sweep.levers"
    grid = resolve_grid(spec, doctrine, dict(spec.sweep.levers), where)
    return expand(spec, doctrine, grid, where)
