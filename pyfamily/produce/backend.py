"""The build backend seam: how a build request becomes a local image.

Every build the tool runs goes through a backend: the scheduler's targets (scheduler.py), the bootstrapped Debian tree
(the base recipe's prepare step, through Preparation.build), the SBOM generator (sbom.py) and the bench's
comparison image. A request is an `engine.BuildRequest`; the scheduler only reads back the image it tagged and
does not care which backend runs. Today's backend runs `docker buildx build` into the local image store (the
containerd store keeps multi-platform indexes and attestations); another one (e.g. `docker buildx bake`, whose
file `invoke bake --print` writes) is added in BACKENDS below."""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pyfamily import engine
from pyfamily.engine import BuildFailed, BuildRequest
from pyfamily.produce.processes import Processes
from pyfamily.util import Say

__all__ = ["BACKENDS", "Backend", "BuildFailed", "BuildRequest", "DockerCli", "attestations"]


class Backend(Protocol):
    name: str

    def build(self, request: BuildRequest, processes: Processes, say: Say) -> bytes | None:
        """Build and tag the image of `request`, or raise BuildFailed (processes.Stopped when stopping); the
        image's index as built when the backend has it at hand (None otherwise)."""
        ...


def attestations(sbom_generator: str) -> tuple[str, ...]:
    """What BuildKit attaches beside each platform's manifest (invoke verify checks them, publish pushes them
    along): a provenance statement of how and from what it was built, and an SBOM of what is inside, made by
    `sbom_generator` (pyfamily.produce.sbom)."""
    return ("type=provenance,mode=max", f"type=sbom,generator={sbom_generator}")


_STEP = re.compile(r"^#\d+ \[(?:(?P<stage>[\w-]+) )?(?P<step>\d+/\d+)\] (?P<what>.+)$")


class DockerCli:
    """`docker buildx build` into the local (containerd) image store, every platform of the run at once (through an
    OCI archive when the request has an epoch: BuildCli.output says why)."""

    name = "docker"

    def __init__(self, configured: str | None = None) -> None:
        self.cli = engine.build_cli(configured)

    def command(self, request: BuildRequest) -> list[str]:
        return self.cli.command(request)

    def build(self, request: BuildRequest, processes: Processes, say: Say) -> bytes | None:
        def progress(line: str) -> None:
            step = _STEP.match(line.strip())
            if step and "CACHED" not in line:
                say(f"[{request.name}] {step['step']} {step['what'][:100]}")

        try:
            code = processes.run(self.command(request), request.log, env=self.cli.environment(), on_line=progress)
            if code != 0:
                raise BuildFailed(f"docker build exited {code}; see {request.log}")
            load = self.cli.load_command(request)
            if load is None:
                return None
            if (code := processes.run(load, request.log, env=self.cli.environment())) != 0:
                raise BuildFailed(f"docker load of the built image exited {code}; see {request.log}")
            return top_index(request.export)
        finally:
            request.export.unlink(missing_ok=True)  # the image store holds it now (or the build failed)


def top_index(archive: Path) -> bytes | None:
    """The image index an OCI archive's index.json points at (the image ID of the loaded image), or None when the
    archive does not say (the caller then reads the image from the engine instead)."""
    try:
        with tarfile.open(archive) as layout:
            listed = layout.extractfile("index.json")
            entries = json.loads(listed.read()).get("manifests") if listed else None
            digest = str(entries[0].get("digest", "")) if isinstance(entries, list) and entries else ""
            found = layout.extractfile(f"blobs/{digest.replace(':', '/')}") if digest.startswith("sha256:") else None
            return found.read() if found else None
    except (OSError, tarfile.TarError, KeyError, ValueError, AttributeError):
        return None


BACKENDS: dict[str, Callable[[str | None], Backend]] = {"docker": DockerCli}
