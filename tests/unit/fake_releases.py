"""Fake CPython releases for the update-versions tests: tiny source tarballs, Debian .dsc files, a file server.

The server is `http.server` on 127.0.0.1 serving a folder (with its directory listings), in a thread; it is shut
down, and its thread joined within a bounded time, when the test ends.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def fake_tarball(version: str, compression: str = "xz", declared: str | None = None) -> bytes:
    """A tarball laid out like CPython's (Python-<version>/Include/patchlevel.h), a few hundred bytes."""
    files = {
        f"Python-{version}/Include/patchlevel.h": f'/* fake */\n#define PY_VERSION "{declared or version}"\n',
        f"Python-{version}/README.rst": f"This is not Python version {version}, only its shape.\n",
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dsc(package: str, version: str, orig: bytes, compression: str = "xz") -> str:
    """A Debian source control file (clear-signed, as the archive has them) publishing orig's sha256."""
    return (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
        f"Format: 3.0 (quilt)\nSource: {package}\nVersion: {version}-1\n"
        "Checksums-Sha256:\n"
        f" {sha256(orig)} {len(orig)} {package}_{version}.orig.tar.{compression}\n"
        f" {'0' * 64} 1234 {package}_{version}-1.debian.tar.xz\n"
        "\n-----BEGIN PGP SIGNATURE-----\n\nnot a real signature\n-----END PGP SIGNATURE-----\n"
    )


@dataclass
class FileServer:
    root: Path
    base: str

    def put(self, relpath: str, data: bytes | str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def folder(self, relpath: str) -> Path:
        path = self.root / relpath
        path.mkdir(parents=True, exist_ok=True)
        return path


@contextmanager
def file_server(root: Path) -> Iterator[FileServer]:
    """Serve root (files and directory listings) on 127.0.0.1 until the block ends."""
    root.mkdir(parents=True, exist_ok=True)

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FileServer(root, f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
