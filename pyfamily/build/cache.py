"""The up-to-date cache: an image records the digest of its inputs in a label, and equal digests skip a build.

The inputs of a target: its rendered context (Dockerfile, files, fetched tarball), the image IDs of everything
it uses, and what its recipe's prepare step reports (e.g. the bootstrapped rootfs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import docker.models.images

from pyfamily import engine
from pyfamily.digest import INPUTS_LABEL, digest_of
from pyfamily.kinds import recipe_of
from pyfamily.kinds.base import rootfs_ref
from pyfamily.model import Family, Target

CREATED_LABEL = "org.opencontainers.image.created"
PROFILE_LABEL = "org.pyfamily.profile"  # fast or release: publish refuses fast images unless told otherwise
PYTHON_LICENSE = "PSF-2.0"


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


def registry_digest(ref: str) -> str | None:
    """The registry digest of an image pulled from a registry (None for one made here: it has none yet)."""
    image = engine.image_or_none(ref)
    repo_digests = (image.attrs.get("RepoDigests") or []) if image is not None else []
    return str(repo_digests[0]).rsplit("@", 1)[1] if repo_digests else None


# Labels that change with every build or commit; every other label is an input (a change to it rebuilds).
VOLATILE_LABELS = (CREATED_LABEL, "org.opencontainers.image.revision", INPUTS_LABEL)


def stable_labels(found: dict[str, str]) -> list[str]:
    return [f"label {key}={value}" for key, value in sorted(found.items()) if key not in VOLATILE_LABELS]


def labels(family: Family, target: Target, built: dt.datetime, revision: str, source: str) -> dict[str, str]:
    """The OCI labels of an image and, where CPython is inside, the build profile (the input digest is added
    once it is known)."""
    config = family.config
    version = config.python.versions[target.python].version if target.python else ""
    has_python = bool(target.python or target.pythons)
    found = {
        "org.opencontainers.image.title": f"{config.repository}:{target.tags[0] if target.tags else target.name}",
        "org.opencontainers.image.description": recipe_of(target).describe(config, target),
        # no date: which dated tag an image gets is only known once it is built (pyfamily.plan.tags)
        "org.opencontainers.image.version": version or (target.tags[-1] if target.tags else target.name),
        CREATED_LABEL: built.isoformat(timespec="seconds"),
        "org.opencontainers.image.source": source,
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.base.name": _qualified(base_ref(family, target)),
        "org.opencontainers.image.base.digest": registry_digest(base_ref(family, target)),
        "org.opencontainers.image.licenses": PYTHON_LICENSE if has_python else None,
        PROFILE_LABEL: family.profile if has_python else None,
    }
    return {key: value for key, value in found.items() if value}


def _qualified(ref: str) -> str:
    """docker.io/library/debian:trixie for debian:trixie; a local name (no registry host) stays as it is."""
    first = ref.split("/", 1)[0]
    if "/" in ref and ("." in first or ":" in first or first == "localhost"):
        return ref
    if engine.image_or_none(ref) is not None and not registry_digest(ref):
        return ref  # made here, never pulled: it has no registry
    return f"docker.io/{ref}" if "/" in ref else f"docker.io/library/{ref}"


def built_on(labels: dict[str, str]) -> dt.date | None:
    """The day an image was built, from its created label (None for an image pyfamily did not make)."""
    created = labels.get(CREATED_LABEL)
    return dt.datetime.fromisoformat(created).date() if created else None
