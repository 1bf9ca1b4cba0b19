"""Fetch a new release's tarball and check it is that release.

A new tarball is downloaded with fetch_checked() (the mirrors, deadlines and progress of every fetch) into the
source cache, and kept only if its sha256 is the one a verified signature vouches for (Debian's signed chain, see
debian.py) and its contents are that release (Python-X.Y.Z/Include/patchlevel.h says X.Y.Z); the sha256 written is
then computed from those very bytes. A release nothing signed is refused before any download.
"""

from __future__ import annotations

import lzma
import re
import tarfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pyfamily.errors import SourceError
from pyfamily.redaction import redact_url
from pyfamily.sources.download import Served
from pyfamily.sources.fetch import fetch_checked
from pyfamily.sources.progress import Progress
from pyfamily.sources.releases.debian import SUITES_ENV
from pyfamily.sources.releases.listings import ReleaseSource
from pyfamily.sources.releases.newest import Lookup, Release

MAX_UNPACKED = 2 << 30  # bytes of tar stream read when checking a tarball; CPython's is about 130 MB


def check_tarball(path: Path, version: str, filename: str = "") -> str | None:
    """Why path is not CPython version's source tarball, or None: it must unpack whole (every compressed byte is
    read, so a corrupt or cut stream shows), compressed as filename says (.tar.xz, .tgz, .tar.gz), and hold
    Python-<version>/Include/patchlevel.h defining that version."""
    wanted = f"Python-{version}/Include/patchlevel.h"
    mode: Literal["r:xz", "r:gz", "r:*"] = "r:*"
    if filename.endswith(".tar.xz"):
        mode = "r:xz"
    elif filename.endswith((".tgz", ".tar.gz")):
        mode = "r:gz"
    declared: str | None = None
    try:
        with tarfile.open(path, mode) as archive:
            # next() with the member list emptied as it grows, not `for member in archive`: a TarFile keeps every
            # member it reads (in .members, which typeshed leaves out), and a few MB of xz unpack to millions of
            # (empty) members, GBs of TarInfo.
            while (member := archive.next()) is not None:
                archive.members.clear()  # type: ignore[attr-defined,unused-ignore]
                if member.offset_data + member.size > MAX_UNPACKED:
                    return f"unpacks to more than {MAX_UNPACKED} bytes, which no CPython tarball does"
                if member.name.removeprefix("./") == wanted and member.isfile():
                    handle = archive.extractfile(member)
                    text = handle.read(1 << 20).decode("utf-8", errors="replace") if handle else ""
                    match = re.search(r'^#define\s+PY_VERSION\s+"([^"]+)"', text, re.MULTILINE)
                    declared = match.group(1) if match else ""
            stream = archive.fileobj
            while stream is not None and stream.read(1 << 20):
                pass  # to the end of the compressed stream, so its checksums are verified
    except (tarfile.TarError, EOFError, OSError, lzma.LZMAError, zlib.error) as exc:
        return f"is not a readable tar archive ({type(exc).__name__}: {exc})"
    if declared is None:
        return f"has no {wanted}, so it is not the source tarball of Python {version}"
    if declared != version:
        return f"holds the sources of Python {declared or '(no PY_VERSION)'}, not {version}"
    return None


def release_check(release: Release) -> Callable[[Path, Served], str | None]:
    """What a downloaded tarball of release must pass: its published sha256 (if any), then its contents."""

    def check(path: Path, served: Served) -> str | None:
        if release.published_sha256 is not None and served.sha256 != release.published_sha256:
            return (
                f"served {served.size} bytes with sha256 {served.sha256}, not the {release.published_sha256} "
                f"published in {redact_url(release.published_in or release.url)}"
            )
        reason = check_tarball(path, release.version, release.filename)
        return f"served a file that {reason}" if reason else None

    return check


def fetch_release(
    lookup: Lookup, sources: Sequence[ReleaseSource], cache_dir: Path, progress: Progress | None = None
) -> str:
    """Download lookup's new tarball into cache_dir (from where it was listed, then every other source) and return
    the sha256 of the copy that passed release_check(); a SourceError if none did, or if no verified signature
    vouches for the release's sha256 (then nothing is downloaded)."""
    release = lookup.release
    assert release is not None
    if release.published_sha256 is None:
        raise SourceError(unsigned(lookup, release))
    urls = [release.url, *(url for s in sources if (url := s.url(lookup.current, release.version)))]
    try:
        _, sha256 = fetch_checked(
            release.filename,
            f"{release.filename} (Python {release.version})",
            cache_dir,
            list(dict.fromkeys(urls)),
            release_check(release),
            progress=progress,
        )
    except SourceError as failed:
        if not str(failed).startswith("Could not download"):
            raise  # the local disk's problem (fetch_checked says which), not the URLs'
        raise SourceError(
            f"{failed} The sha256 wanted, {release.published_sha256}, is the one signed by "
            f"{release.signed_by or lookup.source}: a URL serving other bytes serves a substituted or damaged file; "
            "run again later or from another mirror. Nothing was pinned; the family file was not changed."
        ) from None
    return sha256


def unsigned(lookup: Lookup, release: Release) -> str:
    """Why a release that nothing signed is not pinned, and what to do instead."""
    return (
        f"Python {release.version} was found at {lookup.source} ({redact_url(release.url)}), but no publisher's "
        "signature vouches for that tarball: update-versions pins only a tarball whose sha256 a verified signature "
        "gives, that is a Debian archive's signed chain (InRelease -> Sources -> .dsc, checked with the archive "
        f"keyring), and no Debian archive asked (sources.debian_archive, suites in ${SUITES_ENV}) carries Python "
        f"{release.version}; python.org's Sigstore bundles are not checked. Run again once Debian carries it, or "
        "verify the release yourself (python -m sigstore verify identity, with the release manager's identity that "
        f"python.org lists) and pin Python {lookup.minor} by hand. Nothing was pinned; the family file was not changed."
    )
