"""`invoke publish` against real registries (Debian's docker-registry on 127.0.0.1): verified images only,
every registry checked before the first push, tags moved last, nothing moved on a mistake, 0 bytes when
nothing changed; every tag an index of the chosen platforms. The first tests publish tiny two-platform images
built here with buildx; the later ones the fixture family (built once per session)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import pytest
import requests

from pyfamily import config, model, oci, plan, publish, verify
from pyfamily.config import RegistrySpec
from pyfamily.errors import UserError
from pyfamily.oci import index
from pyfamily.produce.dated import dated_tags
from pyfamily.produce.inputs import CREATED_LABEL
from pyfamily.verify import records

from . import registries, support

pytestmark = pytest.mark.integration

ACCEPT = {"Accept": ", ".join(index.MANIFEST_TYPES)}
PLATFORMS = ("linux/amd64", "linux/arm64")
RUN = uuid.uuid4().hex[:8]
TINY = f"pyfamily-publish-test/tiny-{RUN}"


@dataclass
class Tiny:
    """Two public targets of a made-up family: `tiny` (linux/amd64 and linux/arm64, provenance mode=max) and
    `lone` (linux/amd64 only); both labelled, dated and verified the way `invoke build` and `verify` leave them."""

    config: config.Config
    targets: Mapping[str, model.Target]
    ids: Mapping[str, str]
    dated: Mapping[str, str]
    cache: Path

    def plan(self, name: str) -> plan.Plan:
        family = model.Family(self.config, "fast", self.targets, PLATFORMS)
        return plan.Plan(family, levels=((self.targets[name],),))


@pytest.fixture(scope="module")
def tiny(docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tiny]:
    work, cache = tmp_path_factory.mktemp("tiny"), tmp_path_factory.mktemp("tiny-cache")
    family_config = config.load(support.FIXTURE).model_copy(update={"repository": TINY})
    now = dt.datetime.now(dt.UTC)
    recipes = {"tiny": (PLATFORMS, ("--provenance=mode=max",)), "lone": (PLATFORMS[:1], ())}
    targets, ids, dated, made = {}, {}, {}, []
    try:
        for name, (platforms, options) in recipes.items():
            target = model.Target(name=name, kind="app", ref=f"{TINY}:{name}", tags=(name,))
            created = ("--label", f"{CREATED_LABEL}={now.isoformat(timespec='seconds')}")
            files = {"f.txt": f"{name} of run {RUN}\n"}
            made.append(target.ref)
            ids[name] = registries.buildx(
                work / name, target.ref, "FROM scratch\nCOPY f.txt /f.txt\n", files, platforms, *created, *options
            )
            dated[name] = plan.dated_tag(family_config.tags, target, now.date()) or ""
            docker_client.images.get(target.ref).tag(TINY, dated[name])
            made.append(f"{TINY}:{dated[name]}")
            for platform in platforms:
                records.save(cache, ids[name], name, [("built by the test", True)], platform)
            targets[name] = target
        yield Tiny(family_config, targets, ids, dated, cache)
    finally:
        for reference in made:
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(reference)


@pytest.fixture(scope="module")
def verified(family, tmp_path_factory) -> Path:
    """A cache folder holding passing verify records of the fixture family's base and 3.13."""
    cache = tmp_path_factory.mktemp("publish-cache")
    checks = verify.verify(plan.Plan(family.family, levels=((family.targets["base"], family.targets["3.13"]),)), cache)
    assert all(check.passed for check in checks), verify.report(checks)
    return cache


@pytest.fixture
def registry(tmp_path) -> Iterator[RegistrySpec]:
    with registries.serve_registry(tmp_path / "registry") as served:
        yield RegistrySpec(host=served.address, insecure=True)


def tags_in(registry: RegistrySpec, repository: str) -> list[str]:
    answer = requests.get(f"http://{registry.host}/v2/{repository}/tags/list", timeout=10)
    return sorted(answer.json().get("tags") or []) if answer.status_code == 200 else []


def base_and_313(family) -> plan.Plan:
    return plan.Plan(family.family, levels=((family.targets["base"], family.targets["3.13"]),))


