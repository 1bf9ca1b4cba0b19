"""pyfamily.oci.layout: reading the OCI layout `docker save` writes into the blob cache (no engine: a tar made
here the way docker 26 with the containerd image store writes one)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyfamily.errors import UserError
from pyfamily.oci import index, layout
from pyfamily.oci.layout import BlobCache, export


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha(data), "size": len(data), **extra}


LAYER = gzip.compress(tar_of({"a.txt": b"a" * 10_000}), mtime=0)  # as stored: compressed, kept as it is


class Layout:
    """The blobs and index.json of a save; `tar(drop=...)` leaves some blobs out (content the store lacks)."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def add(self, data: bytes) -> bytes:
        self.blobs[sha(data)] = data
        return data

    def manifest(self, arch: str, layer: bytes) -> bytes:
        config = self.add(json.dumps({"architecture": arch, "os": "linux", "rootfs": {"diff_ids": []}}).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": index.OCI_MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", self.add(layer))],
        }
        return self.add(json.dumps(manifest, indent=2).encode())

    def multi_platform(self) -> bytes:
        """Two platforms and an attestation of each, as `buildx build --platform linux/amd64,linux/arm64 --load`."""
        amd, arm = self.manifest("amd64", LAYER), self.manifest("arm64", LAYER)
        entries = [
            descriptor(index.OCI_MANIFEST, amd, platform={"architecture": "amd64", "os": "linux"}),
            descriptor(index.OCI_MANIFEST, arm, platform={"architecture": "arm64", "os": "linux"}),
        ]
        for built in (amd, arm):
            statement = self.manifest("unknown", b'{"_type": "https://in-toto.io/Statement/v0.1"}' + built[:8])
            notes = {"vnd.docker.reference.digest": sha(built), "vnd.docker.reference.type": "attestation-manifest"}
            platform = {"architecture": "unknown", "os": "unknown"}
            entries.append(descriptor(index.OCI_MANIFEST, statement, annotations=notes, platform=platform))
        document = {"schemaVersion": 2, "mediaType": index.OCI_INDEX, "manifests": entries}
        return self.add(json.dumps(document, indent=2).encode())

    def tar(
        self, top: bytes, top_type: str, drop: tuple[str, ...] = (), extra: dict[str, bytes] | None = None
    ) -> bytes:
        files = {f"blobs/sha256/{d[7:]}": data for d, data in self.blobs.items() if d not in drop}
        entry = descriptor(top_type, top, annotations={"io.containerd.image.name": "docker.io/x/y:1"})
        files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [entry]}).encode()
        files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
        return tar_of({**files, **(extra or {})})


class FakeImage:
    def __init__(self, tar: bytes, image_id: str) -> None:
        self.tar, self.id, self.saves = tar, image_id, 0

    def save(self, chunk_size: int = 0) -> Iterator[bytes]:
        self.saves += 1
        yield from (self.tar[i : i + 777] for i in range(0, len(self.tar), 777))


class FakeEngine:
    def __init__(self, image: FakeImage) -> None:
        self.images = self
        self.image = image

    def get(self, reference: str) -> FakeImage:
        return self.image


def engine_of(image: FakeImage) -> Any:
    return FakeEngine(image)


def test_a_multi_platform_save_is_cached_verbatim_then_read_from_the_cache(tmp_path: Path) -> None:
    made = Layout()
    top = made.multi_platform()
    image = FakeImage(made.tar(top, index.OCI_INDEX), sha(top))
    cache = BlobCache(tmp_path)
    local = export(engine_of(image), "x/y:1", cache)
    assert local.image_id == sha(top) and local.local_bytes == top
    assert local.platforms == ("linux/amd64", "linux/arm64")
    assert all((tmp_path / "blobs" / "sha256" / d[7:]).read_bytes() == data for d, data in made.blobs.items())
    amd = local.index.images[0]
    assert [b.path.read_bytes() for b in local.blobs(amd) or ()][1] == LAYER  # the layer as stored, not recompressed
    push = local.choose(["linux/amd64", "linux/arm64"])
    assert push.verbatim and push.digest == image.id
    again = export(engine_of(image), "x/y:1", cache)
    assert again.platforms == local.platforms and again.local_bytes == top
    assert image.saves == 1  # the second time, everything came from the cache (keyed by image ID)
    assert layout.platforms(engine_of(image), "x/y:1", cache) == local.platforms and image.saves == 1
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_platform_whose_content_is_missing_is_not_held_and_the_save_is_not_remembered(tmp_path: Path) -> None:
    made = Layout()
    top = made.multi_platform()
    arm_manifest = json.loads(top)["manifests"][1]["digest"]
    image = FakeImage(made.tar(top, index.OCI_INDEX, drop=(arm_manifest,)), sha(top))
    local = export(engine_of(image), "x/y:1", BlobCache(tmp_path))
    assert local.platforms == ("linux/amd64",)
    with pytest.raises(UserError, match=r"no linux/arm64 \(it holds linux/amd64\)"):
        local.choose(["linux/amd64", "linux/arm64"])
    assert not local.choose(["linux/amd64"]).verbatim
    export(engine_of(image), "x/y:1", BlobCache(tmp_path))
    assert image.saves == 2  # not whole: asked again, in case the store got it since


