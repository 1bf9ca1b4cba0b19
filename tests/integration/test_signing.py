"""`invoke publish --sign` and `invoke verify --signed-by` against a real registry on 127.0.0.1, with Debian's cosign
and a key pair made here (no Sigstore service: no transparency log). A made-up two-platform image, verified the way
`invoke verify` leaves it, is published signed; cosign itself verifies the tag, each platform manifest is signed
too, a second publish adds no signature, and a tag pointed at another image fails the check, naming the tag."""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import pytest
import requests

from pyfamily import config, engine, model, plan, publish, signing, verify
from pyfamily.config import RegistrySpec
from pyfamily.errors import UserError
from pyfamily.oci import index
from pyfamily.produce.inputs import CREATED_LABEL
from pyfamily.verify import records

from . import registries, support

pytestmark = pytest.mark.integration

PASSWORD = "signing test"
PLATFORMS = ("linux/amd64", "linux/arm64")
RUN = uuid.uuid4().hex[:8]
REPOSITORY = f"pyfamily-signing-test/tiny-{RUN}"


@dataclass
class Signed:
    config: config.Config
    target: model.Target
    cache: Path
    key: Path
    public: Path

    def plan(self) -> plan.Plan:
        family = model.Family(self.config, "fast", {self.target.name: self.target}, PLATFORMS)
        return plan.Plan(family, levels=((self.target,),))


@pytest.fixture(scope="module")
def signed(docker_client, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    work, cache = tmp_path_factory.mktemp("signing"), tmp_path_factory.mktemp("signing-cache")
    subprocess.run(
        ["cosign", "generate-key-pair"], cwd=work, env={"COSIGN_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"},
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    target = model.Target(name="tiny", kind="app", ref=f"{REPOSITORY}:tiny", tags=("tiny", "tiny-latest"))
    now = dt.datetime.now(dt.UTC)
    created = f"{CREATED_LABEL}={now.isoformat(timespec='seconds')}"
    image_id = registries.buildx(
        work / "image", target.ref, "FROM scratch\nCOPY f.txt /f.txt\n", {"f.txt": RUN}, PLATFORMS, "--label", created
    )
    family_config = config.load(support.FIXTURE).model_copy(update={"repository": REPOSITORY})
    dated = plan.dated_tag(family_config.tags, target, now.date()) or ""
    docker_client.images.get(target.ref).tag(REPOSITORY, dated)  # as `invoke build` leaves it
    for platform in PLATFORMS:
        records.save(cache, image_id, target.name, [("built by the test", True)], platform)
    try:
        yield Signed(family_config, target, cache, work / "cosign.key", work / "cosign.pub")
    finally:
        for reference in (target.ref, f"{REPOSITORY}:{dated}"):
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(reference, force=True)


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Iterator[RegistrySpec]:
    with registries.serve_registry(tmp_path_factory.mktemp("registry")) as served:
        yield RegistrySpec(host=served.address, insecure=True)


def cosign_verify(public: Path, reference: str) -> subprocess.CompletedProcess[str]:
    """What a downstream user runs before `FROM` (plus the offline and plain-HTTP flags this test needs)."""
    command = ["cosign", "verify", "--key", str(public), "--insecure-ignore-tlog=true", "--allow-insecure-registry"]
    return subprocess.run([*command, "--allow-http-registry", reference], capture_output=True, text=True, timeout=120)


def manifest(registry: RegistrySpec, reference: str) -> requests.Response:
    accept = {"Accept": ", ".join(index.MANIFEST_TYPES)}
    return requests.get(f"http://{registry.host}/v2/{REPOSITORY}/manifests/{reference}", headers=accept, timeout=10)


def test_a_key_that_does_not_open_stops_publish_before_anything_is_pushed(signed, registry, monkeypatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", "not the password")
    with pytest.raises(UserError, match="cosign cannot open the key"):
        publish.publish(signed.config, signed.plan(), [registry], signed.cache, signer=signing.Signer(str(signed.key)))
    assert manifest(registry, "tiny").status_code == 404


def test_a_signed_publish_verifies_with_cosign_and_every_manifest_is_signed(signed, registry, monkeypatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", PASSWORD)
    signer = signing.Signer(str(signed.key))
    started = time.monotonic()
    publish.publish(signed.config, signed.plan(), [registry], signed.cache, signer=signer, say=print)
    print(f"publish --sign took {time.monotonic() - started:.1f} s")
    for tag in signed.target.tags:
        done = cosign_verify(signed.public, f"{registry.host}/{REPOSITORY}:{tag}")
        assert done.returncode == 0, done.stderr
    listed = manifest(registry, "tiny").json()["manifests"]
    assert len(listed) == 4  # two platforms and their attestation manifests: each signed (--recursive)
    for entry in listed:
        done = cosign_verify(signed.public, f"{registry.host}/{REPOSITORY}@{entry['digest']}")
        assert done.returncode == 0, (entry, done.stderr)
    checks = verify.verify_signatures(signed.plan(), [registry], signing.Trust(key=str(signed.public)))
    assert [(c.name, c.passed) for c in checks] == [("signed", True)] * 2


def test_a_second_publish_adds_no_signature(signed, registry, monkeypatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", PASSWORD)
    digest = manifest(registry, "tiny").headers["Docker-Content-Digest"]
    signature_tag = digest.replace(":", "-") + ".sig"
    before = manifest(registry, signature_tag).json()["layers"]
    lines: list[str] = []
    publish.publish(
        signed.config, signed.plan(), [registry], signed.cache, signer=signing.Signer(str(signed.key)), say=lines.append
    )
    assert manifest(registry, signature_tag).json()["layers"] == before
    assert any(line.endswith("signed already") for line in lines), lines


def test_a_tag_pointed_at_another_image_fails_verify_signed_by(signed, registry, tmp_path) -> None:
    other = f"{registry.host}/{REPOSITORY}:tiny-latest"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "Dockerfile").write_text("FROM scratch\nCOPY f.txt /f.txt\n")
    (tmp_path / "other" / "f.txt").write_text("not signed")
    push = f"type=image,name={other},push=true,registry.insecure=true"  # straight to the registry, nothing kept
    command = [
        *engine.build_cli().build_command(),
        "--platform",
        PLATFORMS[0],
        "--output",
        push,
        str(tmp_path / "other"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    trust = signing.Trust(key=str(signed.public))
    checks = {
        c.detail.split(": ")[0] or "ok": c.passed for c in verify.verify_signatures(signed.plan(), [registry], trust)
    }
    assert checks == {"ok": True, other: False}
    # and a key that did not sign fails every tag
    subprocess.run(
        ["cosign", "generate-key-pair"], cwd=tmp_path, env={"COSIGN_PASSWORD": "", "PATH": "/usr/bin:/bin"},
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    stranger = signing.Trust(key=str(tmp_path / "cosign.pub"))
    assert not any(c.passed for c in verify.verify_signatures(signed.plan(), [registry], stranger))
