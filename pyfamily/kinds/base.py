"""The `base` kind: slim Debian with the helpers, bootstrapped with mmdebstrap (or started FROM an image).

The bootstrap is this recipe's `prepare` step: it makes the local image `<repository>:rootfs-<suite>`, one manifest
per platform of the run, from the tarballs images/base/bootstrap.sh writes (one per Debian architecture, kept in
the cache), unless an image made from the same inputs already holds every platform of the run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyfamily import engine, platforms
from pyfamily.config import Config
from pyfamily.digest import EPOCH_PART, IMAGE_PART, INPUTS_LABEL, digest_of_files
from pyfamily.engine import created_epoch
from pyfamily.errors import UserError
from pyfamily.kinds.freshness import Probe, apt_updates, apt_updates_of
from pyfamily.kinds.recipe import Draft, Index, Listing, Preparation, Recipe
from pyfamily.model import Family, Target
from pyfamily.util import RECIPES, ROOT

HELPERS = ROOT / "scripts"
HELPER_NAMES = ("apt-install", "wait-for-port", "find-libdeps", "unpack-debs")
MIRROR_ENV = "PYFAMILY_DEBIAN_MIRROR"

# What the bootstrap reads: a change to the Dockerfile template does not re-run mmdebstrap.
BOOTSTRAP_FILES = ("bootstrap.sh", "pin-dates.sh", "dpkg.cfg", "apt.conf")


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


def _root_image(config: Config) -> str:
    return config.base.from_image or rootfs_ref(config)


def _internal_tags(config: Config) -> dict[str, str]:
    return {rootfs_ref(config).rsplit(":", 1)[1]: "the bootstrapped Debian tree (internal)"}


def _variables(family: Family, target: Target) -> dict[str, Any]:
    return {"rootfs": _root_image(family.config), "helpers": HELPER_NAMES}


def _files(family: Family, target: Target) -> dict[str, bytes]:
    return {name: (HELPERS / name).read_bytes() for name in HELPER_NAMES}


def _prepare(step: Preparation) -> dict[str, str]:
    """Bootstrap the Debian tree of every platform of the run with mmdebstrap, unless an image made from the same
    inputs holds them all (on a refresh: one with no Debian updates since it was bootstrapped)."""
    config = step.family.config
    bootstrap = config.base.bootstrap
    if bootstrap is None:
        return {}  # FROM an image: the engine pulls it
    mirror = debian_mirror(config)
    # $SOURCE_DATE_EPOCH, when set, is the tree's time (mmdebstrap reads it): such a tree is cached apart
    overridden = () if step.epoch is None else (f"epoch={step.epoch}",)
    digest = digest_of_files(
        [(RECIPES / "base" / name, name) for name in BOOTSTRAP_FILES],
        bootstrap.model_dump_json(),
        f"mirror={mirror or ''}",
        *overridden,
    )
    ref = rootfs_ref(config)
    wanted = step.platforms  # base's: the run's, plus the build machine's when CPython is cross-compiled from it
    existing = engine.image_or_none(ref)
    have = platforms.built_for(existing.labels) if existing and existing.labels.get(INPUTS_LABEL) == digest else ()
    stale = step.no_cache  # from scratch: bootstrapped again, not taken from the cache dir
    if stale:
        have = ()
    if have and not platforms.missing(wanted, existing.labels if existing else None):
        why = _rootfs_updates(step, ref) if step.refresh else []
        if not why:
            return _parts(digest, ref)
        step.say(f"[base] {ref}: {why[0]}")
        have, stale = (), True
    if step.offline:
        raise UserError(f"--offline: {ref} must be bootstrapped from the Debian archive first; run once online.")
    chosen = platforms.union(config.platforms, wanted, have)
    trees = _bootstrapped_trees(step, digest, chosen, stale)
    if step.should_stop():
        return {}
    # $SOURCE_DATE_EPOCH, when set, is every image's time, the tree's too (mmdebstrap reads it as well)
    _import_trees(step, ref, digest, chosen, trees, step.epoch if step.epoch is not None else _released(trees))
    return _parts(digest, ref)


def _released(trees: dict[str, Path]) -> int:
    """The archive's Release date the trees were bootstrapped from (pin-dates.sh wrote it beside each tree): the
    newest, should the archive have moved between two platforms' bootstraps."""
    dates = []
    for tree in trees.values():
        written = tree.with_suffix(".epoch")
        text = written.read_text().strip() if written.exists() else ""
        if not text.isdigit():
            raise UserError(f"{tree} has no Release date beside it ({written}); bootstrap again with --no-cache.")
        dates.append(int(text))
    return max(dates)


