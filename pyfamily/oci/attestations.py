"""Whether a local image carries, for each platform, the attestations BuildKit attached when it was built: a
provenance statement (SLSA, `--provenance=mode=max`), and an SBOM (SPDX) when the build asked for one.

They are read from the image as the engine stores it (pyfamily.oci.layout: its `docker save`, cached by image
ID, so publish reuses it): each attestation manifest of the index refers to the platform manifest it describes,
and names what each of its layers holds in the `in-toto.io/predicate-type` annotation."""

from __future__ import annotations

from collections.abc import Sequence

from pyfamily.oci import index as oci
from pyfamily.oci.layout import LocalImage

PREDICATE = "in-toto.io/predicate-type"
PROVENANCE = "https://slsa.dev/provenance/"  # a prefix: v0.2 with BuildKit 0.13, v1 later
SBOM = "https://spdx.dev/Document"


def predicates(image: LocalImage, platform: str) -> tuple[str, ...]:
    """The predicate types attested for `platform`'s manifest of `image` (none: no attestation manifest)."""
    entry = image.index.image(platform)
    if entry is None:
        return ()
    found = []
    for attestation in image.index.attestations_of(entry.digest):
        document = oci.parse_json(image.manifest(attestation), f"The attestation manifest {attestation.digest}")
        for layer in document.get("layers") or []:
            notes = layer.get("annotations") if isinstance(layer, dict) else None
            if isinstance(notes, dict) and isinstance(notes.get(PREDICATE), str):
                found.append(notes[PREDICATE])
    return tuple(found)


def sbom(image: LocalImage, platform: str) -> dict[str, object] | None:
    """The SPDX document attested for `platform`'s manifest of `image` (None: no SBOM)."""
    entry = image.index.image(platform)
    for attestation in image.index.attestations_of(entry.digest) if entry else ():
        document = oci.parse_json(image.manifest(attestation), f"The attestation manifest {attestation.digest}")
        for layer in document.get("layers") or []:
            notes = layer.get("annotations") if isinstance(layer, dict) else None
            if isinstance(notes, dict) and notes.get(PREDICATE) == SBOM:
                part = oci.Descriptor.parse(layer, f"The attestation manifest {attestation.digest}")
                data = image.cache.read(part.digest, part.size)  # re-hashed, as every blob read back
                statement = oci.parse_json(data, "The SBOM statement") if data is not None else {}
                predicate = statement.get("predicate")
                return predicate if isinstance(predicate, dict) else None
    return None


def missing(found: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """The wanted predicate types (prefixes) none of `found` starts with."""
    return [want for want in wanted if not any(item.startswith(want) for item in found)]


def describe(kinds: Sequence[str]) -> str:
    names = {PROVENANCE: "provenance", SBOM: "SBOM"}
    return ", ".join(names.get(kind, kind) for kind in kinds)
