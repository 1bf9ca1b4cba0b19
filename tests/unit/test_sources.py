"""Tests for pyfamily.sources against a real HTTP server on 127.0.0.1 (never anything else)."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from pyfamily.errors import SourceError, UserError
from pyfamily.sources import (
    PYTHON_ORG,
    SourceSpec,
    candidate_urls,
    console_progress,
    debian_archive_roots,
    fetch,
    sha256_of,
)

MIB = 1024 * 1024
PAYLOAD = os.urandom(2 * MIB + 12345)  # > 1 MiB so that progress throttling is exercised
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
SPEC = SourceSpec("3.13.15", "Python-3.13.15.tar.xz", PAYLOAD_SHA)


# --- Fixtures ----------------------------------------------------------------------------------------------


@dataclass
class Server:
    root: Path
    base: str
    paths: list[str] = field(default_factory=list)  # every GET, in order
    truncated: set[str] = field(default_factory=set)  # paths answered with a body cut short

    def put(self, relpath: str, data: bytes = PAYLOAD) -> str:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return f"{self.base}/{relpath}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "www"
    root.mkdir()
    srv = Server(root, "")

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            srv.paths.append(self.path)
            if self.path in srv.truncated:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-xz")
                self.send_header("Content-Length", str(len(PAYLOAD)))
                self.end_headers()
                self.wfile.write(PAYLOAD[:1000])
                self.close_connection = True
                return
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def refused_url() -> str:
    """A URL on a 127.0.0.1 port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{SPEC.filename}"


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


# --- candidate_urls ----------------------------------------------------------------------------------------


def test_candidate_urls_tar_xz_order() -> None:
    urls = candidate_urls(
        SPEC,
        ["http://deb.debian.org/debian/", "https://mirror.example.org/debian"],
        ["https://py.example.org/ftp/python/", "https://cdn.example.org/{version}/src/{filename}"],
    )
    assert urls == [
        f"{PYTHON_ORG}/3.13.15/Python-3.13.15.tar.xz",
        "http://deb.debian.org/debian/pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz",
        "https://mirror.example.org/debian/pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz",
        "https://py.example.org/ftp/python/3.13.15/Python-3.13.15.tar.xz",
        "https://cdn.example.org/3.13.15/src/Python-3.13.15.tar.xz",
    ]


@pytest.mark.parametrize(
    ("version", "filename", "mirror", "expected"),
    [
        pytest.param("3.11.2", "Python-3.11.2.tgz", "https://files.example.org/{filename}", [
            f"{PYTHON_ORG}/3.11.2/Python-3.11.2.tgz",
            "http://deb.debian.org/debian/pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz",
            "https://files.example.org/Python-3.11.2.tgz",
        ], id="tgz uses orig.tar.gz"),
        pytest.param("3.14.0rc1", "Python-3.14.0rc1.tar.xz", "https://m.example.org/{version}/{filename}", [
            f"{PYTHON_ORG}/3.14.0/Python-3.14.0rc1.tar.xz",
            "http://deb.debian.org/debian/pool/main/p/python3.14/python3.14_3.14.0~rc1.orig.tar.xz",
            "https://m.example.org/3.14.0rc1/Python-3.14.0rc1.tar.xz",
        ], id="pre-release layout"),
    ],
)
def test_candidate_urls_layouts(version: str, filename: str, mirror: str, expected: list[str]) -> None:
    spec = SourceSpec(version, filename, PAYLOAD_SHA)
    assert candidate_urls(spec, ["http://deb.debian.org/debian"], [mirror]) == expected


def test_candidate_urls_python_org_first_and_deduplicated() -> None:
    urls = candidate_urls(
        SPEC,
        ["http://deb.debian.org/debian", "http://deb.debian.org/debian/", ""],
        [PYTHON_ORG + "/", PYTHON_ORG, "  ", "https://m.example.org/python//"],
    )
    assert urls == [
        f"{PYTHON_ORG}/3.13.15/Python-3.13.15.tar.xz",
        "http://deb.debian.org/debian/pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz",
        "https://m.example.org/python/3.13.15/Python-3.13.15.tar.xz",
    ]
    assert candidate_urls(SPEC, [], []) == [f"{PYTHON_ORG}/3.13.15/Python-3.13.15.tar.xz"]


# --- debian_archive_roots ----------------------------------------------------------------------------------

SOURCES_LIST = """\
# deb http://commented.example.org/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian.gpg] http://ftp.de.debian.org/debian/ bookworm main contrib
deb-src http://ftp.de.debian.org/debian bookworm main
deb http://security.debian.org/debian-security bookworm-security main
deb http://security.debian.org bookworm/updates main
deb [arch=amd64] https://download.docker.com/linux/debian bookworm stable
deb https://apt.releases.hashicorp.com bookworm main
deb https://packages.microsoft.com/debian/12/prod bookworm main
deb http://apt.postgresql.org/pub/repos/apt/debian bookworm-pgdg main
"""

