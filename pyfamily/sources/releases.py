"""Find the newest patch release of each Python minor, and a checked copy of its tarball, from release listings.

A release source is where tarballs live, written as a URL template with "{version}" left in:
"<root>/{version}/Python-{version}.tar.xz" for python.org's download tree and mirrors laid out like it, a mirror's
own template (the placeholders of candidate_urls()), or a Debian archive's pool folder
("<root>/pool/main/p/python3.13/python3.13_{version}.orig.tar.xz", as debian_pool_path() spells it). Its listing is
the directory index of the folder above the first "{version}" (the HTML page of links that python.org, Debian
mirrors, Apache, nginx and `python -m http.server` serve); the links that fit the template name the releases.
Pre-releases are never chosen. Sources are tried in order for each minor: one that cannot be read is skipped with a
note, and the first that lists a final release of the minor answers for it.

A new tarball is downloaded with fetch_checked() (the mirrors, deadlines and progress of every fetch) into the
source cache, and kept only if its contents are that release (Python-X.Y.Z/Include/patchlevel.h says X.Y.Z) and,
where a checksum is published (a Debian pool's .dsc files), its sha256 is that one; the sha256 written is then
computed from those very bytes.
"""

from __future__ import annotations

import io
import lzma
import os
import re
import tarfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import requests
from debian.deb822 import Dsc
from packaging.version import InvalidVersion, Version

from pyfamily.config import PythonVersion
from pyfamily.errors import ReleaseError
from pyfamily.redaction import redact_url
from pyfamily.sources.download import Limits, Served, Skip, download
from pyfamily.sources.fetch import fetch_checked
from pyfamily.sources.progress import MIB, Progress
from pyfamily.sources.urls import PYTHON_ORG, debian_pool_path

PYTHON_ORG_ENV = "PYFAMILY_PYTHON_ORG"  # another root laid out like python.org/ftp/python, listed first instead
LISTING_LIMITS = Limits(max_size=8 * MIB)  # python.org's index of every release is about 100 KiB
MAX_CHECKED = 5  # newer folders of one minor whose contents are listed before the source is given up
MAX_UNPACKED = 2 << 30  # bytes of tar stream read when checking a tarball; CPython's is about 130 MB

Note = Callable[[str], None]
_VERSION = r"\d+\.\d+\.\d+(?:~?[a-z]+\d*)?"  # 3.13.15, 3.14.0rc1, Debian's 3.14.0~rc1
_PLACEHOLDER = "{version}"


@dataclass(frozen=True)
class ReleaseSource:
    """One place to list releases: python.org's tree, a mirror (a prefix or a template), or a Debian archive."""

    name: str  # as the table shows it: "python.org", "mirror https://m.example/python", "Debian deb.debian.org"
    root: str
    debian: bool = False

    def template(self, current: PythonVersion) -> str | None:
        """The URL of a tarball named like current's, with "{version}" in place of its version; None if this source
        cannot hold it (a tarball name without its version, a compression Debian's pool does not use)."""
        pattern = filename_pattern(current)
        if pattern is None:
            return None
        if self.debian:
            path = debian_pool_path(current)
            if path is None:
                return None
            folder, name = path.rsplit("/", 1)
            name = re.sub(r"_[^_/]+(\.orig\.tar\.\w+)$", r"_{version}\1", name)
            return f"{self.root.rstrip('/')}/{folder}/{name}"
        if _PLACEHOLDER in self.root or "{filename}" in self.root:
            return self.root.replace("{filename}", pattern)  # as candidate_urls() fills a mirror's template
        return f"{self.root.rstrip('/')}/{{version}}/{pattern}"

    def url(self, current: PythonVersion, version: str) -> str | None:
        template = self.template(current)
        return template.replace(_PLACEHOLDER, version) if template else None


def release_sources(debian_roots: Sequence[str], mirrors: Sequence[str]) -> list[ReleaseSource]:
    """python.org (or $PYFAMILY_PYTHON_ORG), then each mirror, then each Debian archive, duplicates dropped."""
    python_org = os.environ.get(PYTHON_ORG_ENV, "").strip() or PYTHON_ORG
    found = [
        ReleaseSource("python.org" if python_org == PYTHON_ORG else f"python.org at {_shown(python_org)}", python_org)
    ]
    found += [ReleaseSource(f"mirror {_shown(m.strip())}", m.strip()) for m in mirrors if m.strip()]
    found += [
        ReleaseSource(f"Debian {urlsplit(r.strip()).netloc.rpartition('@')[2] or _shown(r)}", r.strip(), debian=True)
        for r in debian_roots
        if r.strip()
    ]
    unique: dict[tuple[str, bool], ReleaseSource] = {}
    for source in found:
        unique.setdefault((source.root.rstrip("/"), source.debian), source)
    return list(unique.values())


