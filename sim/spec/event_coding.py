"""Events as GDELT and ICEWS code them (``configs/events.yaml``): a CAMEO event code per kind of act, its root code,
QuadClass and Goldstein value, and the direction of the act as CAMEO codes it.

The model's acts are posted from one side to another as the model needs them (a scripted arms delivery is posted
from the supplier to Russia, the side it provokes); a CAMEO coder reads the same act from its source to its
recipient (the supplier to Ukraine, "provide military aid", cooperative). Each act kind therefore names its CAMEO
code and who its CAMEO source and target are: the model's ``actor``, its ``target``, or a fixed actor id.

The root code and the QuadClass are derived from the event code, never written twice: the root is its first two
digits, and the QuadClass groups roots 01-05 (verbal cooperation), 06-09 (material cooperation), 10-14 (verbal
conflict) and 15-20 (material conflict).

>>> quad_class("0871"), root_code("0871"), quad_class("195")
(2, '08', 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, ValidationError, model_validator

from sim.errors import InputError
from sim.spec.doctrine import Doctrine
from sim.spec.frozen import Frozen, Identifier, Source
from sim.spec.messages import LocatedError, validation_error
from sim.spec.yaml_reader import parse_yaml, read_text

#: The file of the coding, in the doctrine folder (the shipped one is used when a folder has none).
EVENTS_FILE = "events.yaml"
#: Acts the engine posts that are neither a response, a scripted move nor a deployment (``sim/engine``).
ENGINE_ACTS: tuple[str, ...] = ("partial_deal", "ceasefire", "accidental_strike_on_nato_forces", "spillover",
                                "combat_with_nato_forces", "deep_strike", "strategic_strike")
#: Names of the QuadClass values 1-4, as in the GDELT and ICEWS codebooks.
QUAD_CLASSES = {1: "verbal cooperation", 2: "material cooperation", 3: "verbal conflict", 4: "material conflict"}


def root_code(code: str) -> str:
    """The CAMEO root code of an event code: its first two digits."""
    return code[:2]


def quad_class(code: str) -> int:
    """The QuadClass (1-4) of a CAMEO event code, from its root, as the GDELT codebook groups the roots: 01-05
    verbal cooperation, 06-08 material cooperation, 09-13 verbal conflict, 14-20 material conflict.

    >>> [quad_class(c) for c in ("057", "072", "081", "091", "138", "141", "190")]
    [1, 2, 2, 3, 3, 4, 4]
    """
    root = int(root_code(code))
    return 1 if root <= 5 else 2 if root <= 8 else 3 if root <= 13 else 4


class CameoCode(Frozen):
    """One CAMEO event code with its name and its Goldstein value (the CAMEO-to-Goldstein table)."""

    code: str = Field(pattern=r"^(0[1-9]|1[0-9]|20)[0-9]{1,2}$")
    name: str = Field(min_length=3)
    goldstein: float = Field(ge=-10, le=10)
    source: Source


class ActCoding(Frozen):
    """How one kind of act is coded: its CAMEO event code and the CAMEO source and target of the act.

    ``source_actor`` and ``target_actor`` are ``actor`` (the model's acting side), ``target`` (the side the model
    aims it at) or an actor id.
    """

    act: str = Field(pattern=r"^((move|deploy):)?[a-z][a-z0-9_]*$")
    code: str
    source_actor: Identifier = "actor"
    target_actor: Identifier = "target"
    source: Source
    rationale: str = ""


class EventCoding(Frozen):
    """The CAMEO coding of every kind of act."""

    codes: list[CameoCode]
    acts: list[ActCoding]

    @model_validator(mode="after")
    def _known_codes(self) -> EventCoding:
        known = {c.code for c in self.codes}
        for i, a in enumerate(self.acts):
            if a.code not in known:
                raise LocatedError(("acts", i, "code"), f"act '{a.act}' has the code {a.code}, which is not in the "
                                   "codes table")
        return self

    def check(self, doctrine: Doctrine, file: str) -> None:
        """Refuse a coding that misses an act kind of ``doctrine`` or names an actor it does not have."""
        coded = [a.act for a in self.acts]
        for i, act in enumerate(coded):
            if act in coded[:i]:
                raise InputError(f"act '{act}' is coded twice", file=file, key=f"acts[{i}].act")
        needed = ([r.id for r in doctrine.responses] + ["move:" + m for m in doctrine.ids("moves")]
                  + ["deploy:" + t for t in doctrine.ids("deployment_types")] + list(ENGINE_ACTS))
        missing = [a for a in dict.fromkeys(needed) if a not in coded]
        if missing:
            raise InputError("acts without a CAMEO coding", file=file, key="acts", expected="an entry for each of: "
                             + ", ".join(missing))
        ids = set(doctrine.ids("actors"))
        for i, a in enumerate(self.acts):
            for key in ("source_actor", "target_actor"):
                value = getattr(a, key)
                if value not in ("actor", "target") and value not in ids:
                    raise InputError(f"unknown actor '{value}'", file=file, key=f"acts[{i}].{key}",
                                     expected="actor, target or an actor id")

    def table(self) -> dict[str, tuple[str, float, str, str]]:
        """Per act kind: (event code, Goldstein value, source rule, target rule)."""
        gold = {c.code: c.goldstein for c in self.codes}
        return {a.act: (a.code, gold[a.code], a.source_actor, a.target_actor) for a in self.acts}


def load_event_coding(configs: str | Path | None, doctrine: Doctrine) -> EventCoding:
    """Read and check ``events.yaml`` of the doctrine folder ``configs`` (the shipped file if it has none)."""
    from sim.spec.loading import default_configs_dir

    folder = Path(configs) if configs is not None else default_configs_dir()
    path = folder / EVENTS_FILE
    if not path.is_file():
        path = Path(__file__).resolve().parents[2] / "configs" / EVENTS_FILE
    doc = parse_yaml(read_text(path), str(path))
    if not isinstance(doc.data, dict):
        raise InputError("expected a mapping", file=path, line=1, expected="keys: codes, acts")
    try:
        coding = EventCoding.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, EventCoding, {str(path): doc}, {}) from None
    coding.check(doctrine, str(path))
    return coding


class EventCoder:
    """Codes columns of acts (action, actor, target) as CAMEO events, vectorised over the rows.

    Args:
        coding: the coding of ``configs/events.yaml``.
        actor_codes: per actor id, its CAMEO actor code (``configs/actors.yaml``).
    """

    def __init__(self, coding: EventCoding, actor_codes: dict[str, str]) -> None:
        self._table = coding.table()
        self._actor_codes = actor_codes

    def code(self, action: Sequence[str] | np.ndarray, actor: Sequence[str] | np.ndarray,
             target: Sequence[str] | np.ndarray) -> dict[str, Any]:
        """Columns for rows of acts: ``actor1``, ``actor2`` (ids, as coded), ``actor1_code``, ``actor2_code``
        (CAMEO actor codes), ``event_code`` and ``event_root_code``, each as (indices, values) with the row's text
        ``values[indices[i]]`` (ready for a dictionary-encoded column), and ``quad_class`` and ``goldstein`` as
        arrays.

        >>> from sim.spec.loading import load_doctrine
        >>> d = load_doctrine()
        >>> coder = EventCoder(load_event_coding(None, d), {a.id: a.codes.cameo for a in d.actors if a.codes})
        >>> row = coder.code(["move:arms_delivery"], ["us"], ["russia"])
        >>> [text(row[c])[0] for c in ("actor1_code", "actor2_code", "event_code")], int(row["quad_class"][0])
        (['USA', 'UKR', '072'], 2)
        """
        n = len(action)
        kinds = list(self._table)
        index = {k: i for i, k in enumerate(kinds)}
        missing = sorted(set(action) - set(index))
        if missing:
            raise ValueError(f"acts without a CAMEO coding in configs/{EVENTS_FILE}: {', '.join(map(str, missing))}")
        inverse = np.fromiter(map(index.__getitem__, action), dtype=np.int32, count=n)
        rows = [self._table[k] for k in kinds]

        def per_kind(values: list[Any], dtype: Any) -> np.ndarray:
            return np.array(values, dtype=dtype)[inverse]

        # actors as indices into one list of names: every per-row step below is an integer array operation
        names = list(dict.fromkeys([*self._actor_codes, *set(actor), *set(target)]))
        fixed = {r[w] for r in rows for w in (2, 3)} - {"actor", "target"}
        names += sorted(fixed - set(names))
        where = {a: i for i, a in enumerate(names)}
        acting = np.fromiter(map(where.__getitem__, actor), dtype=np.int32, count=n)
        aimed = np.fromiter(map(where.__getitem__, target), dtype=np.int32, count=n)
        codes_of_names = [self._actor_codes.get(a, "") for a in names]

        def side(which: int) -> np.ndarray:
            rule = [r[which] for r in rows]
            mode = per_kind([0 if x == "actor" else 1 if x == "target" else 2 for x in rule], np.int8)
            own = per_kind([where.get(x, 0) for x in rule], np.int32)
            return np.where(mode == 0, acting, np.where(mode == 1, aimed, own)).astype(np.int32)

        first, second = side(2), side(3)
        return {
            "actor1": _distinct(first, names),
            "actor2": _distinct(second, names),
            "actor1_code": _distinct(first, codes_of_names),
            "actor2_code": _distinct(second, codes_of_names),
            "event_code": _distinct(inverse, [r[0] for r in rows]),
            "event_root_code": _distinct(inverse, [root_code(r[0]) for r in rows]),
            "quad_class": per_kind([quad_class(r[0]) for r in rows], np.int8),
            "goldstein": per_kind([r[1] for r in rows], np.float32),
        }


def _distinct(indices: np.ndarray, values: list[str]) -> tuple[np.ndarray, list[str]]:
    """(indices, values) with each value once: indices into the distinct values, in order of first appearance."""
    first = list(dict.fromkeys(values))
    at = {v: i for i, v in enumerate(first)}
    remap = np.array([at[v] for v in values], dtype=np.int32)
    return (remap[indices] if len(values) else indices.astype(np.int32)), first


def text(column: tuple[np.ndarray, list[str]]) -> list[str]:
    """The rows of an (indices, values) column of :meth:`EventCoder.code` as text."""
    indices, values = column
    return [values[i] for i in indices.tolist()]
