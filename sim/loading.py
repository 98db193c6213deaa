"""Reading doctrine and scenario YAML into frozen, validated config objects, with errors that say where.

YAML is parsed with PyYAML's safe loader only: tags that would construct Python objects are refused, nothing from a
file is ever evaluated. Lines are kept for every key, so a validation error names the file, the line and the key
path, what was expected and what was found. Duplicate keys are an error, not a silent overwrite.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.config import Doctrine, ScenarioSpec
from sim.errors import InputError

#: Largest scenario or config file read, in bytes.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Deepest nesting of YAML collections accepted.
MAX_DEPTH = 40
#: Most YAML nodes a document may expand to (aliases included).
MAX_NODES = 200_000

DOCTRINE_FILES: dict[str, tuple[str, ...]] = {
    "ladder.yaml": ("ladder",),
    "actors.yaml": ("actors",),
    "red_lines.yaml": ("red_lines",),
    "responses.yaml": ("responses",),
    "deployments.yaml": ("deployment_types", "locations"),
    "moves.yaml": ("moves",),
    "model.yaml": ("parameters",),
}

Path_ = tuple[Any, ...]


@dataclass
class Document:
    """A parsed YAML document with the line of every key path."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of the deepest known prefix of ``path``."""
        for n in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:n]))
            if line is not None:
                return line
        return None


def default_configs_dir() -> Path:
    """The doctrine folder: ``$ESCALATION_CONFIGS`` if set, else ``configs/`` beside the package."""
    env = os.environ.get("ESCALATION_CONFIGS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "configs"


def default_scenarios_dir() -> Path:
    """The folder of shipped scenarios, beside the package."""
    return Path(__file__).resolve().parent.parent / "scenarios"


# ------------------------------------------------------------------------------------------------------- YAML
def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file, with a clear error for everything that is not one."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=p, hint="Check the path")
    if p.is_dir():
        raise InputError("expected a YAML file, found a directory", file=p)
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"file too large ({size / 1048576:.1f} MiB)",
            file=p,
            expected=f"at most {MAX_FILE_BYTES // 1048576} MiB",
        )
    raw = p.read_bytes()
    if b"\x00" in raw:
        raise InputError("expected a YAML text file, found binary data", file=p)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError("the file is not UTF-8 text", file=p, line=line, hint="Save it as UTF-8") from None
    return text


def parse_yaml(text: str, file: str) -> Document:
    """Parse one YAML document safely, keeping the line of every key and refusing duplicate keys."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError("the file is empty", file=file, expected="a YAML mapping of scenario keys")
        lines: dict[Path_, int] = {}
        _index(node, (), lines, file, [0], 0)
        data = loader.construct_document(node)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise InputError(
            "a YAML tag that is not plain data is refused",
            file=file,
            line=mark.line + 1 if mark else None,
            expected="plain mappings, lists, strings and numbers",
            found=f"<{exc.problem}>" if exc.problem else None,
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(
            f"invalid YAML: {problem}", file=file, line=mark.line + 1 if mark else None
        ) from None
    finally:
        loader.dispose()
    _check_numbers(data, (), file, lines)
    return Document(file=file, data=data, lines=lines)


def _index(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str, count: list[int], depth: int) -> None:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise InputError(
            f"the document expands to more than {MAX_NODES:,} YAML nodes (aliases included)",
            file=file,
            line=node.start_mark.line + 1,
            hint="A scenario this large is almost certainly an alias bomb or a mistake",
        )
    if depth > MAX_DEPTH:
        raise InputError(f"nesting deeper than {MAX_DEPTH} levels", file=file, line=node.start_mark.line + 1)
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _index(value_node, path, lines, file, count, depth + 1)
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise InputError(
                    f"duplicate key '{key}' (first at line {seen[key]})",
                    file=file,
                    line=line,
                    key=_format_path(path + (key,)),
                    hint="Each key may appear once in a mapping",
                )
            seen[key] = line
            lines[path + (key,)] = line
            _index(value_node, path + (key,), lines, file, count, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, path + (i,), lines, file, count, depth + 1)


def _check_numbers(data: Any, path: Path_, file: str, lines: dict[Path_, int]) -> None:
    if isinstance(data, float) and not math.isfinite(data):
        raise InputError(
            "numbers must be finite",
            file=file,
            line=lines.get(path),
            key=_format_path(path),
            expected="a finite number",
            found=data,
        )
    if isinstance(data, dict):
        for k, v in data.items():
            _check_numbers(v, path + (k,), file, lines)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _check_numbers(v, path + (i,), file, lines)


def _format_path(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


# ------------------------------------------------------------------------------------------------- validation
def _unwrap(tp: Any) -> list[Any]:
    """The model classes and containers a type annotation may hold."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(tp):
            out.extend(_unwrap(arg))
        return out
    return [tp]


