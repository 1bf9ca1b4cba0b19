"""Staging for the pipeline's fan-out, the pure parts: staging tags per platform choice, merged indexes, locations."""

import json
from pathlib import Path

import pytest

from pyfamily import config, plan
from pyfamily.errors import UserError
from pyfamily.oci import index as oci
from pyfamily.publish import stage

SHIPPED = config.load(Path(__file__).resolve().parents[2] / "images.yaml")
BOTH = ("linux/amd64", "linux/arm64")


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}" * 64


def part(arch: str, image: int, attestation: int) -> oci.Index:
    """A per-platform index as BuildKit writes one: the image and its attestation manifest."""
    document = {
        "schemaVersion": 2,
        "mediaType": oci.OCI_INDEX,
        "manifests": [
            {
                "mediaType": oci.OCI_MANIFEST,
                "digest": digest(image),
                "size": 100 + image,
                "platform": {"architecture": arch, "os": "linux"},
            },
            {
                "mediaType": oci.OCI_MANIFEST,
                "digest": digest(attestation),
                "size": 50,
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {oci.REFERENCE_TYPE: oci.ATTESTATION, oci.REFERENCE_DIGEST: digest(image)},
            },
        ],
    }
    return oci.Index.parse(json.dumps(document).encode())


def test_staging_tag_names_the_platforms_only_when_fewer_than_the_file_lists():
    both = plan.expand(SHIPPED, "fast", BOTH)
    arm = plan.expand(SHIPPED, "fast", ("linux/arm64",))
    assert stage.staged_tag(both, both["cpython-3.13"]) == "cpython-3.13"
    assert stage.staged_tag(arm, arm["cpython-3.13"]) == "cpython-3.13--arm64"
    assert stage.staged_tag(both, both["3.13"], ["linux/amd64"]) == "3.13--amd64"


def test_merged_index_holds_each_platform_with_its_attestation_in_the_files_order():
    arm, amd = part("arm64", 1, 2), part("amd64", 3, 4)
    data = stage.merged([arm, amd], BOTH)
    merged = oci.Index.parse(data)
    assert merged.platforms == BOTH
    assert [e.digest for e in merged.entries] == [digest(3), digest(4), digest(1), digest(2)]
    assert merged.attestations_of(digest(1))[0].digest == digest(2)
    assert stage.merged([amd, arm], BOTH) == data  # whichever job merges, the same bytes, so the same digest


def test_merging_without_a_platform_is_refused():
    with pytest.raises(UserError, match="linux/arm64"):
        stage.merged([part("amd64", 3, 4)], BOTH)


def test_location_is_a_registry_and_names_the_stage_repository():
    where = stage.location(SHIPPED, "http://127.0.0.1:5000", "--stage-to")
    assert (where.registry.host, where.registry.insecure) == ("127.0.0.1:5000", True)
    assert where.name == "127.0.0.1:5000/pyfamily/python-stage"
    with pytest.raises(UserError, match="--parents-from 'ftp://x'"):
        stage.location(SHIPPED, "ftp://x", "--parents-from")
