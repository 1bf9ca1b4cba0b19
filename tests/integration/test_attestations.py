"""`invoke verify`'s attestations check on real images in the containerd image store: what BuildKit attaches with
`--provenance=mode=max` (as `invoke build` asks) passes, per platform; an image built without fails, naming it."""

from __future__ import annotations

import pytest

from pyfamily import model, verify
from pyfamily.verify import attestations

from . import registries

pytestmark = pytest.mark.integration

BOTH = ("linux/amd64", "linux/arm64")


@pytest.fixture
def tiny(tmp_path, docker_client):
    made = []

    def build(tag: str, *options: str) -> model.Target:
        ref = f"pyfamily-attest-test/tiny:{tag}"
        registries.buildx(tmp_path / tag, ref, "FROM scratch\nCOPY a /a\n", {"a": tag}, BOTH, "--load", *options)
        made.append(ref)
        return model.Target(name=tag, kind="base", ref=ref)

    yield build
    for ref in made:
        docker_client.images.remove(ref, force=True)


def test_provenance_per_platform_passes(tiny, tmp_path):
    target = tiny("attested", "--provenance=mode=max")
    for platform in BOTH:
        check = verify.attested(target, platform, tmp_path / "cache")
        assert check.passed, check.detail
        assert check.platform == platform


def test_an_image_without_provenance_fails_naming_what_is_missing(tiny, tmp_path):
    target = tiny("bare", "--provenance=false")
    check = verify.attested(target, "linux/arm64", tmp_path / "cache")
    assert not check.passed
    assert "no provenance attestation" in check.detail
    assert attestations.missing(["https://slsa.dev/provenance/v0.2"], [attestations.PROVENANCE]) == []