DEBIAN_SOURCES = """\
Types: deb deb-src
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian https://mirror.example.org/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://disabled.example.org/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb
URIs: http://snapshot.debian.org/archive/debian/20250520T000000Z/
Suites:
 bookworm
Components: main
"""

NODESOURCE_SOURCES = """\
Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
"""


def test_debian_archive_roots_reads_both_formats(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(SOURCES_LIST)
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "debian.sources").write_text(DEBIAN_SOURCES)
    (parts / "nodesource.sources").write_text(NODESOURCE_SOURCES)
    (parts / "backports.list").write_text("deb http://deb.debian.org/debian bookworm-backports main\n")
    (parts / "old.list.save").write_text("deb http://saved.example.org/debian bookworm main\n")

    assert debian_archive_roots(tmp_path) == [
        "http://ftp.de.debian.org/debian",
        "http://deb.debian.org/debian",  # from backports.list, which sorts before debian.sources
        "https://mirror.example.org/debian",
        "http://snapshot.debian.org/archive/debian/20250520T000000Z",
    ]


def test_debian_archive_roots_empty(tmp_path: Path) -> None:
    assert debian_archive_roots(tmp_path) == []
    assert debian_archive_roots(tmp_path / "missing") == []


# --- fetch -------------------------------------------------------------------------------------------------


def test_fetch_skips_refused_mirror(server: Server, refused_url: str, cache: Path) -> None:
    good = server.put("python/3.13.15/Python-3.13.15.tar.xz")
    path = fetch(SPEC, cache, [refused_url, good])
    assert path == cache / SPEC.filename
    assert path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in cache.iterdir()) == [SPEC.filename]


def test_fetch_skips_404_and_html(server: Server, cache: Path) -> None:
    (server.root / "listing").mkdir()  # a directory: the server answers 200 with an HTML listing
    good = server.put("good/Python-3.13.15.tar.xz")
    path = fetch(SPEC, cache, [f"{server.base}/missing.tar.xz", f"{server.base}/listing/", good])
    assert path.read_bytes() == PAYLOAD
    assert server.paths == ["/missing.tar.xz", "/listing/", "/good/Python-3.13.15.tar.xz"]


def test_fetch_skips_truncated_download(server: Server, cache: Path) -> None:
    server.truncated.add("/cut/Python-3.13.15.tar.xz")
    good = server.put("good/Python-3.13.15.tar.xz")
    cut = f"{server.base}/cut/Python-3.13.15.tar.xz"
    with pytest.raises(SourceError, match="closed before the whole file arrived"):
        fetch(SPEC, cache, [cut])
    assert list(cache.iterdir()) == []
    assert fetch(SPEC, cache, [cut, good]).read_bytes() == PAYLOAD
    assert sorted(p.name for p in cache.iterdir()) == [SPEC.filename]


def test_fetch_streams_with_timeouts(server: Server, cache: Path, local_only: list[dict[str, Any]]) -> None:
    fetch(SPEC, cache, [server.put(SPEC.filename)], connect_timeout=1.5)
    [call] = local_only
    assert call["stream"] is True
    assert call["timeout"] == (1.5, 60.0)
    assert "verify" not in call  # REQUESTS_CA_BUNDLE must stay in charge


def test_fetch_checksum_mismatch_stops(server: Server, cache: Path) -> None:
    bad = server.put("bad/Python-3.13.15.tar.xz", b"not the tarball")
    good = server.put("good/Python-3.13.15.tar.xz")
    with pytest.raises(SourceError) as info:
        fetch(SPEC, cache, [bad, good])
    message = str(info.value)
    assert bad in message
    assert PAYLOAD_SHA in message
    assert hashlib.sha256(b"not the tarball").hexdigest() in message
    assert isinstance(info.value, UserError)
    assert list(cache.iterdir()) == []
    assert server.paths == ["/bad/Python-3.13.15.tar.xz"]  # a mismatch is not retried elsewhere


def test_fetch_uppercase_pin_accepted(server: Server, cache: Path) -> None:
    spec = SourceSpec(SPEC.version, SPEC.filename, PAYLOAD_SHA.upper())
    assert fetch(spec, cache, [server.put(SPEC.filename)]).read_bytes() == PAYLOAD


def test_fetch_cache_hit_makes_no_request(server: Server, cache: Path, local_only: list[dict[str, Any]]) -> None:
    url = server.put(SPEC.filename)
    fetch(SPEC, cache, [url])
    server.paths.clear()
    local_only.clear()
    assert fetch(SPEC, cache, [url]) == cache / SPEC.filename
    assert fetch(SPEC, cache, []) == cache / SPEC.filename
    assert server.paths == []
    assert local_only == []


