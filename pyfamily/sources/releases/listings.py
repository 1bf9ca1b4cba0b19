"""Where releases are listed, and how a listing is read.

A release source is where tarballs live, written as a URL template with "{version}" left in:
"<root>/{version}/Python-{version}.tar.xz" for python.org's download tree and mirrors laid out like it, a mirror's
own template (the placeholders of candidate_urls()), or a Debian archive's pool folder
("<root>/pool/main/p/python3.13/python3.13_{version}.orig.tar.xz", as debian_pool_path() spells it). Its listing is
the directory index of the folder above the first "{version}" (the HTML page of links that python.org, Debian
mirrors, Apache, nginx and `python -m http.server` serve); the links that fit the template name the releases.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import requests
from packaging.version import InvalidVersion, Version

from pyfamily.config import PythonVersion
from pyfamily.redaction import redact_url
from pyfamily.sources.download import Limits, Skip, download
from pyfamily.sources.progress import MIB
from pyfamily.sources.urls import PYTHON_ORG, debian_pool_path

PYTHON_ORG_ENV = "PYFAMILY_PYTHON_ORG"  # another root laid out like python.org/ftp/python, listed first instead
LISTING_LIMITS = Limits(max_size=8 * MIB)  # python.org's index of every release is about 100 KiB

_VERSION = r"\d+\.\d+\.\d+(?:~?[a-z]+\d*)?"  # 3.13.15, 3.14.0rc1, Debian's 3.14.0~rc1
PLACEHOLDER = "{version}"


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
        if PLACEHOLDER in self.root or "{filename}" in self.root:
            return self.root.replace("{filename}", pattern)  # as candidate_urls() fills a mirror's template
        return f"{self.root.rstrip('/')}/{{version}}/{pattern}"

    def url(self, current: PythonVersion, version: str) -> str | None:
        template = self.template(current)
        return template.replace(PLACEHOLDER, version) if template else None


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
    return current.filename.replace(current.version, PLACEHOLDER) if current.version in current.filename else None


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


def versions_listed(entries: Iterable[str], segment: str, folder: bool) -> list[str]:
    """The versions in the entries that fit one path segment of a template ("{version}", "Python-{version}.tar.xz"),
    as written there; folder: the segment is a folder, listed with a trailing "/"."""
    pieces = segment.split(PLACEHOLDER)
    pattern = f"(?P<version>{_VERSION})".join([re.escape(pieces[0]), re.escape(pieces[1])])
    pattern += "".join(f"(?P=version){re.escape(piece)}" for piece in pieces[2:])
    pattern += "/" if folder else ""
    return [match["version"] for entry in entries if (match := re.fullmatch(pattern, entry))]


def split_template(template: str) -> tuple[str, list[str]] | None:
    """(the folder to list, the path segments below it) of a template whose "{version}" is in its path; None when
    it is in the host, query or fragment (such a source can serve a tarball but not list releases)."""
    cut = template.find(PLACEHOLDER)
    scheme_end = template.find("://")
    if cut < 0 or scheme_end < 0 or any(mark in template for mark in "?#"):
        return None
    folder_end = template.rfind("/", 0, cut)
    if folder_end <= scheme_end + 2 or template.find("/", scheme_end + 3) > folder_end:
        return None
    return template[: folder_end + 1], template[folder_end + 1 :].split("/")


class Listings:
    """Directory indexes and files read over one session, each at most once a run; a failure is kept too."""

    def __init__(self, session: requests.Session, limits: Limits = LISTING_LIMITS) -> None:
        self._session, self._limits = session, limits
        self._bodies: dict[str, bytes | Skip] = {}

    def text(self, url: str) -> str:
        """The body of url as text (a directory index: an HTML page is welcome); Skip (kept for the next call)
        says why it could not be read."""
        return self._body(url, html=True, limits=self._limits).decode("utf-8", errors="replace")

    def data(self, url: str, limits: Limits | None = None) -> bytes:
        """The bytes url serves (an index or a .dsc: an HTML page is refused as not the file), within limits."""
        return self._body(url, html=False, limits=limits or self._limits)

    def entries(self, folder: str) -> list[str]:
        return parse_listing(self.text(folder))

    def _body(self, url: str, html: bool, limits: Limits) -> bytes:
        if url not in self._bodies:
            body = io.BytesIO()
            try:
                download(self._session, url, body, limits, name="a release listing", html=html)
                self._bodies[url] = body.getvalue()
            except Skip as skipped:
                self._bodies[url] = Skip(f"{redact_url(url)}: {skipped}")
        known = self._bodies[url]
        if isinstance(known, Skip):
            raise known
        return known


def _shown(url: str) -> str:
    return redact_url(url).rstrip("/")
