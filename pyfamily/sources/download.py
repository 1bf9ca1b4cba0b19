"""Download one URL into an open file, within a deadline, stopping when asked.

Every fault of the network or the server (refused, reset, HTTP error, an HTML page, cut short, too slow) raises
Skip with a short reason that shows no secret, so that fetch() tries the next URL. A download may take
`grace + size / min_rate` seconds; when the size is unknown, whatever has arrived after t seconds must be at least
`(t - grace) * min_rate` bytes. A watchdog thread shuts the socket down when that limit passes or should_stop()
turns true, so a server that sends nothing, or one byte a minute, cannot hold a build. Before the server's
headers arrive, the connect and read timeouts bound the wait.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests
import urllib3

from pyfamily.errors import Interrupted
from pyfamily.redaction import redact_text, redact_url
from pyfamily.sources.progress import MIB, Progress

READ_TIMEOUT = 60.0  # seconds without a byte before a read gives up
MIN_RATE = 32 * 1024  # bytes/s: a mirror slower than this on average is given up for the next one
GRACE = 30.0  # seconds every download gets on top of size / MIN_RATE: connecting, TLS, a slow start
MAX_SIZE = 256 * 1024 * 1024  # bytes: CPython tarballs are about 30 MB; a server sending more is broken

_CHUNK = 64 * 1024
_TICK = 0.1  # seconds between the watchdog's checks
_QUERY = re.compile(r"\?[^\s'\"<>()\[\],;]+")  # "url: /path?token=..." in urllib3's messages


class Skip(Exception):
    """This URL cannot serve the file; the message says why (without secrets), and the next URL is tried."""


@dataclass(frozen=True)
class Limits:
    """How long a download may take: seconds, bytes/s and bytes."""

    connect_timeout: float = 5.0
    read_timeout: float = READ_TIMEOUT
    min_rate: float = MIN_RATE
    grace: float = GRACE
    max_size: int = MAX_SIZE

    def overdue(self, elapsed: float, done: int, total: int | None) -> str | None:
        """Why a download that ran `elapsed` seconds and got `done` of `total` bytes is too slow, or None."""
        rate = f"{self.min_rate / 1024:g} KiB/s"
        if total is not None:
            allowed = self.grace + total / self.min_rate
            if elapsed > allowed:
                return (
                    f"too slow: {done} of {total} bytes after {elapsed:.1f} s, past the {allowed:.1f} s allowed "
                    f"for this size ({self.grace:g} s plus {rate})"
                )
        elif elapsed > self.grace + done / self.min_rate:
            return f"too slow: {done} bytes after {elapsed:.1f} s, under {rate} on average"
        return None


@dataclass(frozen=True)
class Served:
    """What a URL served: the sha256 and size of its body."""

    sha256: str
    size: int


def download(
    session: requests.Session,
    url: str,
    out: BinaryIO,
    limits: Limits,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    name: str = "a CPython source tarball",
    html: bool = False,
) -> Served:
    """Write url's body into out and return its sha256 and size; raise Skip if url cannot serve it, and
    Interrupted as soon as should_stop() is true. Errors writing out (the local disk) propagate as they are.
    An HTML page is refused as not the file unless html is true (a directory listing, for instance)."""
    shown = redact_url(url)
    transfer = _Transfer(time.monotonic(), limits, should_stop or (lambda: False), name)
    try:
        # Ask for the bytes as stored: a server that gzips a .tgz on the fly would otherwise be "decoded".
        response = session.get(
            url,
            stream=True,
            timeout=(limits.connect_timeout, limits.read_timeout),
            headers={"Accept-Encoding": "identity"},
        )
    except (requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
        raise Skip(describe(exc, url)) from exc
    except ValueError as exc:  # a URL that urllib3 cannot even parse
        raise Skip(describe(exc, url)) from exc
    with response:
        transfer.total = _check_response(response, url, html)
        digest = _copy(response, url, out, transfer, progress)
    done, total = transfer.done, transfer.total
    if total is not None and done != total:
        raise Skip(f"the download stopped after {done} of {total} bytes")
    if progress is not None:
        progress(shown, done, done)
    return Served(digest, done)


def _copy(response: requests.Response, url: str, out: BinaryIO, transfer: _Transfer, progress: Progress | None) -> str:
    """Copy the body into out under the watchdog's eye; return its sha256."""
    shown = redact_url(url)
    digest = hashlib.sha256()
    next_report = 0
    with _Watchdog(response.raw, transfer.verdict) as watchdog:
        while True:
            verdict = transfer.verdict()
            if verdict is not None:
                raise verdict
            try:
                chunk: bytes = response.raw.read1(_CHUNK, decode_content=False)
            except Exception as exc:
                if watchdog.fired is not None:  # the watchdog shut the socket: say why, not how reading failed
                    raise watchdog.fired from exc
                if isinstance(exc, urllib3.exceptions.HTTPError | http.client.HTTPException | OSError):
                    raise Skip(describe(exc, url)) from exc
                raise
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            transfer.done += len(chunk)
            if progress is not None and transfer.done >= next_report:
                progress(shown, transfer.done, transfer.total)
                next_report = transfer.done + MIB
        if watchdog.fired is not None:  # the shutdown looked like the end of the body
            raise watchdog.fired
    return digest.hexdigest()


