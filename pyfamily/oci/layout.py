"""A local image as the engine stores it: the OCI layout `docker save` writes, every blob kept byte for byte.

In the containerd image store a local image is an OCI image index (its image ID is the index's digest) holding
one manifest per platform and BuildKit's attestation manifests (platform `unknown/unknown`, annotations
`vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest: <the manifest described>`);
an image made by `docker import` (or the classic builder) is one manifest, its ID that manifest's digest. Blobs
are saved as stored (layers already compressed), so nothing is recompressed and the registry gets the same bytes.

- `BlobCache(root)`: content-addressed files under `root`: `blobs/sha256/<hex>` (any blob: index, manifest,
  config, layer) and `images/<image ID hex>` (the descriptor of the image's index or manifest, written once its
  whole save is in). Files appear by atomic rename, so several processes may share a cache; nothing is removed.
  No blob is trusted for its name and size: every JSON one is re-hashed when read, each one handed out to be
  pushed before (`verified`, once per process); one whose bytes are not its digest is refused, named.
- `export(client, image, cache) -> LocalImage`: the image by reference or ID. When the cache knows its image ID
  and holds every blob it names, the engine is asked for nothing else; otherwise the image is saved (`docker
  save` through the SDK) and the tar streamed into the cache, each blob checked against its digest. Its index
  (or manifest, or that manifest's config) must have the image ID as digest: all that is pushed descends from it.
- `platforms(client, image, cache)`: the platforms a local image holds, e.g. ("linux/amd64", "linux/arm64"), from
  its save (engine API 1.45, docker 26, lists no manifests: inspect does from 1.48, list from 1.47), cached by ID.
- `LocalImage.choose(platforms) -> index.Push`: what to push of it (see pyfamily.oci.index), and
  `LocalImage.blobs(entry)`: the config and layers of one of its manifests, as cached, each verified.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import docker
import docker.errors

from pyfamily.errors import UserError
from pyfamily.oci.index import (
    IMAGE_TYPES,
    INDEX_TYPES,
    Descriptor,
    Index,
    Push,
    check_digest,
    choose,
    parse_json,
    sha256,
    single,
)

_CHUNK = 1024 * 1024
_BLOB_NAME = re.compile(r"(?:\./)?blobs/sha256/([0-9a-f]{64})")
# Files this process hashed right, by path, inode, size and times (one changed since is hashed again): a layer is
# read whole once per run, not once per registry; a blob just saved (hashed while written) is not read again.
_HASHED: set[tuple[str, int, int, int, int, int]] = set()


@dataclass(frozen=True)
class Blob:
    digest: str  # sha256:<hex> of the bytes as uploaded
    size: int
    path: Path
    media_type: str


class BlobCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in ("blobs/sha256", "images", "tmp"):
            (root / folder).mkdir(parents=True, exist_ok=True)

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / check_digest(digest)

    def blob(self, digest: str, media_type: str, size: int | None = None) -> Blob | None:
        """The cached blob `digest` (of `size` bytes when given), or None."""
        path = self.blob_path(digest)
        try:
            found = path.stat().st_size
        except FileNotFoundError:
            return None
        return Blob(digest, found, path, media_type) if size is None or found == size else None

    def read(self, digest: str, size: int | None = None) -> bytes | None:
        """The bytes of the cached blob `digest` (of `size` bytes when given), re-hashed; None when not cached."""
        found = self.blob(digest, "", size)
        if found is None:
            return None
        data = found.path.read_bytes()
        if sha256(data) != digest:
            raise _damaged(found.path, digest)
        return data

    def verified(self, blob: Blob) -> Blob:
        """`blob` once its file hashes to its digest (a layer: read whole, at most once per process)."""
        key = _file_key(blob.path)
        if key not in _HASHED:
            with blob.path.open("rb") as stream:
                if "sha256:" + hashlib.file_digest(stream, "sha256").hexdigest() != blob.digest:
                    raise _damaged(blob.path, blob.digest)
            _HASHED.add(key)
        return blob

    def image(self, image_id: str) -> Descriptor | None:
        """The descriptor of the index (or manifest) a save of the image `image_id` gave, when one was cached."""
        try:
            record = json.loads((self.root / "images" / check_digest(image_id)).read_text())
            return Descriptor(str(record["mediaType"]), str(record["digest"]), int(record["size"]))
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None

    def remember_image(self, image_id: str, top: Descriptor) -> None:
        record = {"mediaType": top.media_type, "digest": top.digest, "size": top.size}
        with tempfile.NamedTemporaryFile("w", dir=self.root / "tmp", delete=False) as out:
            json.dump(record, out)
        os.replace(out.name, self.root / "images" / check_digest(image_id))  # atomic: all of it or nothing

    def take(self, digest: str, stream: IO[bytes]) -> None:
        """Copy `stream` into the blob `digest`, checking that its bytes have that digest."""
        hashing = hashlib.sha256()
        with tempfile.NamedTemporaryFile(dir=self.root / "tmp", delete=False) as out:
            try:
                while chunk := stream.read(_CHUNK):
                    hashing.update(chunk)
                    out.write(chunk)
            except BaseException:
                os.unlink(out.name)
                raise
        if "sha256:" + hashing.hexdigest() != digest:
            os.unlink(out.name)
            raise UserError(
                f"The blob {digest} of the exported image does not have that digest; the engine's export is "
                "inconsistent (try again, or rebuild the image)."
            )
        os.replace(out.name, self.blob_path(digest))
        _HASHED.add(_file_key(self.blob_path(digest)))


def _file_key(path: Path) -> tuple[str, int, int, int, int, int]:
    found = path.stat()
    return str(path), found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


def _damaged(path: Path, digest: str) -> UserError:
    # Refused, not dropped and saved again: a damaged disk, or something else writing into a cache other runs share.
    return UserError(
        f"The blob cache file {path} does not hash to {digest}, the digest it is named by: the cache is damaged "
        "and nothing of it was used. Delete that file and run again (the image is then saved from the engine anew)."
    )


@dataclass(frozen=True)
class LocalImage:
    image_id: str
    index: Index  # the image's index; for a single-manifest image, one made of that manifest
    local_bytes: bytes | None  # the index as stored; None for a single-manifest image
    cache: BlobCache

    def manifest(self, entry: Descriptor) -> bytes:
        """The manifest `entry` as cached, re-hashed."""
        found = self.cache.read(entry.digest, entry.size)
        if found is None:
            raise UserError(f"The manifest {entry.digest} of the local image {self.image_id} is not in its export.")
        return found

    def blobs(self, entry: Descriptor, *, verify: bool = True) -> tuple[Blob, ...] | None:
        """The config and layers of the image manifest `entry`, as cached, each verified (`verify=False`: only
        there, by digest and size); None when one is missing."""
        if entry.media_type not in IMAGE_TYPES or self.cache.blob(entry.digest, entry.media_type, entry.size) is None:
            return None
        document = parse_json(self.manifest(entry), f"The manifest {entry.digest}")
        listed = [document.get("config"), *(document.get("layers") or [])]
        parts = [Descriptor.parse(part, f"The manifest {entry.digest}") for part in listed]
        found = [b for p in parts if (b := self.cache.blob(p.digest, p.media_type, p.size)) is not None]
        return tuple(self.cache.verified(b) if verify else b for b in found) if len(found) == len(parts) else None

    @functools.cached_property
    def complete(self) -> tuple[str, ...]:
        """The digests of the index's entries whose manifest, config and layers are all cached."""
        return tuple(e.digest for e in self.index.entries if self.blobs(e, verify=False) is not None)

    @property
    def platforms(self) -> tuple[str, ...]:
        whole = set(self.complete)
        return tuple(dict.fromkeys(e.platform for e in self.index.images if e.digest in whole))

    def choose(self, platforms: Sequence[str] | None = None) -> Push:
        """What to push for `platforms` (None: every platform the image holds)."""
        chosen = self.platforms if platforms is None else platforms
        return choose(self.index, self.local_bytes, self.complete, chosen, image_id=self.image_id)


