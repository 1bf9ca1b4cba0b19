"""A small Docker Registry HTTP API v2 client: push an image and its index by digest, move tags last, one PUT each.

    with RegistryClient("ghcr.io", cache_dir=Path("~/.cache/pyfamily/blobs").expanduser()) as registry:
        registry.check_access("org/python")                     # before the first push, for every registry
        pushed = registry.push_image("org/python", "org/python:3.13", ["linux/amd64", "linux/arm64"])
        if registry.tag_digest("org/python", "3.13") != pushed.digest:    # the index's digest
            registry.put_tag("org/python", "3.13", pushed.digest)

- `RegistryClient(host, *, insecure=False, docker_config=None, attempts=4, backoff=0.5, timeout=30,
  cache_dir=None, docker_client=None)`: `https://host/v2/` (plain `http://` when insecure); Docker Hub's
  `docker.io` is served from `registry-1.docker.io`. Credentials come from the docker config (see `auth`),
  looked up only when the registry asks. `cache_dir` keeps the blobs of saved images between runs and clients
  (see `layout.BlobCache`); without it a temporary folder is used until `close()`. `docker_client` defaults to
  `pyfamily.engine.client()`.
- `check_access(repository)`: proves that we may push, writing nothing: the API root must answer like a
  registry, then an upload is started (POST /v2/<name>/blobs/uploads/, with authentication) and cancelled.
- `tag_digest(repository, tag) -> str | None`: the manifest (index) digest the tag points at now; None if absent.
- `push_image(repository, image, platforms=None) -> PushedImage`: the local image as the engine stores it
  (`layout.export`), for `platforms` (None: every one it holds): the blobs the registry lacks (a HEAD says
  which), every manifest of those platforms and their attestation manifests, then the index, each PUT by
  digest: no tag moves. With every platform of the local index, the index is pushed as stored, so its digest is
  the local image ID; with fewer, an index of those is assembled, the same bytes each time (`index.choose`).
- `put_tag(repository, tag, digest)`: one manifest PUT makes `tag` point at the pushed index `digest`.
- `put_index(repository, data, media_type) -> digest`: an index assembled elsewhere (e.g. staged per-platform
  images merged, pyfamily.publish.stage), PUT by digest.
- `read_index(repository, reference) -> RemoteIndex | None`: the index a tag (or digest) names, read back:
  its digest, media type and entries (platforms, attestations); None when absent.
- Lower level: `has_blob`, `has_manifest`, `upload_blob` (POST, then one PUT ?digest=), `manifest(repository,
  digest)`.

A client is for one thread at a time (it holds a requests.Session and a token cache); use one per thread.

Every request is retried on transient faults (HTTP 5xx, 429, resets, timeouts) up to `attempts` times; every
failure is a UserError naming the registry and what was being done, with no credential and no token in it.
Credentials and tokens go to the registry alone: an upload it sends elsewhere goes without them (see transport).
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import docker
import requests

from pyfamily import engine
from pyfamily.config.values import registry_host_complaint
from pyfamily.errors import UserError
from pyfamily.oci import index as oci
from pyfamily.oci import layout
from pyfamily.publish import auth
from pyfamily.publish.transport import Transient, Transport
from pyfamily.redaction import remote_text

_REPOSITORY = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"\w[\w.-]{0,127}")
_ACCEPT = ", ".join(oci.MANIFEST_TYPES)


@dataclass(frozen=True)
class PushedImage:
    digest: str  # of the index: what tags are made to point at
    media_type: str
    bytes_sent: int  # blob bytes uploaded; 0 when the registry had every blob
    blobs_sent: int = 0
    blobs_present: int = 0  # blobs the registry already had
    platforms: tuple[str, ...] = ()
    manifests_sent: int = 0  # manifests and index PUT; 0 when the registry had them all


@dataclass(frozen=True)
class RemoteIndex:
    """What a tag or digest names in a registry; `index` is None when that is a single image manifest."""

    digest: str
    media_type: str
    index: oci.Index | None

    @property
    def platforms(self) -> tuple[str, ...]:
        return self.index.platforms if self.index is not None else ()


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
        complaint = registry_host_complaint(host)  # the family file's rule, so what it takes the client takes
        if complaint:
            raise UserError(f"Not a registry: {complaint}.")
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
            t.send("DELETE", t.location(upload), repository=name)

    def tag_digest(self, repository: str, tag: str) -> str | None:
        name, path = self._name(repository), f"/v2/{self._name(repository)}/manifests/{self._tag(tag)}"
        t, what = self.transport, f"looking up the tag {repository}:{tag}"
        answer = self._head(what, path, name, 200)
        if answer is None:
            return None
        if answer.headers.get("Docker-Content-Digest"):
            return answer.headers["Docker-Content-Digest"]
        body = t.retry(what, lambda: t.send("GET", path, repository=name, headers={"Accept": _ACCEPT}))
        if body.status_code != 200:
            raise t.fault(what, body)
        return oci.sha256(body.content)

    def _tag(self, tag: str) -> str:
        if not _TAG.fullmatch(tag):
            raise UserError(f"Not a tag: {tag!r} (letters, digits, '_', '.', '-'; at most 128).")
        return tag

    def _cache(self) -> layout.BlobCache:
        root = self._cache_dir or Path(self._temporary.name if self._temporary else tempfile.gettempdir())
        return layout.BlobCache(root)

    def _head(self, what: str, path: str, repository: str, *found: int) -> requests.Response | None:
        """HEAD `path`: its answer when the status is one of `found`, None for 404 (nothing there), else a fault."""
        t = self.transport
        answer = t.retry(what, lambda: t.send("HEAD", path, repository=repository, headers={"Accept": _ACCEPT}))
        if answer.status_code != 404 and answer.status_code not in found:
            raise t.fault(what, answer)
        return answer if answer.status_code != 404 else None

    def has_blob(self, repository: str, digest: str) -> bool:
        what, path = f"checking for the blob {digest} in {repository}", f"/v2/{repository}/blobs/{digest}"
        return self._head(what, path, repository, 200, 307) is not None  # 307: served from elsewhere

    def upload_blob(self, repository: str, blob: layout.Blob) -> None:
        """POST an upload, then PUT the whole blob with ?digest=; a transient fault restarts both."""
        t, what = self.transport, f"uploading the blob {blob.digest} ({blob.size} bytes) to {repository}"

        def attempt() -> None:
            started = t.send("POST", f"/v2/{repository}/blobs/uploads/", repository=repository)
            if started.status_code != 202 or "Location" not in started.headers:
                raise t.fault(what, started)
            parts = urlsplit(t.location(started))  # maybe another origin (a storage service): asked without credentials
            query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), ("digest", blob.digest)])
            url, octets = urlunsplit(parts._replace(query=query)), {"Content-Type": "application/octet-stream"}
            done = t.send("PUT", url, repository=repository, body=blob.path, headers=octets)
            if done.status_code != 201:
                raise t.fault(what, done)

        t.retry(what, attempt)

    def has_manifest(self, repository: str, digest: str) -> bool:
        what, path = f"checking for the manifest {digest} in {repository}", f"/v2/{repository}/manifests/{digest}"
        return self._head(what, path, repository, 200) is not None

    def push_image(self, repository: str, image: str, platforms: Sequence[str] | None = None) -> PushedImage:
        name = self._name(repository)
        local = layout.export(self._docker or engine.client(), image, self._cache())
        chosen = local.choose(platforms)
        unique: dict[str, layout.Blob] = {}
        for entry in chosen.manifests:
            blobs = local.blobs(entry)
            if blobs is None:
                raise UserError(f"The manifest {entry.digest} of {image!r} is not whole in its export.")
            unique.update((blob.digest, blob) for blob in blobs)
        sent = present = 0
        for blob in unique.values():
            if self.has_blob(name, blob.digest):
                present += 1
            else:
                self.upload_blob(name, blob)
                sent += blob.size
        documents = [(entry.digest, local.manifest(entry), entry.media_type) for entry in chosen.manifests]
        put = 0
        for digest, data, media_type in [*documents, (chosen.digest, chosen.index, chosen.media_type)]:
            if not self.has_manifest(name, digest):  # the index last: a registry checks that its manifests exist
                self._put_manifest(name, digest, data, media_type, digest)
                put += 1
        self._manifests[(name, chosen.digest)] = (chosen.index, chosen.media_type)
        return PushedImage(
            chosen.digest, chosen.media_type, sent, len(unique) - present, present, chosen.platforms, put
        )

    def _put_manifest(self, name: str, reference: str, manifest: bytes, media_type: str, digest: str) -> None:
        where = f"{name}@{reference}" if reference == digest else f"{name}:{reference}"
        t, what = self.transport, f"putting the manifest {digest} as {where}"
        path, headers = f"/v2/{name}/manifests/{reference}", {"Content-Type": media_type}
        answer = t.retry(what, lambda: t.send("PUT", path, repository=name, body=manifest, headers=headers))
        if answer.status_code != 201:
            raise t.fault(what, answer)
        stored = answer.headers.get("Docker-Content-Digest")
        if stored and stored != digest:
            raise UserError(
                f"The registry {self.host} stored {name}:{reference} as {remote_text(stored)}, not {digest}."
            )

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
        if answer.status_code != 200 or oci.sha256(answer.content) != digest:
            raise t.fault(what, answer)
        found = (answer.content, answer.headers.get("Content-Type", oci.OCI_INDEX).split(";")[0])
        self._manifests[(name, digest)] = found
        return found

    def put_tag(self, repository: str, tag: str, digest: str) -> None:
        manifest, media_type = self.manifest(repository, digest)
        self._put_manifest(self._name(repository), self._tag(tag), manifest, media_type, digest)

    def put_index(self, repository: str, data: bytes, media_type: str) -> str:
        """PUT an index (whose manifests the registry holds) by its digest, moving no tag; its digest."""
        name, digest = self._name(repository), oci.sha256(data)
        if not self.has_manifest(name, digest):
            self._put_manifest(name, digest, data, media_type, digest)
        self._manifests[(name, digest)] = (data, media_type)
        return digest

    def read_index(self, repository: str, reference: str) -> RemoteIndex | None:
        """The index `reference` (a tag, or a digest) names in `repository`; None when there is none."""
        name = self._name(repository)
        by_digest = reference.startswith("sha256:")
        if by_digest:
            oci.check_digest(reference)
        path = f"/v2/{name}/manifests/{reference if by_digest else self._tag(reference)}"
        t, what = self.transport, f"reading the index {name}{'@' if by_digest else ':'}{reference}"
        answer = t.retry(what, lambda: t.send("GET", path, repository=name, headers={"Accept": _ACCEPT}))
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise t.fault(what, answer)
        digest = oci.sha256(answer.content)
        if by_digest and digest != reference:
            raise UserError(f"The registry {self.host} answered {name}@{reference} with bytes of digest {digest}.")
        media_type = answer.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            media_type = str(json.loads(answer.content).get("mediaType") or media_type)
        except (ValueError, AttributeError):
            raise UserError(
                f"The registry {self.host} answered {what.removeprefix('reading ')} with no JSON."
            ) from None
        found = oci.Index.parse(answer.content, f"{name}:{reference}") if media_type in oci.INDEX_TYPES else None
        return RemoteIndex(digest, media_type, found)
