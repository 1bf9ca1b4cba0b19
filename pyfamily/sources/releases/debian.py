"""The releases a Debian archive vouches for, by its signed chain: InRelease -> Sources -> .dsc -> orig tarball.

Each suite's `dists/<suite>/InRelease` is checked with gpgv against the archive keyring (openpgp.py); it lists the
sha256 of `main/source/Sources.xz` (or .gz), which lists the sha256 of each source package's `.dsc`, which lists
the sha256 of its orig tarball: CPython's own tarball, byte for byte. A file is read only after its sha256 matched
the one the link before it lists, so the tarball's sha256 that comes out is one Debian signed. Any mismatch or
failed signature refuses (a ReleaseError); a suite that cannot be reached is skipped with a note.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from debian.deb822 import Dsc, Release, Sources
from debian.debian_support import Version as DebianVersion

from pyfamily.errors import ReleaseError
from pyfamily.redaction import redact_url, remote_text
from pyfamily.sources.download import Limits, Skip
from pyfamily.sources.progress import MIB
from pyfamily.sources.releases.listings import Listings
from pyfamily.sources.releases.openpgp import check_keyring, verify_clearsigned

SUITES_ENV = "PYFAMILY_DEBIAN_SUITES"  # the suites read, blank-separated; new CPython releases land in unstable
DEFAULT_SUITES = ("unstable", "stable", "oldstable")
INDEX_LIMITS = Limits(max_size=256 * MIB)  # main's Sources.xz is about 12 MB
MAX_INDEX_TEXT = 1 << 30  # bytes of a decompressed Sources index read; unstable's is about 70 MB
_SOURCES_INDEXES = ("main/source/Sources.xz", "main/source/Sources.gz")
_PYTHON_STANZA = re.compile(rb"Package: *python3\.\d+\s*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
Note = Callable[[str], None]
_POOL_DIRECTORY = re.compile(r"pool/(?:[A-Za-z0-9+_.-]+/)*[A-Za-z0-9+_.-]+")


@dataclass(frozen=True)
class Listed:
    """A file as a signed index lists it."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class SignedSource:
    """One version of a source package as a suite's verified Sources index lists it."""

    version: str  # Debian's, "3.13.18-1"
    upstream: str  # "3.13.18"
    directory: str  # "pool/main/p/python3.13"
    dsc: Listed
    suite: str
    key: str  # fingerprint of an archive key that signed the suite's InRelease


@dataclass(frozen=True)
class SignedOrig:
    """An orig tarball's sha256 as a verified .dsc lists it, and the chain that vouches for it."""

    sha256: str
    dsc_url: str
    chain: str  # "InRelease of unstable (key 4CB5...) -> Sources -> python3.13_3.13.18-1.dsc"


def debian_suites(given: Sequence[str] | None = None) -> tuple[str, ...]:
    """The suites whose indexes are read: given, else $PYFAMILY_DEBIAN_SUITES, else DEFAULT_SUITES."""
    chosen = list(given or []) or os.environ.get(SUITES_ENV, "").split()
    return tuple(dict.fromkeys(s.strip().strip("/") for s in chosen if s.strip())) or DEFAULT_SUITES


