"""A build for the foreign platform alone (`--platform linux/arm64` on amd64): CPython compiles on the build
platform FROM base, so base, and the Debian tree under it, must hold this machine's platform too. Runs after
test_fanout, whose identical layers BuildKit's cache holds."""

from __future__ import annotations

import subprocess

import pytest

from pyfamily import platforms

from . import support

pytestmark = pytest.mark.integration

REPOSITORY = "pyfamily-foreign/python"


def refs() -> list[str]:
    return [ref for image in support.client().api.images() for ref in image.get("RepoTags") or [] if REPOSITORY in ref]


def test_cpython_for_the_foreign_platform_alone(tmp_path):
    foreign = next(name for name in platforms.PLATFORMS if name != platforms.host())
    family_file = tmp_path / "family.yaml"
    family_file.write_text(f"extends: {support.FIXTURE}\nrepository: {REPOSITORY}\n")
    command = [str(support.ROOT / ".venv" / "bin" / "invoke"), "build", "--config", str(family_file),
               "--target", "cpython-3.13", "--platform", foreign]  # fmt: skip
    try:
        done = subprocess.run(command, cwd=support.ROOT, capture_output=True, text=True, timeout=3600, check=False)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        both = platforms.label_value([name for name in platforms.PLATFORMS if name in (foreign, platforms.host())])
        for name in ("rootfs-trixie", "base"):
            labels = support.client().images.get(f"{REPOSITORY}:{name}").labels
            assert labels[platforms.LABEL] == both, name
        cpython = support.client().images.get(f"{REPOSITORY}:cpython-3.13.15-fast").labels
        assert cpython[platforms.LABEL] == foreign
    finally:
        for ref in refs():
            support.client().images.remove(ref, force=True)
