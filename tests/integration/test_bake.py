"""`invoke bake`: the real `docker buildx bake` reads the file back (the fixture family, every platform) and builds
a tiny plan from it: base FROM a local image, and a kind FROM base wired as a `target:` context. No download."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyfamily import cli, engine, kinds
from pyfamily.cli import pipeline, planning
from pyfamily.config import Config
from pyfamily.kinds import Draft, Index, Listing, Recipe
from pyfamily.model import FROM, Family
from pyfamily.plan import Selection
from pyfamily.produce import bake

from . import support

pytestmark = pytest.mark.integration

READ_BACK = ("context", "dockerfile", "tags", "labels", "platforms", "attest", "contexts", "secret")
SHA = "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76"  # Python-3.13.15.tar.xz: never fetched
TEST_REPOSITORY = "pyfamily-bake-test"  # every image this file makes is under it, and removed at the end


@pytest.fixture
def work_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`invoke bake` as it runs, its contexts rendered into a folder of the test's (not the checkout's build/)."""
    work = tmp_path / "work"

    def settings(family: Family, **options):
        return dataclasses.replace(pipeline.settings(family, **options), work_dir=work)

    monkeypatch.setattr(planning, "settings", settings)
    return work


def buildx(*args: str, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [engine.build_cli().path, "buildx", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_buildx_reads_back_the_targets_contexts_platforms_and_tags(docker_client, work_dir, tmp_path):
    out = tmp_path / "docker-bake.json"
    said = cli.bake_file(
        str(support.FIXTURE), Selection(), platforms=("all",), ca_bundle=str(support.HOST_CA_BUNDLE), out=str(out)
    )
    assert said == f"wrote {out}: docker buildx bake --file {out}"
    written = json.loads(out.read_text())
    read = json.loads(buildx("bake", "--file", str(out), "--print").stdout)
    assert read["group"]["default"]["targets"] == written["group"]["default"]["targets"]
    assert set(read["target"]) == set(written["target"]) >= {"base", "cpython-3_11", "3_13-pillow", "all", "ipython"}
    for name, entry in written["target"].items():
        assert {key: read["target"][name].get(key) for key in READ_BACK} == {key: entry.get(key) for key in READ_BACK}
        assert entry["platforms"] == ["linux/amd64", "linux/arm64"]
        assert Path(entry["context"]).parent == work_dir / "contexts"
    assert read["target"]["3_13"]["contexts"] == {
        "pyfamily-test/python:base": "target:base",
        "pyfamily-test/python:cpython-3.13.15-fast": "target:cpython-3_13",
    }


def stamp_targets(config: Config, profile: str, index: Index) -> list[Draft]:
    return [Draft("stamp", uses={FROM: index.find("base")}, tag_templates=["stamp"])]


@pytest.fixture
def stamp_kind(tmp_path: Path) -> Iterator[Recipe]:
    """A kind FROM base that needs no shell: base's files plus one of its own."""
    folder = tmp_path / "stamp"
    folder.mkdir()
    (folder / "Dockerfile.j2").write_text("FROM {{ parent }}\nCOPY stamp.txt /stamp.txt\n")
    (folder / "stamp.txt").write_text("baked\n")
    recipe = kinds.register(
        Recipe(
            kind="stamp",
            expand=stamp_targets,
            folder=folder,
            listing=Listing.LAST,
            describe=lambda config, target: "base plus a stamp",
            freshness=(),
        )
    )
    try:
        yield recipe
    finally:
        kinds.unregister("stamp")


@pytest.fixture
def repository(docker_client) -> Iterator[str]:
    """A repository of this test's own, and a seed image in it (a tiny imported tree: nothing to download)."""
    repository = f"{TEST_REPOSITORY}/python-{uuid.uuid4().hex[:8]}"
    tree = io.BytesIO()
    with tarfile.open(fileobj=tree, mode="w") as archive:
        for name, data in (("etc/seed", b"seed\n"), ("usr/local/bin/.keep", b"")):
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    docker_client.api.import_image_from_data(tree.getvalue(), repository=repository, tag="seed")
    try:
        yield repository
    finally:
        for image in docker_client.images.list(name=repository):
            for tag in image.tags:
                if tag.startswith(f"{repository}:"):
                    docker_client.images.remove(tag, force=True)


def test_docker_buildx_bake_builds_a_plan_with_its_parent_wired_as_a_target(
    docker_client, work_dir, tmp_path, stamp_kind, repository
):
    family_file = tmp_path / "family.yaml"
    family_file.write_text(
        f"repository: {repository}\n"
        "python:\n"
        '  default: "3.13"\n'
        "  versions:\n"
        f'    "3.13": {{version: 3.13.15, sha256: {SHA}}}\n'
        f"base:\n  from: {repository}:seed\n  suite: trixie\n"
    )
    out = tmp_path / "docker-bake.json"
    cli.bake_file(str(family_file), Selection(names=("stamp",)), ca_bundle="none", out=str(out))
    written = json.loads(out.read_text())
    assert written["group"]["default"]["targets"] == ["base", "stamp"]
    assert written["target"]["stamp"]["contexts"] == {f"{repository}:base": "target:base"}
    assert not (docker_client.images.list(name=f"{repository}:base")), "base must come from bake, not the store"
    # The seed tree has no Debian to make the family's SBOM generator from (invoke build makes it): provenance only.
    buildx(
        "--builder", "default", "bake", "--file", str(out), "--sbom=false", "--load", "--progress=plain", timeout=600
    )
    stamp = docker_client.images.get(f"{repository}:stamp")
    assert stamp.labels[bake.TARGET_LABEL] == "stamp"
    base = docker_client.images.get(f"{repository}:base")
    assert {f"{repository}:base", f"{repository}:base-trixie"} <= set(base.tags)
    files = dict(support.files_of(f"{repository}:stamp"))
    assert files["stamp.txt"] == b"baked\n" and files["etc/seed"] == b"seed\n"
    assert "usr/local/bin/apt-install" in files  # base's helpers: the stamp was built FROM the base bake just built
