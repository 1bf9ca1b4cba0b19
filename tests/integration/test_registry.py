"""The registry client against real registries on 127.0.0.1 (Debian's docker-registry) and the real engine."""

from __future__ import annotations

import base64
import contextlib
import io
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
import requests

from pyfamily.errors import UserError
from pyfamily.publish.registry import RegistryClient

from .registries import Proxy, Registry, free_port, serve_registry, write_docker_config

pytestmark = pytest.mark.integration

USER, PASSWORD = "publisher", "pw-" + uuid.uuid4().hex  # the password must never appear in a message
RUN = uuid.uuid4().hex[:8]
LOCAL = f"pyfamily-registry-test/tiny-{RUN}"


def client_for(address: str, **options: object) -> RegistryClient:
    options.setdefault("backoff", 0.01)
    options.setdefault("timeout", 10)
    return RegistryClient(address, insecure=True, **options)  # type: ignore[arg-type]


def assert_no_secret(error: BaseException) -> None:
    text = f"{error} {error!r}"
    assert PASSWORD not in text
    assert base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in text


def tags_in(address: str, repository: str, auth: tuple[str, str] | None = None) -> list[str]:
    answer = requests.get(f"http://{address}/v2/{repository}/tags/list", auth=auth, timeout=10)
    return sorted(answer.json().get("tags") or []) if answer.status_code == 200 else []