def _allowed_keys(root: type[BaseModel], loc: Path_) -> list[str] | None:
    """The keys allowed in the mapping at ``loc`` (which ends with the offending key), if a model is found."""
    candidates: list[Any] = [root]
    for part in loc[:-1]:
        nxt: list[Any] = []
        for c in candidates:
            origin = typing.get_origin(c)
            if isinstance(c, type) and issubclass(c, BaseModel):
                if isinstance(part, str) and part in c.model_fields:
                    nxt.extend(_unwrap(c.model_fields[part].annotation))
            elif origin in (list, tuple) and isinstance(part, int):
                nxt.extend(_unwrap(typing.get_args(c)[0]))
            elif origin is dict and isinstance(part, str):
                nxt.extend(_unwrap(typing.get_args(c)[1]))
        # a discriminated union puts the tag in the location: keep the member whose literal matches it
        tagged = [
            c
            for c in candidates
            if isinstance(c, type)
            and issubclass(c, BaseModel)
            and any(part in typing.get_args(f.annotation) for f in c.model_fields.values() if typing.get_origin(f.annotation) is typing.Literal)
        ]
        if not nxt and tagged:
            nxt = tagged
        candidates = nxt
    for c in candidates:
        if isinstance(c, type) and issubclass(c, BaseModel):
            return list(c.model_fields)
    return None


def _data_path(data: Any, loc: Path_) -> Path_:
    """The part of a pydantic location that exists in the data (union tags dropped)."""
    out: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            out.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            out.append(part)
        elif isinstance(node, dict) and part not in node and isinstance(part, str) and out and part == loc[-1]:
            out.append(part)
    return tuple(out)


def _node_at(data: Any, path: Path_) -> Any:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _describe(err: dict[str, Any], allowed: list[str] | None) -> tuple[str, str | None, Any]:
    """(message, expected, found) for one pydantic error."""
    kind = err["type"]
    msg: str = err["msg"]
    found = err.get("input")
    if not isinstance(found, (str, int, float, bool)) or (isinstance(found, str) and len(found) > 80):
        found = None if not isinstance(found, (dict, list)) else f"<a {type(found).__name__}>"
    key = err["loc"][-1] if err["loc"] else None
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(key), allowed or [], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return (f"unknown key '{key}'{hint}", f"one of: {', '.join(allowed)}" if allowed else None, None)
    if kind == "missing":
        return (f"missing required key '{key}'", None, None)
    if kind == "value_error":
        return (msg.removeprefix("Value error, "), None, None)
    if kind == "union_tag_invalid":
        tags = err.get("ctx", {}).get("expected_tags", "")
        disc = err.get("ctx", {}).get("discriminator", "").strip("'")
        return (f"unknown {disc}", f"one of: {tags.replace(chr(39), '')}", err.get("ctx", {}).get("tag"))
    if kind == "union_tag_not_found":
        disc = err.get("ctx", {}).get("discriminator", "").strip("'")
        return (f"missing key {disc}", None, None)
    if kind in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        return ("invalid choice", "one of: " + expected.replace("'", "").replace(" or ", ", "), found)
    if msg.startswith("Input should be "):
        return ("invalid value", msg.removeprefix("Input should be "), found)
    return (msg[:1].lower() + msg[1:], None, found)


