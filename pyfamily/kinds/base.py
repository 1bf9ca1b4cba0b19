"""The `base` kind: slim Debian with the helpers, bootstrapped with mmdebstrap (or started FROM an image).

The bootstrap is this recipe's `prepare` step: it makes the local image `<repository>:rootfs-<suite>` from a
tarball that images/base/bootstrap.sh writes, unless an image made from the same inputs is already there.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from pyfamily import engine
from pyfamily.config import Config
from pyfamily.digest import IMAGE_PART, INPUTS_LABEL, digest_of_files
from pyfamily.errors import UserError
from pyfamily.kinds.freshness import Probe, apt_updates, apt_updates_of
from pyfamily.kinds.recipe import RECIPES, ROOT, Draft, Index, Listing, Preparation, Recipe
from pyfamily.model import Family, Target

HELPERS = ROOT / "scripts"
HELPER_NAMES = ("apt-install", "wait-for-port", "find-libdeps")
MIRROR_ENV = "PYFAMILY_DEBIAN_MIRROR"

# What the bootstrap reads: a change to the Dockerfile template does not re-run mmdebstrap.
BOOTSTRAP_FILES = ("bootstrap.sh", "dpkg.cfg", "apt.conf")


def rootfs_ref(config: Config) -> str:
    """The local image holding the bootstrapped Debian tree that base is built FROM."""
    bootstrap = config.base.bootstrap
    suite = bootstrap.suite if bootstrap else "none"
    return f"{config.repository}:rootfs-{suite}"


def debian_mirror(config: Config) -> str | None:
    """$PYFAMILY_DEBIAN_MIRROR, else base.debian.mirror, else None: mmdebstrap's default archive."""
    bootstrap = config.base.bootstrap
    return os.environ.get(MIRROR_ENV) or (bootstrap.mirror if bootstrap else None)


def _expand(config: Config, profile: str, index: Index) -> list[Draft]:
    return [Draft("base", tag_templates=config.tags.base)]


def _describe(config: Config, target: Target) -> str:
    return "slim Debian: UTC, C.UTF-8, no docs; " + ", ".join(HELPER_NAMES)


def _origin(config: Config) -> str:
    if config.base.from_image:
        return config.base.from_image
    assert config.base.bootstrap is not None
    return f"Debian {config.base.bootstrap.suite} (mmdebstrap)"


def _variables(family: Family, target: Target) -> dict[str, Any]:
    config = family.config
    return {"rootfs": config.base.from_image or rootfs_ref(config), "helpers": HELPER_NAMES}


def _files(family: Family, target: Target) -> dict[str, bytes]:
    return {name: (HELPERS / name).read_bytes() for name in HELPER_NAMES}


def _prepare(step: Preparation) -> dict[str, str]:
    """Bootstrap the Debian tree with mmdebstrap unless an image made from the same inputs exists (on a refresh:
    one with no Debian updates since it was bootstrapped)."""
    config = step.family.config
    bootstrap = config.base.bootstrap
    if bootstrap is None:
        return {}  # FROM an image: the engine pulls it
    mirror = debian_mirror(config)
    folder = RECIPES / "base"
    digest = digest_of_files(
        [(folder / name, name) for name in BOOTSTRAP_FILES], bootstrap.model_dump_json(), f"mirror={mirror or ''}"
    )
    ref = rootfs_ref(config)
    existing = engine.image_or_none(ref)
    if existing is not None and existing.labels.get(INPUTS_LABEL) == digest:
        why = _rootfs_updates(step, ref) if step.refresh else []
        if not why:
            return _parts(digest, ref)
        step.say(f"[base] {ref}: {why[0]}")
    if step.offline:
        raise UserError(f"--offline: {ref} must be bootstrapped from the Debian archive first; run once online.")
    step.say(f"[base] bootstrapping Debian {bootstrap.suite} with mmdebstrap from {mirror or 'its default mirror'}")
    log = step.log_dir / "rootfs.log"
    with tempfile.TemporaryDirectory(prefix="pyfamily-rootfs-") as scratch:
        tarball = Path(scratch) / "rootfs.tar"
        code = step.run(
            [str(folder / "bootstrap.sh"), bootstrap.suite, str(tarball), mirror or "", *bootstrap.packages], log
        )
        if step.should_stop():
            return {}
        if code != 0:
            raise UserError(
                f"mmdebstrap could not bootstrap Debian {bootstrap.suite} (exit {code}); see {log}. "
                "Is mmdebstrap installed (scripts/dev/ensure-tools) and the archive reachable (set "
                f"base.debian.mirror or ${MIRROR_ENV})?"
            )
        repository, tag = ref.rsplit(":", 1)
        engine.client().api.import_image(
            src=str(tarball), repository=repository, tag=tag, changes=[f"LABEL {INPUTS_LABEL}={digest}", 'CMD ["bash"]']
        )
    return _parts(digest, ref)


def _parts(digest: str, ref: str) -> dict[str, str]:
    """The bootstrap's inputs: what it was made from (its recipe) and the tree it made (its bytes)."""
    image = engine.image_or_none(ref)
    if image is None:
        raise LookupError(f"{ref} is not in the local engine although it was just bootstrapped")
    return {"rootfs": digest, f"{IMAGE_PART}rootfs": str(image.id)}


def _rootfs_updates(step: Preparation, ref: str) -> list[str]:
    """Debian updates for the bootstrapped tree, asked in a throwaway container of it."""
    return apt_updates_of(step.probe(), ref)


def _freshness(probe: Probe) -> list[str]:
    """A bootstrapped base is asked in its prepare step (its tree); one FROM an image is asked here."""
    return apt_updates(probe) if probe.family.config.base.from_image else []


BASE = Recipe(
    kind="base",
    expand=_expand,
    describe=_describe,
    listing=Listing.FIRST,
    origin=_origin,
    variables=_variables,
    files=_files,
    prepare=_prepare,
    freshness=(_freshness,),
)
