"""A hardened YAML reader: plain data only, bounded in size, depth and nodes, with the line of every key.

YAML is parsed with PyYAML's safe loader only: tags that would construct Python objects are refused and nothing
from a file is ever evaluated. The event stream is scanned before a tree is built, so an alias bomb or deep nesting
is refused in milliseconds. Duplicate keys, NaN and infinite numbers are errors.
"""

from __future__ import annotations

import json
import math
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from sim.errors import InputError

#: Largest scenario or config file read, in bytes (shipped scenarios are a few kilobytes).
MAX_FILE_BYTES = 1024 * 1024
#: Deepest nesting of YAML collections accepted (aliases expanded).
MAX_DEPTH = 40
#: Most YAML nodes a document may expand to (aliases expanded, as the validated data would hold them).
MAX_NODES = 100_000

if TYPE_CHECKING:
    _SafeLoader = yaml.CSafeLoader
else:  # libyaml's loader when PyYAML was built with it; the pure-Python one has the same interface
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


class _Loader(_SafeLoader):
    """The safe loader (libyaml's when present), with value errors tied to the node they come from."""

    #: The innermost node whose construction failed, once one has.
    failed_node: yaml.Node | None = None

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.constructor.ConstructorError:
            if self.failed_node is None:  # the innermost node is the one at fault
                self.failed_node = node
            raise
        except (ValueError, OverflowError, TypeError) as exc:
            problem = "an integer too long to read" if "integer string conversion" in str(exc) else str(exc)
            self.failed_node = node
            raise _ValueProblem(None, None, problem, node.start_mark) from None


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
            raise _constructor_error(exc, loader.failed_node, file, lines, where) from None
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text, file) from None
    except UnicodeError as exc:
        raise InputError(f"invalid YAML: a character escape names no character ({_reason(exc)})", file=file) from None
    finally:
        loader.dispose()
    _check_numbers(data, (), file, lines)
    return Document(file=file, data=data, lines=lines)


def _constructor_error(exc: yaml.constructor.ConstructorError, node: yaml.Node | None, file: str,
                       lines: dict[Path_, int], where: dict[int, Path_]) -> InputError:
    mark = exc.problem_mark
    line = mark.line + 1 if mark else None
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


def _reason(exc: UnicodeError) -> str:
    """What a Unicode error says went wrong: its subclasses name a reason, the base class only has a message."""
    if isinstance(exc, (UnicodeDecodeError, UnicodeEncodeError, UnicodeTranslateError)):
        return exc.reason
    return str(exc)


class _Mark(Protocol):
    """A place in the text: PyYAML's marks and libyaml's."""

    line: int


def _line(mark: _Mark | None) -> int | None:
    """The 1-based line of a mark."""
    return mark.line + 1 if mark is not None else None


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
            if event is None:  # check_event said there was one
                break
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                nodes += 1
                if depth > MAX_DEPTH:
                    raise InputError(f"nesting deeper than {MAX_DEPTH} levels", file=file,
                                     line=_line(event.start_mark), expected=f"at most {MAX_DEPTH} nested levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                nodes += 1
            if nodes > MAX_NODES:
                raise InputError(f"the document has more than {MAX_NODES:,} YAML nodes", file=file,
                                 line=_line(event.start_mark),
                                 hint="A scenario file this large is almost certainly a mistake")
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text, file) from None
    except UnicodeError as exc:  # an escape such as "\\ud800" that names no character
        raise InputError(f"invalid YAML: a character escape names no character ({_reason(exc)})", file=file) from None
    finally:
        loader.dispose()


def _syntax_error(exc: yaml.YAMLError, text: str, file: str) -> InputError:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        return InputError(f"invalid YAML: character {code:#06x} is not allowed in YAML text", file=file, line=line,
                          hint="Remove control characters")
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
