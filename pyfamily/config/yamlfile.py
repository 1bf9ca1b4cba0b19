"""Read one YAML file into plain data, bounded in bytes, nesting and alias expansion, remembering every key's line.

The text (at most 1 MiB of UTF-8 without NUL: rawfile.py) is built from the YAML parser's event stream, never with
PyYAML's recursive composer and constructor: nesting deeper than MAX_DEPTH, more than MAX_VALUES values (an alias
counts every value it repeats, so a "billion laughs" file stops at once), recursive or undefined aliases, keys that
are not strings, duplicate keys and tags other than YAML's plain scalars are refused with the file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pyfamily.config.paths import KeyPath, Origin, clip, format_key_path, show
from pyfamily.config.rawfile import read_text
from pyfamily.errors import ConfigError

MAX_DEPTH = 64  # a family file nests 5 deep
MAX_VALUES = 10_000  # after alias expansion; images.yaml holds about 300

_Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_YAML}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "merge", "value")}
_COLLECTION_TAGS = {None, "!", f"{_YAML}seq", f"{_YAML}map"}
_NO_KEY = object()


@dataclass
class Document:
    """A family file's data; `origins` maps key paths to where they were written, `texts` keeps the source text of
    non-string scalars (so a message can say: write "3.10" quoted)."""

    file: Path
    data: Any
    origins: dict[KeyPath, Origin] = field(default_factory=dict)
    texts: dict[KeyPath, str] = field(default_factory=dict)


def read_document(file: Path) -> Document:
    """One file, no `extends` processing: bounded bytes, then bounded YAML."""
    return _Builder(file, read_text(file)).build()


@dataclass
class _Frame:
    path: KeyPath
    value: dict[str, Any] | list[Any]
    anchor: str | None
    start: int  # values counted before this one
    key: Any = _NO_KEY  # a mapping's key waiting for its value


class _Builder:
    """Plain data from YAML events, counting values and depth as it goes."""

    def __init__(self, file: Path, text: str) -> None:
        self.file, self.text = file, text
        self.origins: dict[KeyPath, Origin] = {}
        self.texts: dict[KeyPath, str] = {}
        self.anchors: dict[str, tuple[Any, int] | None] = {}  # None: still open
        self.stack: list[_Frame] = []
        self.root: Any = _NO_KEY
        self.count = 0
        self.documents = 0
        self.loader = _Loader(text)

    def build(self) -> Document:
        """The document, or a ConfigError at the first fault; the parser is released either way."""
        try:
            while self.loader.check_event():
                event = self.loader.get_event()
                if isinstance(event, yaml.Event):
                    self._event(event)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            problem = " ".join(str(exc.problem or exc).split())
            raise ConfigError(f"{self.file}{where}: not valid YAML: {problem}.") from None
        except yaml.reader.ReaderError as exc:
            line = self.text.count("\n", 0, exc.position) + 1
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            raise ConfigError(
                f"{self.file} (line {line}): character U+{code:04X} (at character {exc.position}) is not allowed in "
                "YAML; a family file is printable text."
            ) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{self.file}: not valid YAML: {' '.join(str(exc).split())}.") from None
        finally:
            self.loader.dispose()
        if self.root is _NO_KEY:
            raise ConfigError(f"{self.file}: the file is empty; it must define at least `repository` and `python`.")
        return Document(self.file, self.root, self.origins, self.texts)

    def _fail(self, event: yaml.Event, path: KeyPath | None, problem: str) -> ConfigError:
        line = _line(event)
        if path is None:
            return ConfigError(f"{self.file} (line {line}): {problem}")
        return ConfigError(f"{self.file}: {format_key_path(path) or '(top level)'} (line {line}): {problem}")

    def _event(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self._fail(event, None, "a second YAML document starts here; a family file is one document.")
        elif isinstance(event, yaml.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            self._open(event)
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            frame = self.stack.pop()
            if frame.anchor is not None:
                self.anchors[frame.anchor] = (frame.value, self.count - frame.start)

    def _count(self, values: int, event: yaml.Event) -> None:
        self.count += values
        if self.count > MAX_VALUES:
            raise self._fail(
                event,
                self._next_path(),
                f"the file holds more than {MAX_VALUES} values once its aliases are expanded (an alias counts every "
                "value it repeats: is this a 'billion laughs' file?); a family file needs a few hundred.",
            )

    def _next_path(self) -> KeyPath:
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            return (*frame.path, len(frame.value))
        return frame.path if frame.key is _NO_KEY else (*frame.path, frame.key)

    def _expecting_key(self) -> bool:
        return bool(self.stack) and isinstance(self.stack[-1].value, dict) and self.stack[-1].key is _NO_KEY

    def _define(self, anchor: str | None, event: yaml.Event) -> None:
        if anchor is None:
            return
        if anchor in self.anchors:
            raise self._fail(event, self._next_path(), f"the anchor &{anchor} is defined twice; name each one once.")
        self.anchors[anchor] = None

    def _place(self, value: Any, event: yaml.Event) -> KeyPath:
        """Put a value where the document is: the root, the next list item, or a mapping's pending key."""
        path = self._next_path()
        if not self.stack:
            self.root = value
            self.origins.setdefault(path, Origin(self.file, _line(event)))
            return path
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            frame.value.append(value)
            self.origins[path] = Origin(self.file, _line(event))
        else:
            frame.value[frame.key] = value
            frame.key = _NO_KEY
        return path

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        self._count(1, event)
        tag = event.tag
        if tag is None or tag == "!":
            resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = self.loader.resolve
            tag = resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag not in _SCALAR_TAGS:
            raise self._fail(event, self._next_path(), f"the tag {_short_tag(tag)} is not allowed; {_PLAIN_DATA}")
        if self._expecting_key():
            self._key(event, tag)
            return
        self._define(event.anchor, event)
        value = self._construct(event, tag)
        path = self._place(value, event)
        if not isinstance(value, str):
            self.texts[path] = event.value
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)

    def _construct(self, event: yaml.ScalarEvent, tag: str) -> Any:
        if tag in {f"{_YAML}str", f"{_YAML}merge", f"{_YAML}value"}:
            return event.value
        construct: Callable[[yaml.SafeLoader | yaml.CSafeLoader, yaml.ScalarNode], Any]
        construct = self.loader.yaml_constructors[tag]  # SafeConstructor's own, without its node cache
        try:
            return construct(self.loader, yaml.ScalarNode(tag, event.value))
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            kind = _KIND_WORDS.get(tag.removeprefix(_YAML), tag)
            problem = f"{show(event.value)} cannot be read as {kind} ({clip(' '.join(str(exc).split()))})"
            raise self._fail(event, self._next_path(), f"{problem}; quote it to make it a string.") from None

    def _key(self, event: yaml.ScalarEvent, tag: str) -> None:
        frame = self.stack[-1]
        assert isinstance(frame.value, dict)
        if event.anchor is not None:
            raise self._fail(event, frame.path, f"the key {event.value!r} has an anchor; anchor values, not keys.")
        if tag == f"{_YAML}merge":
            raise self._fail(
                event, frame.path, "merge keys (<<) are not supported; restate the keys, or alias a whole value."
            )
        key = self._construct(event, tag)
        if not isinstance(key, str):
            raise self._fail(
                event,
                (*frame.path, event.value),
                f'write the key as a quoted string ("{event.value}"): YAML reads it as {show(key)}{_why(key)}.',
            )
        path = (*frame.path, key)
        if key in frame.value:
            raise self._fail(event, path, "is given twice; YAML would silently keep only the last one.")
        frame.key = key
        frame.value[key] = None  # claims the key now, so a later duplicate is seen even before its value is
        self.origins[path] = Origin(self.file, _line(event))

    def _alias(self, event: yaml.AliasEvent) -> None:
        path = self._next_path()
        if self._expecting_key():
            raise self._fail(event, path, f"the alias *{event.anchor} is used as a key; keys are plain strings.")
        if event.anchor not in self.anchors:
            raise self._fail(
                event, path, f"the alias *{event.anchor} names no anchor &{event.anchor} defined before it."
            )
        found = self.anchors[event.anchor]
        if found is None:
            raise self._fail(event, path, f"the alias *{event.anchor} is recursive: it is inside the value it repeats.")
        value, values = found
        self._count(values, event)
        self._place(value, event)

    def _open(self, event: yaml.SequenceStartEvent | yaml.MappingStartEvent) -> None:
        if self._expecting_key():
            raise self._fail(event, self.stack[-1].path, "a key is a list or mapping here; keys are plain strings.")
        if event.tag not in _COLLECTION_TAGS:
            raise self._fail(event, self._next_path(), f"the tag {_short_tag(event.tag)} is not allowed; {_PLAIN_DATA}")
        if len(self.stack) >= MAX_DEPTH:
            raise self._fail(event, self._next_path(), f"the data nests deeper than {MAX_DEPTH} levels; {_PLAIN_DATA}")
        self._define(event.anchor, event)
        start = self.count
        self._count(1, event)
        value: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        path = self._place(value, event)
        self.stack.append(_Frame(path, value, event.anchor, start))


_PLAIN_DATA = "a family file is mappings, lists, strings, numbers, true/false and null, a few levels deep."
_KIND_WORDS = {"int": "an integer", "float": "a number", "bool": "true or false", "null": "null", "timestamp": "a date"}


def _why(value: object) -> str:
    if isinstance(value, bool):
        return " (YAML reads yes, no, on and off as true and false)"
    if value is None:
        return " (~, null and an empty key are null)"
    return " (an unquoted 3.10 is the number 3.1)" if isinstance(value, float) else ""


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0


def _short_tag(tag: str | None) -> str:
    return show(str(tag).replace(_YAML, "!!", 1))
