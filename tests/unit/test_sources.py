"""Tests for pyfamily.sources.fetch against real HTTP servers on 127.0.0.1 (never anything else).

Every server thread and every wait here is bounded: handlers that trickle or stall give up after SERVE_LIMIT
seconds or when the test ends, whichever comes first.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from pyfamily.config import PythonVersion
from pyfamily.errors import Interrupted, SourceError, UserError
from pyfamily.sources import console_progress, fetch, sha256_of

MIB = 1024 * 1024
PAYLOAD = os.urandom(2 * MIB + 12345)  # > 1 MiB so that progress throttling is exercised
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
PY = PythonVersion(version="3.13.15", sha256=PAYLOAD_SHA)
NAME = PY.filename
SERVE_LIMIT = 20.0  # seconds a slow handler may run at most
ROOT = Path(__file__).resolve().parents[2]

Handler = SimpleHTTPRequestHandler
Behaviour = Callable[[Handler, threading.Event], None]


# --- Fixtures ----------------------------------------------------------------------------------------------


@dataclass
class Server:
    root: Path
    base: str
    closing: threading.Event = field(default_factory=threading.Event)
    paths: list[str] = field(default_factory=list)  # every GET, in order, with its query
    routes: dict[str, Behaviour] = field(default_factory=dict)  # path -> how to answer instead of a file

    def put(self, relpath: str, data: bytes = PAYLOAD) -> str:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return f"{self.base}/{relpath}"

    def route(self, relpath: str, behaviour: Behaviour) -> str:
        self.routes[f"/{relpath}"] = behaviour
        return f"{self.base}/{relpath}"


def headers(handler: Handler, length: int | None) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/x-xz")
    if length is not None:
        handler.send_header("Content-Length", str(length))
    handler.end_headers()


def cut_short(data: bytes, claimed: int | None) -> Behaviour:
    """Send data, claiming `claimed` bytes (None: no Content-Length, the body ends when the connection closes)."""

    def answer(handler: Handler, closing: threading.Event) -> None:
        headers(handler, claimed)
        handler.wfile.write(data)
        handler.close_connection = True

    return answer


def trickle(length: int | None, first: bytes = b"", interval: float = 0.05) -> Behaviour:
    """Send `first`, then one byte every `interval` seconds (interval 0: nothing more) until the test ends."""

    def answer(handler: Handler, closing: threading.Event) -> None:
        headers(handler, length)
        handler.wfile.write(first)
        handler.wfile.flush()
        deadline = time.monotonic() + SERVE_LIMIT
        try:
            while time.monotonic() < deadline and not closing.wait(interval or 0.05):
                if interval:
                    handler.wfile.write(b"x")
                    handler.wfile.flush()
        except OSError:
            pass  # the client went away
        handler.close_connection = True

    return answer


def flood(length: int | None) -> Behaviour:
    """Send zeros as fast as the client takes them, until the test ends."""

    def answer(handler: Handler, closing: threading.Event) -> None:
        headers(handler, length)
        deadline = time.monotonic() + SERVE_LIMIT
        try:
            while time.monotonic() < deadline and not closing.is_set():
                handler.wfile.write(bytes(64 * 1024))
        except OSError:
            pass  # the client went away
        handler.close_connection = True

    return answer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "www"
    root.mkdir()
    srv = Server(root, "")

    class Routed(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            srv.paths.append(self.path)
            behaviour = srv.routes.get(urlsplit(self.path).path)
            if behaviour is not None:
                behaviour(self, srv.closing)
            else:
                super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Routed)
    httpd.daemon_threads = True
    srv.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.closing.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def refused_url() -> str:
    """A URL on a 127.0.0.1 port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{NAME}"


