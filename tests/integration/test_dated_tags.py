"""Dated tags on the real engine: a second build of a target on the same day gets `<tag>-<date>.1` and the first
keeps its tag, an image built on another day gets no date of today, and publish pushes the dated tags an image has.

The target is the cheapest there is: `base` (two COPY steps, no RUN) in a repository of its own, so no other run's lock
is in the way; its Debian tree is bootstrapped once for the module and kept while the tests run. Its inputs change
through the source label (Settings.source); the build day through the scheduler's clock."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pyfamily import config, engine, plan, produce, publish, verify
from pyfamily.config import RegistrySpec
from pyfamily.kinds.base import rootfs_ref
from pyfamily.model import Family
from pyfamily.oci import index as oci
from pyfamily.oci import layout
from pyfamily.oci.layout import BlobCache
from pyfamily.plan import Selection
from pyfamily.produce import scheduler
from pyfamily.produce.dated import dated_tags
from pyfamily.produce.inputs import CREATED_LABEL

from . import registries, support

pytestmark = pytest.mark.integration

REPOSITORY = "pyfamily-dated/python"
DAY = dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=dt.UTC)
MANIFEST_TYPES = ", ".join(oci.MANIFEST_TYPES)  # every tag is an index now; accept every kind


def remove_repository(*keep: str) -> None:
    """Remove every image of the test repository but those tagged `keep` (their other tags go)."""
    support.untag(REPOSITORY, *keep)


@pytest.fixture(scope="module")
def family_file(docker_client, tmp_path_factory) -> Iterator[Path]:
    """The fixture family (Debian trixie bootstrapped) in its own repository; every image of it removed at the end."""
    path = tmp_path_factory.mktemp("dated") / "family.yaml"
    path.write_text(f"extends: {support.FIXTURE}\nrepository: {REPOSITORY}\n")
    remove_repository()
    try:
        yield path
    finally:
        remove_repository()


@pytest.fixture
def tiny(family_file) -> Iterator[Family]:
    """The family, with no image of its repository but the bootstrapped tree and the SBOM generator (made by the
    first build)."""
    remove_repository("rootfs-trixie", "sbom-scanner")
    yield plan.expand(config.load(family_file))
    remove_repository("rootfs-trixie", "sbom-scanner")


def platform_manifests(image_id: str) -> dict[str, str]:
    """Platform -> manifest digest of a local image's index."""
    local = layout.export(support.client(), image_id, BlobCache(Path(tempfile.mkdtemp(prefix="pyfamily-dated-"))))
    return {entry.platform: entry.digest for entry in local.index.images}


def build_base(family: Family, tmp_path: Path, source: str, when: dt.datetime, monkeypatch) -> produce.Result:
    """Build the base target as if at `when`, with `source` as its source label (an input)."""
    monkeypatch.setattr(scheduler, "clock", lambda: when)
    settings = produce.Settings(jobs=1, ca_bundle=None, work_dir=tmp_path / "work", source=source)
    (result,) = produce.run(plan.select(family, Selection(names=("base",))), settings, say=print).results
    assert result.status.good, result.detail
    return result


def repository_tags() -> dict[str, str]:
    """Every tag of the test repository in the local engine -> image ID (but the internal tree and SBOM generator's)."""
    prefix = f"{REPOSITORY}:"
    internal = {f"{prefix}rootfs-trixie", f"{prefix}sbom-scanner"}
    return {
        ref.removeprefix(prefix): str(image.id)
        for image in support.client().images.list(REPOSITORY)
        for ref in image.tags
        if ref.startswith(prefix) and ref not in internal
    }


def test_a_second_build_of_the_day_gets_the_next_dated_tag_and_the_first_keeps_its_own(tiny, tmp_path, monkeypatch):
    first_tag = "base-trixie-20260314"
    first = build_base(tiny, tmp_path, "https://example.invalid/one", DAY, monkeypatch)
    assert first.status == "built"
    assert repository_tags() == {tag: first.image_id for tag in ("base", "base-trixie", first_tag)}

    later = DAY + dt.timedelta(hours=3)
    second = build_base(tiny, tmp_path, "https://example.invalid/two", later, monkeypatch)
    assert second.status == "built" and second.image_id != first.image_id
    tags = repository_tags()
    assert tags[first_tag] == first.image_id  # the first build's dated tag did not move
    assert tags[f"{first_tag}.1"] == tags["base"] == tags["base-trixie"] == second.image_id
    assert dated_tags(tiny.config.tags, tiny["base"], support.client().images.get(second.image_id)) == [
        f"{first_tag}.1"
    ]

    again = build_base(tiny, tmp_path, "https://example.invalid/two", later, monkeypatch)
    assert again.status == "up to date" and repository_tags() == tags  # no .2 for the same image

    third = build_base(tiny, tmp_path, "https://example.invalid/three", later, monkeypatch)
    tags = repository_tags()
    assert tags[f"{first_tag}.2"] == third.image_id
    assert (tags[first_tag], tags[f"{first_tag}.1"]) == (first.image_id, second.image_id)


