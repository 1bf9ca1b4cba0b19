"""A small Docker Registry HTTP API v2 client: push an image by digest, move tags last, one PUT each.

    with RegistryClient("ghcr.io", cache_dir=Path("~/.cache/pyfamily/blobs").expanduser()) as registry:
        registry.check_access("org/python")                     # before the first push, for every registry
        pushed = registry.push_image("org/python", "org/python:3.13")  # blobs, then the manifest by digest
        if registry.tag_digest("org/python", "3.13") != pushed.digest:
            registry.put_tag("org/python", "3.13", pushed.digest)

- `RegistryClient(host, *, insecure=False, docker_config=None, attempts=4, backoff=0.5, timeout=30,
  cache_dir=None, docker_client=None)`: `https://host/v2/` (plain `http://` when insecure); Docker Hub's
  `docker.io` is served from `registry-1.docker.io`. Credentials come from the docker config (see `auth`),
  looked up only when the registry asks. `cache_dir` keeps compressed layers between runs and clients (see
  `layout.BlobCache`); without it a temporary folder is used until `close()`. `docker_client` defaults to
  `pyfamily.engine.client()`.
- `check_access(repository)`: proves that we may push, writing nothing: the API root must answer like a
  registry, then an upload is started (POST /v2/<name>/blobs/uploads/, with authentication) and cancelled.
- `tag_digest(repository, tag) -> str | None`: the manifest digest the tag points at now; None when absent.
- `tag_config_digest(repository, tag) -> str | None`: the config digest (the local image ID) behind the tag.
- `push_image(repository, image) -> PushedImage`: the local image's missing blobs (a HEAD says which), its
  config, then its manifest PUT by digest: no tag moves. The same image gives the same manifest bytes and digest.
- `put_tag(repository, tag, digest)`: one manifest PUT makes `tag` point at the pushed manifest `digest`.
- Lower level: `has_blob`, `upload_blob` (POST, then one PUT ?digest=), `manifest(repository, digest)`.

A client is for one thread at a time (it holds a requests.Session and a token cache); use one per thread.

Every request is retried on transient faults (HTTP 5xx, 429, resets, timeouts) up to `attempts` times; every
failure is a UserError naming the registry and what was being done, with no credential and no token in it.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import docker
import requests

from pyfamily import engine
from pyfamily.errors import UserError
from pyfamily.publish import auth, layout
from pyfamily.publish.transport import Transient, Transport

_REPOSITORY = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"\w[\w.-]{0,127}")
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")
_ACCEPT = ", ".join(layout.MANIFEST_TYPES)


@dataclass(frozen=True)
class PushedImage:
    digest: str  # of the manifest: what tags are made to point at
    media_type: str
    bytes_sent: int  # blob bytes uploaded; 0 when the registry had every blob
    blobs_sent: int = 0
    blobs_present: int = 0  # blobs the registry already had


class RegistryClient:
    def __init__(
        self,
        host: str,
        *,
        insecure: bool = False,
        docker_config: Path | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        timeout: float = 30,
        cache_dir: Path | None = None,
        docker_client: docker.DockerClient | None = None,
    ) -> None:
        if not _HOST.fullmatch(host):
            raise UserError(f"Not a registry host name: {host!r} (write host or host:port, without http://).")
        self.host = host
        base = f"{'http' if insecure else 'https'}://{auth.api_host(host)}"
        self.transport = Transport(
            host, base, auth.config_path(docker_config), attempts=attempts, backoff=backoff, timeout=timeout
        )
        self._cache_dir, self._temporary = cache_dir, None if cache_dir else tempfile.TemporaryDirectory()
        self._docker = docker_client
        self._manifests: dict[tuple[str, str], tuple[bytes, str]] = {}  # (repository, digest) -> (bytes, type)

    def close(self) -> None:
        self.transport.close()
        if self._temporary is not None:
            self._temporary.cleanup()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _name(self, repository: str) -> str:
        if not _REPOSITORY.fullmatch(repository) or len(repository) > 255:
            raise UserError(f"Not a repository name: {repository!r} (lower case, digits, '.', '_', '-', '/').")
        return repository

    def check_access(self, repository: str) -> None:
        name = self._name(repository)
        t = self.transport
        root = t.retry("reaching its API root /v2/", lambda: t.send("GET", "/v2/", authenticate=False))
        if root.status_code not in (200, 401) or (root.status_code == 401 and "WWW-Authenticate" not in root.headers):
            raise UserError(
                f"{self.host} is not a Docker registry: {t.url('/v2/')} answered HTTP "
                f"{root.status_code}; check the name under `registries` or --registry."
            )
        what = f"starting a test upload to {name} (nothing is stored)"
        upload = t.retry(what, lambda: t.send("POST", f"/v2/{name}/blobs/uploads/", repository=name))
        if upload.status_code != 202 or "Location" not in upload.headers:
            raise t.fault(what, upload)
        with contextlib.suppress(UserError, Transient):  # cancel the empty upload, or let the registry expire it
            t.send("DELETE", urljoin(t.url("/v2/"), upload.headers["Location"]), repository=name)

    def tag_digest(self, repository: str, tag: str) -> str | None:
        name, path = self._name(repository), f"/v2/{self._name(repository)}/manifests/{self._tag(tag)}"
        t, what = self.transport, f"looking up the tag {repository}:{tag}"
        answer = t.retry(what, lambda: t.send("HEAD", path, repository=name, headers={"Accept": _ACCEPT}))
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise t.fault(what, answer)
        digest = answer.headers.get("Docker-Content-Digest")
        if digest:
            return digest
        body = t.retry(what, lambda: t.send("GET", path, repository=name, headers={"Accept": _ACCEPT}))
        if body.status_code != 200:
            raise t.fault(what, body)
        return layout.sha256(body.content)

    def tag_config_digest(self, repository: str, tag: str) -> str | None:
        """The config digest (for an image pushed from the Docker engine: its image ID) of the manifest the tag
        points at; None when the tag is absent or points at a list or index. Unlike the manifest digest, it does
        not depend on how the layers were compressed."""
        name, path = self._name(repository), f"/v2/{self._name(repository)}/manifests/{self._tag(tag)}"
        t, what = self.transport, f"reading the manifest of {repository}:{tag}"
        answer = t.retry(what, lambda: t.send("GET", path, repository=name, headers={"Accept": _ACCEPT}))
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise t.fault(what, answer)
        try:
            digest = answer.json()["config"]["digest"]
        except (ValueError, KeyError, TypeError):
            return None
        return digest if isinstance(digest, str) else None

    def _tag(self, tag: str) -> str:
        if not _TAG.fullmatch(tag):
            raise UserError(f"Not a tag: {tag!r} (letters, digits, '_', '.', '-'; at most 128).")
        return tag

    def _cache(self) -> layout.BlobCache:
        root = self._cache_dir or Path(self._temporary.name if self._temporary else tempfile.gettempdir())
        return layout.BlobCache(root)

    def has_blob(self, repository: str, digest: str) -> bool:
        t, what = self.transport, f"checking for the blob {digest} in {repository}"
        answer = t.retry(what, lambda: t.send("HEAD", f"/v2/{repository}/blobs/{digest}", repository=repository))
        if answer.status_code in (200, 307):
            return True
        if answer.status_code == 404:
            return False
        raise t.fault(what, answer)

    def upload_blob(self, repository: str, blob: layout.Blob) -> None:
        """POST an upload, then PUT the whole blob with ?digest=; a transient fault restarts both."""
        t, what = self.transport, f"uploading the blob {blob.digest} ({blob.size} bytes) to {repository}"

        def attempt() -> None:
            started = t.send("POST", f"/v2/{repository}/blobs/uploads/", repository=repository)
            if started.status_code != 202 or "Location" not in started.headers:
                raise t.fault(what, started)
            parts = urlsplit(urljoin(t.url("/v2/"), started.headers["Location"]))
            query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), ("digest", blob.digest)])
            done = t.send(
                "PUT",
                urlunsplit(parts._replace(query=query)),
                repository=repository,
                body=blob.path,
                headers={"Content-Type": "application/octet-stream"},
            )
            if done.status_code != 201:
                raise t.fault(what, done)

        t.retry(what, attempt)

    def push_image(self, repository: str, image: str) -> PushedImage:
        name = self._name(repository)
        local = layout.export(self._docker or engine.client(), image, self._cache())
        unique = {blob.digest: blob for blob in (*local.layers, local.config)}
        sent = present = 0
        for blob in unique.values():
            if self.has_blob(name, blob.digest):
                present += 1
            else:
                self.upload_blob(name, blob)
                sent += blob.size
        manifest = layout.manifest_bytes(local.config, local.layers)
        digest = layout.sha256(manifest)
        self._put_manifest(name, digest, manifest, layout.MANIFEST_V2, digest)
        self._manifests[(name, digest)] = (manifest, layout.MANIFEST_V2)
        return PushedImage(digest, layout.MANIFEST_V2, sent, len(unique) - present, present)

    def _put_manifest(self, name: str, reference: str, manifest: bytes, media_type: str, digest: str) -> None:
        where = f"{name}@{reference}" if reference == digest else f"{name}:{reference}"
        t, what = self.transport, f"putting the manifest {digest} as {where}"
        answer = t.retry(
            what,
            lambda: t.send(
                "PUT",
                f"/v2/{name}/manifests/{reference}",
                repository=name,
                body=manifest,
                headers={"Content-Type": media_type},
            ),
        )
        if answer.status_code != 201:
            raise t.fault(what, answer)
        stored = answer.headers.get("Docker-Content-Digest")
        if stored and stored != digest:
            raise UserError(f"The registry {self.host} stored {name}:{reference} as {stored}, not {digest}.")

    def manifest(self, repository: str, digest: str) -> tuple[bytes, str]:
        """The bytes and media type of a manifest, from this client's pushes or from the registry."""
        name = self._name(repository)
        if (name, digest) in self._manifests:
            return self._manifests[(name, digest)]
        t, what = self.transport, f"reading the manifest {name}@{digest}"
        answer: requests.Response = t.retry(
            what, lambda: t.send("GET", f"/v2/{name}/manifests/{digest}", repository=name, headers={"Accept": _ACCEPT})
        )
        if answer.status_code == 404:
            raise UserError(f"The registry {self.host} has no manifest {name}@{digest}; push the image first.")
        if answer.status_code != 200 or layout.sha256(answer.content) != digest:
            raise t.fault(what, answer)
        found = (answer.content, answer.headers.get("Content-Type", layout.MANIFEST_V2).split(";")[0])
        self._manifests[(name, digest)] = found
        return found

    def put_tag(self, repository: str, tag: str, digest: str) -> None:
        manifest, media_type = self.manifest(repository, digest)
        self._put_manifest(self._name(repository), self._tag(tag), manifest, media_type, digest)