class _Transfer:
    """The state of one download, judged by both the reading thread and the watchdog."""

    def __init__(self, start: float, limits: Limits, should_stop: Callable[[], bool], name: str) -> None:
        self.start, self.limits, self.should_stop, self.name = start, limits, should_stop, name
        self.done = 0
        self.total: int | None = None

    def verdict(self) -> BaseException | None:
        """Interrupted if asked to stop, Skip if overdue or too big, else None."""
        if self.should_stop():
            return Interrupted(f"Stopped while downloading {self.name}.")
        size = max(self.done, self.total or 0)
        if size > self.limits.max_size:
            return Skip(f"sends {size} bytes or more, over the {self.limits.max_size} bytes a CPython tarball can be")
        reason = self.limits.overdue(time.monotonic() - self.start, self.done, self.total)
        return Skip(reason) if reason is not None else None


class _Watchdog:
    """Shuts a response's socket down once verdict() is not None, so that a read blocked on a silent server
    returns at once instead of after the read timeout; `fired` holds that verdict."""

    def __init__(self, raw: Any, verdict: Callable[[], BaseException | None]) -> None:
        self._raw, self._verdict = raw, verdict
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="pyfamily-download-watchdog", daemon=True)
        self.fired: BaseException | None = None

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._finished.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._finished.wait(_TICK):
            with contextlib.suppress(Exception):  # a faulty should_stop() must not kill the watchdog silently
                verdict = self._verdict()
                if verdict is None:
                    continue
                self.fired = verdict
                self._raw.shutdown()  # urllib3 >= 2.3: shuts the socket for reading; a blocked read returns
                return


def _check_response(response: requests.Response, url: str, html: bool = False) -> int | None:
    """Raise Skip unless response is a 200 that could be the file (a page, if html); return its length if known."""
    if response.status_code != 200:
        raise Skip(_scrub(f"HTTP {response.status_code} {response.reason or ''}".strip(), url))
    if not html and response.headers.get("Content-Type", "").startswith("text/html"):
        # A "soft 404" or captive portal page: certainly not the tarball, and not a checksum problem.
        raise Skip("answered with an HTML page instead of the file")
    try:
        length = int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None
    return length if length >= 0 else None


def describe(exc: BaseException, url: str) -> str:
    """A short reason for a failed request, without secrets, instead of urllib3's multi-line wrappers."""
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
        return _scrub(f"TLS error: {innermost}", url)
    if isinstance(exc, requests.exceptions.ProxyError):
        return _scrub(f"proxy error: {innermost}", url)
    return _scrub(f"{type(innermost).__name__}: {innermost}", url)


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


def _scrub(text: str, url: str, limit: int = 200) -> str:
    """text on one line, shortened, without URLs' userinfo and queries, and without url's password."""
    text = _QUERY.sub("?***", redact_text(" ".join(text.split())))
    with contextlib.suppress(ValueError):
        password = urlsplit(url).password
        if password:
            text = text.replace(password, "***")
    return text if len(text) <= limit else text[: limit - 3] + "..."
