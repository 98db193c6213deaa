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
import re
import stat
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.config import Doctrine, ScenarioSpec
from sim.errors import InputError

#: Largest scenario or config file read, in bytes (shipped scenarios are a few kilobytes).
MAX_FILE_BYTES = 1024 * 1024
#: Deepest nesting of YAML collections accepted (aliases expanded).
MAX_DEPTH = 40
#: Most YAML nodes a document may expand to (aliases expanded, as the validated data would hold them).
MAX_NODES = 100_000

_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
    """Read a UTF-8 text file, with a clear error for everything that is not one.

    Refused before anything is parsed: a missing path, a folder, a device or pipe, an unreadable file, a file
    larger than :data:`MAX_FILE_BYTES`, binary data and text that is not UTF-8.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError("file not found", file=p, hint="Check the path") from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", file=p) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("expected a YAML file, found a directory", file=p, hint="Give one .yaml file inside it")
    if not stat.S_ISREG(st.st_mode):
        raise InputError("expected a regular YAML file, found a device, pipe or socket", file=p)
    limit = f"at most {MAX_FILE_BYTES // 1024:,} KiB"
    if st.st_size > MAX_FILE_BYTES:
        raise InputError(f"file too large ({_size_text(st.st_size)})", file=p, expected=limit)
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", file=p) from None
    if len(raw) > MAX_FILE_BYTES:  # it grew while being read
        raise InputError("file too large", file=p, expected=limit)
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise InputError("expected a YAML text file, found binary data (a NUL byte)", file=p, line=line,
                         hint="If it is text, save it as UTF-8 (UTF-16 files hold NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError("the file is not UTF-8 text", file=p, line=line, found=f"<byte 0x{raw[exc.start]:02x}>",
                         hint="Save it as UTF-8") from None
    return text


def _size_text(n: int) -> str:
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{n / 1024:.0f} KiB"


class _ValueProblem(yaml.constructor.ConstructorError):
    """A scalar the safe loader recognises but cannot turn into a value (a date like 2024-13-45, a huge integer)."""


class _Loader(_SafeLoader):  # type: ignore[misc, valid-type]
    """The safe loader (libyaml's when present), with value errors tied to the node they come from."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.constructor.ConstructorError as exc:
            if getattr(exc, "node", None) is None:  # the innermost node is the one at fault
                exc.node = node  # type: ignore[attr-defined]
            raise
        except (ValueError, OverflowError, TypeError) as exc:
            problem = "an integer too long to read" if "integer string conversion" in str(exc) else str(exc)
            error = _ValueProblem(None, None, problem, node.start_mark)
            error.node = node  # type: ignore[attr-defined]
            raise error from None


def parse_yaml(text: str, file: str) -> Document:
    """Parse one YAML document safely, keeping the line of every key and refusing duplicate keys.

    The document is first scanned as a stream of events, which stops early at the first sign of a document too
    deep or too large, before any tree is built; the tree's size with aliases expanded is then counted node by
    node (each distinct node once), so an alias bomb is refused in milliseconds.

    >>> parse_yaml("a: 1\\nb: [x, y]\\n", "f.yaml").lines[("b", 1)]
    2
    """
    _prescan(text, file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None or (isinstance(node, yaml.ScalarNode) and node.value == "" and node.tag.endswith(":null")):
            raise InputError("the file is empty", file=file, expected="a YAML mapping of scenario keys")
        _measure(node, file)
        lines: dict[Path_, int] = {}
        where: dict[int, Path_] = {}
        _index(node, (), lines, file, where)
        try:
            data = loader.construct_document(node)
        except yaml.constructor.ConstructorError as exc:
            raise _constructor_error(exc, file, lines, where) from None
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text, file) from None
    except UnicodeError as exc:
        raise InputError(f"invalid YAML: a character escape names no character ({exc.reason})", file=file) from None
    finally:
        loader.dispose()
    _check_numbers(data, (), file, lines)
    return Document(file=file, data=data, lines=lines)


def _constructor_error(exc: yaml.constructor.ConstructorError, file: str, lines: dict[Path_, int],
                       where: dict[int, Path_]) -> InputError:
    mark = exc.problem_mark
    line = mark.line + 1 if mark else None
    node = getattr(exc, "node", None)
    path = where.get(id(node)) if node is not None else None
    key = _format_path(path) if path else _key_at_line(lines, line)
    if isinstance(exc, _ValueProblem):
        return InputError(f"a value cannot be read ({exc.problem})", file=file, line=line, key=key,
                          hint="Quote it if it is meant as text")
    tag = node.tag.replace("tag:yaml.org,2002:", "!!") if node is not None else None
    return InputError(
        "a YAML tag that is not plain data is refused",
        file=file,
        line=line,
        key=key,
        expected="plain mappings, lists, text and numbers",
        found=f"<the tag {tag}>" if tag else (f"<{exc.problem}>" if exc.problem else None),
    )


def _key_at_line(lines: dict[Path_, int], line: int | None) -> str | None:
    """The longest key path that starts on ``line``, if any."""
    paths = [p for p, n in lines.items() if n == line and p]
    return _format_path(max(paths, key=len)) if paths else None


def _prescan(text: str, file: str) -> None:
    """Walk the YAML event stream, refusing empty, too deep or too large documents before a tree is built."""
    loader = _SafeLoader(text)
    depth = nodes = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                nodes += 1
                if depth > MAX_DEPTH:
                    raise InputError(f"nesting deeper than {MAX_DEPTH} levels", file=file,
                                     line=event.start_mark.line + 1, expected=f"at most {MAX_DEPTH} nested levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                nodes += 1
            if nodes > MAX_NODES:
                raise InputError(f"the document has more than {MAX_NODES:,} YAML nodes", file=file,
                                 line=event.start_mark.line + 1,
                                 hint="A scenario file this large is almost certainly a mistake")
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text, file) from None
    except UnicodeError as exc:  # an escape such as "\\ud800" that names no character
        raise InputError(f"invalid YAML: a character escape names no character ({exc.reason})", file=file) from None
    finally:
        loader.dispose()


def _syntax_error(exc: yaml.YAMLError, text: str, file: str) -> InputError:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return InputError(f"invalid YAML: character {ord(exc.character) if isinstance(exc.character, str) else exc.character:#06x} "
                          "is not allowed in YAML text", file=file, line=line, hint="Remove control characters")
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return InputError(f"invalid YAML: {problem}", file=file, line=mark.line + 1 if mark else None)


def _measure(root: yaml.Node, file: str) -> None:
    """Refuse a tree whose expansion (aliases followed) is too large or too deep, or that contains itself.

    Sizes and depths are memoised by node, so a chain of aliases that would expand to billions of nodes is
    counted in as many steps as it has distinct nodes.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_: set[int] = set()

    def walk(node: yaml.Node) -> None:
        nid = id(node)
        if nid in size:
            return
        if nid in open_:
            raise InputError("an alias refers to the collection that contains it", file=file,
                             line=node.start_mark.line + 1, expected="aliases to finished collections only")
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                children += [k, v]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        open_.add(nid)
        for child in children:
            walk(child)
        open_.discard(nid)
        size[nid] = 1 + sum(size[id(c)] for c in children)
        depth[nid] = 1 + max((depth[id(c)] for c in children), default=0) if children else 0

    walk(root)
    if size[id(root)] > MAX_NODES or depth[id(root)] > MAX_DEPTH:
        culprit, key = root, None
        if isinstance(root, yaml.MappingNode) and root.value:
            k, culprit = max(root.value, key=lambda kv: (size[id(kv[1])], depth[id(kv[1])]))
            key = k.value if isinstance(k, yaml.ScalarNode) else None
        too_big = size[id(root)] > MAX_NODES
        raise InputError(
            f"the document expands to {size[id(root)]:,} YAML nodes with its aliases followed" if too_big
            else f"the document nests {depth[id(root)]} levels deep with its aliases followed",
            file=file,
            line=culprit.start_mark.line + 1,
            key=key,
            expected=f"at most {MAX_NODES:,} nodes" if too_big else f"at most {MAX_DEPTH} levels",
            hint="Aliases that repeat aliases multiply; a scenario file this large is almost certainly an alias bomb"
            if too_big else None,
        )


def _index(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str, where: dict[int, Path_]) -> None:
    """Record the line of every key path (and the path of every node) and refuse duplicate keys.

    Each distinct node is walked once: an alias's keys were checked where its anchor stands.
    """
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in where:
        return
    where[id(node)] = path
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _index(value_node, path, lines, file, where)
                continue
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError("a key must be a plain name, found a list or mapping used as a key", file=file,
                                 line=line, key=_format_path(path) if path else None)
            key = key_node.value
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
            _index(value_node, path + (key,), lines, file, where)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, path + (i,), lines, file, where)


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


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def _key_text(key: Any) -> str:
    """A key as it may appear in a one-line message."""
    text = str(key)
    return text if _PLAIN_KEY.fullmatch(text) else json.dumps(text[:64])


def _format_path(path: Path_) -> str:
    """A key path as ``deployments[0].type``; a key that is not a plain name is quoted, control characters escaped.

    >>> _format_path(("variants", 0, "bad\\nkey"))
    'variants[0]."bad\\\\nkey"'
    """
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + _key_text(part)
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


#: What a value of the wrong type should have been, by pydantic error type.
_EXPECTED_KIND = {
    "model_type": "a mapping of keys",
    "model_attributes_type": "a mapping of keys",
    "dict_type": "a mapping of keys",
    "list_type": "a list",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


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
        found = None if not isinstance(found, (dict, list)) else f"<{_kind(found)}>"
    elif isinstance(found, int) and not isinstance(found, bool) and abs(found) >= 10**24:
        found = f"<a number of {len(str(abs(found)))} digits>"
    key = _key_text(err["loc"][-1]) if err["loc"] else None
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(err["loc"][-1]), allowed or [], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        shown = key if key and key[0] == '"' else f"'{key}'"
        return (f"unknown key {shown}{hint}", f"one of: {', '.join(allowed)}" if allowed else None, None)
    if kind == "missing":
        return (f"missing required key '{key}'", None, None)
    if kind in _EXPECTED_KIND:
        return ("invalid value", _EXPECTED_KIND[kind], found)
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
            found=f"<{_kind(data)}>",
        )
    try:
        return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})
    except ValidationError as exc:
        raise validation_error(exc, ScenarioSpec, {doc.file: doc}, {}) from None


def _kind(value: Any) -> str:
    """A reader's name for the kind of a YAML value."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


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


def with_overrides(scenario: ScenarioSpec, doctrine: Doctrine, **changes: Any) -> ScenarioSpec:
    """The scenario with command-line settings (runs, seed, chunk size) applied and validated again."""
    updates = {k: v for k, v in changes.items() if v is not None}
    if not updates:
        return scenario
    data = scenario.model_dump(mode="json", exclude_unset=False)
    data.update(updates)
    try:
        return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})
    except ValidationError as exc:  # report the option that broke it
        first = exc.errors(include_url=False)[0]
        raise InputError(first["msg"], key="--" + str(first["loc"][0]).replace("_", "-")) from None
