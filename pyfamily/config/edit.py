"""Change scalar values of a family file in place, keeping every other byte: comments, quoting, flow mappings, layout.

ruamel.yaml's round-trip parser finds where each value is written (its start and end in the text); the new value is
written over exactly those characters, in the same style (plain, "double" or 'single' quoted; quoted if plain would
read as anything but that string). The result is read again, by ruamel.yaml and by PyYAML (the loader the family
is read with), and must equal the old data with only those values changed; anything else is refused, so a file
is never written half-understood. ruamel.yaml's own dump is not used: it reflows multi-line flow lists and
re-indents block lists.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from pyfamily.config.paths import KeyPath, format_key_path
from pyfamily.config.rawfile import read_text
from pyfamily.errors import ConfigError

_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_.+-]+")  # never special in a flow or block context


def replace_values(text: str, edits: Mapping[KeyPath, str], file: Path) -> str:
    """text with the string scalar at each key path (mapping keys only) replaced by its new value."""
    try:
        root = YAML(typ="rt").compose(text)
    except YAMLError as exc:
        raise ConfigError(f"{file}: cannot be edited, it is not valid YAML ({' '.join(str(exc).split())}).") from None
    spans: list[tuple[int, int, str]] = []
    for path, value in edits.items():
        node = _scalar_at(root, path, file)
        spans.append((node.start_mark.index, node.end_mark.index, _written(value, node.style)))
    spans.sort(reverse=True)
    for (start, _, _), (_, end, _) in itertools.pairwise(spans):
        if end > start:
            raise ConfigError(f"{file}: two of the values to change overlap; edit it by hand.")
    edited = text
    for start, end, written in spans:
        edited = edited[:start] + written + edited[end:]
    _check(text, edited, edits, file)
    return edited


def _scalar_at(root: Node | None, path: KeyPath, file: Path) -> ScalarNode:
    node = root
    for depth, key in enumerate(path):
        if not isinstance(node, MappingNode):
            raise ConfigError(f"{file}: {format_key_path(path[:depth])} is not a mapping, so it cannot be edited.")
        node = next((value for k, value in node.value if isinstance(k, ScalarNode) and k.value == key), None)
        if node is None:
            raise ConfigError(f"{file}: {format_key_path(path[: depth + 1])} is not in the file.")
    where = f"{file}: {format_key_path(path)}"
    if not isinstance(node, ScalarNode) or node.style in ("|", ">"):
        raise ConfigError(f"{where} is not a one-line value, so it cannot be edited in place; edit it by hand.")
    if node.anchor is not None:
        raise ConfigError(f"{where} carries an anchor (&{node.anchor}) or is an alias; edit it by hand.")
    return node


def _written(value: str, style: str | None) -> str:
    """value as YAML in style: plain when that reads back as the same string, else double-quoted."""
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style is None and _PLAIN_SAFE.fullmatch(value) and _reads_as_string(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reads_as_string(plain: str) -> bool:
    """Whether a plain scalar is the string itself for both parsers (not a number, a bool, a date, null)."""
    try:
        return bool(yaml.safe_load(plain) == plain and YAML(typ="safe", pure=True).load(plain) == plain)
    except (yaml.YAMLError, YAMLError):
        return False


def _check(old: str, new: str, edits: Mapping[KeyPath, str], file: Path) -> None:
    """Refuse unless both parsers read new as old with exactly the edits applied."""
    for name, parse in (("ruamel.yaml", _ruamel), ("PyYAML", yaml.safe_load)):
        try:
            expected, actual = parse(old), parse(new)
        except (yaml.YAMLError, YAMLError) as exc:
            raise ConfigError(
                f"{file}: the edited text does not parse with {name} ({exc}); nothing was written."
            ) from None
        for path, value in edits.items():
            _set(expected, path, value)
        if _plain(actual) != _plain(expected):
            raise ConfigError(
                f"{file}: after the edit, {name} reads other data than the old file with only "
                f"{', '.join(format_key_path(p) for p in edits)} changed; nothing was written. Edit it by hand."
            )


def _ruamel(text: str) -> Any:
    return YAML(typ="rt").load(text)


def _set(data: Any, path: KeyPath, value: str) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _plain(data: Any) -> Any:
    """ruamel.yaml's round-trip types as plain dicts, lists and scalars, to compare with PyYAML's."""
    if isinstance(data, dict):
        return {_plain(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, str):
        return str(data)
    return data


def rewrite(file: Path, old: str, new: str) -> None:
    """Replace file's text old by new atomically (a temporary file beside it, renamed over it), keeping its mode;
    refused if the file no longer holds old (someone edited it meanwhile)."""
    if read_text(file) != old:
        raise ConfigError(f"{file} changed while the new versions were found; nothing was written. Run again.")
    try:
        mode = file.stat().st_mode & 0o7777
        fd, name = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot write beside it ({exc.strerror or exc}); nothing was written.") from None
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(new.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        temporary.chmod(mode)
        os.replace(temporary, file)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be written ({exc.strerror or exc}); it was left as it was.") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
