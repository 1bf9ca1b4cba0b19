"""Rebuild checks: an image built again from scratch against the one it should equal, platform by platform.

A platform's manifest digest decides: equal, the rebuild is bit for bit the image. Otherwise the report says where
they part: the config (which keys differ) and each layer that differs with, inside it, the first files that
differ (size, mtime, mode or bytes), so a maintainer sees at once which step wrote a time or a random byte; every
layer that differs is listed, so one that differs alone (the CPython tree of a PGO build) shows as alone. The
index digest is not compared: the provenance attestation beside each manifest records when the build ran.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyfamily.oci.index import Descriptor, parse_json
from pyfamily.oci.layout import Blob, LocalImage
from pyfamily.redaction import remote_text

FILES_SHOWN = 5  # differing files listed per layer


@dataclass(frozen=True)
class Verdict:
    """One platform of one image: the manifest digests before and after, and where they differ ("" if equal)."""

    target: str
    platform: str
    before: str
    after: str
    where: str = ""

    @property
    def identical(self) -> bool:
        return self.before == self.after

    def line(self) -> str:
        head = f"{self.target} {self.platform}: "
        if self.identical:
            return head + f"identical ({self.before})"
        return (
            head + f"DIFFERS ({self.before} -> {self.after or 'missing'})" + (f"\n{self.where}" if self.where else "")
        )


def compare(target: str, before: LocalImage, after: LocalImage) -> list[Verdict]:
    """A verdict per platform `before` holds."""
    verdicts = []
    for entry in before.index.images:
        other = after.index.image(entry.platform)
        if other is None:
            verdicts.append(Verdict(target, entry.platform, entry.digest, "", "    the rebuild lacks this platform"))
        elif other.digest == entry.digest:
            verdicts.append(Verdict(target, entry.platform, entry.digest, other.digest))
        else:
            where = explain(before, entry, after, other)
            verdicts.append(Verdict(target, entry.platform, entry.digest, other.digest, where))
    return verdicts


def explain(before: LocalImage, old: Descriptor, after: LocalImage, new: Descriptor) -> str:
    """Where two manifests of one platform differ: the config's keys, and each layer that differs."""
    old_blobs, new_blobs = before.blobs(old), after.blobs(new)
    if old_blobs is None or new_blobs is None:
        return "    a blob of one of the two is not in the engine: cannot say where they differ"
    (old_config, *old_layers), (new_config, *new_layers) = old_blobs, new_blobs
    lines = []
    if old_config.digest != new_config.digest:
        keys = config_differences(_json(old_config), _json(new_config))
        lines.append(f"    config differs: {', '.join(keys) or 'in its bytes only'}")
    for number, (was, now) in enumerate(zip(old_layers, new_layers, strict=False), start=1):
        if was.digest == now.digest:
            continue  # every layer that differs is listed: one may differ alone, e.g. a PGO-built tree
        lines.append(f"    layer {number} of {len(old_layers)} differs ({was.digest[:19]} -> {now.digest[:19]}):")
        lines += [f"      {line}" for line in file_differences(layer_files(was.path), layer_files(now.path))]
    if len(old_layers) != len(new_layers):
        lines.append(f"    {len(old_layers)} layers before, {len(new_layers)} after")
    return "\n".join(lines)


def _json(blob: Blob) -> dict[str, Any]:
    return parse_json(blob.path.read_bytes(), f"The config {blob.digest}")


def config_differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted keys whose values differ, into `config` (Env, ...), `rootfs` and each label by name."""
    found = []
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        if isinstance(was, Mapping) and isinstance(now, Mapping) and prefix.count(".") < 2:
            found += config_differences(was, now, f"{prefix}{key}.")
        else:
            found.append(remote_text(f"{prefix}{key}"))
    return found


@dataclass(frozen=True)
class Entry:
    """A file of a layer as its tar lists it: what a rebuild must reproduce."""

    size: int
    mtime: int
    mode: int
    owner: tuple[int, int]
    content: str  # sha256 of a regular file's bytes, the target of a link, "" otherwise

    def describe(self) -> str:
        when = dt.datetime.fromtimestamp(self.mtime, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"{self.size} B, mtime {when}, mode {self.mode:o}, {self.content[:12] or '-'}"


def layer_files(path: Path) -> dict[str, Entry]:
    """Every member of a (compressed) layer tar by name."""
    with tarfile.open(path, "r:*") as layer:
        return dict(_entries(layer))


def _entries(layer: tarfile.TarFile) -> Iterator[tuple[str, Entry]]:
    for member in layer:
        content = member.linkname
        if member.isfile():
            stream = layer.extractfile(member)
            content = hashlib.sha256(stream.read() if stream else b"").hexdigest()
        owner = (member.uid, member.gid)
        yield member.name, Entry(member.size, int(member.mtime), member.mode, owner, content)


def file_differences(old: dict[str, Entry], new: dict[str, Entry], limit: int = FILES_SHOWN) -> list[str]:
    """The first files (by name) that differ, were added or are gone; names cleaned for a terminal."""
    differing = [name for name in sorted(old.keys() | new.keys()) if old.get(name) != new.get(name)]
    lines = []
    for name in differing[:limit]:
        was, now = old.get(name), new.get(name)
        if was is None or now is None:
            lines.append(f"{remote_text(name)}: only {'after' if was is None else 'before'}")
        else:
            lines.append(f"{remote_text(name)}: {was.describe()} -> {now.describe()}")
    if len(differing) > limit:
        lines.append(f"and {len(differing) - limit} more files")
    return lines or ["no file differs: the tar itself does (order, headers or compression)"]


def summary(verdicts: list[Verdict]) -> str:
    same = sum(v.identical for v in verdicts)
    return f"{same} of {len(verdicts)} platform manifests identical"
