"""`invoke publish` against real registries (Debian's docker-registry on 127.0.0.1): verified images only,
every registry checked before the first push, tags moved last, nothing moved on a mistake, 0 bytes when
nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pyfamily import model, plan, publish, verify
from pyfamily.config import RegistrySpec
from pyfamily.errors import UserError

from . import registries, support

pytestmark = pytest.mark.integration


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


def publish_fast(family, chosen: plan.Plan, destinations, cache: Path) -> list[publish.Row]:
    return publish.publish(family.config, chosen, destinations, cache, allow_profiles=("release", "fast"), say=print)


def dated(family, name: str) -> str:
    """The image's one dated tag in the local engine (its day's, or the .N a later build of that day got)."""
    (tag,) = publish.dated_tags_of(family.config, family.targets[name], support.client().images.get(family.ref(name)))
    return tag


def test_publish_pushes_every_tag_then_nothing_when_unchanged(family, verified, registry):
    rows = publish_fast(family, base_and_313(family), [registry], verified)
    repository = family.config.repository
    moving = ["base", "base-trixie", "3.13", "3.13-trixie", "3.13.15", "3.13.15-trixie"]
    assert tags_in(registry, repository) == sorted([*moving, dated(family, "base"), dated(family, "3.13")])
    assert {row.action for row in rows} == {"pushed"} and sum(row.bytes_sent for row in rows) > 10_000_000
    manifest = requests.head(
        f"http://{registry.host}/v2/{repository}/manifests/3.13.15",
        timeout=10,
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert manifest.headers["Docker-Content-Digest"] == next(r.digest for r in rows if r.tag == "3.13")
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
    base_manifest = requests.get(
        f"http://{registry.host}/v2/{repository}/manifests/base",
        timeout=10,
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
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
