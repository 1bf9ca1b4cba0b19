"""`invoke build --layer-cache`: the backend writes BuildKit's cache of a build to a registry (Debian's
docker-registry on 127.0.0.1, plain HTTP) and reads it back, so a fresh machine reuses an earlier run's layers."""

from __future__ import annotations

import json

import pytest
import requests

from pyfamily.produce.backend import BuildRequest, DockerCli
from pyfamily.produce.processes import Processes

from . import registries

pytestmark = pytest.mark.integration

REF = "pyfamily-cache-test/tiny:1"


def test_the_layer_cache_goes_to_the_registry_and_is_read_from_it(tmp_path, docker_client):
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY a /a\n")
    (context / "a").write_text("cached\n")
    with registries.serve_registry(tmp_path / "registry") as served:
        cache = f"type=registry,ref={served.address}/pyfamily-cache-test/tiny-cache:tiny,registry.insecure=true"
        request = BuildRequest(
            "tiny",
            context,
            (REF,),
            ("linux/amd64", "linux/arm64"),
            layer_cache=cache,
            log=tmp_path / "build.log",
        )
        backend = DockerCli()
        assert "--cache-to=" + cache + ",mode=max,ignore-error=true" in backend.command(request)
        try:
            backend.build(request, Processes(), print)
            answer = requests.get(
                f"http://{served.address}/v2/pyfamily-cache-test/tiny-cache/manifests/tiny",
                headers={"Accept": "application/vnd.oci.image.index.v1+json"},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            kinds = {entry["mediaType"] for entry in json.loads(answer.content)["manifests"]}
            assert "application/vnd.buildkit.cacheconfig.v0" in kinds  # BuildKit's cache, in the registry
            backend.build(request, Processes(), print)  # reads it back (the import shows in the log)
            log = (tmp_path / "build.log").read_text()
            assert "importing cache manifest from" in log and served.address in log
        finally:
            docker_client.images.remove(REF, force=True)
