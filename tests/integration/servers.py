"""Small servers on 127.0.0.1 for the registry tests, and the test CA they speak TLS with.

- `make_tls(folder) -> Tls`: a test CA and a certificate for 127.0.0.1 it signed (the openssl CLI: the venv has
  no `cryptography`); the client trusts it through REQUESTS_CA_BUNDLE=Tls.ca, as requests reads it.
- `Server(handler, tls)`: a threaded HTTP server on 127.0.0.1, HTTPS with a `Tls`; `start()`, `stop()`.
- `Scripted(answer, tls=None, reason="")`: a server that records every request (`seen`) and answers what
  `answer(request)` returns (status, headers, body; `reason` replaces the status line's text): the sink that must
  never see a credential, a token service, a hostile registry.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass(frozen=True)
class Tls:
    ca: Path  # the test CA's certificate (PEM): what REQUESTS_CA_BUNDLE names
    cert: Path  # 127.0.0.1's certificate, signed by the CA
    key: Path

    def context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_tls(folder: Path) -> Tls:
    folder.mkdir(parents=True, exist_ok=True)
    tls, ca_key, request, ext = Tls(folder / "ca.pem", folder / "cert.pem", folder / "key.pem"), "ca.key", "csr", "ext"
    (folder / ext).write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    ca_extensions = "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
    for command in (
        f"req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pyfamily-test-CA {ca_extensions} -keyout {ca_key} "
        "-out ca.pem",
        f"req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout key.pem -out {request}",
        f"x509 -req -in {request} -CA ca.pem -CAkey {ca_key} -CAcreateserial -days 2 -extfile {ext} -out cert.pem",
    ):
        done = subprocess.run(
            ["openssl", *command.split()], cwd=folder, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, f"openssl {command} failed: {done.stderr[-2000:]}"
    return tls


class Server(ThreadingHTTPServer):
    """A threaded HTTP server on 127.0.0.1 that speaks TLS when given a `Tls` (the handshake runs in the request's
    own thread); `start()` serves from a thread, `stop()` ends it."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], tls: Tls | None) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.tls = tls.context() if tls else None
        self.address = f"127.0.0.1:{self.server_address[1]}"
        self.url = f"{'https' if tls else 'http'}://{self.address}"
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        with self.tls.wrap_socket(request, server_side=True) as wrapped:
            super().finish_request(wrapped, client_address)

    def handle_error(self, request: object, client_address: object) -> None:  # type: ignore[override]
        # A client that refused our certificate, spoke plain HTTP to TLS or hung up: the test sees it client-side.
        if not isinstance(sys.exc_info()[1], ssl.SSLError | ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=10)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, Mapping[str, str], bytes]  # status, headers, body


class Scripted:
    def __init__(
        self, answer: Callable[[Request], Answer] = lambda r: (404, {}, b""), tls: Tls | None = None, reason: str = ""
    ) -> None:
        self.answer, self.reason, self.seen, self.lock = answer, reason, list[Request](), threading.Lock()
        self.server = Server(_ScriptedHandler, tls)
        self.server.scripted = self  # type: ignore[attr-defined]
        self.address, self.url = self.server.address, self.server.url

    def __enter__(self) -> Scripted:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def headers_seen(self) -> str:
        """Every header of every request, one text: what a leak check searches."""
        with self.lock:
            return "\n".join(f"{k}: {v}" for r in self.seen for k, v in r.headers.items())


class _ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self) -> None:
        scripted: Scripted = self.server.scripted  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            self.command, self.path, dict(self.headers.items()), self.rfile.read(length) if length else b""
        )
        with scripted.lock:
            scripted.seen.append(request)
        status, headers, body = scripted.answer(request)
        self.send_response_only(status, scripted.reason or None)  # no Server or Date header: what the script says
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
