"""pyfamily.oci.index: what an image index holds and what to push of it for a choice of platforms (pure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from pyfamily.errors import UserError
from pyfamily.oci import index
from pyfamily.oci.index import Index, MissingPlatforms, choose, platform_name


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


AMD, ARM = digest("amd64 manifest"), digest("arm64 manifest")
AMD_ATT, ARM_ATT = digest("amd64 attestation"), digest("arm64 attestation")


def image(digest_: str, arch: str, **extra: Any) -> dict[str, Any]:
    return {
        "mediaType": index.OCI_MANIFEST,
        "digest": digest_,
        "size": 475,
        "platform": {"architecture": arch, "os": "linux", **extra},
    }


def attestation(digest_: str, of: str) -> dict[str, Any]:
    return {
        "mediaType": index.OCI_MANIFEST,
        "digest": digest_,
        "size": 565,
        "annotations": {"vnd.docker.reference.digest": of, "vnd.docker.reference.type": "attestation-manifest"},
        "platform": {"architecture": "unknown", "os": "unknown"},
    }


def buildkit_index() -> bytes:
    """An index as BuildKit writes one for --platform linux/amd64,linux/arm64 (with provenance)."""
    document = {
        "schemaVersion": 2,
        "mediaType": index.OCI_INDEX,
        "manifests": [image(AMD, "amd64"), image(ARM, "arm64"), attestation(AMD_ATT, AMD), attestation(ARM_ATT, ARM)],
    }
    return json.dumps(document, indent=2).encode()


EVERYTHING = (AMD, ARM, AMD_ATT, ARM_ATT)


def pick(local: bytes, complete: Iterable[str], platforms: Sequence[str]) -> index.Push:
    """What to push of the local image whose index is `local` (its image ID that index's digest)."""
    return choose(Index.parse(local), local, complete, platforms, image_id=index.sha256(local))


def test_an_index_knows_its_platforms_and_attestations() -> None:
    parsed = Index.parse(buildkit_index())
    assert parsed.platforms == ("linux/amd64", "linux/arm64")
    assert [e.digest for e in parsed.images] == [AMD, ARM]
    assert [e.digest for e in parsed.attestations_of(ARM)] == [ARM_ATT]
    assert parsed.image("linux/arm64") is not None and parsed.image("linux/s390x") is None
    assert parsed.media_type == index.OCI_INDEX


def test_every_platform_pushes_the_local_index_byte_for_byte() -> None:
    local = buildkit_index()
    for order in (["linux/amd64", "linux/arm64"], ["linux/arm64", "linux/amd64"]):
        push = pick(local, EVERYTHING, order)
        assert push.verbatim and push.index == local and push.digest == index.sha256(local)
        assert [e.digest for e in push.manifests] == list(EVERYTHING)
        assert push.platforms == ("linux/amd64", "linux/arm64")


def test_a_subset_is_an_index_of_those_manifests_and_their_attestations_the_same_every_time() -> None:
    local = buildkit_index()
    push = pick(local, EVERYTHING, ["linux/arm64"])
    assert not push.verbatim and push.platforms == ("linux/arm64",)
    assert [e.digest for e in push.manifests] == [ARM, ARM_ATT]
    assert json.loads(push.index) == {
        "schemaVersion": 2,
        "mediaType": index.OCI_INDEX,
        "manifests": [image(ARM, "arm64"), attestation(ARM_ATT, ARM)],
    }
    assert push.index == pick(local, list(EVERYTHING), ("linux/arm64", "linux/arm64")).index
    assert push.index.startswith(b'{\n  "schemaVersion": 2,\n  "mediaType"')  # two-space indent, keys kept in order


def test_a_platform_the_image_lacks_is_refused_with_what_it_holds() -> None:
    local = buildkit_index()
    with pytest.raises(MissingPlatforms, match=r"no linux/s390x \(it holds linux/amd64, linux/arm64\)") as caught:
        pick(local, EVERYTHING, ["linux/amd64", "linux/s390x"])
    assert caught.value.missing == ("linux/s390x",)
    with pytest.raises(UserError, match="No platform"):
        pick(local, EVERYTHING, [])


def test_content_missing_locally_counts_as_a_missing_platform_and_never_reaches_the_index() -> None:
    local = buildkit_index()
    without_arm = (AMD, AMD_ATT)
    with pytest.raises(MissingPlatforms, match="no linux/arm64"):
        pick(local, without_arm, ["linux/amd64", "linux/arm64"])
    push = pick(local, without_arm, ["linux/amd64"])
    assert [e.digest for e in push.manifests] == [AMD, AMD_ATT] and not push.verbatim
    # an attestation missing locally: every platform is there, but the stored index names what cannot be pushed
    partial = pick(local, (AMD, ARM, AMD_ATT), ["linux/amd64", "linux/arm64"])
    assert not partial.verbatim and [e.digest for e in partial.manifests] == [AMD, ARM, AMD_ATT]


def test_a_verbatim_push_of_another_index_than_the_verified_image_is_refused_naming_both() -> None:
    local, verified = buildkit_index(), digest("the image verify passed")
    with pytest.raises(UserError, match=f"has the digest {index.sha256(local)}, not {verified}, the image ID"):
        choose(Index.parse(local), local, EVERYTHING, ["linux/amd64", "linux/arm64"], image_id=verified)


def test_a_single_manifest_image_gets_an_index_of_one() -> None:
    made = Index(
        {"schemaVersion": 2, "mediaType": index.OCI_INDEX, "manifests": []}, Index.parse(buildkit_index()).images[:1]
    )
    push = choose(made, None, (AMD,), ["linux/amd64"], image_id=AMD)
    assert not push.verbatim and push.platforms == ("linux/amd64",)
    assert json.loads(push.index)["manifests"] == [image(AMD, "amd64")]


def test_platform_names() -> None:
    assert platform_name({"os": "linux", "architecture": "arm64", "variant": "v8"}) == "linux/arm64"
    assert platform_name({"os": "linux", "architecture": "arm", "variant": "v7"}) == "linux/arm/v7"
    assert platform_name({"os": "linux", "architecture": "amd64"}) == "linux/amd64"
    assert platform_name({"os": "linux"}) == "" and platform_name(None) == ""


def test_what_is_not_an_index_is_refused() -> None:
    manifest = json.dumps({"schemaVersion": 2, "mediaType": index.OCI_MANIFEST, "config": {}, "layers": []})
    with pytest.raises(UserError, match="is not an image index"):
        Index.parse(manifest.encode())
    with pytest.raises(UserError, match="is not JSON"):
        Index.parse(b"<html>")
    broken = {"mediaType": index.OCI_INDEX, "manifests": [{"mediaType": index.OCI_MANIFEST, "digest": "sha256:../x"}]}
    with pytest.raises(UserError, match="without mediaType, digest or size"):
        Index.parse(json.dumps(broken).encode())
    broken["manifests"][0]["size"] = 1  # type: ignore[index]
    with pytest.raises(UserError, match="Not a sha256 digest"):
        Index.parse(json.dumps(broken).encode())