def test_an_image_built_on_another_day_gets_no_date_of_today(tiny, tmp_path, monkeypatch):
    built = build_base(tiny, tmp_path, "https://example.invalid/one", DAY, monkeypatch)
    next_week = DAY + dt.timedelta(days=7)
    checked = build_base(tiny, tmp_path, "https://example.invalid/one", next_week, monkeypatch)
    assert checked.status == "up to date" and checked.image_id == built.image_id
    tags = repository_tags()
    assert tags == {tag: built.image_id for tag in ("base", "base-trixie", "base-trixie-20260314")}
    assert not [tag for tag in tags if next_week.strftime("%Y%m%d") in tag]
    image = support.client().images.get(built.image_id)
    assert dated_tags(tiny.config.tags, tiny["base"], image) == ["base-trixie-20260314"]


def test_the_created_time_is_the_inputs_and_the_dated_tag_the_day_the_digest_first_appeared(
    tiny, tmp_path, monkeypatch
):
    """Issue 21: an image's times come from its inputs (base's: the Debian archive's Release date its tree was
    bootstrapped from, which the tree image carries), so its created label is no build day; the dated tag is the
    day the build ran (the created label used to be the clock, and the dated tag its day)."""
    built = build_base(tiny, tmp_path, "https://example.invalid/one", DAY, monkeypatch)
    client = support.client()
    image, tree = client.images.get(built.image_id), client.images.get(rootfs_ref(tiny.config))
    released = dt.datetime.fromtimestamp(engine.created_epoch(tree), dt.UTC)
    assert released.date() != DAY.date()
    assert image.labels[CREATED_LABEL] == released.isoformat(timespec="seconds")
    assert engine.created_epoch(image) == engine.created_epoch(tree)  # the config's created time too
    assert dated_tags(tiny.config.tags, tiny["base"], image) == ["base-trixie-20260314"]


def test_a_rebuild_from_the_same_inputs_is_another_image_with_the_next_dated_tag(tiny, tmp_path, monkeypatch):
    first = build_base(tiny, tmp_path, "https://example.invalid/one", DAY, monkeypatch)
    client = support.client()
    for tag in ("base", "base-trixie"):  # the moving tags gone: the image is no longer up to date, it is rebuilt
        client.images.remove(f"{REPOSITORY}:{tag}")
    assert repository_tags() == {"base-trixie-20260314": first.image_id}
    again = build_base(tiny, tmp_path, "https://example.invalid/one", DAY, monkeypatch)
    # BuildKit's cache gives the same platform manifest, but the index differs: its provenance attestation records
    # this build (its start and end). Another digest is another image, so the dated tag it gets is the next one.
    assert again.status == "built" and again.image_id != first.image_id
    assert platform_manifests(again.image_id) == platform_manifests(first.image_id)
    assert repository_tags() == {
        "base-trixie-20260314": first.image_id,
        **{tag: again.image_id for tag in ("base", "base-trixie", "base-trixie-20260314.1")},
    }


def test_publish_pushes_the_dated_tag_each_image_has(tiny, tmp_path, monkeypatch):
    cache = tmp_path / "verified"
    chosen = plan.select(tiny, Selection(names=("base",)))

    def published(registry: RegistrySpec) -> list[publish.Row]:
        checks = verify.verify(chosen, cache)
        assert all(check.passed for check in checks), verify.report(checks)
        return publish.publish(tiny.config, chosen, [registry], cache, allow_profiles=("release", "fast"), say=print)

    def digest(registry: RegistrySpec, tag: str) -> str:
        answer = requests.head(
            f"http://{registry.host}/v2/{REPOSITORY}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}, timeout=10
        )
        return answer.headers.get("Docker-Content-Digest", "") if answer.status_code == 200 else ""

    with registries.serve_registry(tmp_path / "registry") as served:
        registry = RegistrySpec(host=served.address, insecure=True)
        build_base(tiny, tmp_path, "https://example.invalid/one", DAY, monkeypatch)
        rows = published(registry)
        assert {row.tag: row.action for row in rows} == {
            "base": "pushed",
            "base-trixie": "pushed",
            "base-trixie-20260314": "pushed",
        }
        first_digest = digest(registry, "base-trixie-20260314")
        assert first_digest and first_digest == digest(registry, "base")

        build_base(tiny, tmp_path, "https://example.invalid/two", DAY + dt.timedelta(hours=1), monkeypatch)
        rows = published(registry)  # the same day's second image: its own .1, the first's dated tag untouched
        assert {row.tag: row.action for row in rows} == {
            "base": "pushed",
            "base-trixie": "pushed",
            "base-trixie-20260314.1": "pushed",
        }
        second_digest = digest(registry, "base-trixie-20260314.1")
        assert second_digest not in ("", first_digest) and digest(registry, "base") == second_digest
        assert digest(registry, "base-trixie-20260314") == first_digest
