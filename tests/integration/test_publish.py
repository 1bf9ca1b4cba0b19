"""Publishing to a real registry (Debian's docker-registry on 127.0.0.1): all tags or nothing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import requests

from pyfamily import model, plan, publish
from pyfamily.errors import UserError

from . import support

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry is not installed; run scripts/dev/ensure-tools --test"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = tmp_path_factory.mktemp("registry")
    config = root / "config.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"127.0.0.1:{port}"
    try:
        for _ in range(50):  # at most ~10 s
            try:
                if requests.get(f"http://{address}/v2/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail("docker-registry did not answer within 10 s")
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)


def tags_in(registry: str, repository: str) -> list[str]:
    answer = requests.get(f"http://{registry}/v2/{repository}/tags/list", timeout=10)
    return sorted(answer.json().get("tags") or []) if answer.status_code == 200 else []


def test_publish_pushes_every_tag_to_the_registry(family, registry):
    selected = plan.Plan(family.family, levels=((family.targets["base"], family.targets["3.13"]),))
    pushes = publish.publish(family.config, selected, [registry], say=print)
    labels = {name: support.client().images.get(family.ref(name)).labels for name in ("base", "3.13")}
    dated = {name: publish.dated_tag(family.config, family.targets[name], labels[name]) for name in labels}
    assert tags_in(registry, family.config.repository) == sorted(["base", dated["base"], "3.13", "3.13.15",
                                                                   dated["3.13"]])
    assert all(p.digest.startswith("sha256:") for p in pushes)
    manifest = requests.get(f"http://{registry}/v2/{family.config.repository}/manifests/3.13.15",
                            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"}, timeout=10)
    assert manifest.headers["Docker-Content-Digest"] == next(p.digest for p in pushes if p.reference.endswith(":3.13"))
    local = [tag for image in support.client().images.list(family.config.repository) for tag in image.tags]
    assert not [tag for tag in local if tag.startswith(registry)]  # no registry-qualified tags left behind


def test_publish_refuses_before_pushing_when_an_image_is_missing(family, registry):
    missing = model.Target(name="ghost", kind="app", uses={"from": "3.13"}, tags=("ghost",),
                           ref="pyfamily-test/python:ghost")
    selected = plan.Plan(family.family, levels=((family.targets["3.11"], missing),))
    with pytest.raises(UserError, match="Nothing was pushed: not built yet: pyfamily-test/python:ghost"):
        publish.publish(family.config, selected, [registry], say=print)
    assert "3.11" not in tags_in(registry, family.config.repository)


def test_publish_refuses_an_unreachable_registry(family):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    selected = plan.Plan(family.family, levels=((family.targets["base"],),))
    with pytest.raises(UserError, match=f"registry 127.0.0.1:{port} does not answer"):
        publish.publish(family.config, selected, [f"127.0.0.1:{port}"], say=print)
