"""Pydantic's errors in words: one paragraph naming the file, each fault's key path and line, what is wrong and what
would be valid. The rules themselves word their own complaints (see values.py); this module locates them and words
pydantic's built-in errors (unknown key, missing key, wrong type, out of range).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from pyfamily.config.paths import KeyPath, locate, show
from pyfamily.config.yamlfile import Document

MAX_FAULTS = 10  # listed in one message; the rest are counted

_TYPE_WORDS = {
    "int": "an integer",
    "str": "a string",
    "string": "a string",
    "list": "a list",
    "dict": "a mapping",
    "model": "a mapping",
    "bool": "true or false",
    "float": "a number",
    "NoneType": "null",
    "date": "a date",
    "datetime": "a date and time",
}


def paragraph(file: Path, faults: list[str]) -> str:
    """`FILE: fault` or `FILE has N mistakes: fault; fault; ...`, at most MAX_FAULTS of them spelled out."""
    faults = list(dict.fromkeys(faults))
    if len(faults) == 1:
        return f"{file}: {faults[0]}"
    shown = "; ".join(faults[:MAX_FAULTS])
    more = f"; and {len(faults) - MAX_FAULTS} more" if len(faults) > MAX_FAULTS else ""
    return f"{file} has {len(faults)} mistakes: {shown}{more}"


def describe_errors(exc: ValidationError, model: type[BaseModel], document: Document) -> str:
    """The paragraph for a failed validation of `model` from `document`."""
    faults = []
    for err in exc.errors(include_url=False):
        loc = _as_written(tuple(err["loc"]), document.data)
        where = locate(loc, document.origins, document.file)
        faults.append(f"{where}: {explain(err, model, document.texts)}")
    return paragraph(document.file, faults)


def _as_written(loc: KeyPath, data: Any) -> KeyPath:
    """The key path as the file wrote it: a refused mapping key is the key itself (pydantic adds "[key]"), and a
    scalar the schema reads as a mapping (`registries: [ghcr.io]` is `{host: ghcr.io}`) is the scalar."""
    if loc and loc[-1] == "[key]":
        return loc[:-1]
    for depth, part in enumerate(loc):
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_list or (isinstance(data, dict) and part in data):
            data = data[part]
        elif isinstance(data, str):
            return loc[:depth]
        else:
            break
    return loc


def explain(err: ErrorDetails, model: type[BaseModel], texts: Mapping[KeyPath, str]) -> str:
    """Turn one pydantic error into words a maintainer can act on."""
    kind, value, loc = err["type"], err.get("input"), tuple(err["loc"])
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    if "message" in ctx:  # one of the schema's own rules: it words its complaint
        return str(ctx["message"])
    if kind == "extra_forbidden":
        keys = _keys_at(model, loc[:-1])
        valid = f"valid keys here: {', '.join(keys)}" if keys else "see the keys documented in images.yaml"
        return f"unknown key (a typo?); {valid}"
    if kind == "missing":
        return "this key is required"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        low, high = _bounds(model, loc)
        return f"{show(value)} is out of range; give a number from {low} to {high}"
    if kind == "too_short":
        return f"give at least {ctx.get('min_length', 1)} item(s); got none"
    if kind.endswith("_type"):
        return _wrong_type(kind.removesuffix("_type"), value, texts.get(loc))
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return f"{err['msg']} (got {show(value)})"


def _described(value: object) -> str:
    """`true`, `null`, `the string 'x'`, `the number 3.1`, `a list [...]`."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    article = {str: "the string", int: "the integer", float: "the number", list: "a list", dict: "a mapping"}
    return f"{article.get(type(value), _TYPE_WORDS.get(type(value).__name__, type(value).__name__))} {show(value)}"


def _wrong_type(expected: str, value: object, source: str | None) -> str:
    message = f"expected {_TYPE_WORDS.get(expected, expected)}, got {_described(value)}"
    if expected == "string" and source is not None:
        return f'{message}; write it as a quoted string ("{source}"): YAML reads an unquoted 3.10 as the number 3.1'
    return message


def _unwrap(annotation: Any) -> Any:
    """The type inside Annotated[...] and `X | None`."""
    while True:
        origin = get_origin(annotation)
        if origin is Union or origin is UnionType:
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        elif hasattr(annotation, "__metadata__"):
            annotation = get_args(annotation)[0]
        else:
            return annotation


def _annotation_at(model: type[BaseModel], loc: KeyPath) -> Any:
    """The declared type at a key path of `model` (None when the path leaves the schema)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {field.alias or name: field for name, field in current.model_fields.items()}
            if part not in fields:
                return None
            current = fields[part].annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list:
            current = get_args(current)[0]
        else:
            return None
    return current


def _keys_at(model: type[BaseModel], loc: KeyPath) -> list[str]:
    found = _unwrap(_annotation_at(model, loc))
    if isinstance(found, type) and issubclass(found, BaseModel):
        return [field.alias or name for name, field in found.model_fields.items()]
    return []


def _bounds(model: type[BaseModel], loc: KeyPath) -> tuple[object, object]:
    found = _annotation_at(model, loc)
    low: object = "-inf"
    high: object = "+inf"
    for constraint in getattr(found, "__metadata__", ()):
        for item in getattr(constraint, "metadata", [constraint]):
            low = getattr(item, "ge", low)
            high = getattr(item, "le", high)
    return low, high
