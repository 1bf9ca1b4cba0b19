"""The registry client against real registries on 127.0.0.1 (Debian's docker-registry) and the real engine: images
built with buildx for two platforms (indexes with BuildKit's provenance attestations), pushed as stored."""

from __future__ import annotations

import base64
import contextlib
import io
import json
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
from pyfamily.oci import index
from pyfamily.publish.registry import RegistryClient

from .registries import (
    PASSWORD,
    USER,
    Proxy,
    buildx,
    free_port,
    imagetools,
    write_docker_config,
)

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
LOCAL = f"pyfamily-registry-test/tiny-{RUN}"
PLATFORMS = ("linux/amd64", "linux/arm64")


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
    """Two-platform images (buildx, BuildKit's default provenance): `base` (one file), `child` (FROM base, one
    more file), `solo` (its own file), `attested` (provenance mode=max); and `imported` (`docker import`, one
    linux/amd64 manifest, as the base kind makes it)."""
    work = tmp_path_factory.mktemp("images")
    files = {name: f"{name} of run {RUN}\n" + "x" * 4096 for name in ("a.txt", "b.txt", "c.txt", "d.txt")}
    recipes = {
        "base": ("FROM scratch\nCOPY a.txt /a.txt\n", ()),
        "child": (f"FROM {LOCAL}:base\nCOPY b.txt /b.txt\n", ()),
        "solo": ("FROM scratch\nCOPY c.txt /c.txt\n", ()),
        "attested": ("FROM scratch\nCOPY d.txt /d.txt\n", ("--provenance=mode=max",)),
    }
    built: dict[str, str] = {}
    try:
        for name, (dockerfile, options) in recipes.items():
            buildx(work / name, f"{LOCAL}:{name}", dockerfile, files, PLATFORMS, *options)
            built[name] = f"{LOCAL}:{name}"
        layer = io.BytesIO()
        with tarfile.open(fileobj=layer, mode="w") as archive:
            info = tarfile.TarInfo("e.txt")
            info.size = len(files["a.txt"])
            archive.addfile(info, io.BytesIO(files["a.txt"].encode()))
        docker_client.api.import_image_from_data(layer.getvalue(), repository=LOCAL, tag="imported")
        built["imported"] = f"{LOCAL}:imported"
        yield built
    finally:
        for reference in reversed(list(built.values())):
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(reference)


def test_push_by_digest_moves_no_tag_then_put_tag_and_pull_back(plain, images, docker_client, tmp_path):
    repository = f"test/pull-{RUN}"
    original = docker_client.images.get(images["solo"]).id
    with client_for(plain.address, docker_config=tmp_path) as registry:
        assert registry.tag_digest(repository, "v1") is None
        pushed = registry.push_image(repository, images["solo"])
        assert pushed.digest == original  # the local index as stored: the registry digest is the image ID
        assert pushed.platforms == PLATFORMS and pushed.blobs_present == 0 and pushed.bytes_sent > 0
        assert pushed.manifests_sent == 5  # two platforms, their two attestations, then the index
        assert tags_in(plain.address, repository) == []  # pushed by digest: no tag exists yet
        assert registry.tag_digest(repository, "v1") is None
        registry.put_tag(repository, "v1", pushed.digest)
        assert registry.tag_digest(repository, "v1") == pushed.digest
        remote = registry.read_index(repository, "v1")
        assert remote is not None and remote.digest == original and remote.platforms == PLATFORMS
        assert remote.index is not None and all(remote.index.attestations_of(e.digest) for e in remote.index.images)
        assert registry.read_index(repository, "v2") is None
        assert tags_in(plain.address, repository) == ["v1"]
    docker_client.images.remove(images["solo"])
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
    with client_for(plain.address, docker_config=tmp_path) as second:  # its own cache: saved again
        two = second.push_image(repository, images["base"])
        child = second.push_image(repository, images["child"])
    assert one.bytes_sent > 0 and one.blobs_present == 0 and one.blobs_sent >= 5  # layer, 2 configs, attestations
    assert (
        two.digest == one.digest and two.bytes_sent == 0 and (two.blobs_sent, two.blobs_present) == (0, one.blobs_sent)
    )
    assert two.manifests_sent == 0  # the registry had every manifest and the index: nothing was written
    assert child.digest != one.digest and child.blobs_present == 1 and child.blobs_sent >= 3  # base's layer is there


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
    assert again.digest == first.digest == docker_client.images.get(images["child"]).id
    assert again.blobs_sent == first.blobs_sent and first.blobs_present == 0  # a new repository: every blob is sent


