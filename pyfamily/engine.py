"""The Docker engine: which CLI builds (it must speak BuildKit), and the SDK client for everything else."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass

import docker
import docker.errors
import docker.models.images

from pyfamily.errors import EngineError

DOCKER_CLI_ENV = "PYFAMILY_DOCKER"
# Tried in order when no CLI is configured: the one on PATH, then the one Debian's docker.io installs,
# whose CLI (20.10) still has BuildKit built in where newer CLIs need the buildx plugin.
FALLBACK_CLIS = ("docker", "/usr/bin/docker")


@dataclass(frozen=True)
class BuildCli:
    path: str
    version: str
    uses_buildx: bool  # True: `docker buildx build --load`; False: `DOCKER_BUILDKIT=1 docker build`

    def build_command(self) -> list[str]:
        return [self.path, "buildx", "build", "--load"] if self.uses_buildx else [self.path, "build"]

    def environment(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_BUILDKIT": "1"}


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def _probe(candidate: str) -> BuildCli | str:
    """A BuildCli when `candidate` can build with BuildKit, else the reason it cannot."""
    path = shutil.which(candidate)
    if path is None:
        return f"{candidate}: not found"
    version = _run([path, "version", "--format", "{{.Client.Version}}"]).stdout.strip()
    if _run([path, "buildx", "version"]).returncode == 0:
        return BuildCli(path, version, uses_buildx=True)
    major = int(version.split(".")[0]) if version[:1].isdigit() else 0
    if 18 <= major < 23:  # BuildKit built into `docker build` until the CLI moved it to buildx (23.0)
        return BuildCli(path, version, uses_buildx=False)
    return f"{path} (client {version or 'unknown'}): no buildx plugin, so it cannot use BuildKit"


@functools.cache
def build_cli(configured: str | None = None) -> BuildCli:
    """The docker CLI used for builds: --docker / $PYFAMILY_DOCKER, else the first that can use BuildKit."""
    wanted = configured or os.environ.get(DOCKER_CLI_ENV)
    reasons = []
    for candidate in [wanted] if wanted else FALLBACK_CLIS:
        found = _probe(candidate)
        if isinstance(found, BuildCli):
            return found
        reasons.append(found)
    hint = (
        f"set {DOCKER_CLI_ENV} to a docker CLI that has the buildx plugin or is Debian's docker.io "
        "(/usr/bin/docker), or run scripts/dev/ensure-docker to install it"
    )
    raise EngineError(f"No docker CLI here can build with BuildKit ({'; '.join(reasons)}); {hint}.")


@functools.cache
def client() -> docker.DockerClient:
    """The SDK client for inspect, import, tag, run and push; fails with advice when no engine answers."""
    try:
        sdk = docker.from_env(timeout=600)
        sdk.ping()
    except docker.errors.DockerException as exc:
        raise EngineError(
            f"The Docker engine does not answer ({exc}). Start it with scripts/dev/ensure-docker "
            "(installs Debian's docker.io and starts dockerd when none runs), or set DOCKER_HOST."
        ) from None
    return sdk


def image_or_none(ref: str) -> docker.models.images.Image | None:
    try:
        return client().images.get(ref)
    except docker.errors.ImageNotFound:
        return None


@functools.cache
def identity() -> str:
    """A name for the engine the SDK talks to, the same for every client of it: its ID (or its address)."""
    try:
        return str(client().info().get("ID") or os.environ.get("DOCKER_HOST") or "local")
    except docker.errors.DockerException:
        return os.environ.get("DOCKER_HOST") or "local"