class SignedArchives:
    """Debian archives' verified Sources indexes (the python3.X packages of each suite), read once a run."""

    def __init__(self, listings: Listings, keyring: Path, suites: Sequence[str] = DEFAULT_SUITES) -> None:
        self._listings, self.keyring, self.suites = listings, keyring, tuple(suites)
        self._read: dict[tuple[str, str], dict[str, list[SignedSource]] | Skip] = {}

    def sources(self, who: str, root: str, package: str, note: Note) -> dict[str, SignedSource]:
        """{upstream version: its newest Debian revision} of package in any suite of root's archive; Skip if no
        suite could be read, ReleaseError if a signature or checksum failed."""
        keyring = check_keyring(self.keyring, who)
        found: dict[str, SignedSource] = {}
        skipped: list[str] = []
        for suite in self.suites:
            try:
                packages = self._suite(root.rstrip("/"), suite, keyring, note)
            except Skip as skip:
                skipped.append(f"{suite}: {skip}")
                note(f"skipped suite {suite} of {who}: {skip}")
                continue
            for entry in packages.get(package, []):
                known = found.get(entry.upstream)
                if known is None or DebianVersion(entry.version) > DebianVersion(known.version):
                    found[entry.upstream] = entry
        if len(skipped) == len(self.suites):
            raise Skip(f"no suite's index could be read ({'; '.join(skipped)})")
        return found

    def orig(self, root: str, entry: SignedSource, name: str) -> SignedOrig | None:
        """The sha256 entry's .dsc lists for the orig tarball `name` (None if it lists none by that name), the .dsc
        first checked against the sha256 the suite's Sources lists for it; Skip if it cannot be downloaded."""
        url = f"{root.rstrip('/')}/{entry.directory}/{entry.dsc.name}"
        data = self._listings.data(url)
        _check_listed(url, data, entry.dsc, f"the verified Sources index of {entry.suite}")
        for item in Dsc(data.decode("utf-8", errors="replace").splitlines()).get("Checksums-Sha256") or []:
            if item.get("name") == name and _SHA256.fullmatch(str(item.get("sha256", ""))):
                chain = f"InRelease of {entry.suite} (key {entry.key}) -> Sources -> {entry.dsc.name}"
                return SignedOrig(str(item["sha256"]), url, chain)
        return None

    def _suite(self, root: str, suite: str, keyring: Path, note: Note) -> dict[str, list[SignedSource]]:
        key = (root, suite)
        if key not in self._read:
            try:
                self._read[key] = self._read_suite(root, suite, keyring, note)
            except Skip as skip:
                self._read[key] = skip
        known = self._read[key]
        if isinstance(known, Skip):
            raise known
        return known

    def _read_suite(self, root: str, suite: str, keyring: Path, note: Note) -> dict[str, list[SignedSource]]:
        """The python3.X packages a suite's Sources index lists, every link of the chain to it checked."""
        url = f"{root}/dists/{suite}/InRelease"
        signed = verify_clearsigned(self._listings.data(url), keyring, url)
        release = Release(signed.text.splitlines())
        named = {str(release.get("Suite", "")), str(release.get("Codename", ""))}
        if suite not in named:
            raise ReleaseError(
                f"{redact_url(url)} is signed, but for suite {remote_text(' / '.join(sorted(named - {''})), 80)}, "
                f"not {suite}: the archive answers with another suite's index. Check the suite names in "
                f"${SUITES_ENV} and the archive's URL. Nothing was pinned; the family file was not changed."
            )
        _note_expiry(release, url, note)
        listed = _listed(release)
        indexes = [listed[name] for name in _SOURCES_INDEXES if name in listed]
        if not indexes:
            raise ReleaseError(
                f"{redact_url(url)} is signed but lists no sha256 for {' or '.join(_SOURCES_INDEXES)}, so no source "
                "package of the suite can be checked. Use a full Debian mirror (one that carries source packages). "
                "Nothing was pinned; the family file was not changed."
            )
        by_hash = str(release.get("Acquire-By-Hash", "")).strip().lower() == "yes"
        reasons: list[str] = []
        for index in indexes:
            try:
                data = self._index(f"{root}/dists/{suite}", index, by_hash, url)
            except Skip as skip:
                reasons.append(str(skip))
                continue
            return _python_sources(data, index.name, suite, signed.fingerprints[0])
        raise Skip("; ".join(reasons))

    def _index(self, folder: str, index: Listed, by_hash: bool, inrelease: str) -> bytes:
        """index's bytes, checked against the sha256 the verified InRelease lists; by hash first where the archive
        keeps its indexes that way (so a mirror updating meanwhile serves the file signed, not its successor)."""
        plain = f"{folder}/{index.name}"
        urls = [f"{folder}/{index.name.rsplit('/', 1)[0]}/by-hash/SHA256/{index.sha256}"] if by_hash else []
        reasons: list[str] = []
        for url in [*urls, plain]:
            try:
                data = self._listings.data(url, INDEX_LIMITS)
            except Skip as skip:
                reasons.append(str(skip))
                continue
            _check_listed(url, data, index, f"the verified {redact_url(inrelease)}")
            return data
        raise Skip("; ".join(reasons))


