"""Shared pieces of the integration tests: building the fixture family once, running containers, CA sentinel."""

from __future__ import annotations

import contextlib
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from pyfamily import config, model, plan, produce
from pyfamily.plan import Selection

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "family.yaml"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass
class Family:
    family: model.Family
    results: list[produce.Result]
    ca_marker: str  # a line of the sentinel certificate that was mounted into every download step
    settings: produce.Settings

    @property
    def config(self) -> config.Config:
        return self.family.config

    @property
    def targets(self) -> Mapping[str, model.Target]:
        return self.family.targets

    def ref(self, name: str) -> str:
        return self.targets[name].ref


def sentinel_bundle(directory: Path) -> tuple[Path, str]:
    """The host's CA bundle plus a fresh self-signed certificate whose text must never reach an image."""
    key, cert = directory / "sentinel.key", directory / "sentinel.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=pyfamily CA sentinel",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pem = cert.read_text()
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    marker = body[len(body) // 2]  # a 64-character base64 line found in no other certificate
    bundle = directory / "ca-bundle.crt"
    host = HOST_CA_BUNDLE.read_text() if HOST_CA_BUNDLE.exists() else ""
    bundle.write_text(host + "\n" + pem)
    return bundle, marker


def build_family(work: Path, selection: Selection | None = None, jobs: int = 2) -> Family:
    work.mkdir(parents=True, exist_ok=True)
    family = plan.expand(config.load(FIXTURE))
    bundle, marker = sentinel_bundle(work)
    settings = produce.Settings(jobs=jobs, ca_bundle=bundle, work_dir=work)
    report = produce.run(plan.select(family, selection or Selection()), settings, say=print)
    built = Family(family, report.results, marker, settings)
    print(summary_of(built))
    return built


def summary_of(family: Family) -> str:
    return produce.summary(family.results)


def client() -> docker.DockerClient:
    return docker.from_env(timeout=600)


def run(image: str, script: str, *, network: str = "bridge", read_only: bool = False) -> tuple[int, str]:
    """Run `sh -c script` in a fresh container; return (exit code, combined output)."""
    container = client().containers.run(
        image, ["-c", script], entrypoint="sh", detach=True, network_mode=network, read_only=read_only
    )
    try:
        status = container.wait(timeout=900)
        return status["StatusCode"], container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


@contextlib.contextmanager
def exported(image: str) -> Iterator[tarfile.TarFile]:
    """The image's flattened filesystem as root sees it (`docker export` of a container never started)."""
    container = client().containers.create(image, entrypoint=["true"])
    try:
        with tempfile.TemporaryFile() as spool:
            for chunk in container.export(chunk_size=1 << 20):
                spool.write(chunk)
            spool.seek(0)
            with tarfile.open(fileobj=spool, mode="r:") as archive:
                yield archive
    finally:
        container.remove(force=True)


def files_of(image: str) -> Iterator[tuple[str, bytes]]:
    """Every regular file of an image's flattened filesystem, with its bytes."""
    with exported(image) as archive:
        for member in archive:
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is not None:
                yield member.name, handle.read()


def image_id(ref: str) -> str:
    try:
        return client().images.get(ref).id
    except docker.errors.ImageNotFound:
        return ""


def untag(repository: str, *keep: str) -> None:
    """Remove every tag of `repository` in the engine (but the tags in `keep`): an image goes with its last tag.
    Never by image ID: family images are reproducible, so another repository (a test's, a build running beside
    the tests) may hold the very same image, and removing its ID with force would untag theirs too."""
    for image in client().images.list(repository):
        for ref in image.tags:
            if ref.startswith(f"{repository}:") and ref.removeprefix(f"{repository}:") not in keep:
                with contextlib.suppress(docker.errors.APIError):
                    client().images.remove(ref)


def untag_image(ref: str) -> None:
    """Remove the tags of `ref`'s repository that the image `ref` names has (its moving and dated tags)."""
    repository = ref.rsplit(":", 1)[0]
    with contextlib.suppress(docker.errors.APIError):
        for tag in client().images.get(ref).tags:
            if tag.startswith(f"{repository}:"):
                with contextlib.suppress(docker.errors.APIError):
                    client().images.remove(tag)