@pytest.fixture(autouse=True)
def local_only(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Fail any request that would leave 127.0.0.1, bypass proxies, and record the request arguments."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    calls: list[dict[str, Any]] = []
    real_request = requests.Session.request

    def guarded(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        assert urlsplit(url).hostname == "127.0.0.1", f"test tried to reach {url}"
        calls.append({"method": method, "url": url, **kwargs})
        return real_request(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", guarded)
    return calls


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


class Recorder:
    """A progress callback that keeps every call and every skip."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int | None]] = []
        self.skips: list[tuple[str, str]] = []

    def __call__(self, url: str, done: int, total: int | None) -> None:
        self.calls.append((url, done, total))

    def skipped(self, url: str, reason: str) -> None:
        self.skips.append((url, reason))


def cache_names(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir())


# --- Mirrors in order, cache, offline ----------------------------------------------------------------------


def test_fetch_skips_refused_mirror(server: Server, refused_url: str, cache: Path) -> None:
    good = server.put(f"python/3.13.15/{NAME}")
    path = fetch(PY, cache, [refused_url, good])
    assert path == cache / NAME
    assert path.read_bytes() == PAYLOAD
    assert cache_names(cache) == [NAME]
    assert path.stat().st_mode & 0o777 == 0o644  # readable by build contexts, not mkstemp's 0600


def test_fetch_skips_404_and_html(server: Server, cache: Path) -> None:
    (server.root / "listing").mkdir()  # a directory: the server answers 200 with an HTML listing
    good = server.put(f"good/{NAME}")
    progress = Recorder()
    path = fetch(PY, cache, [f"{server.base}/missing.tar.xz", f"{server.base}/listing/", good], progress=progress)
    assert path.read_bytes() == PAYLOAD
    assert server.paths == ["/missing.tar.xz", "/listing/", f"/good/{NAME}"]
    assert [url for url, _ in progress.skips] == [f"{server.base}/missing.tar.xz", f"{server.base}/listing/"]
    assert progress.skips[0][1].startswith("HTTP 404")
    assert "HTML page" in progress.skips[1][1]


def test_fetch_skips_truncated_download(server: Server, cache: Path) -> None:
    cut = server.route(f"cut/{NAME}", cut_short(PAYLOAD[:1000], len(PAYLOAD)))
    good = server.put(f"good/{NAME}")
    with pytest.raises(SourceError, match="closed before the whole file arrived"):
        fetch(PY, cache, [cut])
    assert list(cache.iterdir()) == []
    assert fetch(PY, cache, [cut, good]).read_bytes() == PAYLOAD
    assert cache_names(cache) == [NAME]


def test_fetch_streams_with_timeouts(server: Server, cache: Path, local_only: list[dict[str, Any]]) -> None:
    fetch(PY, cache, [server.put(NAME)], connect_timeout=1.5)
    [call] = local_only
    assert call["stream"] is True
    assert call["timeout"] == (1.5, 60.0)
    assert call["headers"] == {"Accept-Encoding": "identity"}
    assert "verify" not in call  # REQUESTS_CA_BUNDLE must stay in charge


def test_fetch_cache_hit_makes_no_request(server: Server, cache: Path, local_only: list[dict[str, Any]]) -> None:
    url = server.put(NAME)
    fetch(PY, cache, [url])
    server.paths.clear()
    local_only.clear()
    assert fetch(PY, cache, [url]) == cache / NAME
    assert fetch(PY, cache, []) == cache / NAME
    assert server.paths == []
    assert local_only == []


def test_fetch_replaces_corrupted_cache(server: Server, cache: Path) -> None:
    cache.mkdir()
    (cache / NAME).write_bytes(PAYLOAD[:100])
    path = fetch(PY, cache, [server.put(NAME)])
    assert sha256_of(path) == PAYLOAD_SHA
    assert len(server.paths) == 1


def test_fetch_offline_uses_cache(server: Server, refused_url: str, cache: Path) -> None:
    fetch(PY, cache, [server.put(NAME)])
    server.paths.clear()
    assert fetch(PY, cache, [refused_url, f"{server.base}/{NAME}"], offline=True).is_file()
    assert server.paths == []


def test_fetch_offline_without_cache(server: Server, cache: Path) -> None:
    with pytest.raises(SourceError) as info:
        fetch(PY, cache, [server.put(NAME)], offline=True)
    message = str(info.value)
    assert NAME in message
    assert str(cache) in message
    assert "without --offline" in message
    assert server.paths == []


def test_fetch_offline_with_corrupted_cache(cache: Path) -> None:
    cache.mkdir()
    (cache / NAME).write_bytes(b"garbage")
    with pytest.raises(SourceError, match="was removed"):
        fetch(PY, cache, [], offline=True)
    assert list(cache.iterdir()) == []


def test_fetch_all_failing_lists_each_url(server: Server, refused_url: str, cache: Path) -> None:
    missing = f"{server.base}/nope/{NAME}"
    with pytest.raises(SourceError) as info:
        fetch(PY, cache, [refused_url, missing])
    message = str(info.value)
    assert f"{refused_url} (connection refused)" in message
    assert f"{missing} (HTTP 404" in message
    assert "network and proxy settings" in message
    assert "pin" not in message  # nothing was served: no word on the checksum
    assert "\n" not in message
    assert list(cache.iterdir()) == []


def test_fetch_without_urls(cache: Path) -> None:
    with pytest.raises(SourceError, match="no download URL"):
        fetch(PY, cache, [])


def test_fetch_reports_progress(server: Server, cache: Path) -> None:
    url = server.put(NAME)
    progress = Recorder()
    fetch(PY, cache, [url], progress=progress)
    calls = progress.calls
    assert {u for u, _, _ in calls} == {url}
    assert calls[-1] == (url, len(PAYLOAD), len(PAYLOAD))
    assert [done for _, done, _ in calls] == sorted(done for _, done, _ in calls)
    assert 2 <= len(calls) <= len(PAYLOAD) // MIB + 2  # throttled, not once per chunk
    assert progress.skips == []


def test_fetch_keyboard_interrupt_leaves_no_partial_file(server: Server, cache: Path) -> None:
    def interrupt(url: str, done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch(PY, cache, [server.put(NAME)], progress=interrupt)
    assert list(cache.iterdir()) == []


# --- a. Secrets never shown --------------------------------------------------------------------------------

SECRETS = ("alice", "s3cret-pass", "t0ken")


def with_secrets(url: str, query: str = "t0ken-1") -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://alice:s3cret-pass@{parts.netloc}{parts.path}?token={query}"


def test_secrets_stay_out_of_errors_skips_and_progress(server: Server, refused_url: str, cache: Path) -> None:
    (server.root / "listing").mkdir()
    urls = [
        with_secrets(refused_url, "t0ken-refused"),
        with_secrets(f"{server.base}/missing/{NAME}", "t0ken-404"),
        with_secrets(server.put(f"wrong/{NAME}", b"other bytes"), "t0ken-wrong"),
        with_secrets(f"{server.base}/listing/", "t0ken-html"),
        with_secrets(server.route(f"cut/{NAME}", cut_short(PAYLOAD[:10], 100)), "t0ken-cut"),
        "ftp://alice:s3cret-pass@127.0.0.1/x?token=t0ken-ftp",  # requests' own message quotes the whole URL
    ]
    progress = Recorder()
    with pytest.raises(SourceError) as info:
        fetch(PY, cache, urls, progress=progress)
    message = str(info.value)
    assert f"http://***@{urlsplit(server.base).netloc}/missing/{NAME}?*** (HTTP 404" in message
    assert len(progress.skips) == len(urls)
    assert "ftp://***@127.0.0.1/x?***" in message
    assert server.paths[0] == f"/missing/{NAME}?token=t0ken-404"  # the real URL was used, secrets and all

    out = io.StringIO()
    good = with_secrets(server.put(f"good/{NAME}"), "t0ken-good")
    fetch(PY, cache, [urls[1], good], progress=console_progress(out))
    assert progress.calls and out.getvalue().count("\n") >= 2
    shown = "\n".join([message, repr(progress.calls), repr(progress.skips), out.getvalue()])
    for secret in SECRETS:
        assert secret not in shown


# --- b. Deadline per file ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "interval"),
    [
        pytest.param(10_000, 0.05, id="one byte at a time, size known"),
        pytest.param(None, 0.05, id="one byte at a time, size unknown"),
        pytest.param(10_000, 0, id="silent after the headers, size known"),
        pytest.param(None, 0, id="silent after the headers, size unknown"),
    ],
)
def test_slow_mirror_misses_its_deadline_and_the_next_is_tried(
    server: Server, cache: Path, length: int | None, interval: float
) -> None:
    slow = server.route(f"slow/{NAME}", trickle(length, first=b"x" * 100, interval=interval))
    good = server.put(f"good/{NAME}")
    progress = Recorder()
    started = time.monotonic()
    # 0.5 s grace + 10 kB at 100 kB/s: 0.6 s for the slow mirror; the read timeout alone would wait 60 s.
    path = fetch(PY, cache, [slow, good], progress=progress, min_rate=100_000, grace=0.5)
    elapsed = time.monotonic() - started
    assert path.read_bytes() == PAYLOAD
    assert elapsed < 5, elapsed
    [(url, reason)] = progress.skips
    assert url == slow
    assert reason.startswith("too slow")
    assert cache_names(cache) == [NAME]


def test_slow_only_mirror_fails_with_the_reason(server: Server, cache: Path) -> None:
    slow = server.route(f"slow/{NAME}", trickle(len(PAYLOAD), interval=0.05))
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        fetch(PY, cache, [slow], min_rate=10_000_000, grace=0.3)
    assert time.monotonic() - started < 5
    assert f"{slow} (too slow: " in str(info.value)
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("length", [len(PAYLOAD) + 1, None], ids=["announced", "unannounced"])
def test_oversized_download_goes_to_the_next_mirror(server: Server, cache: Path, length: int | None) -> None:
    huge = server.route(f"huge/{NAME}", flood(length))
    good = server.put(f"good/{NAME}")
    progress = Recorder()
    started = time.monotonic()
    assert fetch(PY, cache, [huge, good], progress=progress, max_size=len(PAYLOAD)).read_bytes() == PAYLOAD
    assert time.monotonic() - started < 5
    [(url, reason)] = progress.skips
    assert url == huge
    assert f"over the {len(PAYLOAD)} bytes a CPython tarball can be" in reason
    assert cache_names(cache) == [NAME]


# --- c. Any transport fault goes to the next mirror --------------------------------------------------------


def test_close_delimited_truncated_body_goes_to_the_next_mirror(server: Server, cache: Path) -> None:
    cut = server.route(f"cut/{NAME}", cut_short(PAYLOAD[: MIB // 2], None))
    good = server.put(f"good/{NAME}")
    assert fetch(PY, cache, [cut, good]).read_bytes() == PAYLOAD
    assert server.paths == [f"/cut/{NAME}", f"/good/{NAME}"]
    assert cache_names(cache) == [NAME]


def test_checksum_mismatch_goes_to_the_next_mirror(server: Server, cache: Path) -> None:
    bad = server.put(f"bad/{NAME}", b"not the tarball")
    good = server.put(f"good/{NAME}")
    progress = Recorder()
    assert fetch(PY, cache, [bad, good], progress=progress).read_bytes() == PAYLOAD
    assert server.paths == [f"/bad/{NAME}", f"/good/{NAME}"]
    bad_sha = hashlib.sha256(b"not the tarball").hexdigest()
    assert progress.skips == [(bad, f"served 15 bytes with sha256 {bad_sha}")]
    assert cache_names(cache) == [NAME]


def test_every_mirror_serving_one_other_digest_blames_the_pin(server: Server, refused_url: str, cache: Path) -> None:
    other = b"a tarball re-rolled after the pin was taken"
    first, second = server.put(f"a/{NAME}", other), server.put(f"b/{NAME}", other)
    with pytest.raises(SourceError) as info:
        fetch(PY, cache, [first, refused_url, second])
    message = str(info.value)
    other_sha = hashlib.sha256(other).hexdigest()
    assert f"{first} (served {len(other)} bytes with sha256 {other_sha})" in message
    assert f"{second} (served {len(other)} bytes with sha256 {other_sha})" in message
    assert f"{refused_url} (connection refused)" in message
    assert "pin is probably wrong" in message
    assert PAYLOAD_SHA in message
    assert "\n" not in message
    assert isinstance(info.value, UserError)
    assert list(cache.iterdir()) == []


def test_mirrors_disagreeing_do_not_blame_the_pin(server: Server, cache: Path) -> None:
    first, second = server.put(f"a/{NAME}", b"one"), server.put(f"b/{NAME}", b"two")
    with pytest.raises(SourceError) as info:
        fetch(PY, cache, [first, second])
    message = str(info.value)
    assert hashlib.sha256(b"one").hexdigest() in message
    assert hashlib.sha256(b"two").hexdigest() in message
    assert "probably wrong" not in message
    assert f"pinned sha256 is {PAYLOAD_SHA}" in message
    assert "network and proxy" not in message  # every URL answered
    assert list(cache.iterdir()) == []


# --- d. Stale part files -----------------------------------------------------------------------------------

CHILD = """
import sys
from pathlib import Path
from pyfamily.config import PythonVersion
from pyfamily.sources import fetch
fetch(PythonVersion(version="3.13.15", sha256=sys.argv[3]), Path(sys.argv[1]), [sys.argv[2]])
"""


def test_part_file_of_a_killed_download_is_removed_later(server: Server, cache: Path) -> None:
    slow = server.route(f"slow/{NAME}", trickle(len(PAYLOAD), first=PAYLOAD[:100_000], interval=0))
    cache.mkdir()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(cache), slow, PAYLOAD_SHA], cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while not any(p.suffix == ".part" and p.stat().st_size > 0 for p in cache.iterdir()):
            assert child.poll() is None, "the download ended on its own"
            assert time.monotonic() < deadline, "no part file appeared"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    [orphan] = cache.iterdir()
    assert orphan.name.startswith(f".{NAME}.") and orphan.name.endswith(".part")
    assert fetch(PY, cache, [server.put(f"good/{NAME}")]).read_bytes() == PAYLOAD
    assert cache_names(cache) == [NAME]


def test_only_orphaned_part_files_of_this_tarball_are_removed(server: Server, cache: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=10)
    cache.mkdir()
    two_days_ago = time.time() - 2 * 24 * 3600
    files = {
        f".{NAME}.pid{dead.pid}.a1.part": (None, False),  # its process is gone
        f".{NAME}.pid1.b2.part": (None, True),  # pid 1 runs: someone's download in progress
        f".{NAME}.pid1.c3.part": (two_days_ago, False),  # runs, but nothing was written for two days
        f".{NAME}.pid{os.getpid()}.d4.part": (None, True),  # another thread of this very process
        f".{NAME}.x9k2m1qz.part": (None, True),  # an older naming without pid: only age counts
        f".{NAME}.q8w7e6r5.part": (two_days_ago, False),
        f".Python-3.11.15.tar.xz.pid{dead.pid}.e5.part": (None, True),  # another tarball's
        "notes.txt": (two_days_ago, True),
    }
    for name, (mtime, _) in files.items():
        (cache / name).write_bytes(b"partial")
        if mtime is not None:
            os.utime(cache / name, (mtime, mtime))
    fetch(PY, cache, [server.put(NAME)])
    assert cache_names(cache) == sorted([NAME, *(name for name, (_, kept) in files.items() if kept)])


# --- e. Clear messages for the local disk ------------------------------------------------------------------


@pytest.mark.parametrize("offline", [False, True])
def test_folder_at_the_cache_path(server: Server, cache: Path, offline: bool) -> None:
    (cache / NAME).mkdir(parents=True)
    with pytest.raises(SourceError) as info:
        fetch(PY, cache, [server.put(NAME)], offline=offline)
    message = str(info.value)
    assert str(cache / NAME) in message
    assert "is a folder" in message
    assert "rm -r" in message
    assert server.paths == []


def test_file_where_the_cache_folder_should_be(server: Server, tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("not a folder")
    with pytest.raises(SourceError) as info:
        fetch(PY, tmp_path / "cache" / "sources", [server.put(NAME)])
    message = str(info.value)
    assert str(tmp_path / "cache" / "sources") in message
    assert "A file sits where the source cache needs the folder" in message
    assert server.paths == []


def test_disk_full_stops_with_advice(server: Server, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    first, second = server.put(f"a/{NAME}"), server.put(f"b/{NAME}")
    with pytest.raises(SourceError) as info:
        fetch(PY, cache, [first, second])
    message = str(info.value)
    assert str(cache) in message
    assert "No space left on device" in message
    assert "is full" in message and "$PYFAMILY_CACHE" in message
    assert server.paths == [f"/a/{NAME}"]  # a full disk is not the mirror's fault: no other mirror is tried
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
def test_unwritable_cache_stops_with_advice(
    server: Server, cache: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    # Tests may run as root, for whom chmod does not make a folder unwritable: refuse the part file instead.
    def refuse(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise OSError(code, os.strerror(code), str(kwargs.get("dir", "")))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(SourceError) as info:
        fetch(PY, cache, [server.put(NAME)])
    message = str(info.value)
    assert str(cache) in message
    assert os.strerror(code) in message
    assert "read-only or not writable" in message
    assert server.paths == []


# --- f. Stop promptly --------------------------------------------------------------------------------------


def test_should_stop_before_any_url(server: Server, cache: Path, local_only: list[dict[str, Any]]) -> None:
    with pytest.raises(Interrupted) as info:
        fetch(PY, cache, [server.put(NAME)], should_stop=lambda: True)
    assert info.value.exit_code == 130
    assert NAME in str(info.value)
    assert local_only == []
    assert server.paths == []


@pytest.mark.parametrize("interval", [0.05, 0], ids=["trickling", "silent"])
def test_should_stop_during_a_download(server: Server, cache: Path, interval: float) -> None:
    slow = server.route(f"slow/{NAME}", trickle(len(PAYLOAD), first=PAYLOAD[:100_000], interval=interval))
    good = server.put(f"good/{NAME}")
    progress = Recorder()
    stop = threading.Event()

    def should_stop() -> bool:
        if progress.calls and not stop.is_set():  # the download has begun: "press Ctrl-C" 0.3 s later
            threading.Timer(0.3, stop.set).start()
            progress.calls.clear()
        return stop.is_set()

    started = time.monotonic()
    with pytest.raises(Interrupted) as info:
        fetch(PY, cache, [slow, good], progress=progress, should_stop=should_stop)
    assert time.monotonic() - started < 3  # not the 60 s read timeout
    assert info.value.exit_code == 130
    assert server.paths == [f"/slow/{NAME}"]
    assert list(cache.iterdir()) == []
