"""`invoke verify`'s attestations check on real images in the containerd image store: what BuildKit attaches as
`invoke build` asks (provenance, mode=max, and an SBOM from the family's own generator) passes, per platform; an
image built without either fails, naming what it lacks."""

from __future__ import annotations

import pytest

from pyfamily import model, verify
from pyfamily.build import sbom
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


def test_provenance_and_sbom_per_platform_pass(tiny, tmp_path, helper_image):
    # the fixture family's base is built, so its SBOM generator is made (pyfamily.build.sbom)
    generator = sbom.scanner_ref(helper_image.rsplit(":", 1)[0])
    target = tiny("attested", "--attest=type=provenance,mode=max", f"--attest=type=sbom,generator={generator}")
    for platform in BOTH:
        check = verify.attested(target, platform, tmp_path / "cache")
        assert check.passed, check.detail
        assert check.platform == platform


def test_an_image_without_them_fails_naming_what_is_missing(tiny, tmp_path):
    provenance_only = verify.attested(tiny("provenance", "--provenance=mode=max"), "linux/arm64", tmp_path / "cache")
    assert not provenance_only.passed
    assert provenance_only.detail == "no SBOM attestation (found: https://slsa.dev/provenance/v0.2)"
    bare = verify.attested(tiny("bare", "--provenance=false"), "linux/arm64", tmp_path / "cache")
    assert not bare.passed and bare.detail.startswith("no provenance, SBOM attestation")
    assert attestations.missing(["https://slsa.dev/provenance/v0.2"], [attestations.PROVENANCE]) == []
