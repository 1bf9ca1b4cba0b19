"""Image indexes, pure: what an index holds (per-platform manifests, BuildKit's attestation manifests) and what
to push of a local one for a choice of platforms. No engine, no network, no files.

BuildKit writes an attestation manifest (SBOM, provenance) as an index entry of platform `unknown/unknown` with
the annotations `vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest: <digest of
the platform manifest it describes>`.

- `Index.parse(data)`: the entries of an index or manifest list; `.images`, `.platforms`, `.attestations_of(d)`.
- `platform_name(platform)`: `os/architecture[/variant]`, `linux/arm64/v8` written `linux/arm64`.
- `choose(index, local_bytes, complete, platforms, image_id=) -> Push`: the manifests to push for those platforms,
  with the attestations of those manifests, and the index: `local_bytes` unchanged when the platforms are exactly
  the index's (the registry digest is then the local image ID: refused unless `local_bytes` hash to `image_id`),
  else `index_bytes` of the chosen entries in the local order, the same bytes every time. A platform the image
  lacks raises `MissingPlatforms`.
- `single(manifest, config) -> Index`: the index of one entry standing for an image that is one manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyfamily.errors import UserError

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST_V2 = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPES = (OCI_INDEX, MANIFEST_LIST_V2, OCI_MANIFEST, MANIFEST_V2)
INDEX_TYPES = (OCI_INDEX, MANIFEST_LIST_V2)
IMAGE_TYPES = (OCI_MANIFEST, MANIFEST_V2)
REFERENCE_TYPE = "vnd.docker.reference.type"  # BuildKit's annotations on an attestation manifest's entry
REFERENCE_DIGEST = "vnd.docker.reference.digest"
ATTESTATION = "attestation-manifest"
UNKNOWN_PLATFORM = "unknown/unknown"

_IMPLIED_VARIANTS = {"arm64": "v8", "amd64": "v1"}  # `linux/arm64/v8` is `linux/arm64`


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if algorithm != "sha256" or len(value) != 64 or not all(c in "0123456789abcdef" for c in value):
        raise UserError(f"Not a sha256 digest: {digest[:80]!r}.")
    return value


def platform_name(platform: object) -> str:
    """`os/architecture[/variant]` of an OCI platform object (or an image config); "" when it names none."""
    if not isinstance(platform, Mapping):
        return ""
    system, architecture = platform.get("os"), platform.get("architecture")
    if not isinstance(system, str) or not isinstance(architecture, str) or not system or not architecture:
        return ""
    variant = platform.get("variant")
    if not isinstance(variant, str) or not variant or _IMPLIED_VARIANTS.get(architecture) == variant:
        return f"{system}/{architecture}"
    return f"{system}/{architecture}/{variant}"


@dataclass(frozen=True)
class Descriptor:
    """One entry of an index (or the descriptor of a blob), with the JSON object it was read from."""

    media_type: str
    digest: str
    size: int
    platform: str = ""  # platform_name(...); UNKNOWN_PLATFORM for an attestation manifest
    annotations: Mapping[str, str] | None = field(default=None, compare=False)
    document: Mapping[str, Any] | None = field(default=None, compare=False)  # as written in an index, kept whole

    @property
    def attests(self) -> str | None:
        """The digest of the manifest this attestation manifest describes; None for any other entry."""
        notes = self.annotations or {}
        return notes.get(REFERENCE_DIGEST) if notes.get(REFERENCE_TYPE) == ATTESTATION else None

    @staticmethod
    def parse(entry: object, what: str) -> Descriptor:
        if not isinstance(entry, Mapping):
            raise UserError(f"{what} has an entry that is not a descriptor.")
        media_type, digest, size = entry.get("mediaType"), entry.get("digest"), entry.get("size")
        if not isinstance(media_type, str) or not isinstance(digest, str) or not isinstance(size, int) or size < 0:
            raise UserError(f"{what} has a descriptor without mediaType, digest or size: {json.dumps(entry)[:200]}.")
        check_digest(digest)
        annotations = entry.get("annotations")
        notes = {str(k): str(v) for k, v in annotations.items()} if isinstance(annotations, Mapping) else None
        return Descriptor(media_type, digest, size, platform_name(entry.get("platform")), notes, dict(entry))


def parse_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except ValueError:
        raise UserError(f"{what} is not JSON.") from None
    if not isinstance(document, dict):
        raise UserError(f"{what} is not a JSON object.")
    return document


@dataclass(frozen=True)
class Index:
    """An image index (or manifest list): every entry in order, and which are images, which attestations."""

    document: Mapping[str, Any]
    entries: tuple[Descriptor, ...]

    @staticmethod
    def parse(data: bytes, what: str = "The image index") -> Index:
        document = parse_json(data, what)
        if document.get("mediaType", OCI_INDEX) not in INDEX_TYPES or not isinstance(document.get("manifests"), list):
            raise UserError(f"{what} is not an image index (mediaType {document.get('mediaType')!r}).")
        return Index(document, tuple(Descriptor.parse(entry, what) for entry in document["manifests"]))

    @property
    def media_type(self) -> str:
        return str(self.document.get("mediaType", OCI_INDEX))

    @property
    def images(self) -> tuple[Descriptor, ...]:
        """The per-platform image manifests: every entry that is neither an attestation nor of no platform."""
        return tuple(e for e in self.entries if e.attests is None and e.platform not in ("", UNKNOWN_PLATFORM))

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.platform for e in self.images))

    def image(self, platform: str) -> Descriptor | None:
        return next((e for e in self.images if e.platform == platform), None)

    @property
    def content(self) -> str:
        """A digest of what the image is, platform by platform: its platform manifests, not the index, whose
        attestations (BuildKit's provenance records when it ran) differ between two bit-for-bit builds."""
        lines = sorted(f"{entry.platform} {entry.digest}\n" for entry in self.images)
        return sha256("".join(lines).encode())

    def attestations_of(self, digest: str) -> tuple[Descriptor, ...]:
        return tuple(e for e in self.entries if e.attests == digest)


def index_bytes(document: Mapping[str, Any], entries: Iterable[Descriptor]) -> bytes:
    """`document` (an index) with exactly `entries` as its manifests, keys in their order: the same bytes for
    the same entries, written the way BuildKit writes an index (two-space indent)."""
    chosen = [dict(e.document) if e.document is not None else plain_descriptor(e) for e in entries]
    return json.dumps({**document, "manifests": chosen}, indent=2, ensure_ascii=True).encode("ascii")


def plain_descriptor(entry: Descriptor) -> dict[str, Any]:
    return {"mediaType": entry.media_type, "digest": entry.digest, "size": entry.size}


def single(manifest: Descriptor, config: Mapping[str, Any]) -> Index:
    """The index of one entry standing for an image that is the one manifest `manifest`, of the platform its
    `config` says (a Docker manifest list for a Docker manifest, else an OCI index)."""
    platform = {k: v for k in ("architecture", "os", "variant") if isinstance(v := config.get(k), str) and v}
    entry = {**plain_descriptor(manifest), **({"platform": platform} if platform else {})}
    wrapper = MANIFEST_LIST_V2 if manifest.media_type == MANIFEST_V2 else OCI_INDEX
    document = {"schemaVersion": 2, "mediaType": wrapper, "manifests": [entry]}
    return Index(document, (Descriptor.parse(entry, f"The index of the manifest {manifest.digest}"),))


@dataclass(frozen=True)
class Push:
    """What goes to a registry for one image and a choice of platforms, manifests before the index."""

    index: bytes
    media_type: str
    manifests: tuple[Descriptor, ...]  # the chosen images and their attestations, in the local index's order
    platforms: tuple[str, ...]
    verbatim: bool  # the local index's own bytes: the registry digest is the local image ID

    @property
    def digest(self) -> str:
        return sha256(self.index)


class MissingPlatforms(UserError):
    def __init__(self, missing: Sequence[str], present: Sequence[str]) -> None:
        super().__init__(
            f"The local image has no {', '.join(missing)} (it holds {', '.join(present) or 'no platform'}); "
            f"build it with `invoke build --platform {','.join(dict.fromkeys([*present, *missing]))}`."
        )
        self.missing, self.present = tuple(missing), tuple(present)


def choose(
    index: Index, local_bytes: bytes | None, complete: Iterable[str], platforms: Sequence[str], *, image_id: str
) -> Push:
    """The push of `platforms` (in the index's order) from the local image `image_id` whose index is `index`
    (`local_bytes` its stored bytes; None when the image is a single manifest, its index made here), where
    `complete` are the digests of the entries whose every blob is at hand. Attestations go with the manifests they
    describe. The local index pushed verbatim must be the image ID: `invoke verify` keeps its verdicts by it."""
    whole = set(complete)
    present = tuple(dict.fromkeys(e.platform for e in index.images if e.digest in whole))
    missing = [p for p in dict.fromkeys(platforms) if p not in present]
    if not platforms:
        raise UserError("No platform was chosen to push.")
    if missing:
        raise MissingPlatforms(missing, present)
    chosen = {e.digest for e in index.images if e.platform in platforms and e.digest in whole}
    if (
        local_bytes is not None
        and set(platforms) == set(index.platforms)
        and {e.digest for e in index.entries} <= whole
    ):
        if sha256(local_bytes) != image_id:
            raise UserError(
                f"The local index about to be pushed has the digest {sha256(local_bytes)}, not {image_id}, the image "
                "ID `invoke verify` passed: nothing of it was pushed (rebuild the image if this repeats)."
            )
        entries = index.entries  # the index as the engine stores it, every entry of it
        return Push(local_bytes, index.media_type, entries, index.platforms, True)
    entries = tuple(e for e in index.entries if e.digest in chosen or (e.attests in chosen and e.digest in whole))
    return Push(
        index_bytes(index.document, entries),
        index.media_type,
        entries,
        tuple(p for p in present if p in platforms),
        False,
    )