def _image(cache: BlobCache, image_id: str, top: Descriptor, *, whole: bool = True) -> LocalImage | None:
    """The LocalImage whose index or manifest is `top`; None when a blob it names is not cached (or, with
    `whole=False`, only when its own index or manifest is not)."""
    raw = cache.read(top.digest, top.size)
    if raw is None:
        return None
    if top.media_type in INDEX_TYPES:
        local, names = LocalImage(image_id, Index.parse(raw, f"The index of {image_id}"), raw, cache), {top.digest}
    elif top.media_type in IMAGE_TYPES:  # its platform from its config, whose digest is a classic store's ID
        what = f"The manifest of the local image {image_id}"
        config = Descriptor.parse(parse_json(raw, what).get("config"), what)
        found = cache.read(config.digest, config.size)
        made = single(top, parse_json(found, f"The config of {image_id}") if found is not None else {})
        local, names = LocalImage(image_id, made, None, cache), {top.digest, config.digest}
    else:
        raise UserError(f"The local image {image_id} is a {top.media_type}, neither an index nor an image manifest.")
    if image_id not in names:  # all that is pushed must descend from the image ID, the one `invoke verify` passed
        raise UserError(
            f"The export of the local image {image_id} is of {top.digest}, another image: nothing of it was used; "
            f"delete {cache.root / 'images' / image_id[7:]} if it exists and run again, else rebuild the image."
        )
    return local if not whole or set(local.complete) == {e.digest for e in local.index.entries} else None