def index_of(registry: RegistrySpec, repository: str, reference: str) -> requests.Response:
    return requests.get(f"http://{registry.host}/v2/{repository}/manifests/{reference}", headers=ACCEPT, timeout=10)


def test_a_two_platform_image_is_one_index_with_its_attestations_then_unchanged(tiny, registry):
    rows = publish.publish(tiny.config, tiny.plan("tiny"), [registry], tiny.cache, say=print)
    image_id = tiny.ids["tiny"]
    assert [(r.tag, r.action, r.digest, r.platforms) for r in rows] == [
        ("tiny", "pushed", image_id, PLATFORMS),  # the local index as stored: its digest is the image ID
        (tiny.dated["tiny"], "pushed", image_id, PLATFORMS),
    ]
    assert rows[0].bytes_sent > 0 and rows[1].bytes_sent == 0  # an image's bytes count once
    assert "linux/amd64, linux/arm64" in publish.table(rows) and image_id[7:19] in publish.table(rows)
    answer = index_of(registry, TINY, "tiny")
    assert answer.headers["Docker-Content-Digest"] == image_id and answer.headers["Content-Type"] == index.OCI_INDEX
    pushed = index.Index.parse(answer.content)
    assert pushed.platforms == PLATFORMS and all(pushed.attestations_of(e.digest) for e in pushed.images)
    provenance = json.loads(registries.imagetools(f"{registry.host}/{TINY}:tiny", "--format", "{{json .Provenance}}"))
    assert sorted(provenance) == list(PLATFORMS)
    again = publish.publish(tiny.config, tiny.plan("tiny"), [registry], tiny.cache, say=print)
    assert [(r.action, r.digest, r.bytes_sent) for r in again] == [("unchanged", image_id, 0)] * 2


def test_a_subset_is_an_index_of_one_platform_and_its_dated_tag_then_never_moves(tiny, registry):
    rows = publish.publish(tiny.config, tiny.plan("tiny"), [registry], tiny.cache, platforms=["linux/arm64"])
    (digest,) = {r.digest for r in rows}
    assert digest != tiny.ids["tiny"] and {r.platforms for r in rows} == {("linux/arm64",)}
    pushed = index.Index.parse(index_of(registry, TINY, tiny.dated["tiny"]).content)
    assert pushed.platforms == ("linux/arm64",) and len(pushed.entries) == 2  # the manifest and its attestation
    with pytest.raises(
        UserError, match=rf"No tag was moved: the dated tags .*:{tiny.dated['tiny']} .*never overwritten"
    ):
        publish.publish(tiny.config, tiny.plan("tiny"), [registry], tiny.cache, say=print)  # every platform now
    assert index_of(registry, TINY, "tiny").headers["Docker-Content-Digest"] == digest  # no tag moved


def test_a_platform_the_image_lacks_is_refused_before_any_network_call(tiny, registry):
    with registries.Proxy(registry.host) as proxy, pytest.raises(UserError) as caught:
        destination = RegistrySpec(host=proxy.address, insecure=True)
        publish.publish(tiny.config, tiny.plan("lone"), [destination], tiny.cache, say=print)
    assert proxy.requests == 0
    message = str(caught.value)
    assert message.startswith(f"Nothing was pushed: {TINY}:lone has no linux/arm64 (it holds linux/amd64);")
    assert "`invoke build --profile fast --platform linux/amd64,linux/arm64 --target lone`" in message
    assert "\n" not in message
    rows = publish.publish(tiny.config, tiny.plan("lone"), [registry], tiny.cache, platforms=["linux/amd64"])
    assert {(r.action, r.platforms) for r in rows} == {("pushed", ("linux/amd64",))}
    assert rows[0].digest == tiny.ids["lone"]  # one platform, all the image has: its own index, as stored


def own_cache(tiny: Tiny, tmp_path: Path) -> Path:
    """A cache folder of this test's own: the tiny images' verify records, and their saves (as publish made them)."""
    cache = tmp_path / "cache"
    shutil.copytree(tiny.cache / records.FOLDER, cache / records.FOLDER)
    for name in ("tiny", "lone"):
        oci.local_platforms(tiny.ids[name], cache)
    return cache


