"""Fetch checksum-pinned CPython source tarballs on the host and keep verified copies in a local cache.

Mirrors are tried in order (python.org, the Debian archives the host's apt already uses, then any extra
mirrors); unreachable mirrors are skipped, but a checksum mismatch stops everything.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO
from urllib.parse import urlsplit

import requests
import urllib3

from pyfamily.errors import SourceError

PYTHON_ORG = "https://www.python.org/ftp/python"

Progress = Callable[[str, int, int | None], None]

_CHUNK = 64 * 1024
_MIB = 1024 * 1024
_READ_TIMEOUT = 60.0

# "3.13.15", "3.14.0rc1": python.org keeps pre-releases in the directory of the final release.
_VERSION = re.compile(r"(?P<major>\d+)\.(?P<minor>\d+)\.(?P<micro>\d+)(?P<pre>(?:a|b|rc)\d+)?")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class SourceSpec:
    version: str  # "3.13.15"
    filename: str  # upstream file name, "Python-3.13.15.tar.xz" or "Python-3.11.2.tgz"
    sha256: str  # hex digest of that file


def sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# --- Debian archives known to the host's apt -------------------------------------------------------------

_DEBIAN_CODENAMES = frozenset(
    {
        "buzz", "rex", "bo", "hamm", "slink", "potato", "woody", "sarge", "etch", "lenny", "squeeze",
        "wheezy", "jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky", "duke",
        "sid", "experimental", "oldoldstable", "oldstable", "stable", "testing", "unstable",
    }
)  # fmt: skip
_DEBIAN_SUITE_SUFFIXES = frozenset({"", "updates", "backports", "backports-sloppy", "proposed-updates"})
_SNAPSHOT_STAMP = re.compile(r"\d{8}T\d{6}Z")


@dataclass(frozen=True)
class _AptSource:
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]


def debian_archive_roots(apt_dir: Path = Path("/etc/apt")) -> list[str]:
    """Archive roots the host's apt uses for Debian (e.g. ["http://deb.debian.org/debian"]), in apt's order.

    Reads sources.list, sources.list.d/*.list and deb822 sources.list.d/*.sources. Security archives and
    third-party repositories are left out; an empty list means none was found.
    """
    roots = [
        uri.rstrip("/") for source in _apt_sources(apt_dir) for uri in source.uris if _is_debian_archive(uri, source)
    ]
    return list(dict.fromkeys(roots))


def _apt_files(apt_dir: Path) -> list[Path]:
    files = [apt_dir / "sources.list"]
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    return [f for f in files if f.is_file()]


def _apt_sources(apt_dir: Path) -> Iterator[_AptSource]:
    for path in _apt_files(apt_dir):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # unreadable for this user: apt's business, and the mirrors are only a fallback
        yield from (_parse_deb822(text) if path.suffix == ".sources" else _parse_one_line(text))


def _parse_one_line(text: str) -> Iterator[_AptSource]:
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] not in ("deb", "deb-src"):
            continue
        words = _drop_options(words[1:])
        if len(words) >= 2:
            uri, suite, *components = words
            yield _AptSource((uri,), (suite,), tuple(components))


def _drop_options(words: list[str]) -> list[str]:
    """Skip a leading "[arch=amd64 signed-by=...]" block, which may span several words."""
    if not words or not words[0].startswith("["):
        return words
    for i, word in enumerate(words):
        if word.endswith("]"):
            return words[i + 1 :]
    return []


def _parse_deb822(text: str) -> Iterator[_AptSource]:
    for fields in _deb822_stanzas(text):
        if fields.get("enabled", "yes").lower() in ("no", "false", "0"):
            continue
        if not {"deb", "deb-src"} & set(fields.get("types", "").split()):
            continue
        yield _AptSource(
            tuple(fields.get("uris", "").split()),
            tuple(fields.get("suites", "").split()),
            tuple(fields.get("components", "").split()),
        )


def _deb822_stanzas(text: str) -> Iterator[dict[str, str]]:
    fields: dict[str, str] = {}
    key = None
    for line in [*text.splitlines(), ""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                yield fields
            fields, key = {}, None
        elif line[0] in " \t":
            if key is not None:
                fields[key] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            fields[key] = value.strip()


def _is_debian_archive(uri: str, source: _AptSource) -> bool:
    # A codename + "main" alone is not enough: many third-party repos (HashiCorp, Microsoft, sury.org)
    # use exactly that, so the path must also look like a Debian archive root.
    parts = urlsplit(uri)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "main" in source.components
        and _is_debian_path(parts.path)
        and any(_is_debian_suite(suite) for suite in source.suites)
    )


def _is_debian_path(path: str) -> bool:
    """True for ".../debian" or a snapshot root ".../debian/20250520T000000Z", not "debian-security"."""
    segments = [s for s in path.split("/") if s]
    if segments and segments[-1] == "debian":
        return True
    return len(segments) >= 2 and segments[-2] == "debian" and bool(_SNAPSHOT_STAMP.fullmatch(segments[-1]))


def _is_debian_suite(suite: str) -> bool:
    name, _, suffix = suite.strip("/").partition("-")
    return name in _DEBIAN_CODENAMES and suffix in _DEBIAN_SUITE_SUFFIXES


# --- Mirror URLs -------------------------------------------------------------------------------------------


def candidate_urls(spec: SourceSpec, debian_roots: Sequence[str], extra_mirrors: Sequence[str]) -> list[str]:
    """Download URLs for spec, best first: python.org, each Debian root's pool, then each extra mirror.

    An extra mirror is either a prefix laid out like python.org's ftp tree ("<prefix>/3.13.15/<filename>")
    or a template with "{version}" and/or "{filename}" placeholders, which are replaced literally.
    """
    urls = [f"{PYTHON_ORG}/{_release_dir(spec.version)}/{spec.filename}"]
    pool_path = _debian_pool_path(spec)
    if pool_path is not None:
        urls += [f"{root.strip().rstrip('/')}/{pool_path}" for root in debian_roots if root.strip()]
    urls += [_mirror_url(mirror.strip(), spec) for mirror in extra_mirrors if mirror.strip()]
    return list(dict.fromkeys(urls))


def _release_dir(version: str) -> str:
    match = _VERSION.fullmatch(version)
    return f"{match['major']}.{match['minor']}.{match['micro']}" if match else version


def _debian_pool_path(spec: SourceSpec) -> str | None:
    """Debian ships the upstream tarball as python3.X_<version>.orig.tar.*; pre-releases use "~rc1"."""
    match = _VERSION.fullmatch(spec.version)
    if match is None:
        return None
    if spec.filename.endswith(".tar.xz"):
        compression = "xz"
    elif spec.filename.endswith((".tgz", ".tar.gz")):
        compression = "gz"
    else:
        return None
    package = f"python{match['major']}.{match['minor']}"
    version = _release_dir(spec.version) + (f"~{match['pre']}" if match["pre"] else "")
    return f"pool/main/{package[0]}/{package}/{package}_{version}.orig.tar.{compression}"


def _mirror_url(mirror: str, spec: SourceSpec) -> str:
    if "{version}" in mirror or "{filename}" in mirror:
        # str.replace rather than str.format: other braces in a URL must not raise or be interpreted.
        return mirror.replace("{version}", spec.version).replace("{filename}", spec.filename)
    return f"{mirror.rstrip('/')}/{_release_dir(spec.version)}/{spec.filename}"


# --- Fetching ----------------------------------------------------------------------------------------------


class _Skip(Exception):
    """This URL cannot serve the file; the message says why, and the next URL is tried."""


def fetch(
    spec: SourceSpec,
    cache_dir: Path,
    urls: Sequence[str],
    *,
    offline: bool = False,
    progress: Progress | None = None,
    connect_timeout: float = 5.0,
) -> Path:
    """Return cache_dir/spec.filename, downloading it from the first URL that serves it if needed.

    A cached copy is used only if its sha256 matches the pin (a corrupted one is deleted). Unreachable
    URLs and non-200 answers are skipped; a download whose sha256 differs from the pin raises at once.
    progress(url, bytes_done, total_or_None) is called about every MiB, and last with total == bytes_done.
    """
    _check_spec(spec)
    target = cache_dir / spec.filename
    expected = spec.sha256.lower()
    stale_note = ""
    if target.is_file():
        actual = sha256_of(target)
        if actual == expected:
            return target
        target.unlink(missing_ok=True)
        stale_note = f" (the cached copy had sha256 {actual} instead of the pinned {expected} and was removed)"
    if offline:
        raise SourceError(
            f"{spec.filename} (Python {spec.version}) is not in the source cache {cache_dir}{stale_note}, "
            "and --offline forbids downloading it. Run once without --offline to fill the cache."
        )
    return _download(spec, target, urls, progress, connect_timeout)


def _check_spec(spec: SourceSpec) -> None:
    name = spec.filename
    if not name or name.startswith(".") or Path(name).name != name:
        raise SourceError(f"The source file name {name!r} for Python {spec.version} must be a plain file name.")
    if not _SHA256.fullmatch(spec.sha256):
        raise SourceError(
            f"The pinned sha256 {spec.sha256!r} for {name} is not a sha256 digest (64 hexadecimal digits)."
        )


def _download(
    spec: SourceSpec, target: Path, urls: Sequence[str], progress: Progress | None, connect_timeout: float
) -> Path:
    if not urls:
        raise SourceError(
            f"{spec.filename} (Python {spec.version}) is not in the source cache {target.parent} "
            "and no download URL was given."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    with requests.Session() as session:
        for url in urls:
            try:
                _download_one(session, url, spec, target, progress, connect_timeout)
                return target
            except _Skip as skipped:
                failures.append(f"{url} ({skipped})")
    raise SourceError(
        f"Could not download {spec.filename} (Python {spec.version}) from any of {len(urls)} URL(s): "
        + "; ".join(failures)
        + ". Check the network and proxy settings, or add a mirror that carries this file."
    )


def _download_one(
    session: requests.Session,
    url: str,
    spec: SourceSpec,
    target: Path,
    progress: Progress | None,
    connect_timeout: float,
) -> None:
    # The temporary file lives next to the target so that os.replace() is an atomic rename.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _stream(session, url, out, progress, connect_timeout)
            out.flush()
            os.fsync(out.fileno())
        expected = spec.sha256.lower()
        if actual != expected:
            raise SourceError(
                f"The file downloaded from {url} has sha256 {actual}, but {spec.filename} "
                f"(Python {spec.version}) is pinned to sha256 {expected}. The download was discarded and "
                "no other mirror was tried, because a mismatch means either a wrong pin or a mirror serving "
                "a different file: check the pin against the checksum published with the release."
            )
        tmp.chmod(0o644)  # mkstemp creates 0600; the cache is shared with build contexts
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _stream(
    session: requests.Session, url: str, out: BinaryIO, progress: Progress | None, connect_timeout: float
) -> str:
    """Copy the body of url into out and return its sha256; raise _Skip if url cannot serve it."""
    digest = hashlib.sha256()
    done = 0
    next_report = 0
    try:
        # Ask for the bytes as stored: a server that gzips a .tgz on the fly would otherwise be "decoded".
        with session.get(
            url, stream=True, timeout=(connect_timeout, _READ_TIMEOUT), headers={"Accept-Encoding": "identity"}
        ) as response:
            total = _check_response(response)
            for chunk in response.raw.stream(_CHUNK, decode_content=False):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None and done >= next_report:
                    progress(url, done, total)
                    next_report = done + _MIB
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise _Skip(_describe(exc)) from exc
    if total is not None and done != total:
        raise _Skip(f"the download stopped after {done} of {total} bytes")
    if progress is not None:
        progress(url, done, done)
    return digest.hexdigest()


def _check_response(response: requests.Response) -> int | None:
    """Raise _Skip unless response is a 200 that could be the tarball; return its length if known."""
    if response.status_code != 200:
        raise _Skip(f"HTTP {response.status_code} {response.reason or ''}".strip())
    if response.headers.get("Content-Type", "").startswith("text/html"):
        # A "soft 404" or captive portal page: certainly not the tarball, and not a checksum problem.
        raise _Skip("answered with an HTML page instead of the file")
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _describe(exc: BaseException) -> str:
    """A short reason for a failed request, instead of urllib3's multi-line wrapper messages."""
    if isinstance(exc, requests.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError):
        return "timed out while connecting"
    if isinstance(exc, requests.ReadTimeout | urllib3.exceptions.ReadTimeoutError):
        return "timed out waiting for data"
    chain = _cause_chain(exc)
    for cause in chain:
        if isinstance(cause, socket.gaierror | urllib3.exceptions.NameResolutionError):
            return "host name could not be resolved"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, urllib3.exceptions.IncompleteRead | http.client.IncompleteRead):
            return "the connection closed before the whole file arrived"
    innermost = chain[-1]
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS error: {_shorten(str(innermost))}"
    if isinstance(exc, requests.exceptions.ProxyError):
        return f"proxy error: {_shorten(str(innermost))}"
    return f"{type(innermost).__name__}: {_shorten(str(innermost))}"


def _cause_chain(exc: BaseException) -> list[BaseException]:
    """exc and what it wraps: requests and urllib3 nest causes in args, .reason and __cause__."""
    chain = [exc]
    while len(chain) < 10:
        current = chain[-1]
        candidates = [current.__cause__, getattr(current, "reason", None), *current.args[:1], current.__context__]
        nested = next((c for c in candidates if isinstance(c, BaseException) and c not in chain), None)
        if nested is None:
            break
        chain.append(nested)
    return chain


def _shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- Console progress --------------------------------------------------------------------------------------


def console_progress(stream: TextIO | None = None) -> Progress:
    """A progress callback for fetch() writing to stream (sys.stderr by default).

    On a TTY one line is rewritten in place; otherwise a line is printed about every 25% (every 10 MiB
    when the size is unknown) so that CI logs stay short.
    """
    out = stream if stream is not None else sys.stderr
    return _ConsoleProgress(out, _isatty(out))


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty(), or already closed
        return False


class _ConsoleProgress:
    def __init__(self, stream: TextIO, tty: bool) -> None:
        self._stream = stream
        self._tty = tty
        self._url: str | None = None
        self._step = -1
        self._finished = False
        self._line_open = False

    def __call__(self, url: str, done: int, total: int | None) -> None:
        if url != self._url:
            self._start(url)
        if self._finished:
            return
        self._finished = total is not None and done >= total
        line = _progress_line(url, done, total)
        if self._tty:
            self._write("\r" + line + "\x1b[K" + ("\n" if self._finished else ""))
            self._line_open = not self._finished
        else:
            step = done * 4 // total if total else done // (10 * _MIB)
            if step > self._step or self._finished:
                self._step = step
                self._write(line + "\n")

    def _start(self, url: str) -> None:
        if self._line_open:  # the previous URL failed halfway: keep its last state visible
            self._write("\n")
            self._line_open = False
        self._url, self._step, self._finished = url, -1, False

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()


def _progress_line(url: str, done: int, total: int | None) -> str:
    parts = urlsplit(url)
    name = parts.path.rsplit("/", 1)[-1] or url
    size = f"{done / _MIB:.1f}/{total / _MIB:.1f} MiB ({done * 100 // total}%)" if total else f"{done / _MIB:.1f} MiB"
    return f"downloading {name} from {parts.hostname or url}: {size}"