def _listed(release: Release) -> dict[str, Listed]:
    found: dict[str, Listed] = {}
    for item in release.get("SHA256") or []:
        name, digest, size = item.get("name", ""), item.get("sha256", ""), str(item.get("size", ""))
        if _SHA256.fullmatch(digest) and size.isdigit():
            found[name] = Listed(name, digest, int(size))
    return found


def _check_listed(url: str, data: bytes, listed: Listed, listed_in: str) -> None:
    """A ReleaseError unless data is the file listed (its sha256 and size), as listed_in lists it."""
    digest = hashlib.sha256(data).hexdigest()
    if digest == listed.sha256 and len(data) == listed.size:
        return
    raise ReleaseError(
        f"{redact_url(url)} is not the file {listed_in} lists: it has sha256 {digest} ({len(data)} bytes), not "
        f"{listed.sha256} ({listed.size} bytes). The mirror, or a proxy on the way, serves other bytes than Debian "
        "signed (a mirror in the middle of an update shows this way too: run again in a few minutes, or set another "
        "Debian mirror in sources.debian_archive). Nothing was pinned; the family file was not changed."
    )


def _note_expiry(release: Release, url: str, note: Note) -> None:
    """A stale index (past its Valid-Until) can only hide newer releases, never substitute one: noted, still used."""
    until = str(release.get("Valid-Until", "")).strip()
    try:
        expired = bool(until) and parsedate_to_datetime(until) < datetime.now(UTC)
    except (TypeError, ValueError):
        expired = False
    if expired:
        note(
            f"{redact_url(url)} expired on {remote_text(until, 60)}: the mirror or a proxy serves an old index, so "
            "newer releases may be missing from it"
        )


def _python_sources(data: bytes, name: str, suite: str, key: str) -> dict[str, list[SignedSource]]:
    """{package: its versions} of the python3.X source packages in a checked Sources index."""
    found: dict[str, list[SignedSource]] = {}
    try:
        with lzma.open(io.BytesIO(data)) if name.endswith(".xz") else gzip.open(io.BytesIO(data)) as stream:
            for lines in _python_stanzas(stream):
                entry = _signed_source(Sources(lines), suite, key)
                if entry is not None:
                    found.setdefault(entry[0], []).append(entry[1])
    except (lzma.LZMAError, EOFError, OSError, zlib.error) as exc:
        raise ReleaseError(
            f"The {name} of suite {suite} matches its signed sha256 but does not decompress ({type(exc).__name__}); "
            "report it to the mirror's operators and use another mirror. The family file was not changed."
        ) from exc
    return found


def _python_stanzas(stream: Iterable[bytes]) -> Iterator[list[str]]:
    """The stanzas of a Sources index that start with `Package: python3.X`, as lines; the rest is only skimmed."""
    lines: list[str] = []
    keep, first, read = False, True, 0
    for raw in stream:
        read += len(raw)
        if read > MAX_INDEX_TEXT:
            raise ReleaseError(f"A Sources index decompresses to more than {MAX_INDEX_TEXT} bytes, which none does.")
        if not raw.strip():  # a blank line ends a stanza
            if keep:
                yield lines
            lines, keep, first = [], False, True
            continue
        if first:
            keep, first = bool(_PYTHON_STANZA.fullmatch(raw)), False
        if keep:
            lines.append(raw.decode("utf-8", errors="replace"))
    if keep:
        yield lines


def _signed_source(stanza: Sources, suite: str, key: str) -> tuple[str, SignedSource] | None:
    try:
        package, version, directory = str(stanza["Package"]), str(stanza["Version"]), str(stanza["Directory"])
        upstream = DebianVersion(version).upstream_version
    except (KeyError, ValueError):
        return None
    files = [item for item in stanza.get("Checksums-Sha256") or [] if str(item.get("name", "")).endswith(".dsc")]
    if not files or upstream is None or not _POOL_DIRECTORY.fullmatch(directory) or ".." in directory.split("/"):
        return None
    item = files[0]
    name, digest, size = str(item.get("name", "")), str(item.get("sha256", "")), str(item.get("size", ""))
    if "/" in name or not _SHA256.fullmatch(digest) or not size.isdigit():
        return None
    return package, SignedSource(version, upstream, directory, Listed(name, digest, int(size)), suite, key)