def test_fetch_replaces_corrupted_cache(server: Server, cache: Path) -> None:
    cache.mkdir()
    (cache / SPEC.filename).write_bytes(PAYLOAD[:100])
    path = fetch(SPEC, cache, [server.put(SPEC.filename)])
    assert sha256_of(path) == PAYLOAD_SHA
    assert len(server.paths) == 1


def test_fetch_offline_uses_cache(server: Server, refused_url: str, cache: Path) -> None:
    fetch(SPEC, cache, [server.put(SPEC.filename)])
    server.paths.clear()
    assert fetch(SPEC, cache, [refused_url, f"{server.base}/{SPEC.filename}"], offline=True).is_file()
    assert server.paths == []


def test_fetch_offline_without_cache(server: Server, cache: Path) -> None:
    with pytest.raises(SourceError) as info:
        fetch(SPEC, cache, [server.put(SPEC.filename)], offline=True)
    message = str(info.value)
    assert SPEC.filename in message
    assert str(cache) in message
    assert "without --offline" in message
    assert server.paths == []


def test_fetch_offline_with_corrupted_cache(cache: Path) -> None:
    cache.mkdir()
    (cache / SPEC.filename).write_bytes(b"garbage")
    with pytest.raises(SourceError, match="was removed"):
        fetch(SPEC, cache, [], offline=True)
    assert list(cache.iterdir()) == []


def test_fetch_all_failing_lists_each_url(server: Server, refused_url: str, cache: Path) -> None:
    missing = f"{server.base}/nope/Python-3.13.15.tar.xz"
    with pytest.raises(SourceError) as info:
        fetch(SPEC, cache, [refused_url, missing])
    message = str(info.value)
    assert f"{refused_url} (connection refused)" in message
    assert f"{missing} (HTTP 404" in message
    assert "\n" not in message
    assert list(cache.iterdir()) == []


def test_fetch_without_urls(cache: Path) -> None:
    with pytest.raises(SourceError, match="no download URL"):
        fetch(SPEC, cache, [])


@pytest.mark.parametrize(
    "spec",
    [
        SourceSpec("3.13.15", "../Python-3.13.15.tar.xz", PAYLOAD_SHA),
        SourceSpec("3.13.15", "Python-3.13.15.tar.xz", "abc123"),
    ],
)
def test_fetch_rejects_bad_spec(spec: SourceSpec, cache: Path) -> None:
    with pytest.raises(SourceError):
        fetch(spec, cache, [])


def test_fetch_reports_progress(server: Server, cache: Path) -> None:
    url = server.put(SPEC.filename)
    calls: list[tuple[str, int, int | None]] = []
    fetch(SPEC, cache, [url], progress=lambda *args: calls.append(args))
    assert {u for u, _, _ in calls} == {url}
    assert calls[-1] == (url, len(PAYLOAD), len(PAYLOAD))
    assert [done for _, done, _ in calls] == sorted(done for _, done, _ in calls)
    assert 2 <= len(calls) <= len(PAYLOAD) // MIB + 2  # throttled, not once per chunk


def test_fetch_interrupted_leaves_no_partial_file(server: Server, cache: Path) -> None:
    def interrupt(url: str, done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch(SPEC, cache, [server.put(SPEC.filename)], progress=interrupt)
    assert list(cache.iterdir()) == []


# --- console_progress --------------------------------------------------------------------------------------


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _simulate(stream: io.StringIO, total: int | None) -> None:
    report = console_progress(stream)
    url = "https://www.python.org/ftp/python/3.13.15/Python-3.13.15.tar.xz"
    size = 22 * MIB
    for done in range(1, size + 1, MIB):
        report(url, done, total)
    report(url, size, size)


def test_console_progress_log_prints_few_lines() -> None:
    out = io.StringIO()
    _simulate(out, 22 * MIB)
    lines = out.getvalue().splitlines()
    assert 3 <= len(lines) <= 5
    assert lines[0].startswith("downloading Python-3.13.15.tar.xz from www.python.org: ")
    assert lines[-1].endswith("22.0/22.0 MiB (100%)")


def test_console_progress_unknown_size() -> None:
    out = io.StringIO()
    _simulate(out, None)
    lines = out.getvalue().splitlines()
    assert len(lines) <= 5
    assert lines[-1].endswith("22.0/22.0 MiB (100%)")


def test_console_progress_tty_rewrites_one_line() -> None:
    out = FakeTTY()
    _simulate(out, 22 * MIB)
    text = out.getvalue()
    assert text.count("\r") == 23
    assert text.count("\n") == 1
    assert text.endswith("(100%)\x1b[K\n")
