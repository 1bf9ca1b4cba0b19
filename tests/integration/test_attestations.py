"""`invoke verify`'s attestations check on real images in the containerd image store: what BuildKit attaches as
`invoke build` asks (provenance, mode=max, and an SBOM from the family's own generator) passes, per platform; an
image built without either fails, naming what it lacks."""

from __future__ import annotations

import pytest

from pyfamily import config, model, plan, verify
from pyfamily.oci import attestations, layout
from pyfamily.produce import sbom
from pyfamily.produce.backend import DockerCli
from pyfamily.produce.processes import Processes

from . import registries, support

pytestmark = pytest.mark.integration

BOTH = ("linux/amd64", "linux/arm64")


@pytest.fixture(scope="module")
def generator(helper_image, tmp_path_factory) -> str:
    """The fixture family's SBOM generator, made (or remade from today's images/sbom) as a build would."""
    family = plan.expand(config.load(support.FIXTURE))
    return sbom.Scanner(family, DockerCli(), Processes(), tmp_path_factory.mktemp("sbom-logs")).ref(print)


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


def test_provenance_and_sbom_per_platform_pass(tiny, tmp_path, generator):
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


STATUS = "Package: libdemo1\nStatus: install ok installed\nArchitecture: arm64\nVersion: 1.0-2\n\n"
METADATA = "Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.2\n"
APP_SITE = "/usr/share/python3/app/lib/python3.13/site-packages"


def test_the_sbom_lists_debian_packages_and_python_distributions_per_platform(tmp_path, generator):
    dockerfile = f"FROM scratch\nCOPY status /var/lib/dpkg/status\nCOPY METADATA {APP_SITE}/demo_pkg-1.2.dist-info/\n"
    ref = "pyfamily-attest-test/tiny:listed"
    registries.buildx(tmp_path / "listed", ref, dockerfile, {"status": STATUS, "METADATA": METADATA}, BOTH, "--load",
                      f"--attest=type=sbom,generator={generator}")  # fmt: skip
    try:
        local = layout.export(support.client(), ref, layout.BlobCache(tmp_path / "cache"))
        for platform in BOTH:
            document = attestations.sbom(local, platform)
            assert document is not None and document["spdxVersion"] == "SPDX-2.3"
            purls = {ref["referenceLocator"] for package in document["packages"] for ref in package["externalRefs"]}
            assert purls == {"pkg:deb/debian/libdemo1@1.0-2?arch=arm64", "pkg:pypi/demo-pkg@1.2"}
    finally:
        support.client().images.remove(ref, force=True)
