"""`invoke update-versions`: each Python moved to its newest patch release, its tarball checked, the family file
edited in place."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import requests
from tabulate import tabulate

from pyfamily import config as configuration
from pyfamily import sources
from pyfamily.config import KeyPath, edit
from pyfamily.config.extends import read_family
from pyfamily.config.rawfile import read_text
from pyfamily.sources import releases
from pyfamily.util import default_cache_dir


def update_versions(config_file: str | None, dry_run: bool = False, keyring: str | None = None) -> None:
    """Move each Python of the family to its newest patch release: find it in the release listings, download its
    tarball into the source cache and check it against the sha256 a verified signature gives, then write version
    and sha256 where the family file has them. keyring: the Debian archive keyring (else $PYFAMILY_DEBIAN_KEYRING,
    else Debian's own)."""
    file = configuration.config_path(config_file)
    config = configuration.load(file)
    roots, mirrors = sources.locations(config)
    places = releases.release_sources(roots, mirrors)
    versions = {minor: config.python.versions[minor] for minor in config.minors}
    with requests.Session() as session:
        listings = releases.Listings(session)
        archives = releases.SignedArchives(listings, releases.debian_keyring(keyring), releases.debian_suites())
        lookups = releases.find_releases(versions, places, listings, _note, archives)
    cache = default_cache_dir() / "sources"
    progress = sources.console_progress()
    new = {found.minor: releases.fetch_release(found, places, cache, progress) for found in lookups if found.release}
    rows = [_version_row(found, new) for found in lookups]
    print(tabulate(rows, headers=VERSIONS_HEADERS, disable_numparse=True), flush=True)  # "3.10" is no number
    if not new:
        print(f"every Python is at its newest patch release; {file} is unchanged")
        return
    edited = _edit_versions(file, lookups, new)
    if dry_run:
        print(f"dry run: {len(new)} of {len(lookups)} Pythons would be updated in {', '.join(edited)}; nothing written")
        return
    for path, (old, text) in edited.items():
        edit.rewrite(Path(path), old, text)
    print(f"updated {len(new)} of {len(lookups)} Pythons in {', '.join(edited)}")


VERSIONS_HEADERS = ["minor", "old", "new", "sha256 (short)", "source"]


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr, flush=True)


def _version_row(found: releases.Lookup, new: dict[str, str]) -> tuple[str, ...]:
    if found.release is None:
        behind = f" (newest there: {found.newest})" if found.newest != found.current.version else ""
        return (found.minor, found.current.version, "current", "-", found.source + behind)
    checked = f" (signed: {found.release.signed_by})" if found.release.signed_by else ""
    return (found.minor, found.current.version, found.release.version, new[found.minor][:16], found.source + checked)


def _edit_versions(file: Path, lookups: Sequence[releases.Lookup], new: dict[str, str]) -> dict[str, tuple[str, str]]:
    """{file: (its text, its edited text)} for every file that writes a version to update (with `extends:`, the
    versions may be written in the file extended)."""
    origins = read_family(file).origins
    edits: dict[Path, dict[KeyPath, str]] = {}
    for found in lookups:
        if found.release is None:
            continue
        entry: KeyPath = ("python", "versions", found.minor)
        origin = origins.get((*entry, "version"))
        values = {"version": found.release.version, "sha256": new[found.minor]}
        if found.current.tarball is not None:
            values["tarball"] = found.release.filename
        edits.setdefault(origin.file if origin else file, {}).update({(*entry, k): v for k, v in values.items()})
    edited: dict[str, tuple[str, str]] = {}
    for path, changes in edits.items():
        old = read_text(path)
        edited[str(path)] = (old, edit.replace_values(old, changes, path))
    return edited
