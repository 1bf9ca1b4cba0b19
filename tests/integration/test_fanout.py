"""The scheduled pipeline's fan-out, run by hand the way its jobs run it, against Debian's docker-registry on
127.0.0.1: one level per job, each on an engine holding none of the family's images (every local image of the
family removed between jobs), parents taken from the staging registry by digest, amd64 and arm64 in every image
(arm64's CPython cross-compiled), then a last job that pulls, verifies on both platforms and publishes.

This is the issue-10 acceptance path: no CPython is compiled twice, and the published `base` and `3.13` are
indexes holding linux/amd64 and linux/arm64, whose arm64 image runs (emulated) and says aarch64."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import pytest
import requests

from pyfamily.publish.stage import SUFFIX

from . import registries, support

pytestmark = pytest.mark.integration

REPOSITORY = "pyfamily-fanout/python"
BOTH = "linux/amd64,linux/arm64"
INVOKE = str(support.ROOT / ".venv" / "bin" / "invoke")
# The fixture family in a repository of its own, so removing its images touches no other test; only base,
# cpython-3.13 and 3.13 are built (every job names its target).
FAMILY = f"""extends: {support.FIXTURE}
repository: {REPOSITORY}
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Iterator[str]:
    with registries.serve_registry(tmp_path_factory.mktemp("fanout-registry")) as served:
        yield served.address


@pytest.fixture(scope="module")
def family_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fanout") / "family.yaml"
    path.write_text(FAMILY)
    return path


def invoke(family_file: Path, *args: str) -> str:
    """One job's command, as the workflow runs it; its output (the test fails with it on a non-zero exit)."""
    done = subprocess.run(
        [INVOKE, *args[:1], "--config", str(family_file), *args[1:]],
        cwd=support.ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output


def family_refs() -> list[str]:
    """Every local reference of the family (its staging copies included). The low-level list: other tests may
    remove images meanwhile, which the SDK's per-image inspect would trip on."""
    return [ref for image in support.client().api.images() for ref in image.get("RepoTags") or [] if REPOSITORY in ref]


def forget_family() -> None:
    """What a fresh runner has of the family: nothing."""
    for ref in family_refs():
        with contextlib.suppress(docker.errors.ImageNotFound):
            support.client().images.remove(ref, force=True)
    assert not family_refs()


def index_platforms(registry: str, repository: str, tag: str) -> list[str]:
    answer = requests.get(
        f"http://{registry}/v2/{repository}/manifests/{tag}",
        headers={"Accept": "application/vnd.oci.image.index.v1+json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    document = json.loads(answer.content)
    assert document["mediaType"] == "application/vnd.oci.image.index.v1+json"
    found = [f"{m['platform']['os']}/{m['platform']['architecture']}" for m in document["manifests"]]
    return sorted(name for name in found if name != "unknown/unknown")  # attestation manifests aside


def test_level_by_level_through_the_registry_then_publish(family_file, registry):
    stage = f"http://{registry}"
    forget_family()
    # job 1: base, both platforms (arm64's Debian tree bootstrapped with its maintainer scripts emulated)
    out = invoke(family_file, "build", "--target", "base", "--platform", BOTH, "--stage-to", stage)
    assert f"staged as {registry}/{REPOSITORY}{SUFFIX}:base@sha256:" in out
    # job 2: the CPython tree, on a runner with none of the family: base comes from the registry
    forget_family()
    out = invoke(family_file, "build", "--target", "cpython-3.13", "--platform", BOTH, "--parents-from", stage,
                 "--stage-to", stage)  # fmt: skip
    assert "[base] pulled from" in out and "[cpython-3.13] building" in out, out[-3000:]
    # job 3: the runtime; CPython is pulled, never compiled again
    forget_family()
    out = invoke(family_file, "build", "--target", "3.13", "--platform", BOTH, "--parents-from", stage,
                 "--stage-to", stage)  # fmt: skip
    assert "[cpython-3.13] pulled from" in out and "[base] pulled from" in out, out[-3000:]
    assert "[cpython-3.13] building" not in out
    assert "[3.13] building" in out
    # the last job: everything staged into a fresh engine, checked on both platforms, then published
    forget_family()
    invoke(family_file, "pull", "--from", stage, "--target", "base", "--target", "3.13", "--platform", BOTH)
    checks = invoke(family_file, "verify", "--target", "base", "--target", "3.13", "--platform", BOTH)
    assert "linux/arm64" in checks and "FAILED" not in checks
    invoke(family_file, "publish", "--target", "3.13", "--target", "base", "--registry", stage,
           "--allow-profile", "fast")  # fmt: skip
    for tag in ("base", "3.13", "3.13.15-trixie"):
        assert index_platforms(registry, REPOSITORY, tag) == ["linux/amd64", "linux/arm64"], tag
    machine = support.client().containers.run(
        f"{registry}/{REPOSITORY}:3.13",
        ["python", "-c", "import platform; print(platform.machine())"],
        platform="linux/arm64",
        remove=True,
    )
    assert machine.decode().strip() == "aarch64"
