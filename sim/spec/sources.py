"""The bibliography (``docs/sources.md``) and the citations in the doctrine's ``source`` strings.

A source string cites entries by key in square brackets, each followed by a locator inside the entry::

    [record-2022-2024] row 26 (ATACMS 19 Nov 2024); [seed-002-direct-participation]

An entry of ``docs/sources.md`` is a heading ``### `key``` followed by its fields, one a line, and then free text::

    ### `kahn-1965`

    - **By:** Herman Kahn
    - **Title:** On Escalation: Metaphors and Scenarios
    - **Date:** 1965
    - **URL:** http://...            (optional)
    - **Gives:** one line on what the model takes from it

The reader is strict: a ``###`` heading that is not a key, an unknown or repeated field, a missing field or a
repeated key is an error that names the line.

>>> cited_keys("[record-2022-2024] rows 3, 9; [design] ladder rung 10 [D]")
['record-2022-2024', 'design']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError

#: A key: lower-case words of letters and digits joined by hyphens (``seed-000-legitimate-targets``).
KEY = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
CITATION = re.compile(rf"\[({KEY})\]")
_HEADING = re.compile(rf"^### `({KEY})`\s*$")
_FIELD = re.compile(r"^- \*\*([A-Za-z]+):\*\* (.+?)\s*$")
_FIELDS = {"By": "by", "Title": "title", "Date": "date", "URL": "url", "Gives": "gives"}
_REQUIRED = ("By", "Title", "Date", "Gives")


@dataclass(frozen=True)
class SourceEntry:
    """One entry of the bibliography."""

    key: str
    by: str
    title: str
    date: str
    gives: str
    url: str | None = None

    def line(self) -> str:
        """The entry in one line: ``key: by, title, date: what it gives``."""
        return f"{self.key}: {self.by}, {self.title}, {self.date}: {self.gives}"


def default_sources_file() -> Path:
    """The bibliography: ``docs/sources.md`` beside the package."""
    return Path(__file__).resolve().parents[2] / "docs" / "sources.md"


def cited_keys(source: str) -> list[str]:
    """The keys a source string cites, in order, each once."""
    return list(dict.fromkeys(CITATION.findall(source)))


def parse_sources(text: str, file: str = "docs/sources.md") -> dict[str, SourceEntry]:
    """Read the entries of a bibliography's text, in file order."""
    entries: dict[str, SourceEntry] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("### "):
            i += 1
            continue
        m = _HEADING.match(line)
        if not m:
            raise InputError("a '###' heading that is not an entry key", file=file, line=i + 1,
                             expected="### `key` (lower-case words joined by hyphens)", found=line)
        key, start = m.group(1), i + 1
        if key in entries:
            raise InputError(f"entry '{key}' given twice", file=file, line=start)
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        fields: dict[str, str] = {}
        while i < len(lines) and lines[i].startswith("- **"):
            f = _FIELD.match(lines[i])
            if not f or f.group(1) not in _FIELDS:
                raise InputError(f"entry '{key}': not a field", file=file, line=i + 1,
                                 expected="- **Name:** value, Name one of: " + ", ".join(_FIELDS), found=lines[i])
            if f.group(1) in fields:
                raise InputError(f"entry '{key}': field {f.group(1)} given twice", file=file, line=i + 1)
            fields[f.group(1)] = f.group(2)
            i += 1
        missing = [name for name in _REQUIRED if name not in fields]
        if missing:
            raise InputError(f"entry '{key}' lacks " + ", ".join(missing), file=file, line=start,
                             expected="fields " + ", ".join(_REQUIRED) + " (and URL where one is known)")
        entries[key] = SourceEntry(key=key, **{_FIELDS[name]: value for name, value in fields.items()})
    return entries


_CACHE: dict[tuple[str, float], dict[str, SourceEntry]] = {}


def load_sources(path: str | Path | None = None) -> dict[str, SourceEntry]:
    """The entries of ``docs/sources.md`` (or ``path``) by key."""
    file = Path(path) if path is not None else default_sources_file()
    try:
        stamp = file.stat().st_mtime
        cache_key = (str(file.resolve()), stamp)
        if cache_key not in _CACHE:
            _CACHE[cache_key] = parse_sources(file.read_text(encoding="utf-8"), str(file))
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot read the bibliography ({reason})", file=file) from None
    return dict(_CACHE[cache_key])


def resolve(source: str, entries: dict[str, SourceEntry]) -> tuple[list[SourceEntry], list[str]]:
    """The entries a source string cites, and the keys it cites that have no entry."""
    keys = cited_keys(source)
    return [entries[k] for k in keys if k in entries], [k for k in keys if k not in entries]
