"""Validation errors as one message each: the file, the line, the key path, what was expected and what was found.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.errors import InputError
from sim.spec.yaml_reader import Document, Path_, _format_path, _key_text


# ------------------------------------------------------------------------------------------------- validation
class LocatedError(ValueError):
    """A cross-field check's failure that names the key it concerns, relative to the model that checks it.

    A message then names the file's line and key path, instead of the line of the mapping that holds both
    fields.
    """

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


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
            and any(part in typing.get_args(f.annotation) for f in c.model_fields.values()
                    if typing.get_origin(f.annotation) is typing.Literal)
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
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
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


def _describe(err: ErrorDetails, allowed: list[str] | None) -> tuple[str, str | None, Any]:
    """(message, expected, found) for one pydantic error."""
    kind = err["type"]
    msg: str = err["msg"]
    found = err.get("input")
    if not isinstance(found, (str, int, float, bool)) or (isinstance(found, str) and len(found) > 80):
        found = None if not isinstance(found, (dict, list)) else f"<{kind_of(found)}>"
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


def validation_error(exc: ValidationError, model: type[BaseModel], docs: dict[str, Document],
                     root_of: dict[str, str]) -> InputError:
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
    cause = first.get("ctx", {}).get("error") if first["type"] == "value_error" else None
    path_of_cause = cause.path if isinstance(cause, LocatedError) else None  # a cross-field check's own key
    located = isinstance(path_of_cause, tuple)
    if isinstance(path_of_cause, tuple):
        loc = loc + path_of_cause
    top = loc[0] if loc else None
    name = root_of.get(top, "") if isinstance(top, str) else ""  # the file that holds the top-level key
    doc = docs[name or next(iter(docs))] if docs else None
    data = doc.data if doc else {}
    path = _data_path(data, loc)
    allowed = _allowed_keys(model, loc) if first["type"] == "extra_forbidden" else None
    node = _node_at(data, path)
    if isinstance(node, dict) and first["type"] == "value_error" and not located:  # a mapping's check naming a key
        named = [k for k in node
                 if isinstance(k, str) and (f"'{k}'" in first["msg"] or f"'{k.partition('.')[0]}'" in first["msg"])]
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

def kind_of(value: Any) -> str:
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
