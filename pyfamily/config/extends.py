"""`extends: OTHER`: a family file laid over another, each read by the bounded reader, every key keeping its origin.

Each top-level section of the file is merged key by key into the same section of OTHER; the value of a key replaces
OTHER's whole. So `python: {versions: {...}}` swaps the matrix and keeps the build packages. A value the file does
not restate keeps the file and line it was written on in OTHER, so a mistake there is reported against OTHER.
"""

from __future__ import annotations

from pathlib import Path

from pyfamily.config.paths import KeyPath, show
from pyfamily.config.yamlfile import Document, read_document
from pyfamily.errors import ConfigError

MAX_EXTENDS = 8  # files in one `extends` chain


def read_family(file: Path) -> Document:
    """Read `file` and, when it says `extends: OTHER`, lay it over OTHER (a path relative to it)."""
    return _read_extending(file, ())


def _read_extending(file: Path, chain: tuple[Path, ...]) -> Document:
    document = read_document(file)
    data = document.data
    if not isinstance(data, dict) or "extends" not in data:
        return document
    line = document.origins[("extends",)].line
    where = f"{file}: extends (line {line})"
    parent_name = data["extends"]
    if not isinstance(parent_name, str) or not parent_name or "\0" in parent_name:
        raise ConfigError(
            f"{where}: give the path of another family file, relative to this one; got {show(parent_name)}."
        )
    parent_file = file.parent / parent_name
    try:
        resolved, this = parent_file.resolve(), file.resolve()
    except (OSError, RuntimeError) as exc:
        raise ConfigError(f"{where}: cannot resolve {parent_file} ({exc}).") from None
    if resolved == this or resolved in chain:
        raise ConfigError(f"{where}: {parent_name} extends this file again; `extends` may not form a cycle.")
    if len(chain) + 1 >= MAX_EXTENDS:
        raise ConfigError(f"{where}: more than {MAX_EXTENDS} files extend one another; shorten the chain.")
    try:
        parent = _read_extending(parent_file, (*chain, this))
    except ConfigError as exc:
        raise ConfigError(f"{exc} ({parent_file} is extended by {file}, line {line}.)") from None
    if not isinstance(parent.data, dict):
        raise ConfigError(f"{where}: {parent_file} is not a family file (a mapping).")
    child = Document(file, {k: v for k, v in data.items() if k != "extends"}, document.origins, document.texts)
    return _overlay(parent, child)


def _overlay(parent: Document, child: Document) -> Document:
    merged = dict(parent.data)
    replaced: set[KeyPath] = set()
    for section, value in child.data.items():
        if isinstance(value, dict) and isinstance(parent.data.get(section), dict):
            merged[section] = {**parent.data[section], **value}
            replaced.update((section, key) for key in value)
        else:
            merged[section] = value
            replaced.add((section,))

    def kept(path: KeyPath) -> bool:
        return path[:1] not in replaced and path[:2] not in replaced

    origins = {path: origin for path, origin in parent.origins.items() if kept(path)}
    texts = {path: text for path, text in parent.texts.items() if kept(path)}
    origins.update((path, origin) for path, origin in child.origins.items() if path != ("extends",))
    texts.update(child.texts)
    return Document(child.file, merged, origins, texts)
