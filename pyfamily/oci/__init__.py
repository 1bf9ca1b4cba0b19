"""Local images read as OCI, below both verify and publish: `layout` (an image as the engine stores it: its `docker
save`, blobs cached by image ID and re-hashed on every read), `index` (indexes, descriptors, what to push: pure),
`attestations` (the provenance and SBOM attested for each platform), `local` (the checkout's blob cache)."""

from pyfamily.oci import attestations, index, layout
from pyfamily.oci.local import blob_cache, content, export, local_platforms, remember_content

__all__ = [
    "attestations",
    "blob_cache",
    "content",
    "export",
    "index",
    "layout",
    "local_platforms",
    "remember_content",
]
