"""Local images as OCI, kept where every run of this checkout finds them: verify and publish read the same export."""

from __future__ import annotations

from pathlib import Path

from pyfamily import engine
from pyfamily.oci import layout


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
