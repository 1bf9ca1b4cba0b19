"""A local image as registry blobs: its config, its layers gzip-compressed the same way every time, a manifest.

- `BlobCache(root)`: content-addressed files under `root`: `blobs/sha256/<hex>` (compressed layers and image
  configs) and `layers/<diff_id hex>` (the compressed blob of an uncompressed layer: "<digest> <size>"). Files
  appear by atomic rename, so several processes may share a cache; nothing is ever removed from it.
- `export(client, image, cache) -> LocalImage`: the image's config blob and layer blobs. When the cache already
  holds the config (by image ID) and every layer, the engine is not asked for anything else; otherwise the image
  is saved (`docker save` through the SDK) to a temporary tar next to the cache and read through its
  `manifest.json` (the classic `<id>/layer.tar` layout and the OCI `blobs/sha256/` one both work).
- `compress_layer(cache, diff_id, stream) -> Blob`: gzip (level 6, mtime 0, no file name), checking that the
  uncompressed bytes have the digest `diff_id`. Layers that arrive gzip-compressed are recompressed this way.
- `manifest_bytes(config, layers) -> bytes`: a Docker v2 schema 2 manifest, the same bytes for the same blobs.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import docker
import docker.errors

from pyfamily.errors import UserError

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST_V2 = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPES = (MANIFEST_V2, MANIFEST_LIST_V2, OCI_MANIFEST, OCI_INDEX)
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"

GZIP_LEVEL = 6
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Blob:
    digest: str  # sha256:<hex> of the bytes as uploaded
    size: int
    path: Path
    media_type: str


@dataclass(frozen=True)
class LocalImage:
    config: Blob
    layers: tuple[Blob, ...]  # in the order of the config's rootfs.diff_ids, repeats included


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _hex(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if algorithm != "sha256" or len(value) != 64 or not all(c in "0123456789abcdef" for c in value):
        raise UserError(f"Not a sha256 digest: {digest[:80]!r}.")
    return value


class BlobCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in ("blobs/sha256", "layers", "tmp"):
            (root / folder).mkdir(parents=True, exist_ok=True)

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / _hex(digest)

    def blob(self, digest: str, media_type: str) -> Blob | None:
        path = self.blob_path(digest)
        return Blob(digest, path.stat().st_size, path, media_type) if path.is_file() else None

    def layer(self, diff_id: str) -> Blob | None:
        """The compressed blob of the uncompressed layer `diff_id`, when this cache made it before."""
        try:
            digest, size = (self.root / "layers" / _hex(diff_id)).read_text().split()
        except (FileNotFoundError, ValueError):
            return None
        found = self.blob(digest, LAYER_TYPE)
        return found if found is not None and found.size == int(size) else None

    @contextlib.contextmanager
    def scratch(self) -> Iterator[Path]:
        """A temporary folder on the cache's file system, removed afterwards."""
        with tempfile.TemporaryDirectory(dir=self.root / "tmp") as folder:
            yield Path(folder)

    def place(self, written: Path, target: Path) -> None:
        """Move a finished file of tmp/ to its name: atomically, so readers see all of it or nothing."""
        os.replace(written, target)

    def store(self, data: bytes, media_type: str) -> Blob:
        digest = sha256(data)
        found = self.blob(digest, media_type)
        if found is not None:
            return found
        with tempfile.NamedTemporaryFile(dir=self.root / "tmp", delete=False) as out:
            out.write(data)
        self.place(Path(out.name), self.blob_path(digest))
        return Blob(digest, len(data), self.blob_path(digest), media_type)

    def remember_layer(self, diff_id: str, blob: Blob) -> None:
        with tempfile.NamedTemporaryFile("w", dir=self.root / "tmp", delete=False) as out:
            out.write(f"{blob.digest} {blob.size}\n")
        self.place(Path(out.name), self.root / "layers" / _hex(diff_id))


