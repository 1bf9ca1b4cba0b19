"""The SBOM generator BuildKit runs for every image the family builds (`--attest=type=sbom,generator=...`).

BuildKit's default generator (docker/buildkit-syft-scanner) comes from Docker Hub, which a build machine may not
reach; this one is made here, once per checkout of images/sbom/, from the family's own Debian tree:
`<repository>:sbom-scanner`, an internal image never published. It lists the Debian packages and the Python
distributions of each image, per platform (images/sbom/sbom-scan.py). What it is built FROM: base when the engine
has it (pulled by a pipeline job or built), else what base is built from (the bootstrapped rootfs, or base's
`from:` image) — so it is there before base itself is built, on every job of the pipeline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from pyfamily import engine, platforms
from pyfamily.build.processes import Processes
from pyfamily.digest import INPUTS_LABEL, digest_of
from pyfamily.errors import UserError
from pyfamily.kinds.base import rootfs_ref
from pyfamily.kinds.recipe import RECIPES
from pyfamily.model import Family

FOLDER = RECIPES / "sbom"
Say = Callable[[str], None]


def scanner_ref(repository: str) -> str:
    return f"{repository}:sbom-scanner"


class Scanner:
    """Makes the generator image at most once per run, whichever build asks first."""

    def __init__(self, family: Family, processes: Processes, log_dir: Path) -> None:
        self.family, self.processes, self.log_dir = family, processes, log_dir
        self._lock = threading.Lock()
        self._ready: str | None = None

    def ref(self, say: Say) -> str:
        with self._lock:
            if self._ready is None:
                self._ready = self._ensure(say)
            return self._ready

    def _ensure(self, say: Say) -> str:
        config = self.family.config
        ref, digest = scanner_ref(config.repository), digest_of(FOLDER)
        existing = engine.image_or_none(ref)
        if existing is not None and (existing.labels or {}).get(INPUTS_LABEL) == digest:
            return ref
        base = next((t for t in self.family if t.kind == "base"), None)
        made_base = base is not None and engine.image_or_none(base.ref) is not None
        tree = base.ref if base is not None and made_base else config.base.from_image or rootfs_ref(config)
        say(f"[sbom] making the SBOM generator {ref} from {tree}")
        cli = engine.build_cli()
        command = [
            *cli.build_command(),
            "--progress=plain",
            "--provenance=false",
            f"--platform={platforms.host()}",
            f"--build-arg=TREE={tree}",
            f"--label={INPUTS_LABEL}={digest}",
            f"--tag={ref}",
            str(FOLDER),
        ]
        log = self.log_dir / "sbom-scanner.log"
        code = self.processes.run(command, log)
        if code != 0:
            raise UserError(f"The SBOM generator {ref} could not be built from {tree} (exit {code}); see {log}.")
        return ref
