"""Save the option tried in the app into its scenario file as a named variant, through the same validation as a file.

The file is read with ruamel.yaml's round-trip loader, so its comments, key order, quoting and layout survive; the
variant is appended to ``variants`` (each deployment and move on one line, as the shipped files write them). The
whole new text is then read back by the project's own hardened reader and validated against the doctrine, exactly
as ``escalation validate`` would; only a file that passes replaces the old one, atomically (a temporary file in the
same folder, then a rename). A name already taken, or anything the schema refuses, leaves the file untouched and
raises :class:`InputError` with the validator's message.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sim.errors import InputError
from sim.spec.doctrine import Doctrine
from sim.spec.loading import scenario_from_data
from sim.spec.scenario import ScenarioSpec
from sim.spec.yaml_reader import parse_yaml, read_text

#: What a variant name may be (the schema's identifier, checked again by the validator).
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a line the file already has
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _flow(mapping: dict[str, Any]) -> CommentedMap:
    m = CommentedMap(mapping)
    m.fa.set_flow_style()
    return m


def _clean_deployment(d: dict[str, Any]) -> dict[str, Any]:
    """A deployment as a file writes it: the defaults left out."""
    out = {k: d[k] for k in ("id", "contributors", "type", "size", "location", "start_week")}
    out["contributors"] = list(out["contributors"])
    if d.get("end_week") is not None:
        out["end_week"] = d["end_week"]
    if d.get("condition", "always") != "always":
        out["condition"] = d["condition"]
    return out


def variant_node(name: str, description: str, levers: dict[str, Any]) -> CommentedMap:
    """The YAML node of a variant: its name, description and the levers it names."""
    node = CommentedMap()
    node["name"] = name
    node["description"] = description
    if "deployments" in levers:
        node["deployments"] = CommentedSeq(_flow(_clean_deployment(d)) for d in levers["deployments"])
    if "policies" in levers:
        ds = levers["policies"]["deep_strike"]
        policy = {"authorised": bool(ds["authorised"]), "from_week": int(ds["from_week"]),
                  "suppliers": list(ds["suppliers"])}
        node["policies"] = CommentedMap(deep_strike=_flow(policy))
    if "timeline" in levers:
        node["timeline"] = CommentedSeq(_flow({k: m[k] for k in ("week", "actor", "move", "note") if m.get(k) != ""})
                                        for m in levers["timeline"])
    if "mediators" in levers:
        node["mediators"] = None if levers["mediators"] is None else list(levers["mediators"])
    return node


def text_with_variant(text: str, name: str, description: str, levers: dict[str, Any]) -> str:
    """The scenario file's text with the variant appended to its ``variants`` (made when missing)."""
    yaml = _yaml()
    data = yaml.load(text)
    if not isinstance(data, CommentedMap):
        raise InputError("expected a mapping of scenario keys at the top level", line=1)
    variants = data.get("variants")
    if variants is None:
        data["variants"] = variants = CommentedSeq()
    if not isinstance(variants, list):
        raise InputError("expected a list of variants", key="variants", found=f"<{type(variants).__name__}>")
    variants.append(variant_node(name, description, levers))
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, keeping the file's permissions."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_variant(path: str | Path, doctrine: Doctrine, name: str, description: str,
                 levers: dict[str, Any]) -> ScenarioSpec:
    """Append the variant to the scenario file and return the file's validated scenario.

    Raises:
        InputError: the name is not an identifier, the file cannot be read or written, or the new file does not
            validate (a name already taken included): the file is then left as it was.
    """
    path = Path(path)
    if not NAME.fullmatch(name):
        raise InputError("a variant name must be an identifier", key="variant name",
                         expected="lower-case letters, digits and _, starting with a letter", found=name)
    new_text = text_with_variant(read_text(path), name, description, levers)
    doc = parse_yaml(new_text, str(path))
    spec = scenario_from_data(doc.data, doctrine, doc)
    try:
        _replace(path, new_text)
    except OSError as exc:
        raise InputError(f"cannot write the scenario file ({exc.strerror or exc})", file=path) from None
    return spec
