"""Key paths and origins: where in which file a value of the family was written, and how messages name it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# A value's place in the family: mapping keys and list indexes, outermost first.
KeyPath = tuple[str | int, ...]

# Longest value, key and key path shown in a message; longer ones are cut, so a hostile file cannot flood a terminal.
SHOWN_CHARACTERS = 60
SHOWN_KEYS = 12


@dataclass(frozen=True)
class Origin:
    """The file and 1-based line a key (or list item) was written on."""

    file: Path
    line: int


def format_key_path(loc: KeyPath) -> str:
    """`python.versions."3.11".sha256`: dotted, quoting keys that contain dots; list indexes as [N].

    A path deeper than SHOWN_KEYS keys shows its first and last few, joined by `...`."""
    if len(loc) > SHOWN_KEYS:
        head, tail = format_key_path(loc[: SHOWN_KEYS // 2]), format_key_path(loc[-2:])
        return f"{head}...{tail if tail.startswith('[') else '.' + tail}"
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            text = str(part)
            if not text.isprintable():
                text = text.encode("unicode_escape").decode("ascii")
            if len(text) > SHOWN_CHARACTERS:
                text = f"{text[: SHOWN_CHARACTERS - 3]}..."
            text = f'"{text}"' if "." in text or not text or " " in text else text
            out += f".{text}" if out else text
    return out


def nearest_origin(loc: KeyPath, origins: Mapping[KeyPath, Origin]) -> Origin | None:
    """The origin of `loc`, else of its closest enclosing key that has one."""
    for end in range(len(loc), -1, -1):
        found = origins.get(loc[:end])
        if found is not None:
            return found
    return None


def locate(loc: KeyPath, origins: Mapping[KeyPath, Origin], file: Path) -> str:
    """`apps.uv.python (line 72)`, or `(line 40 of PARENT, inherited through extends)` for a parent's value."""
    where = format_key_path(loc) or "(top level)"
    origin = nearest_origin(loc, origins)
    if origin is None:
        return where
    if origin.file == file:
        return f"{where} (line {origin.line})"
    return f"{where} (line {origin.line} of {origin.file}, inherited through `extends`)"


def show(value: object) -> str:
    """repr() of a value for a message, cut to SHOWN_CHARACTERS."""
    return clip(repr(value))


def clip(text: str) -> str:
    """Text for a message, cut to SHOWN_CHARACTERS."""
    return text if len(text) <= SHOWN_CHARACTERS else f"{text[: SHOWN_CHARACTERS - 3]}..."
