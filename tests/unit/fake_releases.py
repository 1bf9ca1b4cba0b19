"""Fake CPython releases for the update-versions tests: tiny source tarballs, a file server, and a Debian archive
signed with OpenPGP keys the test makes.

The server is `http.server` on 127.0.0.1 serving a folder (with its directory listings), in a thread; it is shut
down, and its thread joined within a bounded time, when the test ends. The keys are made by the real gpg in a
throwaway GNUPGHOME (`gpg --batch --quick-gen-key`, no passphrase); the archive is laid out as Debian's is
(dists/<suite>/InRelease, main/source/Sources.xz, pool/main/p/<package>/), so the real gpgv checks it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterator, Sequence
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


def dsc(package: str, version: str, orig: bytes, compression: str = "xz", revision: str = "1") -> str:
    """A Debian source control file (clear-signed by its uploader, as the archive has them; the signature is not
    what vouches for it: the archive's signed Sources lists its sha256) publishing orig's sha256."""
    return (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
        f"Format: 3.0 (quilt)\nSource: {package}\nVersion: {version}-{revision}\n"
        "Checksums-Sha256:\n"
        f" {sha256(orig)} {len(orig)} {package}_{version}.orig.tar.{compression}\n"
        f" {'0' * 64} 1234 {package}_{version}-{revision}.debian.tar.xz\n"
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


# --- OpenPGP keys and a signed Debian archive ------------------------------------------------------------------

GPG_TIMEOUT = 60  # seconds for one gpg command; making an ed25519 key takes well under one


class ArchiveKeys:
    """Signing keys made for the tests, in a throwaway GNUPGHOME under /tmp (gpg-agent's socket path must stay
    short); close() stops its agent and removes it."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="pyfamily-gpg-", dir="/tmp"))
        self.archive = self.make("Fake Archive Signing Key <archive@example.invalid>")
        self.other = self.make("Someone Else <other@example.invalid>")
        self.keyring = self.export(self.home / "archive-keyring.gpg", self.archive)

    def gpg(self, *args: str, data: bytes = b"") -> bytes:
        command = ["gpg", "--batch", "--homedir", str(self.home), "--pinentry-mode", "loopback", "--passphrase", ""]
        done = subprocess.run([*command, *args], input=data, capture_output=True, timeout=GPG_TIMEOUT, check=True)
        return done.stdout

    def make(self, uid: str) -> str:
        """A new ed25519 signing key; its fingerprint."""
        status = self.gpg("--status-fd", "1", "--quick-gen-key", uid, "ed25519", "sign", "never").decode()
        return next(line.split()[3] for line in status.splitlines() if line.startswith("[GNUPG:] KEY_CREATED "))

    def export(self, path: Path, *fingerprints: str) -> Path:
        """A binary keyring holding those keys, as Debian's archive keyring is."""
        path.write_bytes(self.gpg("--export", *fingerprints))
        return path

    def clearsign(self, text: str, fingerprint: str | None = None, digest: str = "SHA256") -> bytes:
        key = fingerprint or self.archive
        return self.gpg("--digest-algo", digest, "--local-user", key, "--clearsign", data=text.encode())

    def close(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"], timeout=GPG_TIMEOUT, check=False)
        shutil.rmtree(self.home, ignore_errors=True)


@dataclass(frozen=True)
class Upload:
    """One source package version of a fake archive: python3.X at upstream version-revision, with its orig."""

    package: str
    version: str  # upstream, "3.13.16"
    orig: bytes
    revision: str = "1"

    @property
    def directory(self) -> str:
        return f"pool/main/{self.package[0]}/{self.package}"

    @property
    def dsc_name(self) -> str:
        return f"{self.package}_{self.version}-{self.revision}.dsc"

    @property
    def orig_name(self) -> str:
        return f"{self.package}_{self.version}.orig.tar.xz"


def sources_stanza(upload: Upload, dsc_text: str) -> str:
    """The stanza Debian's Sources index has for upload (the fields update-versions reads, and a few more)."""
    return (
        f"Package: {upload.package}\nBinary: {upload.package}, lib{upload.package}\n"
        f"Version: {upload.version}-{upload.revision}\nMaintainer: Nobody <nobody@example.invalid>\n"
        "Architecture: any all\nFormat: 3.0 (quilt)\nChecksums-Sha256:\n"
        f" {sha256(dsc_text.encode())} {len(dsc_text.encode())} {upload.dsc_name}\n"
        f" {sha256(upload.orig)} {len(upload.orig)} {upload.orig_name}\n"
        f"Directory: {upload.directory}\nPriority: optional\nSection: python\n"
    )


@dataclass
class FakeArchive:
    """A Debian archive on the file server: publish() lays out a suite and signs its InRelease."""

    server: FileServer
    keys: ArchiveKeys
    path: str = "debian"

    @property
    def root(self) -> str:
        return f"{self.server.base}/{self.path}"

    def publish(
        self,
        suite: str,
        uploads: Sequence[Upload],
        codename: str | None = None,
        extra: str = "",
        by_hash: bool = False,
        signer: str | None = None,
        compression: str = "xz",
    ) -> str:
        """Pool files, main/source/Sources.xz and the signed dists/<suite>/InRelease; the InRelease's text."""
        stanzas = []
        for upload in uploads:
            text = dsc(upload.package, upload.version, upload.orig, revision=upload.revision)
            self.server.put(f"{self.path}/{upload.directory}/{upload.dsc_name}", text)
            self.server.put(f"{self.path}/{upload.directory}/{upload.orig_name}", upload.orig)
            stanzas.append(sources_stanza(upload, text))
        filler = "".join(f"Package: other{n}\nVersion: 1.{n}-1\nDirectory: pool/main/o/other{n}\n\n" for n in range(3))
        text = (filler + "\n".join(stanzas)).encode()
        index = lzma.compress(text) if compression == "xz" else gzip.compress(text)
        folder = f"{self.path}/dists/{suite}"
        self.server.put(f"{folder}/main/source/Sources.{compression}", index)
        if by_hash:
            self.server.put(f"{folder}/main/source/by-hash/SHA256/{sha256(index)}", index)
        release = (
            f"Origin: Debian\nLabel: Debian\nSuite: {suite}\nCodename: {codename or suite}\n"
            f"Date: Sat, 01 Jan 2000 00:00:00 UTC\n{'Acquire-By-Hash: yes' + chr(10) if by_hash else ''}{extra}"
            f"Components: main\nSHA256:\n {sha256(index)} {len(index)} main/source/Sources.{compression}\n"
        )
        self.server.put(f"{folder}/Release", release)
        self.server.put(f"{folder}/InRelease", self.keys.clearsign(release, signer))
        return release