class _Chunks(io.RawIOBase):
    """A readable file over the chunks the SDK's save yields."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks, self.rest = iter(chunks), memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.rest:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.rest = memoryview(chunk)
        count = min(len(buffer), len(self.rest))
        buffer[:count] = self.rest[:count]
        self.rest = self.rest[count:]
        return count


def _save(cache: BlobCache, image: Any, reference: str) -> Descriptor:
    """Stream `docker save` of `image` into the cache; the descriptor of the image in its index.json."""
    index_json = None
    try:
        stream = io.BufferedReader(_Chunks(image.save(chunk_size=_CHUNK)), _CHUNK)
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                name = _BLOB_NAME.fullmatch(member.name)
                if member.isfile() and name is not None:
                    digest = "sha256:" + name.group(1)
                    if cache.blob(digest, "", member.size) is None and (source := tar.extractfile(member)):
                        cache.take(digest, source)
                elif member.isfile() and member.name.removeprefix("./") == "index.json":
                    index_json = source.read() if (source := tar.extractfile(member)) is not None else None
    except docker.errors.DockerException as exc:
        raise UserError(f"The Docker engine could not export {reference!r}: {exc}") from None
    except tarfile.TarError as exc:
        raise UserError(f"The export of {reference!r} is not a tar the way `docker save` writes one: {exc}.") from None
    if index_json is None:
        raise UserError(
            f"The export of {reference!r} has no index.json: the engine wrote no OCI layout (docker 25 or newer "
            "writes one; the containerd image store is needed for multi-platform images)."
        )
    entries = Index.parse(index_json, f"The index.json of the export of {reference!r}").entries
    top = next((e for e in entries if e.digest == str(image.id)), entries[0] if len(entries) == 1 else None)
    if top is None:
        raise UserError(f"The export of {reference!r} names {len(entries)} images, none of them {image.id}.")
    return Descriptor(top.media_type, top.digest, top.size)


def export(client: docker.DockerClient, image: str, cache: BlobCache) -> LocalImage:
    """The local image `image` (a reference or an ID), its blobs in `cache`: saved only when the cache lacks it."""
    try:
        found = client.images.get(image)
    except docker.errors.ImageNotFound:
        raise UserError(f"No local image {image!r}; build it first.") from None
    except docker.errors.DockerException as exc:
        raise UserError(f"The Docker engine cannot show the image {image!r}: {exc}") from None
    image_id = str(found.id)
    known = cache.image(image_id)
    if known is not None and (cached := _image(cache, image_id, known)) is not None:
        return cached
    top = _save(cache, found, image)
    local = _image(cache, image_id, top)
    if local is not None:
        cache.remember_image(image_id, top)
        return local
    # The store lacks some platform's content: what it has can still be listed and pushed.
    partial = _image(cache, image_id, top, whole=False)
    if partial is None:
        raise UserError(f"The export of {image!r} lacks its own index or manifest {top.digest}.")
    return partial


def platforms(client: docker.DockerClient, image: str, cache: BlobCache) -> tuple[str, ...]:
    """The platforms the local image `image` holds whole (manifest, config and layers), in its index's order."""
    return export(client, image, cache).platforms
