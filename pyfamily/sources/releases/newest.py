"""Choose the newest final patch release of each Python minor from the release sources' listings.

Pre-releases are never chosen. Sources are tried in order for each minor: one that cannot be read is skipped with a
note, and the first that lists a final release of the minor answers for it. For a Debian pool, the sha256 its .dsc
files publish for the tarball is kept, for the tarball's check (tarball.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from debian.deb822 import Dsc
from packaging.version import Version

from pyfamily.config import PythonVersion
from pyfamily.errors import ReleaseError
from pyfamily.sources.download import Skip
from pyfamily.sources.releases.listings import (
    PLACEHOLDER,
    Listings,
    ReleaseSource,
    filename_pattern,
    parse_version,
    split_template,
    versions_listed,
)

MAX_CHECKED = 5  # newer folders of one minor whose contents are listed before the source is given up

Note = Callable[[str], None]


def final_releases(versions: Iterable[str], minor: str) -> dict[Version, str]:
    """The final (not pre-, dev- or post-) X.Y.Z releases of minor among versions, newest first."""
    wanted = tuple(int(part) for part in minor.split("."))
    found: dict[Version, str] = {}
    for text in versions:
        version = parse_version(text)
        if (
            version is not None
            and len(version.release) == 3
            and version.release[:2] == wanted
            and not (version.is_prerelease or version.is_postrelease or version.local)
        ):
            found.setdefault(version, str(version))
    return dict(sorted(found.items(), reverse=True))


def newest_final(versions: Iterable[str], minor: str) -> str | None:
    """The newest final patch release of minor among versions ("3.13.16"), or None."""
    return next(iter(final_releases(versions, minor).values()), None)


# --- Finding releases ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """A final release newer than the pinned one, and where its tarball is."""

    version: str
    filename: str
    url: str
    published_sha256: str | None = None  # the checksum the source publishes for it, when it does
    published_in: str | None = None


@dataclass(frozen=True)
class Lookup:
    """What the source that answered for a minor lists: its newest final release, and the release to move to."""

    minor: str
    current: PythonVersion
    source: str
    newest: str
    release: Release | None  # None: the pinned version is current (or newer than the source knows)


class _Unanswered(Exception):
    def __init__(self, reasons: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{who}: {why}" for who, why in reasons))
        self.reasons = reasons  # (source, why it did not answer)


def find_releases(
    versions: dict[str, PythonVersion], sources: Sequence[ReleaseSource], listings: Listings, note: Note
) -> list[Lookup]:
    """One Lookup per minor (in the order given), asking the sources in order; a ReleaseError naming every minor
    no source answered for, and why, if there is one."""
    lookups: list[Lookup] = []
    missing: list[str] = []
    reasons: dict[str, list[str]] = {}  # source: why it did not answer, each reason once
    noted: set[str] = set()

    def note_once(text: str) -> None:
        if text not in noted:
            noted.add(text)
            note(text)

    for minor, current in versions.items():
        try:
            lookups.append(find_release(minor, current, sources, listings, note_once))
        except _Unanswered as unanswered:
            missing.append(minor)
            for who, why in unanswered.reasons:
                if why not in reasons.setdefault(who, []):
                    reasons[who].append(why)
    if missing:
        why = "; ".join(
            f"{who}: {whys[0]}" + (f" (and {len(whys) - 1} more like it)" if len(whys) > 1 else "")
            for who, whys in reasons.items()
        )
        raise ReleaseError(
            f"No release source answered for Python {', '.join(missing)}: {why or 'no release source is configured'}."
            " Check the network and proxy settings, or add a mirror laid out like python.org/ftp/python "
            "(sources.mirrors in the family file, or $PYFAMILY_SOURCE_MIRRORS). The family file was not changed."
        )
    return lookups


def find_release(
    minor: str, current: PythonVersion, sources: Sequence[ReleaseSource], listings: Listings, note: Note
) -> Lookup:
    """Ask each source in turn for minor's releases; the first that lists a final one answers."""
    if filename_pattern(current) is None:
        why = (
            f"the tarball name {current.filename} does not contain the version {current.version}, so the name of a "
            "newer tarball cannot be derived; write the tarball with its version, or leave `tarball` out"
        )
        raise _Unanswered([(f'python.versions."{minor}"', why)])
    reasons: list[tuple[str, str]] = []
    for source in sources:
        try:
            lookup = _ask(source, minor, current, listings)
        except Skip as skipped:
            reasons.append((source.name, str(skipped)))
            note(f"skipped {source.name}: {skipped}")
            continue
        if lookup is not None:
            return lookup
        reasons.append((source.name, f"lists no final release of Python {minor}"))
        note(f"{source.name} lists no final release of Python {minor}")
    raise _Unanswered(reasons)


def _ask(source: ReleaseSource, minor: str, current: PythonVersion, listings: Listings) -> Lookup | None:
    """source's answer for minor, None if it lists no final release of it; Skip if it cannot be read."""
    template = source.template(current)
    split = split_template(template) if template else None
    if template is None:
        raise Skip(f"it keeps no tarball named like {current.filename}")
    if split is None:
        raise Skip("its URL cannot be listed ({version} is not in its path)")
    folder, segments = split
    listed = final_releases(versions_listed(listings.entries(folder), segments[0], len(segments) > 1), minor)
    if not listed:
        return None
    pinned = parse_version(current.version)
    newer = [text for version, text in listed.items() if pinned is None or version > pinned]
    for version in newer[:MAX_CHECKED]:
        url = template.replace(PLACEHOLDER, version)
        parent, name = url.rsplit("/", 1)
        if len(segments) > 1 and name not in listings.entries(parent + "/"):
            continue  # a folder made for a release still in its candidates, say: not released yet
        filename = current.filename.replace(current.version, version)
        published, published_in = _published_sha256(source, listings, parent, name) if source.debian else (None, None)
        return Lookup(minor, current, source.name, version, Release(version, filename, url, published, published_in))
    # Nothing newer is released there (a newer folder may hold only a release candidate yet): the newest it has.
    newest = next((text for version, text in listed.items() if pinned is None or version <= pinned), current.version)
    return Lookup(minor, current, source.name, newest, None)


def _published_sha256(
    source: ReleaseSource, listings: Listings, folder: str, name: str
) -> tuple[str, str] | tuple[None, None]:
    """The sha256 a Debian pool's .dsc files publish for the orig tarball `name`, and which .dsc said so."""
    stem = name.split(".orig.", 1)[0]  # python3.13_3.13.16
    try:
        dscs = sorted(e for e in listings.entries(folder + "/") if e.startswith(stem + "-") and e.endswith(".dsc"))
        for dsc in reversed(dscs):
            url = f"{folder}/{dsc}"
            for entry in Dsc(listings.text(url).splitlines()).get("Checksums-Sha256") or []:
                if entry.get("name") == name and re.fullmatch(r"[0-9a-f]{64}", entry.get("sha256", "")):
                    return str(entry["sha256"]), url
    except (Skip, ValueError, TypeError, AttributeError):
        pass  # no readable .dsc: the tarball is still checked by its contents
    return None, None
