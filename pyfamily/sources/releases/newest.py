"""Choose the newest final patch release of each Python minor from the release sources' listings.

Pre-releases are never chosen. Sources are tried in order for each minor: one that cannot be read is skipped with a
note, and the first that lists a final release of the minor answers for it. A Debian archive is read through its
signed indexes (debian.py), which also give the sha256 Debian signed for the tarball, the one tarball.py wants; a
directory index (python.org, a mirror) vouches for nothing: a release found there is pinned only if a Debian archive
signed the same tarball (its orig tarball is python.org's), else it carries no sha256 and is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from packaging.version import Version

from pyfamily.config import PythonVersion
from pyfamily.errors import ReleaseError
from pyfamily.sources.download import Skip
from pyfamily.sources.releases.debian import SignedArchives, SignedSource, debian_suites
from pyfamily.sources.releases.listings import (
    PLACEHOLDER,
    Listings,
    ReleaseSource,
    filename_pattern,
    parse_version,
    split_template,
    versions_listed,
)
from pyfamily.sources.releases.openpgp import debian_keyring

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
    published_sha256: str | None = None  # the sha256 a verified signature vouches for; None: nothing vouches for it
    published_in: str | None = None  # the file that lists it (a .dsc)
    signed_by: str | None = None  # the chain of signed files that vouches for it, as the table shows it


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
    versions: dict[str, PythonVersion],
    sources: Sequence[ReleaseSource],
    listings: Listings,
    note: Note,
    archives: SignedArchives | None = None,
) -> list[Lookup]:
    """One Lookup per minor (in the order given), asking the sources in order; a ReleaseError naming every minor
    no source answered for, and why, if there is one (or the first failed signature or checksum)."""
    archives = archives or SignedArchives(listings, debian_keyring(), debian_suites())
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
            lookups.append(find_release(minor, current, sources, listings, note_once, archives))
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
    minor: str,
    current: PythonVersion,
    sources: Sequence[ReleaseSource],
    listings: Listings,
    note: Note,
    archives: SignedArchives | None = None,
) -> Lookup:
    """Ask each source in turn for minor's releases; the first that lists a final one answers."""
    if filename_pattern(current) is None:
        why = (
            f"the tarball name {current.filename} does not contain the version {current.version}, so the name of a "
            "newer tarball cannot be derived; write the tarball with its version, or leave `tarball` out"
        )
        raise _Unanswered([(f'python.versions."{minor}"', why)])
    archives = archives or SignedArchives(listings, debian_keyring(), debian_suites())
    reasons: list[tuple[str, str]] = []
    for source in sources:
        try:
            if source.debian:
                lookup = _ask_debian(source, minor, current, archives, note)
            else:
                lookup = _ask(source, minor, current, listings)
        except Skip as skipped:
            reasons.append((source.name, str(skipped)))
            note(f"skipped {source.name}: {skipped}")
            continue
        if lookup is not None:
            return _countersigned(lookup, sources, archives, note)
        reasons.append((source.name, f"lists no final release of Python {minor}"))
        note(f"{source.name} lists no final release of Python {minor}")
    raise _Unanswered(reasons)


def _ask(source: ReleaseSource, minor: str, current: PythonVersion, listings: Listings) -> Lookup | None:
    """source's answer for minor from its directory indexes, None if it lists no final release of it; Skip if it
    cannot be read. Nothing vouches for such a tarball: its Release carries no published sha256."""
    template = source.template(current)
    split = split_template(template) if template else None
    if template is None:
        raise Skip(f"it keeps no tarball named like {current.filename}")
    if split is None:
        raise Skip("its URL cannot be listed ({version} is not in its path)")
    folder, segments = split
    listed = final_releases(versions_listed(listings.entries(folder), segments[0], len(segments) > 1), minor)

    def release_of(version: str) -> Release | None:
        url = template.replace(PLACEHOLDER, version)
        parent, name = url.rsplit("/", 1)
        if len(segments) > 1 and name not in listings.entries(parent + "/"):
            return None  # a folder made for a release still in its candidates, say: not released yet
        return Release(version, current.filename.replace(current.version, version), url)

    return _answer(source, minor, current, listed, release_of)


def _ask_debian(
    source: ReleaseSource, minor: str, current: PythonVersion, archives: SignedArchives, note: Note
) -> Lookup | None:
    """A Debian archive's answer for minor from its signed indexes (debian.py), with the sha256 they vouch for."""
    signed = archives.sources(source.name, source.root, _debian_package(source, current), note)
    listed = final_releases(signed, minor)
    return _answer(source, minor, current, listed, lambda v: _debian_release(source, current, v, signed, archives))


def _debian_package(source: ReleaseSource, current: PythonVersion) -> str:
    template = source.template(current)
    if template is None:
        raise Skip(f"it keeps no tarball named like {current.filename}")
    return template.rsplit("/", 1)[1].split("_", 1)[0]  # python3.13, of python3.13_{version}.orig.tar.xz


def _debian_release(
    source: ReleaseSource,
    current: PythonVersion,
    version: str,
    signed: dict[str, SignedSource],
    archives: SignedArchives,
) -> Release | None:
    """version's Release with the sha256 the archive signed; None if its .dsc has no orig tarball compressed as the
    pinned one is (or the archive has no such version)."""
    template, entry = source.template(current), signed.get(version)
    if template is None or entry is None:
        return None
    name = template.rsplit("/", 1)[1].replace(PLACEHOLDER, version)
    orig = archives.orig(source.root, entry, name)
    if orig is None:
        return None
    url = f"{source.root.rstrip('/')}/{entry.directory}/{name}"
    filename = current.filename.replace(current.version, version)
    return Release(version, filename, url, orig.sha256, orig.dsc_url, orig.chain)


def _countersigned(lookup: Lookup, sources: Sequence[ReleaseSource], archives: SignedArchives, note: Note) -> Lookup:
    """lookup, its release given the sha256 a Debian archive signed for that very version when its own source vouches
    for nothing (python.org, a mirror: CPython's orig tarball in Debian is python.org's, byte for byte); unchanged
    if no archive carries it, and then refused by fetch_release()."""
    release = lookup.release
    if release is None or release.published_sha256 is not None:
        return lookup
    for source in (s for s in sources if s.debian):
        try:
            signed = archives.sources(source.name, source.root, _debian_package(source, lookup.current), note)
            found = _debian_release(source, lookup.current, release.version, signed, archives)
        except Skip as skipped:
            note(f"skipped {source.name}: {skipped}")
            continue
        if found is not None:
            vouched = f"{source.name}: {found.signed_by}"
            return replace(
                lookup,
                release=replace(
                    release, published_sha256=found.published_sha256, published_in=found.published_in, signed_by=vouched
                ),
            )
    return lookup


def _answer(
    source: ReleaseSource,
    minor: str,
    current: PythonVersion,
    listed: dict[Version, str],
    release_of: Callable[[str], Release | None],
) -> Lookup | None:
    """The Lookup for the newest listed release newer than the pin that release_of() finds; None if none listed."""
    if not listed:
        return None
    pinned = parse_version(current.version)
    newer = [text for version, text in listed.items() if pinned is None or version > pinned]
    for version in newer[:MAX_CHECKED]:
        release = release_of(version)
        if release is not None:
            return Lookup(minor, current, source.name, version, release)
    # Nothing newer is released there (a newer folder may hold only a release candidate yet): the newest it has.
    newest = next((text for version, text in listed.items() if pinned is None or version <= pinned), current.version)
    return Lookup(minor, current, source.name, newest, None)