def _bootstrapped_trees(step: Preparation, digest: str, chosen: Sequence[str], stale: bool) -> dict[str, Path]:
    """rootfs-<arch>.tar per platform, kept in the cache by bootstrap digest: adding a platform later bootstraps
    only that one. `stale` (Debian published updates) bootstraps every one again."""
    bootstrap = step.family.config.base.bootstrap
    assert bootstrap is not None
    folder = step.cache_dir / "rootfs" / digest[:24]
    folder.mkdir(parents=True, exist_ok=True)
    mirror = debian_mirror(step.family.config)
    trees = {}
    for name in chosen:
        arch = platforms.debian_arch(name)
        tree = trees[arch] = folder / f"rootfs-{arch}.tar"
        if tree.exists() and not stale:
            continue
        step.say(
            f"[base] bootstrapping Debian {bootstrap.suite} {arch} from {mirror or 'its default archive'} (mmdebstrap)"
        )
        log = step.log_dir / f"rootfs-{arch}.log"
        partial = tree.with_suffix(".partial.tar")  # its Release date goes to .partial.epoch
        code = step.run(
            [
                str(RECIPES / "base" / "bootstrap.sh"),
                bootstrap.suite,
                arch,
                str(partial),
                mirror or "",
                *bootstrap.packages,
            ],
            log,
        )
        if step.should_stop():
            return trees
        if code != 0:
            raise UserError(
                f"mmdebstrap could not bootstrap Debian {bootstrap.suite} for {arch} (exit {code}); see {log}. Is "
                "mmdebstrap installed (scripts/dev/ensure-tools), the archive reachable (set base.debian.mirror or "
                f"${MIRROR_ENV}) and, for a foreign platform, emulation set up (scripts/dev/ensure-emulation)?"
            )
        partial.with_suffix(".epoch").replace(tree.with_suffix(".epoch"))
        partial.replace(tree)
    for old in folder.parent.iterdir():  # one bootstrap digest is kept: the trees of older inputs go
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    return trees


def _import_trees(
    step: Preparation, ref: str, digest: str, chosen: Sequence[str], trees: dict[str, Path], epoch: int
) -> None:
    """The trees as the image `ref`, one manifest per platform, built by BuildKit (`docker import` cannot make a
    multi-platform image) from images/rootfs/Dockerfile, every file's time clamped to the Release date `epoch`."""
    with tempfile.TemporaryDirectory(prefix="pyfamily-rootfs-", dir=step.cache_dir) as scratch:
        context = Path(scratch)
        shutil.copy2(RECIPES / "rootfs" / "Dockerfile", context / "Dockerfile")
        for tree in trees.values():
            os.link(tree, context / tree.name)
        labels = {INPUTS_LABEL: digest, platforms.LABEL: platforms.label_value(chosen)}
        log = step.log_dir / "rootfs.log"
        request = engine.BuildRequest(
            "rootfs", context, (ref,), tuple(chosen), labels=labels, no_cache=step.no_cache, epoch=epoch, log=log
        )
        try:
            step.build(request)
        except engine.BuildFailed as exc:
            if not step.should_stop():
                raise UserError(f"BuildKit could not make {ref} from the bootstrapped trees ({exc}).") from None


def _parts(digest: str, ref: str) -> dict[str, str]:
    """The bootstrap's inputs: what it was made from (its recipe) and the tree it made (its bytes)."""
    image = engine.image_or_none(ref)
    if image is None:
        raise LookupError(f"{ref} is not in the local engine although it was just bootstrapped")
    return {"rootfs": digest, f"{IMAGE_PART}rootfs": str(image.id), EPOCH_PART: str(created_epoch(image))}


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
    root_image=_root_image,
    internal_tags=_internal_tags,
    variables=_variables,
    files=_files,
    prepare=_prepare,
    freshness=(_freshness,),
)