def replace_file(path: Path, data: bytes) -> None:
    """Write `data` as `path` the way another writer of the cache would: a new file renamed over it."""
    written = path.with_name(path.name + ".new")
    written.write_bytes(data)
    written.replace(path)


SAME_SIZE = {  # other bytes of the same size: a manifest that is still JSON, a layer whose last byte differs
    "manifest": lambda data: data.replace(b"schemaVersion", b"schemaVersioN", 1),
    "layer": lambda data: data[:-1] + bytes([data[-1] ^ 1]),
}


@pytest.mark.parametrize("part", list(SAME_SIZE))
def test_a_cached_blob_with_other_bytes_of_its_size_stops_publish_before_any_network_call(
    part, tiny, registry, tmp_path
):
    cache = own_cache(tiny, tmp_path)
    blobs = oci.blob_cache(cache)
    manifest = blobs.blob_path(index.Index.parse(blobs.blob_path(tiny.ids["tiny"]).read_bytes()).images[0].digest)
    damaged = blobs.blob_path(json.loads(manifest.read_bytes())["layers"][0]["digest"]) if part == "layer" else manifest
    replace_file(damaged, SAME_SIZE[part](damaged.read_bytes()))
    with registries.Proxy(registry.host) as proxy, pytest.raises(UserError) as caught:
        destination = RegistrySpec(host=proxy.address, insecure=True)
        publish.publish(tiny.config, tiny.plan("tiny"), [destination], cache, say=print)
    assert proxy.requests == 0
    assert str(caught.value).startswith(f"Nothing was pushed: {TINY}:tiny: The blob cache file {damaged} does not")
    assert "Delete that file and run again" in str(caught.value)
    damaged.unlink()  # as the message says: the image is saved anew, and published
    rows = publish.publish(tiny.config, tiny.plan("tiny"), [registry], cache, say=print)
    assert {(r.action, r.digest) for r in rows} == {("pushed", tiny.ids["tiny"])}


def test_a_cached_record_naming_another_image_is_refused_not_pushed_under_its_tags(tiny, registry, tmp_path):
    cache = own_cache(tiny, tmp_path)
    images = oci.blob_cache(cache).root / "images"
    # `tiny`'s record made to name `lone`'s index, whole in the cache: its one platform is one `tiny` has too
    (images / tiny.ids["tiny"][7:]).write_bytes((images / tiny.ids["lone"][7:]).read_bytes())
    with registries.Proxy(registry.host) as proxy, pytest.raises(UserError) as caught:
        destination = RegistrySpec(host=proxy.address, insecure=True)
        publish.publish(tiny.config, tiny.plan("tiny"), [destination], cache, platforms=["linux/amd64"], say=print)
    assert proxy.requests == 0
    assert f"the local image {tiny.ids['tiny']} is of {tiny.ids['lone']}, another image" in str(caught.value)


def publish_fast(family, chosen: plan.Plan, destinations, cache: Path) -> list[publish.Row]:
    return publish.publish(family.config, chosen, destinations, cache, allow_profiles=("release", "fast"), say=print)


def dated(family, name: str) -> str:
    """The image's one dated tag in the local engine (its day's, or the .N a later build of that day got)."""
    (tag,) = dated_tags(family.config.tags, family.targets[name], support.client().images.get(family.ref(name)))
    return tag


