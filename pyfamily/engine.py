"""The Docker engine: which CLI builds (`docker buildx build`, its command line written in one place), and the SDK
client for everything else."""

from __future__ import annotations

import csv
import datetime
import functools
import io
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors
import docker.models.images

from pyfamily.errors import EngineError

DOCKER_CLI_ENV = "PYFAMILY_DOCKER"
FALLBACK_CLIS = ("docker", "/usr/bin/docker")  # tried in order when no CLI is configured
SETUP_HINT = "scripts/dev/ensure-docker installs and starts one on a Debian host (make host)"


@dataclass(frozen=True)
class BuildRequest:
    """One `docker buildx build` into the local image store: a family target (the scheduler asks for it), the
    bootstrapped Debian tree, the SBOM generator, the bench's comparison image. Every build the tool runs is one of
    these, handed to a backend (pyfamily.produce.backend), which runs BuildCli.command(request)."""

    name: str  # what its progress lines and messages say it is
    context: Path  # the folder BuildKit gets
    tags: tuple[str, ...]  # full references, <repository>:<tag>
    platforms: tuple[str, ...]  # one BuildKit build for all: the image is a multi-platform index
    dockerfile: Path | None = None  # default: context/Dockerfile
    labels: Mapping[str, str] = field(default_factory=dict)
    build_args: Mapping[str, str] = field(default_factory=dict)
    attestations: tuple[str, ...] = ()  # --attest values; none: --provenance=false (an internal image)
    layer_cache: str | None = None  # BuildKit's cache in a registry, read and written: a type=registry ref=
    secrets: Mapping[str, Path] = field(default_factory=dict)  # BuildKit secret id -> file
    no_cache: bool = False
    # SOURCE_DATE_EPOCH: every timestamp BuildKit writes (the config's created, its history, and each new layer's
    # file mtimes, clamped by rewrite-timestamp) is this time, so identical inputs give identical images. None: the
    # clock's, and `--load` straight into the store (the SBOM generator and the bench's image: never published).
    epoch: int | None = None
    log: Path = Path("/dev/null")

    @property
    def export(self) -> Path:
        """Where a build with an epoch writes its OCI archive before it is loaded (beside its log, or in /tmp)."""
        folder = self.log.parent if self.log != Path("/dev/null") else Path("/tmp")
        return folder / f"{self.name}.oci.tar"


class BuildFailed(Exception):
    """The engine ran a build and it failed; the message says how, the log says why."""


@dataclass(frozen=True)
class BuildCli:
    """A docker CLI with the buildx plugin: every build is `docker buildx build` (BuildKit, multi-platform), and
    `command` is the one place its command line is written."""

    path: str
    version: str

    def build_command(self) -> list[str]:
        return [self.path, "buildx", "build", "--load"]  # into the local image store

    def output(self, request: BuildRequest) -> list[str]:
        """Where the image goes. With an epoch, to an OCI archive that `load_command` then loads: dockerd's own
        exporter into the containerd store unpacks every image it makes and so refuses rewrite-timestamp (BuildKit
        0.13, Docker 26), while the OCI exporter rewrites; loading keeps the index, its attestations and digests."""
        if request.epoch is None:
            return self.build_command()
        fields = ["type=oci", f"dest={request.export}", f"name={','.join(request.tags)}", "rewrite-timestamp=true"]
        written = io.StringIO()
        csv.writer(written, lineterminator="").writerow(fields)  # buildx reads --output as CSV: commas quoted
        return [self.path, "buildx", "build", "--output", written.getvalue()]

    def load_command(self, request: BuildRequest) -> list[str] | None:
        """What loads the archive `output` wrote into the local image store (None: the build loaded it itself)."""
        return None if request.epoch is None else [self.path, "load", "--input", str(request.export)]

    def command(self, request: BuildRequest) -> list[str]:
        command = [*self.output(request), "--progress=plain"]
        if request.epoch is not None:
            command.append(f"--build-arg=SOURCE_DATE_EPOCH={request.epoch}")
        if request.dockerfile is not None:
            command += ["--file", str(request.dockerfile)]
        command.append(f"--platform={','.join(request.platforms)}")
        command += [f"--attest={kind}" for kind in request.attestations] or ["--provenance=false"]
        command += [f"--build-arg={key}={value}" for key, value in request.build_args.items()]
        for tag in request.tags:
            command += ["--tag", tag]
        for key, value in request.labels.items():
            command += ["--label", f"{key}={value}"]
        for secret_id, path in request.secrets.items():
            command += ["--secret", f"id={secret_id},src={path}"]
        if request.no_cache:
            command.append("--no-cache")
        if request.layer_cache:  # every layer (mode=max); a cache that cannot be written never fails the build
            command += [
                f"--cache-from={request.layer_cache}",
                f"--cache-to={request.layer_cache},mode=max,ignore-error=true",
            ]
        return [*command, str(request.context)]

    def environment(self) -> dict[str, str]:
        return dict(os.environ)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def _probe(candidate: str) -> BuildCli | str:
    """A BuildCli when `candidate` has the buildx plugin, else the reason it cannot build."""
    path = shutil.which(candidate)
    if path is None:
        return f"{candidate}: not found"
    version = _run([path, "version", "--format", "{{.Client.Version}}"]).stdout.strip()
    if _run([path, "buildx", "version"]).returncode == 0:
        return BuildCli(path, version)
    return f"{path} (client {version or 'unknown'}): no buildx plugin"