def test_an_imported_image_is_one_manifest_its_platform_read_from_its_config(tmp_path: Path) -> None:
    made = Layout()
    manifest = made.manifest("amd64", LAYER)
    image = FakeImage(made.tar(manifest, index.OCI_MANIFEST), sha(manifest))  # `docker import`: ID = manifest digest
    local = export(engine_of(image), "x/base:1", BlobCache(tmp_path))
    assert local.platforms == ("linux/amd64",) and local.local_bytes is None
    push = local.choose(None)
    assert not push.verbatim and push.media_type == index.OCI_INDEX
    assert json.loads(push.index)["manifests"] == [
        descriptor(index.OCI_MANIFEST, manifest, platform={"architecture": "amd64", "os": "linux"})
    ]


def test_a_blob_that_does_not_have_its_digest_is_refused(tmp_path: Path) -> None:
    made = Layout()
    top = made.multi_platform()
    layer = sha(LAYER)
    made.blobs[layer] = LAYER[:-1] + b"x"
    with pytest.raises(UserError, match=f"The blob {layer} of the exported image does not have that digest"):
        export(engine_of(FakeImage(made.tar(top, index.OCI_INDEX), sha(top))), "x/y:1", BlobCache(tmp_path))
    assert list((tmp_path / "tmp").iterdir()) == [] and not (tmp_path / "blobs" / "sha256" / layer[7:]).exists()


def test_a_save_without_an_oci_layout_or_of_another_image_is_refused(tmp_path: Path) -> None:
    classic = tar_of({"manifest.json": b"[]", "abc/layer.tar": b""})
    with pytest.raises(UserError, match=r"has no index\.json"):
        export(engine_of(FakeImage(classic, sha(b"x"))), "x/y:1", BlobCache(tmp_path))
    made = Layout()
    top = made.multi_platform()
    two = made.tar(top, index.OCI_INDEX, extra={"index.json": json.dumps({"manifests": []}).encode()})
    with pytest.raises(UserError, match="names 0 images, none of them"):
        export(engine_of(FakeImage(two, sha(top))), "x/y:1", BlobCache(tmp_path))