def filename_pattern(current: PythonVersion) -> str | None:
    """current's tarball name with "{version}" for its version ("Python-{version}.tar.xz"), or None without it."""
    return current.filename.replace(current.version, _PLACEHOLDER) if current.version in current.filename else None


# --- Listings ------------------------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def parse_listing(page: str) -> list[str]:
    """The entries a directory index links to, in order: "3.13.15/" for a folder, "Python-3.13.15.tar.xz" for a
    file; links to parents, queries (sort orders) and fragments are left out, %-escapes are decoded."""
    parser = _Links()
    parser.feed(page)
    parser.close()
    entries: list[str] = []
    for href in parser.hrefs:
        parts = urlsplit(href)
        if parts.query or not parts.path:
            continue
        path = unquote(parts.path)
        folder = path.endswith("/")
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if name and name not in (".", ".."):
            entries.append(name + ("/" if folder else ""))
    return list(dict.fromkeys(entries))


def parse_version(text: str) -> Version | None:
    """A listed version ("3.13.15", Debian's "3.14.0~rc1"), or None if it is not one."""
    try:
        return Version(text.replace("~", ""))
    except InvalidVersion:
        return None


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


def versions_listed(entries: Iterable[str], segment: str, folder: bool) -> list[str]:
    """The versions in the entries that fit one path segment of a template ("{version}", "Python-{version}.tar.xz"),
    as written there; folder: the segment is a folder, listed with a trailing "/"."""
    pieces = segment.split(_PLACEHOLDER)
    pattern = f"(?P<version>{_VERSION})".join([re.escape(pieces[0]), re.escape(pieces[1])])
    pattern += "".join(f"(?P=version){re.escape(piece)}" for piece in pieces[2:])
    pattern += "/" if folder else ""
    return [match["version"] for entry in entries if (match := re.fullmatch(pattern, entry))]


def split_template(template: str) -> tuple[str, list[str]] | None:
    """(the folder to list, the path segments below it) of a template whose "{version}" is in its path; None when
    it is in the host, query or fragment (such a source can serve a tarball but not list releases)."""
    cut = template.find(_PLACEHOLDER)
    scheme_end = template.find("://")
    if cut < 0 or scheme_end < 0 or any(mark in template for mark in "?#"):
        return None
    folder_end = template.rfind("/", 0, cut)
    if folder_end <= scheme_end + 2 or template.find("/", scheme_end + 3) > folder_end:
        return None
    return template[: folder_end + 1], template[folder_end + 1 :].split("/")


class Listings:
    """Directory indexes and small files read over one session, each at most once a run; a failure is kept too."""

    def __init__(self, session: requests.Session, limits: Limits = LISTING_LIMITS) -> None:
        self._session, self._limits = session, limits
        self._texts: dict[str, str | Skip] = {}

    def text(self, url: str) -> str:
        """The body of url as text; Skip (kept for the next call) says why it could not be read."""
        if url not in self._texts:
            body = io.BytesIO()
            try:
                download(self._session, url, body, self._limits, name="a release listing", html=True)
                self._texts[url] = body.getvalue().decode("utf-8", errors="replace")
            except Skip as skipped:
                self._texts[url] = Skip(f"{redact_url(url)}: {skipped}")
        known = self._texts[url]
        if isinstance(known, Skip):
            raise known
        return known

    def entries(self, folder: str) -> list[str]:
        return parse_listing(self.text(folder))


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
        url = template.replace(_PLACEHOLDER, version)
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


# --- Fetching and checking a release's tarball ----------------------------------------------------------------


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
            for member in archive:
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
    the sha256 of the copy that passed release_check(); a SourceError if none did."""
    release = lookup.release
    assert release is not None
    urls = [release.url, *(url for s in sources if (url := s.url(lookup.current, release.version)))]
    _, sha256 = fetch_checked(
        release.filename,
        f"{release.filename} (Python {release.version})",
        cache_dir,
        list(dict.fromkeys(urls)),
        release_check(release),
        progress=progress,
    )
    return sha256


def _shown(url: str) -> str:
    return redact_url(url).rstrip("/")