@pytest.fixture(scope="module")
def images(docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Three tiny images: `base` (one file), `child` (FROM base, one more file), `solo` (its own file)."""
    work = tmp_path_factory.mktemp("images")
    recipes = {
        "base": "FROM scratch\nCOPY a.txt /a.txt\n",
        "child": f"FROM {LOCAL}:base\nCOPY b.txt /b.txt\n",
        "solo": "FROM scratch\nCOPY c.txt /c.txt\n",
    }
    built: dict[str, str] = {}
    try:
        for name, dockerfile in recipes.items():
            context = work / name
            context.mkdir()
            (context / "Dockerfile").write_text(dockerfile)
            for file in ("a.txt", "b.txt", "c.txt"):
                (context / file).write_text(f"{file} of run {RUN}\n" + "x" * 4096)
            docker_client.images.build(path=str(context), tag=f"{LOCAL}:{name}", rm=True, timeout=300)
            built[name] = f"{LOCAL}:{name}"
        yield built
    finally:
        for reference in reversed(list(built.values())):
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(reference)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with serve_registry(tmp_path_factory.mktemp("plain")) as registry:
        yield registry


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with serve_registry(tmp_path_factory.mktemp("guarded"), users={USER: PASSWORD}) as registry:
        yield registry


def test_push_by_digest_moves_no_tag_then_put_tag_and_pull_back(plain, images, docker_client, tmp_path):
    repository = f"test/pull-{RUN}"
    original = docker_client.images.get(images["solo"]).id
    with client_for(plain.address, docker_config=tmp_path) as registry:
        assert registry.tag_digest(repository, "v1") is None
        pushed = registry.push_image(repository, images["solo"])
        assert pushed.digest.startswith("sha256:") and pushed.blobs_sent == 2 and pushed.bytes_sent > 0
        assert tags_in(plain.address, repository) == []  # pushed by digest: no tag exists yet
        assert registry.tag_digest(repository, "v1") is None
        registry.put_tag(repository, "v1", pushed.digest)
        assert registry.tag_digest(repository, "v1") == pushed.digest
        assert registry.tag_config_digest(repository, "v1") == original
        assert registry.tag_config_digest(repository, "v2") is None
        assert tags_in(plain.address, repository) == ["v1"]
    docker_client.images.remove(images["solo"])  # the pull must fetch, decompress and check every layer
    pulled = docker_client.images.pull(f"{plain.address}/{repository}", tag="v1")
    try:
        assert pulled.id == original
        container = docker_client.containers.create(pulled.id, command=["none"])
        try:
            chunks, _ = container.get_archive("/c.txt")
            with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as archive:
                member = archive.extractfile("c.txt")
                assert member is not None and member.read().startswith(f"c.txt of run {RUN}".encode())
        finally:
            container.remove(force=True)
    finally:
        pulled.tag(LOCAL, "solo")
        docker_client.images.remove(f"{plain.address}/{repository}:v1")


def test_same_image_twice_gives_the_same_digest_and_sends_no_blob(plain, images, tmp_path):
    repository = f"test/twice-{RUN}"
    with client_for(plain.address, docker_config=tmp_path) as first:
        one = first.push_image(repository, images["base"])
    with client_for(plain.address, docker_config=tmp_path) as second:  # its own cache: compressed again
        two = second.push_image(repository, images["base"])
        child = second.push_image(repository, images["child"])
    assert one.bytes_sent > 0 and (one.blobs_sent, one.blobs_present) == (2, 0)
    assert two.digest == one.digest and two.bytes_sent == 0 and (two.blobs_sent, two.blobs_present) == (0, 2)
    assert child.digest != one.digest and (child.blobs_sent, child.blobs_present) == (2, 1)  # new layer + config


def test_a_blob_cache_spares_the_export(plain, images, docker_client, tmp_path):
    repository, cache = f"test/cache-{RUN}", tmp_path / "cache"
    with client_for(plain.address, docker_config=tmp_path, cache_dir=cache) as registry:
        first = registry.push_image(repository, images["child"])

    class NoSave:
        """The real engine, except that exporting an image fails the test."""

        class images:
            @staticmethod
            def get(reference: str) -> object:
                image = docker_client.images.get(reference)
                image.save = lambda *a, **k: pytest.fail("the image was exported although the cache has it")
                return image

    with client_for(plain.address, docker_config=tmp_path, cache_dir=cache, docker_client=NoSave()) as registry:
        again = registry.push_image(f"{repository}-copy", images["child"])
    assert again.digest == first.digest and again.blobs_sent == 3  # a new repository: every blob is sent


def test_htpasswd_registry_with_credentials_from_a_docker_config(guarded, images, docker_client, tmp_path):
    repository = f"test/guarded-{RUN}"
    config = write_docker_config(tmp_path / "docker", {guarded.address: (USER, PASSWORD)})
    with client_for(guarded.address, docker_config=config) as registry:
        registry.check_access(repository)
        assert requests.get(f"http://{guarded.address}/v2/_catalog", auth=(USER, PASSWORD), timeout=10).json() == {
            "repositories": []
        }  # the access check stored nothing
        pushed = registry.push_image(repository, images["base"])
        registry.put_tag(repository, "v1", pushed.digest)
        assert registry.tag_digest(repository, "v1") == pushed.digest
    assert tags_in(guarded.address, repository, (USER, PASSWORD)) == ["v1"]
    reference = f"{guarded.address}/{repository}"
    pulled = docker_client.images.pull(reference, tag="v1", auth_config={"username": USER, "password": PASSWORD})
    assert pulled.id == docker_client.images.get(images["base"]).id
    docker_client.images.remove(f"{reference}:v1")


@pytest.mark.parametrize("given", ["none", "wrong"])
def test_htpasswd_registry_refuses_clearly_without_good_credentials(guarded, tmp_path, given):
    auths = {guarded.address: (USER, "not-" + PASSWORD)} if given == "wrong" else {}
    config = write_docker_config(tmp_path / "docker", auths)
    with client_for(guarded.address, docker_config=config) as registry, pytest.raises(UserError) as caught:
        registry.check_access(f"test/refused-{RUN}")
    message = str(caught.value)
    assert guarded.address in message and f"docker login {guarded.address}" in message
    assert ("refused the credentials" if given == "wrong" else "has none for it") in message
    assert_no_secret(caught.value)
    assert "not-" + PASSWORD not in message


def test_bearer_token_registry(plain, images, tmp_path):
    repository = f"test/bearer-{RUN}"
    with Proxy(plain.address, bearer=(USER, PASSWORD)) as proxy:
        config = write_docker_config(tmp_path / "good", {proxy.address: (USER, PASSWORD)})
        with client_for(proxy.address, docker_config=config) as registry:
            registry.check_access(repository)
            pushed = registry.push_image(repository, images["base"])
            registry.put_tag(repository, "v1", pushed.digest)
            assert registry.tag_digest(repository, "v1") == pushed.digest
        assert set(proxy.tokens.values()) == {f"repository:{repository}:pull,push"}
        for name, auths in (("none", {}), ("wrong", {proxy.address: (USER, "x")})):
            with client_for(proxy.address, docker_config=write_docker_config(tmp_path / name, auths)) as registry:
                with pytest.raises(UserError, match=f"docker login {proxy.address}") as caught:
                    registry.check_access(repository)
                assert_no_secret(caught.value)
                assert not any(token in str(caught.value) for token in proxy.tokens)


def test_transient_503s_are_retried(plain, images, tmp_path):
    repository = f"test/flaky-{RUN}"
    with Proxy(plain.address, fail=lambda n: n <= 2) as proxy, client_for(proxy.address, docker_config=tmp_path) as r:
        r.check_access(repository)
        pushed = r.push_image(repository, images["base"])
        r.put_tag(repository, "v1", pushed.digest)
    assert proxy.failures == 2
    assert tags_in(plain.address, repository) == ["v1"]


def test_connections_cut_mid_run_are_retried(plain, images, tmp_path):
    repository = f"test/cut-{RUN}"
    with (
        Proxy(plain.address, fail=lambda n: n in (4, 5, 9), failure="reset") as proxy,
        client_for(proxy.address, docker_config=tmp_path) as registry,
    ):
        registry.check_access(repository)
        pushed = registry.push_image(repository, images["child"])
        registry.put_tag(repository, "v1", pushed.digest)
        assert registry.tag_digest(repository, "v1") == pushed.digest
    assert proxy.failures == 3


def test_a_registry_that_always_answers_503_fails_after_the_attempts(plain, tmp_path):
    with Proxy(plain.address, fail=lambda n: True) as proxy:
        started = time.monotonic()
        with client_for(proxy.address, docker_config=tmp_path, attempts=3) as registry, pytest.raises(UserError) as e:
            registry.check_access(f"test/down-{RUN}")
        assert time.monotonic() - started < 10
    assert proxy.requests == 3
    assert f"The registry {proxy.address} failed while reaching its API root /v2/, 3 attempts" in str(e.value)
    assert "HTTP 503 UNAVAILABLE: test proxy says no" in str(e.value)


def test_nothing_listening_fails_at_once(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    with client_for(address, docker_config=tmp_path) as registry, pytest.raises(UserError) as caught:
        registry.check_access("test/nowhere")
    assert time.monotonic() - started < 5
    assert f"The registry {address} does not answer at http://{address}/v2/" in str(caught.value)
    assert "Connection refused" in str(caught.value)


def test_a_server_that_is_not_a_registry_is_named(plain, tmp_path):
    with (
        Proxy(plain.address, fail=lambda n: True, failure=404) as proxy,
        client_for(proxy.address, docker_config=tmp_path) as registry,
        pytest.raises(UserError) as caught,
    ):
        registry.check_access("test/nothing")
    assert f"{proxy.address} is not a Docker registry" in str(caught.value)
    assert "HTTP 404" in str(caught.value)


def test_missing_local_image_and_missing_manifest(plain, tmp_path):
    with client_for(plain.address, docker_config=tmp_path) as registry:
        with pytest.raises(UserError, match="No local image"):
            registry.push_image("test/missing", f"{LOCAL}:no-such-tag")
        with pytest.raises(UserError, match="has no manifest"):
            registry.put_tag("test/missing", "v1", "sha256:" + "0" * 64)
        with pytest.raises(UserError, match="Not a repository name"):
            registry.tag_digest("Test/Upper", "v1")


def test_put_tag_from_a_fresh_client_reads_the_manifest_by_digest(plain, images, tmp_path: Path):
    repository = f"test/fresh-{RUN}"
    with client_for(plain.address, docker_config=tmp_path) as registry:
        pushed = registry.push_image(repository, images["base"])
    with client_for(plain.address, docker_config=tmp_path) as registry:
        registry.put_tag(repository, "latest", pushed.digest)
        assert registry.tag_digest(repository, "latest") == pushed.digest
