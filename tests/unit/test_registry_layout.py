"""pyfamily.publish.layout: deterministic layer blobs and manifests, and reading `docker save` output (no engine)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyfamily.errors import UserError
from pyfamily.publish import layout
from pyfamily.publish.layout import Blob, BlobCache, compress_layer, export, manifest_bytes


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


LAYER = layer_tar({"a.txt": b"a" * 10_000, "etc/b": b"some bytes"})


def test_manifest_bytes_are_exact_and_stable() -> None:
    config = Blob("sha256:" + "c" * 64, 123, Path("/x"), layout.CONFIG_TYPE)
    layers = [Blob("sha256:" + "1" * 64, 10, Path("/y"), layout.LAYER_TYPE)] * 2
    expected = (
        '{\n   "schemaVersion": 2,\n   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",\n'
        '   "config": {\n      "mediaType": "application/vnd.docker.container.image.v1+json",\n      "size": 123,\n'
        f'      "digest": "sha256:{"c" * 64}"\n   }},\n   "layers": [\n'
        + ",\n".join(
            '      {\n         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",\n'
            f'         "size": 10,\n         "digest": "sha256:{"1" * 64}"\n      }}'
            for _ in range(2)
        )
        + "\n   ]\n}\n"
    )
    assert manifest_bytes(config, layers).decode() == expected
    assert manifest_bytes(config, layers) == manifest_bytes(config, list(layers))
    assert json.loads(manifest_bytes(config, layers))["layers"][1]["digest"] == "sha256:" + "1" * 64


def test_compression_is_deterministic_and_checked(tmp_path: Path) -> None:
    one = compress_layer(BlobCache(tmp_path / "one"), sha(LAYER), io.BytesIO(LAYER))
    two = compress_layer(BlobCache(tmp_path / "two"), sha(LAYER), io.BytesIO(LAYER))
    data = one.path.read_bytes()
    assert one.digest == two.digest == sha(data) and data == two.path.read_bytes() and one.size == len(data)
    assert data[4:8] == b"\0\0\0\0"  # mtime 0
    assert not data[3] & 0x08  # no FNAME: no file name in the header
    assert gzip.decompress(data) == LAYER
    assert BlobCache(tmp_path / "one").layer(sha(LAYER)) == one


def test_a_gzip_layer_gives_the_same_blob_as_the_plain_one(tmp_path: Path) -> None:
    plain = compress_layer(BlobCache(tmp_path / "p"), sha(LAYER), io.BytesIO(LAYER))
    packed = gzip.compress(LAYER, compresslevel=1, mtime=12345)
    again = compress_layer(BlobCache(tmp_path / "g"), sha(LAYER), io.BytesIO(packed))
    assert again.digest == plain.digest


def test_a_layer_that_does_not_match_its_diff_id_is_refused(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    with pytest.raises(UserError, match="does not match its diff_id"):
        compress_layer(cache, "sha256:" + "0" * 64, io.BytesIO(LAYER))
    assert list((tmp_path / "tmp").iterdir()) == [] and list((tmp_path / "blobs" / "sha256").iterdir()) == []


def test_cache_store_is_content_addressed(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    first = cache.store(b"{}", layout.CONFIG_TYPE)
    assert first == cache.store(b"{}", layout.CONFIG_TYPE) and first.digest == sha(b"{}")
    assert cache.blob(sha(b"{}"), layout.CONFIG_TYPE) == first
    assert cache.layer(sha(b"unknown")) is None
    with pytest.raises(UserError, match="Not a sha256 digest"):
        cache.blob("sha256:../../etc/passwd", layout.CONFIG_TYPE)


def saved_image(layers: list[bytes], oci: bool, extra: tuple[str, ...] = ()) -> tuple[bytes, str]:
    """A `docker save` tar (classic `<id>/layer.tar` or OCI `blobs/sha256/<hex>` names) and its image ID."""
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": [sha(layer) for layer in layers]}}).encode()
    image_id = sha(config)

    def name(data: bytes, suffix: str) -> str:
        return f"blobs/sha256/{sha(data)[7:]}" if oci else f"{sha(data)[7:]}{suffix}"

    files = {name(config, ".json"): config}
    files.update({name(layer, "/layer.tar"): layer for layer in layers})
    manifest = [
        {
            "Config": name(config, ".json"),
            "RepoTags": None,
            "Layers": [*extra, *(name(lay, "/layer.tar") for lay in layers)],
        }
    ]
    files["manifest.json"] = json.dumps(manifest).encode()
    return layer_tar(files), image_id


class FakeImage:
    def __init__(self, tar: bytes, image_id: str) -> None:
        self.tar, self.id, self.saves = tar, image_id, 0

    def save(self, chunk_size: int = 0) -> Iterator[bytes]:
        self.saves += 1
        yield from (self.tar[i : i + 1000] for i in range(0, len(self.tar), 1000))


class FakeEngine:
    def __init__(self, image: FakeImage) -> None:
        self.images = self
        self.image = image

    def get(self, reference: str) -> FakeImage:
        return self.image


@pytest.mark.parametrize("oci", [False, True], ids=["classic", "oci"])
def test_export_reads_docker_save_and_then_uses_the_cache(tmp_path: Path, oci: bool) -> None:
    other = layer_tar({"c": b"c" * 3000})
    tar, image_id = saved_image([LAYER, other, LAYER], oci)
    image = FakeImage(tar, image_id)
    cache = BlobCache(tmp_path)
    local = export(FakeEngine(image), "any", cache)  # type: ignore[arg-type]
    assert local.config.digest == image_id and local.config.media_type == layout.CONFIG_TYPE
    assert [gzip.decompress(blob.path.read_bytes()) for blob in local.layers] == [LAYER, other, LAYER]
    assert local.layers[0] == local.layers[2]
    assert export(FakeEngine(image), "any", cache) == local  # type: ignore[arg-type]
    assert image.saves == 1  # the second time, config and layers came from the cache
    assert list((tmp_path / "tmp").iterdir()) == []


def test_export_refuses_a_save_whose_config_disagrees(tmp_path: Path) -> None:
    broken, image_id = saved_image([LAYER], oci=False, extra=("extra/layer.tar",))
    with pytest.raises(UserError, match="has 2 layers but its config lists 1"):
        export(FakeEngine(FakeImage(broken, image_id)), "any", BlobCache(tmp_path))  # type: ignore[arg-type]
