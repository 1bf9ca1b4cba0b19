"""Local images as OCI, kept where every run of this checkout finds them: verify and publish read the same export."""

from __future__ import annotations

from pathlib import Path

from pyfamily import engine
from pyfamily.oci import index, layout


def blob_cache(cache_dir: Path) -> layout.BlobCache:
    """Where the blobs of saved images are kept (by image ID), shared by every run of this checkout."""
    return layout.BlobCache(cache_dir / "blobs")


def export(reference: str, cache_dir: Path) -> layout.LocalImage:
    """The local image `reference` as the engine stores it (its `docker save`, cached by image ID)."""
    return layout.export(engine.client(), reference, blob_cache(cache_dir))


def local_platforms(reference: str, cache_dir: Path) -> tuple[str, ...]:
    """The platforms the local image `reference` (or image ID) holds, in its index's order, e.g. ("linux/amd64",
    "linux/arm64"): from its `docker save`, which is cached by image ID (see layout.platforms)."""
    return layout.platforms(engine.client(), reference, blob_cache(cache_dir))


def _content_file(cache_dir: Path, image_id: str) -> Path:
    return cache_dir / "contents" / index.check_digest(image_id)


def remember_content(cache_dir: Path, image_id: str, index_bytes: bytes) -> None:
    """Note the content digest (Index.content) of a local image whose index the build handed over, so that
    `content` need not `docker save` it; ignored unless the bytes are the image ID's."""
    if index.sha256(index_bytes) != image_id:
        return
    file = _content_file(cache_dir, image_id)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(index.Index.parse(index_bytes, f"The index of {image_id}").content + "\n")


def content(reference: str, cache_dir: Path) -> str:
    """The content digest of the local image `reference` (Index.content): noted when it was built, else read from
    its export (a `docker save`, once per image ID)."""
    image = engine.image_or_none(reference)
    if image is None:
        raise LookupError(f"{reference} is not in the local engine although the plan built it; rebuild it.")
    noted = _content_file(cache_dir, str(image.id))
    if noted.exists():
        return noted.read_text().strip()
    found = export(str(image.id), cache_dir).index.content
    noted.parent.mkdir(parents=True, exist_ok=True)
    noted.write_text(found + "\n")
    return found