class _Hashing:
    """A writable file that hashes and counts what passes through it."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.hash, self.size = out, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def compress_layer(cache: BlobCache, diff_id: str, stream: IO[bytes]) -> Blob:
    """Gzip one uncompressed (or gzip-compressed) layer tar into the cache, deterministically; check its diff_id.

    `stream` must be seekable (a member of the saved tar is)."""
    compressed = stream.read(2) == b"\x1f\x8b"
    stream.seek(0)
    source: IO[bytes] | gzip.GzipFile = gzip.GzipFile(fileobj=stream, mode="rb") if compressed else stream
    plain = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=cache.root / "tmp", delete=False) as out:
        try:
            hashing = _Hashing(out)
            with gzip.GzipFile(filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=hashing, mtime=0) as packed:
                while chunk := source.read(_CHUNK):
                    plain.update(chunk)
                    packed.write(chunk)
        except BaseException:
            os.unlink(out.name)
            raise
    if "sha256:" + plain.hexdigest() != diff_id:
        os.unlink(out.name)
        raise UserError(
            f"A layer of the exported image does not match its diff_id {diff_id}; the engine's export "
            "is inconsistent (try again, or rebuild the image)."
        )
    digest = "sha256:" + hashing.hash.hexdigest()
    blob = Blob(digest, hashing.size, cache.blob_path(digest), LAYER_TYPE)
    cache.place(Path(out.name), blob.path)
    cache.remember_layer(diff_id, blob)
    return blob


def _diff_ids(config: bytes) -> list[str]:
    try:
        ids = json.loads(config)["rootfs"]["diff_ids"]
    except (ValueError, KeyError, TypeError):
        raise UserError("The image config has no rootfs.diff_ids; is it a Docker image?") from None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise UserError("The image config's rootfs.diff_ids is not a list of digests.")
    return ids


def _from_cache(cache: BlobCache, image_id: str) -> LocalImage | None:
    if not image_id.startswith("sha256:") or (config := cache.blob(image_id, CONFIG_TYPE)) is None:
        return None
    layers = [cache.layer(diff_id) for diff_id in _diff_ids(config.path.read_bytes())]
    if any(layer is None for layer in layers):
        return None
    return LocalImage(config, tuple(layer for layer in layers if layer is not None))


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    try:
        found = tar.extractfile(name)
    except KeyError:
        found = None
    if found is None:
        raise UserError(f"The exported image has no file {name!r} although its manifest.json names it.")
    return found


def _read_save(cache: BlobCache, tar: tarfile.TarFile) -> LocalImage:
    try:
        entries: Any = json.load(_member(tar, "manifest.json"))
        entry = entries[0]
        config_name, layer_names = str(entry["Config"]), [str(name) for name in entry["Layers"]]
    except (ValueError, KeyError, IndexError, TypeError):
        raise UserError("The exported image's manifest.json is not what `docker save` writes.") from None
    config_bytes = _member(tar, config_name).read()
    diff_ids = _diff_ids(config_bytes)
    if len(diff_ids) != len(layer_names):
        raise UserError(f"The exported image has {len(layer_names)} layers but its config lists {len(diff_ids)}.")
    layers = []
    for name, diff_id in zip(layer_names, diff_ids, strict=True):
        layers.append(cache.layer(diff_id) or compress_layer(cache, diff_id, _member(tar, name)))
    return LocalImage(cache.store(config_bytes, CONFIG_TYPE), tuple(layers))


def export(client: docker.DockerClient, image: str, cache: BlobCache) -> LocalImage:
    """The blobs of the local image `image` (a reference or an ID), compressed into `cache`."""
    try:
        found = client.images.get(image)
    except docker.errors.ImageNotFound:
        raise UserError(f"No local image {image!r}; build it first.") from None
    except docker.errors.DockerException as exc:
        raise UserError(f"The Docker engine cannot show the image {image!r}: {exc}") from None
    cached = _from_cache(cache, str(found.id))
    if cached is not None:
        return cached
    with cache.scratch() as folder:
        saved = folder / "image.tar"
        try:
            with saved.open("wb") as out:
                for chunk in found.save(chunk_size=_CHUNK):
                    out.write(chunk)
        except docker.errors.DockerException as exc:
            raise UserError(f"The Docker engine could not export {image!r}: {exc}") from None
        with tarfile.open(saved) as tar:
            return _read_save(cache, tar)


def _descriptor(blob: Blob) -> dict[str, Any]:
    return {"mediaType": blob.media_type, "size": blob.size, "digest": blob.digest}


def manifest_bytes(config: Blob, layers: Sequence[Blob]) -> bytes:
    """The schema 2 manifest of these blobs: fixed key order and layout, so equal blobs give equal bytes."""
    document = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_V2,
        "config": _descriptor(config),
        "layers": [_descriptor(layer) for layer in layers],
    }
    return json.dumps(document, indent=3, separators=(",", ": "), ensure_ascii=True).encode("ascii") + b"\n"
