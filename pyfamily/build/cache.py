"""The up-to-date cache: an image records the digest of its inputs in a label, and equal digests skip a build.

The inputs of a target: its rendered context (Dockerfile, files, fetched tarball), the image IDs of everything
it uses, and what its recipe's prepare step reports (e.g. the bootstrapped rootfs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import docker.models.images

from pyfamily import engine
from pyfamily.digest import INPUTS_LABEL, digest_of
from pyfamily.kinds.base import rootfs_ref
from pyfamily.model import Family, Target
from pyfamily.plan import dated_tag

SOURCE_URL = "https://github.com/snakepacker/python"
CREATED_LABEL = "org.opencontainers.image.created"


def image_id(ref: str) -> str:
    image = engine.image_or_none(ref)
    if image is None:
        raise LookupError(f"{ref} is not in the local engine although the plan built it; rebuild it.")
    return str(image.id)


def inputs_digest(family: Family, target: Target, context: Path, extra: list[str]) -> str:
    parents = sorted(f"{need}={image_id(family[need].ref)}" for need in target.needs)
    return digest_of(context, target.ref, *parents, *extra)


def up_to_date(target: Target, digest: str) -> docker.models.images.Image | None:
    """The existing image of `target` when it was built from exactly these inputs."""
    existing = engine.image_or_none(target.ref)
    if existing is not None and (existing.labels or {}).get(INPUTS_LABEL) == digest:
        return existing
    return None


def base_ref(family: Family, target: Target) -> str:
    """What the image is built FROM: its parent target, the image base starts from, or the bootstrapped tree."""
    if target.parent:
        return family[target.parent].ref
    return family.config.base.from_image or rootfs_ref(family.config)


def labels(family: Family, target: Target, digest: str, built: dt.datetime, revision: str) -> dict[str, str]:
    config = family.config
    parent = engine.image_or_none(base_ref(family, target))
    version = config.python.versions[target.python].version if target.python else ""
    return {
        "org.opencontainers.image.title": f"{config.repository}:{target.tags[0] if target.tags else target.name}",
        "org.opencontainers.image.version": version or dated_tag(config.tags, target, built.date()) or target.name,
        CREATED_LABEL: built.isoformat(timespec="seconds"),
        "org.opencontainers.image.source": SOURCE_URL,
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.base.name": base_ref(family, target),
        "org.opencontainers.image.base.digest": str(parent.id) if parent else "",
        INPUTS_LABEL: digest,
    }


def built_on(labels: dict[str, str]) -> dt.date | None:
    """The day an image was built, from its created label (None for an image pyfamily did not make)."""
    created = labels.get(CREATED_LABEL)
    return dt.datetime.fromisoformat(created).date() if created else None