def test_a_subset_of_platforms_is_an_index_of_those_with_their_attestations(plain, images, docker_client, tmp_path):
    repository = f"test/subset-{RUN}"
    local_id = docker_client.images.get(images["attested"]).id
    with client_for(plain.address, docker_config=tmp_path, cache_dir=tmp_path / "one") as registry:
        arm = registry.push_image(repository, images["attested"], ["linux/arm64"])
        assert arm.platforms == ("linux/arm64",) and arm.digest != local_id and arm.manifests_sent == 3
        remote = registry.read_index(repository, arm.digest)
        assert remote is not None and remote.index is not None and remote.platforms == ("linux/arm64",)
        (manifest,) = remote.index.images
        (attestation,) = remote.index.attestations_of(manifest.digest)
        assert [e.digest for e in remote.index.entries] == [manifest.digest, attestation.digest]
        statement = requests.get(
            f"http://{plain.address}/v2/{repository}/manifests/{attestation.digest}",
            headers={"Accept": index.OCI_MANIFEST},
            timeout=10,
        ).json()["layers"][0]
        assert statement["annotations"]["in-toto.io/predicate-type"].startswith("https://slsa.dev/provenance/")
        provenance = requests.get(f"http://{plain.address}/v2/{repository}/blobs/{statement['digest']}", timeout=10)
        assert "buildConfig" in json.dumps(provenance.json()["predicate"])  # mode=max: the whole build definition
    with client_for(plain.address, docker_config=tmp_path, cache_dir=tmp_path / "two") as registry:
        again = registry.push_image(repository, images["attested"], ["linux/arm64"])
        both = registry.push_image(repository, images["attested"])
    assert again.digest == arm.digest and again.bytes_sent == 0  # assembled the same way from another save
    assert both.digest == local_id and both.platforms == PLATFORMS and both.bytes_sent > 0  # amd64's config etc.


def test_a_platform_the_image_lacks_is_refused_before_anything_is_sent(plain, images, tmp_path):
    repository = f"test/lacking-{RUN}"
    with client_for(plain.address, docker_config=tmp_path) as registry:
        with pytest.raises(
            UserError, match=r"no linux/arm64 \(it holds linux/amd64\).*--platform linux/amd64,linux/arm64"
        ):
            registry.push_image(repository, images["imported"], PLATFORMS)
        assert repository not in requests.get(f"http://{plain.address}/v2/_catalog", timeout=10).json()["repositories"]
        one = registry.push_image(repository, images["imported"])  # a single manifest: an index of one is made
        assert one.platforms == ("linux/amd64",) and one.media_type == index.OCI_INDEX
        remote = registry.read_index(repository, one.digest)
        assert remote is not None and remote.platforms == ("linux/amd64",)


def test_imagetools_reads_the_pushed_index_with_its_provenance(plain, images, docker_client, tmp_path):
    repository = f"test/imagetools-{RUN}"
    with client_for(plain.address, docker_config=tmp_path) as registry:
        pushed = registry.push_image(repository, images["attested"])
        registry.put_tag(repository, "v1", pushed.digest)
    reference = f"{plain.address}/{repository}:v1"  # plain HTTP: buildx takes 127.0.0.1 for a local registry
    raw = imagetools(reference, "--raw")
    assert index.sha256(raw.encode()) == docker_client.images.get(images["attested"]).id
    provenance = json.loads(imagetools(reference, "--format", "{{json .Provenance}}"))
    assert sorted(provenance) == list(PLATFORMS) and all("SLSA" in p for p in provenance.values())


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