def test_the_cache_is_content_addressed(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    cache.take(sha(b"{}"), io.BytesIO(b"{}"))
    assert cache.read(sha(b"{}")) == b"{}" and cache.read(sha(b"{}"), size=2) == b"{}"
    assert cache.blob(sha(b"{}"), "application/json") == layout.Blob(
        sha(b"{}"), 2, cache.blob_path(sha(b"{}")), "application/json"
    )
    assert cache.blob(sha(b"{}"), "application/json", size=3) is None  # a size that disagrees: not this blob
    assert cache.read(sha(b"{}"), size=3) is None and cache.read(sha(b"[]")) is None
    assert cache.image(sha(b"unknown")) is None
    with pytest.raises(UserError, match="Not a sha256 digest"):
        cache.blob("sha256:../../etc/passwd", "application/json")


def saved(tmp_path: Path, top: bytes, made: Layout, top_type: str = index.OCI_INDEX) -> tuple[FakeImage, BlobCache]:
    """The image of `top`, exported once: every blob in the cache, its save remembered."""
    image, cache = FakeImage(made.tar(top, top_type), sha(top)), BlobCache(tmp_path)
    export(engine_of(image), "x/y:1", cache)
    return image, cache


def tamper(cache: BlobCache, digest: str, old: bytes, new: bytes) -> Path:
    """Replace the cached blob `digest` by other bytes of the same size (a new file, as another writer would)."""
    path = cache.blob_path(digest)
    data = path.read_bytes()
    assert len(old) == len(new) and old in data
    (cache.root / "tmp" / "damaged").write_bytes(data.replace(old, new, 1))
    (cache.root / "tmp" / "damaged").replace(path)
    return path


def damaged(path: Path) -> str:
    return rf"The blob cache file {path} does not hash to sha256:{path.name}.* Delete that file and run again"


def test_a_cached_index_or_manifest_of_the_right_size_but_other_bytes_is_refused(tmp_path: Path) -> None:
    made = Layout()
    top = made.multi_platform()
    amd = json.loads(top)["manifests"][0]["digest"]
    for digest, old, new in ((sha(top), b'"amd64"', b'"arm64"'), (amd, b"tar+gzip", b"tar+zstd")):
        image, cache = saved(tmp_path / digest[7:15], top, made)
        path = tamper(cache, digest, old, new)
        with pytest.raises(UserError, match=damaged(path)):
            export(engine_of(image), "x/y:1", cache)
        assert image.saves == 1  # not dropped and saved again: the damage is reported, the file named
        path.unlink()
        assert export(engine_of(image), "x/y:1", cache).platforms == ("linux/amd64", "linux/arm64")
        assert image.saves == 2 and cache.read(digest) == made.blobs[digest]  # deleted: saved anew


def test_a_cached_config_of_the_right_size_but_other_bytes_is_refused(tmp_path: Path) -> None:
    made = Layout()
    manifest = made.manifest("amd64", LAYER)
    image, cache = saved(tmp_path, manifest, made, index.OCI_MANIFEST)
    path = tamper(cache, json.loads(manifest)["config"]["digest"], b'"amd64"', b'"arm64"')
    with pytest.raises(UserError, match=damaged(path)):
        export(engine_of(image), "x/base:1", cache)


def test_a_cached_layer_is_hashed_before_it_is_handed_out_to_be_pushed(tmp_path: Path) -> None:
    made = Layout()
    top = made.multi_platform()
    image, cache = saved(tmp_path, top, made)
    local = export(engine_of(image), "x/y:1", cache)
    amd = local.index.images[0]
    assert [b.digest for b in local.blobs(amd) or ()][1] == sha(LAYER)
    path = tamper(cache, sha(LAYER), LAYER[-4:], bytes(b ^ 1 for b in LAYER[-4:]))
    local = export(engine_of(image), "x/y:1", cache)  # listing platforms reads no layer: sizes say they are there
    assert local.platforms == ("linux/amd64", "linux/arm64") and image.saves == 1
    with pytest.raises(UserError, match=damaged(path)):
        local.blobs(amd)
    assert local.blobs(amd, verify=False) is not None


def test_a_cached_record_naming_another_image_is_refused_naming_both(tmp_path: Path) -> None:
    made = Layout()
    top = made.multi_platform()
    image, cache = saved(tmp_path, top, made)
    other = made.add(top.replace(b'"schemaVersion": 2', b'"schemaVersion": 2, "annotations": {}', 1))
    cache.take(sha(other), io.BytesIO(other))  # whole in the cache too: it names the same manifests
    cache.remember_image(sha(top), layout.Descriptor(index.OCI_INDEX, sha(other), len(other)))
    with pytest.raises(UserError, match=f"local image {sha(top)} is of {sha(other)}, another image") as caught:
        export(engine_of(image), "x/y:1", cache)
    assert str(tmp_path / "images" / sha(top)[7:]) in str(caught.value)


def test_a_verbatim_push_must_have_the_image_id_as_digest(tmp_path: Path) -> None:
    made = Layout()
    top = made.multi_platform()
    local = export(engine_of(FakeImage(made.tar(top, index.OCI_INDEX), sha(top))), "x/y:1", BlobCache(tmp_path))
    assert local.choose(None).digest == sha(top)
    stranger = dataclasses.replace(local, image_id=sha(b"verified"))
    with pytest.raises(UserError, match=f"has the digest {sha(top)}, not {sha(b'verified')}, the image ID"):
        stranger.choose(None)
    assert not stranger.choose(["linux/arm64"]).verbatim  # a subset is assembled: its manifests descend from it
