"""The build backend seam: how one rendered target becomes a local image.

The scheduler (runner.py) hands a backend one BuildRequest at a time and only reads back the image it tagged;
it does not care which backend runs. Today's backend runs `docker buildx build` into the local image store (the
containerd store keeps multi-platform indexes and attestations); another one (e.g. `docker buildx bake`, whose
file `invoke bake --print` writes) is added in BACKENDS below."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pyfamily import engine
from pyfamily.build.processes import Processes
from pyfamily.model import Target
from pyfamily.render import Context

Say = Callable[[str], None]


@dataclass(frozen=True)
class BuildRequest:
    target: Target
    context: Context
    tags: tuple[str, ...]  # full references, <repository>:<tag>
    labels: dict[str, str]
    platforms: tuple[str, ...]  # one BuildKit build for all: the image is a multi-platform index
    attestations: tuple[str, ...]  # --attest values (attestations(...))
    layer_cache: str | None = None  # BuildKit's cache in a registry, read and written: a type=registry ref=
    secrets: dict[str, Path] = field(default_factory=dict)  # BuildKit secret id -> file
    no_cache: bool = False
    log: Path = Path("/dev/null")


class BuildFailed(Exception):
    """The backend ran and the build failed; the message says how, the log says why."""


class Backend(Protocol):
    name: str

    def build(self, request: BuildRequest, processes: Processes, say: Say) -> None:
        """Build and tag the image of `request`, or raise BuildFailed (processes.Stopped when stopping)."""
        ...


def attestations(sbom_generator: str) -> tuple[str, ...]:
    """What BuildKit attaches beside each platform's manifest (invoke verify checks them, publish pushes them
    along): a provenance statement of how and from what it was built, and an SBOM of what is inside, made by
    `sbom_generator` (pyfamily.build.sbom)."""
    return ("type=provenance,mode=max", f"type=sbom,generator={sbom_generator}")


_STEP = re.compile(r"^#\d+ \[(?:(?P<stage>[\w-]+) )?(?P<step>\d+/\d+)\] (?P<what>.+)$")


class DockerCli:
    """`docker buildx build --load` into the local (containerd) image store, every platform of the run at once."""

    name = "docker"

    def __init__(self, configured: str | None = None) -> None:
        self.cli = engine.build_cli(configured)

    def command(self, request: BuildRequest) -> list[str]:
        command = [*self.cli.build_command(), "--progress=plain", "--file", str(request.context.dockerfile)]
        command += [f"--platform={','.join(request.platforms)}", *(f"--attest={kind}" for kind in request.attestations)]
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
        return [*command, str(request.context.directory)]

    def build(self, request: BuildRequest, processes: Processes, say: Say) -> None:
        name = request.target.name

        def progress(line: str) -> None:
            step = _STEP.match(line.strip())
            if step and "CACHED" not in line:
                say(f"[{name}] {step['step']} {step['what'][:100]}")

        code = processes.run(self.command(request), request.log, env=self.cli.environment(), on_line=progress)
        if code != 0:
            raise BuildFailed(f"docker build exited {code}; see {request.log}")


BACKENDS: dict[str, Callable[[str | None], Backend]] = {"docker": DockerCli}
