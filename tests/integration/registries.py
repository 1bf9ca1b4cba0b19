"""Local registries for the publish tests: Debian's docker-registry on 127.0.0.1, and a proxy that misbehaves.

- `serve_registry(root, users=None, tls=None)`: `docker-registry serve` on a free port with its storage under
  `root`; `users` ({name: password}) turns on htpasswd auth (bcrypt lines from `htpasswd -Bbn`), `tls` (a `Tls`)
  makes it serve HTTPS (see `servers.make_tls`). Waits at most 10 s for it to answer, stops it (10 s, then kill)
  on exit.
- `Proxy(upstream, fail=..., failure=503 | "reset", bearer=None, tls=None, location=None, realm=None)`: a
  threaded HTTP server in front of a registry that forwards every request (Host kept, so upload Locations point
  back at the proxy), except those whose 1-based number `fail(n)` picks: answered `failure` (an HTTP status),
  or "reset" (the connection is closed without an answer). `bearer=(user, password)` makes it a token-auth
  front: /v2/ wants `Bearer <token>`, /token hands tokens out for those credentials (`realm` names another token
  service instead). `tls` makes it an HTTPS front (X-Forwarded-Proto: https upstream); `location(value)`
  rewrites the Location of the registry's answers, as a misconfigured or hostile front would. It counts requests
  and failures.
- `write_docker_config(folder, {host: (user, password)})`: a docker config.json with `auths` entries.
- `buildx(folder, reference, dockerfile, files, platforms, *options)`: a small image built the way the family's
  are (`docker buildx build --platform ... --load`, into the containerd image store); its image ID (the index's
  digest). `imagetools(reference, *options)`: `docker buildx imagetools inspect` of what a registry holds.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import requests

from pyfamily import engine

from .servers import Server, Tls

START_TIMEOUT = 10.0
# The publisher the `guarded` registry (conftest.py) knows; the password must never appear in a message.
USER, PASSWORD = "publisher", "pw-" + secrets.token_hex(8)
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "proxy-connection"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def htpasswd_line(user: str, password: str) -> str:
    done = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


@dataclass
class Registry:
    address: str  # 127.0.0.1:PORT
    root: Path
    process: subprocess.Popen[bytes]
    log: Path


def _wait_until_up(address: str, process: subprocess.Popen[bytes], log: Path, tls: Tls | None) -> bool:
    """True once /v2/ answers 200 or 401; False when the process ended (its port was taken); fails after 10 s."""
    deadline = time.monotonic() + START_TIMEOUT
    url, verify = (f"https://{address}/v2/", str(tls.ca)) if tls else (f"http://{address}/v2/", True)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if requests.get(url, timeout=1, verify=verify).status_code in (200, 401):
                return True
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError(f"docker-registry did not answer within {START_TIMEOUT:g} s: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def serve_registry(root: Path, users: Mapping[str, str] | None = None, tls: Tls | None = None) -> Iterator[Registry]:
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry is not installed; run scripts/dev/ensure-tools --test"
    root.mkdir(parents=True, exist_ok=True)
    auth = ""
    if users:
        (root / "htpasswd").write_text("".join(htpasswd_line(u, p) + "\n" for u, p in users.items()))
        auth = f"auth:\n  htpasswd:\n    realm: pyfamily-test\n    path: {root / 'htpasswd'}\n"
    served = f"  tls:\n    certificate: {tls.cert}\n    key: {tls.key}\n" if tls else ""
    for _ in range(3):  # another process may take the free port between the probe and the bind
        address = f"127.0.0.1:{free_port()}"
        config = root / "config.yml"
        config.write_text(
            f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            f"  delete:\n    enabled: true\nhttp:\n  addr: {address}\n  secret: pyfamily-test\n{served}{auth}"
        )
        log = root / "registry.log"
        with log.open("ab") as out:
            process = subprocess.Popen([binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
        try:
            if _wait_until_up(address, process, log, tls):
                yield Registry(address, root, process, log)
                return
        finally:
            _stop(process)
    raise AssertionError(f"docker-registry did not start: {log.read_text()[-2000:]}")


def write_docker_config(folder: Path, auths: Mapping[str, tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    entries = {host: {"auth": base64.b64encode(f"{u}:{p}".encode()).decode()} for host, (u, p) in auths.items()}
    (folder / "config.json").write_text(json.dumps({"auths": entries}))
    return folder


def buildx(
    folder: Path, reference: str, dockerfile: str, files: Mapping[str, str], platforms: Sequence[str], *options: str
) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (folder / name).write_text(text)
    command = [*engine.build_cli().build_command(), "--platform", ",".join(platforms), "-t", reference, *options]
    done = subprocess.run([*command, str(folder)], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed: {done.stderr[-3000:]}"
    return str(engine.client().images.get(reference).id)


def imagetools(reference: str, *options: str) -> str:
    command = [engine.build_cli().path, "buildx", "imagetools", "inspect", *options, reference]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed: {done.stderr[-3000:]}"
    return done.stdout


class Proxy:
    def __init__(
        self,
        upstream: str,
        *,
        fail: Callable[[int], bool] = lambda n: False,
        failure: int | str = 503,
        bearer: tuple[str, str] | None = None,
        tls: Tls | None = None,
        location: Callable[[str], str] | None = None,
        realm: str | None = None,
    ) -> None:
        self.upstream, self.fail, self.failure, self.bearer = upstream, fail, failure, bearer
        self.location, self.https = location, tls is not None
        self.requests = self.failures = 0
        self.tokens: dict[str, str] = {}  # token -> scope it was asked for
        self.lock = threading.Lock()
        self.server = Server(_Handler, tls)
        self.server.proxy = self  # type: ignore[attr-defined]
        self.address, self.url = self.server.address, self.server.url
        self.realm = realm or f"{self.url}/token"

    def __enter__(self) -> Proxy:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def number(self) -> int:
        with self.lock:
            self.requests += 1
            return self.requests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _reply(self, status: int, body: dict[str, object], headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in {**(headers or {}), "Content-Type": "application/json"}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _bearer_refused(self, proxy: Proxy) -> bool:
        """Token auth in front of the registry: True when this request was answered here."""
        assert proxy.bearer is not None
        if self.path.startswith("/token"):
            expected = "Basic " + base64.b64encode(":".join(proxy.bearer).encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                return True
            token = secrets.token_hex(16)
            scope = dict(p.split("=", 1) for p in self.path.partition("?")[2].split("&") if "=" in p).get("scope", "")
            with proxy.lock:
                proxy.tokens[token] = requests.utils.unquote(scope)
            self._reply(200, {"token": token, "expires_in": 300})
            return True
        given = self.headers.get("Authorization", "")
        if given.startswith("Bearer ") and given[7:] in proxy.tokens:
            return False
        name = self.path.removeprefix("/v2/").split("/blobs/")[0].split("/manifests/")[0]
        scope = f',scope="repository:{name}:pull,push"' if "/blobs/" in self.path or "/manifests/" in self.path else ""
        challenge = f'Bearer realm="{proxy.realm}",service="pyfamily-test"{scope}'
        self._reply(
            401, {"errors": [{"code": "UNAUTHORIZED", "message": "token needed"}]}, {"WWW-Authenticate": challenge}
        )
        return True

    def _handle(self) -> None:
        proxy: Proxy = self.server.proxy  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if proxy.fail(proxy.number()):
            with proxy.lock:
                proxy.failures += 1
            if proxy.failure == "reset":
                self.close_connection = True  # no answer at all: the client sees the connection end
                return
            assert isinstance(proxy.failure, int)
            self._reply(proxy.failure, {"errors": [{"code": "UNAVAILABLE", "message": "test proxy says no"}]})
            return
        if proxy.bearer is not None and self._bearer_refused(proxy):
            return
        dropped = _HOP | ({"authorization"} if proxy.bearer is not None else set())  # the token was for us
        headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
        if proxy.https:
            headers["X-Forwarded-Proto"] = "https"  # the registry writes https Locations, as behind a TLS front
        upstream = requests.request(
            self.command,
            f"http://{proxy.upstream}{self.path}",
            headers=headers,
            data=body,
            allow_redirects=False,
            timeout=30,
        )
        self.send_response(upstream.status_code)
        for key, value in upstream.headers.items():
            if key.lower() not in _HOP:
                self.send_header(key, proxy.location(value) if proxy.location and key.lower() == "location" else value)
        content = b"" if self.command == "HEAD" else upstream.content
        self.send_header(
            "Content-Length",
            upstream.headers.get("Content-Length", "0") if self.command == "HEAD" else str(len(content)),
        )
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