def test_publish_pushes_every_tag_then_nothing_when_unchanged(family, verified, registry):
    rows = publish_fast(family, base_and_313(family), [registry], verified)
    repository = family.config.repository
    moving = ["base", "base-trixie", "3.13", "3.13-trixie", "3.13.15", "3.13.15-trixie"]
    assert tags_in(registry, repository) == sorted([*moving, dated(family, "base"), dated(family, "3.13")])
    assert {row.action for row in rows} == {"pushed"} and sum(row.bytes_sent for row in rows) > 10_000_000
    manifest = requests.head(f"http://{registry.host}/v2/{repository}/manifests/3.13.15", timeout=10, headers=ACCEPT)
    assert manifest.headers["Docker-Content-Digest"] == next(r.digest for r in rows if r.tag == "3.13")
    assert manifest.headers["Content-Type"] in index.INDEX_TYPES  # every public tag is an index
    again = publish_fast(family, base_and_313(family), [registry], verified)
    assert {row.action for row in again} == {"unchanged"}
    assert sum(row.bytes_sent for row in again) == 0
    local = [tag for image in support.client().images.list(repository) for tag in image.tags]
    assert not [tag for tag in local if tag.startswith(registry.host)]  # no registry-qualified tags left behind


def test_publish_refuses_what_did_not_pass_verify_or_is_fast(family, verified, registry, tmp_path):
    with pytest.raises(UserError, match=r"Nothing was pushed: .*:3\.13 did not pass `invoke verify`"):
        publish_fast(family, base_and_313(family), [registry], tmp_path / "no-records")
    with pytest.raises(UserError, match=r"profile that is not for publishing .*--allow-profile fast"):
        publish.publish(family.config, base_and_313(family), [registry], verified, say=print)
    assert tags_in(registry, family.config.repository) == []


def test_publish_refuses_before_pushing_when_an_image_is_missing(family, verified, registry):
    missing = model.Target(
        name="ghost", kind="app", uses={"from": "3.13"}, tags=("ghost",), ref="pyfamily-test/python:ghost"
    )
    with pytest.raises(UserError, match="Nothing was pushed: not built yet: pyfamily-test/python:ghost"):
        publish_fast(
            family, plan.Plan(family.family, levels=((family.targets["3.13"], missing),)), [registry], verified
        )
    assert tags_in(registry, family.config.repository) == []


def test_a_registry_that_refuses_credentials_stops_everything_before_the_first_push(
    family, verified, registry, tmp_path, monkeypatch
):
    monkeypatch.setenv("DOCKER_CONFIG", str(registries.write_docker_config(tmp_path / "docker", {})))
    with (
        registries.serve_registry(tmp_path / "locked", users={"maintainer": "s3cret-pass"}) as locked,
        pytest.raises(UserError) as caught,
    ):
        destinations = [registry, RegistrySpec(host=locked.address, insecure=True)]
        publish_fast(family, base_and_313(family), destinations, verified)
    assert locked.address in str(caught.value) and "s3cret-pass" not in str(caught.value)
    assert tags_in(registry, family.config.repository) == []  # the first registry got no tag at all


def test_a_dated_tag_pointing_elsewhere_is_refused_and_no_tag_moves(family, verified, registry):
    publish_fast(family, plan.Plan(family.family, levels=((family.targets["base"],),)), [registry], verified)
    repository = family.config.repository
    base_manifest = index_of(registry, repository, "base")
    squatted = dated(family, "3.13")
    put = requests.put(
        f"http://{registry.host}/v2/{repository}/manifests/{squatted}",
        data=base_manifest.content,
        headers={"Content-Type": base_manifest.headers["Content-Type"]},
        timeout=10,
    )
    assert put.status_code == 201
    with pytest.raises(UserError, match=rf"No tag was moved: the dated tags .*:{squatted} .*never overwritten"):
        publish_fast(family, base_and_313(family), [registry], verified)
    assert "3.13" not in tags_in(registry, repository)


def test_publish_refuses_an_unreachable_registry(family, verified):
    port = registries.free_port()
    with pytest.raises(UserError, match=f"registry 127.0.0.1:{port} does not answer"):
        publish_fast(family, base_and_313(family), [RegistrySpec(host=f"127.0.0.1:{port}", insecure=True)], verified)


def test_registry_flag_says_the_scheme():
    assert publish.parse_registry("http://127.0.0.1:5000") == RegistrySpec(host="127.0.0.1:5000", insecure=True)
    assert publish.parse_registry("ghcr.io") == RegistrySpec(host="ghcr.io", insecure=False)
    with pytest.raises(UserError, match="--registry 'ftp://x'"):
        publish.parse_registry("ftp://x")
