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
from pathlib import Path

from pyfamily import engine, platforms
from pyfamily.digest import INPUTS_LABEL, digest_of
from pyfamily.errors import UserError
from pyfamily.kinds import recipe_of
from pyfamily.model import Family
from pyfamily.produce.backend import Backend
from pyfamily.produce.processes import Processes
from pyfamily.util import RECIPES, Say

FOLDER = RECIPES / "sbom"


def scanner_ref(repository: str) -> str:
    return f"{repository}:sbom-scanner"


class Scanner:
    """Makes the generator image at most once per run, whichever build asks first."""

    def __init__(self, family: Family, backend: Backend, processes: Processes, log_dir: Path) -> None:
        self.family, self.backend, self.processes, self.log_dir = family, backend, processes, log_dir
        self._lock = threading.Lock()
        self._ready: str | None = None

    def ref(self, say: Say) -> str:
        with self._lock:
            if self._ready is None:
                self._ready = self._ensure(say)
            return self._ready

    def _tree(self) -> str:
        """The family's root target (base) when the engine has it, else the image that root is built FROM."""
        root = self.family.root()
        if root is None:
            raise UserError("The SBOM generator is built from the family's base, and this family has none.")
        root_image = recipe_of(root).root_image
        if engine.image_or_none(root.ref) is not None or root_image is None:
            return root.ref
        return root_image(self.family.config)

    def _ensure(self, say: Say) -> str:
        ref, digest = scanner_ref(self.family.config.repository), digest_of(FOLDER)
        existing = engine.image_or_none(ref)
        if existing is not None and (existing.labels or {}).get(INPUTS_LABEL) == digest:
            return ref
        tree = self._tree()
        say(f"[sbom] making the SBOM generator {ref} from {tree}")
        log = self.log_dir / "sbom-scanner.log"
        request = engine.BuildRequest(
            "sbom",
            FOLDER,
            (ref,),
            (platforms.host(),),
            labels={INPUTS_LABEL: digest},
            build_args={"TREE": tree},
            log=log,
        )
        try:
            self.backend.build(request, self.processes, say)
        except engine.BuildFailed as exc:
            raise UserError(f"The SBOM generator {ref} could not be built from {tree} ({exc}).") from None
        return ref
