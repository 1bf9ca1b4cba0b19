"""Content digests of inputs: equal digests mean an image would be built from exactly the same things."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def _add_file(hasher: hashlib._Hash, path: Path, name: str) -> None:
    hasher.update(name.encode() + b"\0" + oct(path.stat().st_mode & 0o777).encode() + b"\0")
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(chunk)


def digest_of(directory: Path, *extra: str) -> str:
    """A hash of every file below `directory` (relative path, mode, bytes) and of the `extra` strings."""
    return digest_of_files(((p, str(p.relative_to(directory))) for p in directory.rglob("*") if p.is_file()), *extra)


def digest_of_files(files: Iterable[tuple[Path, str]], *extra: str) -> str:
    """A hash of (path, name) files in name order and of the `extra` strings."""
    hasher = hashlib.sha256()
    for path, name in sorted(files, key=lambda item: item[1]):
        _add_file(hasher, path, name)
    for item in extra:
        hasher.update(item.encode() + b"\0")
    return hasher.hexdigest()


INPUTS_LABEL = "org.pyfamily.inputs"  # on every image pyfamily makes: the digest of what went into it
# Input parts (pyfamily.produce.inputs) are named; these prefixes say which kind of input a part is.
IMAGE_PART = "image "  # built bytes: a used target's image ID, the bootstrapped rootfs; a refresh may change them
RECIPE_PART = "recipe "  # a used target by its recipe digest: what the family file and recipes say
# What a prepare step reports of its own sources' date (seconds since 1970): base, the Debian archive's Release date;
# CPython, its tarball's. A target's SOURCE_DATE_EPOCH is the newest of its own and those of the targets it uses.
EPOCH_PART = "epoch"