@functools.cache
def build_cli(configured: str | None = None) -> BuildCli:
    """The docker CLI used for builds: --docker / $PYFAMILY_DOCKER, else the first with the buildx plugin."""
    wanted = configured or os.environ.get(DOCKER_CLI_ENV)
    reasons = []
    for candidate in [wanted] if wanted else FALLBACK_CLIS:
        found = _probe(candidate)
        if isinstance(found, BuildCli):
            return found
        reasons.append(found)
    raise EngineError(
        f"No docker CLI here has the buildx plugin ({'; '.join(reasons)}); set {DOCKER_CLI_ENV} to one that has "
        f"it, or install it: {SETUP_HINT}."
    )


def require_image_store() -> None:
    """Multi-platform images and attestations live only in the containerd image store (dockerd >= 25 with the
    containerd-snapshotter feature): refuse, with the way out, an engine that stores images the classic way."""
    info = client().info()
    store = " ".join(str(value) for pair in info.get("DriverStatus") or [] for value in pair)
    if "snapshotter" not in store:
        raise EngineError(
            f"The Docker engine ({info.get('ServerVersion', 'unknown version')}, storage driver "
            f"{info.get('Driver', 'unknown')}) does not use the containerd image store, which multi-platform "
            'images need: set "features": {"containerd-snapshotter": true} in /etc/docker/daemon.json and restart '
            f"dockerd (version 25 or newer); {SETUP_HINT}."
        )


@functools.cache
def client() -> docker.DockerClient:
    """The SDK client for inspect, import, tag, run and push; fails with advice when no engine answers."""
    try:
        sdk = docker.from_env(timeout=600)
        sdk.ping()
    except docker.errors.DockerException as exc:
        raise EngineError(
            f"The Docker engine does not answer ({exc}). Start it ({SETUP_HINT}), or set DOCKER_HOST."
        ) from None
    return sdk


def image_or_none(ref: str) -> docker.models.images.Image | None:
    try:
        return client().images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def created_epoch(image: docker.models.images.Image) -> int:
    """When an image says it was created (its config's `created`), as seconds since 1970: for an image built with
    an epoch, that epoch."""
    created = str(image.attrs.get("Created") or "1970-01-01T00:00:00Z")
    return int(datetime.datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp())


@functools.cache
def identity() -> str:
    """A name for the engine the SDK talks to, the same for every client of it: its ID (or its address)."""
    try:
        return str(client().info().get("ID") or os.environ.get("DOCKER_HOST") or "local")
    except docker.errors.DockerException:
        return os.environ.get("DOCKER_HOST") or "local"