def validation_error(exc: ValidationError, model: type[BaseModel], docs: dict[str, Document], root_of: dict[str, str]) -> InputError:
    """Turn a pydantic ValidationError into one InputError naming file, line and key (first error first)."""
    errors = exc.errors(include_url=False)
    # a misspelled key shows up both as unknown and as missing: the unknown one says more
    rank = {"extra_forbidden": 0, "missing": 2}
    errors = sorted(errors, key=lambda e: rank.get(e["type"], 1))
    first = errors[0]
    if first["type"] == "extra_forbidden":  # the key it was meant to be is then "missing": not another problem
        parent = tuple(first["loc"][:-1])
        errors = [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"][:-1]) == parent)]
    loc = tuple(first["loc"])
    top = loc[0] if loc else None
    doc = docs[root_of.get(top, next(iter(docs)))] if docs else None
    data = doc.data if doc else {}
    path = _data_path(data, loc)
    allowed = _allowed_keys(model, loc) if first["type"] == "extra_forbidden" else None
    node = _node_at(data, path)
    if isinstance(node, dict) and first["type"] == "value_error":  # a mapping-level check that names one of its keys
        named = [k for k in node if isinstance(k, str) and (f"'{k}'" in first["msg"] or f"'{k.partition('.')[0]}'" in first["msg"])]
        if named:
            path = path + (named[0],)
    message, expected, found = _describe(first, allowed)
    more = len(errors) - 1
    return InputError(
        message,
        file=doc.file if doc else None,
        line=doc.line_of(path) if doc else None,
        key=_format_path(path) if path else None,
        expected=expected,
        found=found,
        hint=f"{more} more problem{'s' if more > 1 else ''} in this file after this one" if more else None,
    )


# ------------------------------------------------------------------------------------------------------ loaders
_DOCTRINE_CACHE: dict[tuple[str, float], Doctrine] = {}


def load_doctrine(configs: str | Path | None = None) -> Doctrine:
    """Load and validate every doctrine file in ``configs`` (default: :func:`default_configs_dir`)."""
    folder = Path(configs) if configs is not None else default_configs_dir()
    if not folder.is_dir():
        raise InputError("doctrine folder not found", file=folder, expected="a folder with " + ", ".join(DOCTRINE_FILES))
    stamp = max((folder / f).stat().st_mtime for f in DOCTRINE_FILES if (folder / f).exists()) if any(
        (folder / f).exists() for f in DOCTRINE_FILES
    ) else 0.0
    cache_key = (str(folder.resolve()), stamp)
    if cache_key in _DOCTRINE_CACHE:
        return _DOCTRINE_CACHE[cache_key]
    merged: dict[str, Any] = {}
    docs: dict[str, Document] = {}
    root_of: dict[str, str] = {}
    for name, keys in DOCTRINE_FILES.items():
        path = folder / name
        doc = parse_yaml(read_text(path), str(path))
        if not isinstance(doc.data, dict):
            raise InputError("expected a mapping", file=path, line=1, expected="keys: " + ", ".join(keys))
        for k in doc.data:
            if k not in keys:
                raise InputError(f"unknown key '{k}'", file=path, line=doc.lines.get((k,)), expected="one of: " + ", ".join(keys))
        for k in keys:
            if k not in doc.data:
                raise InputError(f"missing required key '{k}'", file=path, line=1)
            merged[k] = doc.data[k]
            root_of[k] = str(path)
        docs[str(path)] = doc
    try:
        doctrine = Doctrine.model_validate(merged)
    except ValidationError as exc:
        raise validation_error(exc, Doctrine, docs, root_of) from None
    _DOCTRINE_CACHE[cache_key] = doctrine
    return doctrine


def scenario_from_data(data: Any, doctrine: Doctrine, doc: Document) -> ScenarioSpec:
    """Validate parsed scenario data against the doctrine."""
    if not isinstance(data, dict):
        raise InputError(
            "expected a mapping of scenario keys at the top level",
            file=doc.file,
            line=1,
            found=f"<a {type(data).__name__}>",
        )
    try:
        return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})
    except ValidationError as exc:
        raise validation_error(exc, ScenarioSpec, {doc.file: doc}, {}) from None


def load_scenario(path: str | Path, doctrine: Doctrine | None = None) -> ScenarioSpec:
    """Read, parse and validate one scenario file."""
    doctrine = doctrine or load_doctrine()
    text = read_text(path)
    doc = parse_yaml(text, str(path))
    return scenario_from_data(doc.data, doctrine, doc)


def canonical_hash(*objects: BaseModel) -> str:
    """A short stable hash of validated configs (their JSON with sorted keys)."""
    h = hashlib.sha256()
    for obj in objects:
        h.update(json.dumps(obj.model_dump(mode="json"), sort_keys=True).encode())
    return h.hexdigest()[:12]
