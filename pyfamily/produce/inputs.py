"""The up-to-date cache: an image records the digest of its inputs in a label, and equal digests skip a build.

The inputs of a target are named parts: each file of its rendered context (Dockerfile, files, fetched tarball),
each stable label, what its recipe's prepare step reports (e.g. the bootstrap recipe and the rootfs image), and
each target it uses, twice: by image ID (the bytes, which a refresh may change) and by that image's own recipe
digest (what the family file and the recipes say, which a refresh leaves alone). An image records:

- `org.pyfamily.inputs`: the digest an equal one of which skips the build. For most kinds every part but the
  recipe ones; for a kind kept across refreshes (CPython) every part but the image ones, so a refreshed base
  does not recompile it.
- `org.pyfamily.recipe`: the digest of every part but the image ones, for the targets built from it.
- `org.pyfamily.inputs.parts`: a short digest per part, so a rebuild can say which part changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import docker.models.images

from pyfamily import engine, oci, platforms
from pyfamily.digest import EPOCH_PART, IMAGE_PART, INPUTS_LABEL, RECIPE_PART, digest_of_files
from pyfamily.kinds import recipe_of
from pyfamily.model import Family, Target

CREATED_LABEL = "org.opencontainers.image.created"
REVISION_LABEL = "org.opencontainers.image.revision"
PROFILE_LABEL = "org.pyfamily.profile"  # fast or release: publish refuses fast images unless told otherwise
RECIPE_LABEL = "org.pyfamily.recipe"
PARTS_LABEL = "org.pyfamily.inputs.parts"
PYTHON_LICENSE = "PSF-2.0"

SHORT = 16  # hex digits per part in PARTS_LABEL: enough to tell a change


def _recipe_of_image(ref: str) -> str:
    """The recipe digest a used image records (its image ID for one made before recipe digests existed)."""
    image = engine.image_or_none(ref)
    if image is None:
        raise LookupError(f"{ref} is not in the local engine although the plan built it; rebuild it.")
    return str((image.labels or {}).get(RECIPE_LABEL) or image.id)


def _digest(parts: dict[str, str]) -> str:
    hasher = hashlib.sha256()
    for name, value in sorted(parts.items()):
        hasher.update(f"{name}={value}".encode() + b"\0")
    return hasher.hexdigest()


@dataclass(frozen=True)
class Inputs:
    """Every input of one target, by part name (see the module's docstring)."""

    parts: dict[str, str]

    @property
    def content(self) -> str:
        """The digest of the bytes it is built from: its recipe parts left out, the image parts kept."""
        return _digest({k: v for k, v in self.parts.items() if not k.startswith(RECIPE_PART)})

    @property
    def recipe(self) -> str:
        """The digest of what the recipes and the family file say: the image parts left out."""
        return _digest({k: v for k, v in self.parts.items() if not k.startswith(IMAGE_PART)})

    def key(self, kept_across_refresh: bool) -> str:
        """The digest the up-to-date check compares."""
        return self.recipe if kept_across_refresh else self.content

    def short_parts(self) -> str:
        return json.dumps({k: v.removeprefix("sha256:")[:SHORT] for k, v in sorted(self.parts.items())})


def gather(
    family: Family, target: Target, context: Path, prepared: dict[str, str], labels: dict[str, str], cache_dir: Path
) -> Inputs:
    """The named parts of a target's inputs. A used image is named by its content (its platform manifests, see
    oci.Index.content), not its ID: the ID is the index's, whose provenance attestation differs between two builds
    that made the same image bit for bit."""
    parts = {f"file {p.relative_to(context)}": digest_of_files([(p, "")]) for p in context.rglob("*") if p.is_file()}
    parts["ref"] = target.ref
    parts.update({f"label {key}": value for key, value in labels.items() if key not in VOLATILE_LABELS})
    parts.update(prepared)
    for need in target.needs:
        parts[f"{IMAGE_PART}{need}"] = oci.content(family[need].ref, cache_dir)
        parts[f"{RECIPE_PART}{need}"] = _recipe_of_image(family[need].ref)
    return Inputs(parts)


def input_labels(inputs: Inputs, key: str) -> dict[str, str]:
    return {INPUTS_LABEL: key, RECIPE_LABEL: inputs.recipe, PARTS_LABEL: inputs.short_parts()}


def built_image(target: Target) -> docker.models.images.Image | None:
    return engine.image_or_none(target.ref)


def why_rebuild(existing: docker.models.images.Image | None, inputs: Inputs, key: str) -> str | None:
    """None when `existing` was built from exactly these inputs; else which parts changed, in a few words."""
    if existing is None:
        return "new"
    labels = existing.labels or {}
    if labels.get(INPUTS_LABEL) == key:
        return None
    try:
        before: dict[str, str] = json.loads(labels.get(PARTS_LABEL) or "{}")
    except ValueError:
        before = {}
    if not before:
        return "inputs changed"
    return changed_parts(before, json.loads(inputs.short_parts()))


def changed_parts(before: dict[str, str], after: dict[str, str], limit: int = 3) -> str:
    """`Dockerfile changed, base rebuilt` from two {part: short digest} maps."""
    changed = []
    for name in sorted(before.keys() | after.keys()):
        if name.startswith(RECIPE_PART) or before.get(name) == after.get(name):
            continue
        kind, _, what = name.partition(" ")
        if kind == "image":
            changed.append(f"{what} rebuilt")
        elif name not in before:
            changed.append(f"{what or kind} added")
        elif name not in after:
            changed.append(f"{what or kind} removed")
        else:
            changed.append(f"{what or kind} changed")
    if not changed:
        return "inputs changed"
    more = f" and {len(changed) - limit} more" if len(changed) > limit else ""
    return ", ".join(changed[:limit]) + more


def base_ref(family: Family, target: Target) -> str:
    """What the image is built FROM: its parent target, the image base starts from, or the bootstrapped tree."""
    if target.parent:
        return family[target.parent].ref
    root_image = recipe_of(target).root_image
    if root_image is None:
        raise LookupError(f"{target.name} has no parent and its kind {target.kind} names no image to start from")
    return root_image(family.config)


def registry_digest(ref: str) -> str | None:
    """The registry digest of an image pulled from a registry (None for one made here: it has none yet, although
    the containerd image store lists a repo digest for every image, built ones included)."""
    image = engine.image_or_none(ref)
    if image is None or INPUTS_LABEL in (image.labels or {}):
        return None
    repo_digests = image.attrs.get("RepoDigests") or []
    return str(repo_digests[0]).rsplit("@", 1)[1] if repo_digests else None


# Labels that change with every build or commit; every other label is an input (a change to it rebuilds).
VOLATILE_LABELS = (
    CREATED_LABEL,
    REVISION_LABEL,
    INPUTS_LABEL,
    RECIPE_LABEL,
    PARTS_LABEL,
    platforms.LABEL,  # which platforms: checked on its own (pyfamily.produce.scheduler), not part of the inputs
)


def epoch(family: Family, target: Target, prepared: dict[str, str]) -> int:
    """The target's SOURCE_DATE_EPOCH, from its inputs: the newest of its own sources' date (what its prepare step
    reported) and the times of the images it uses (their created time is their epoch); 0 when none has one."""
    dates = [int(prepared[EPOCH_PART])] if prepared.get(EPOCH_PART, "").isdigit() else []
    for need in target.needs:
        image = engine.image_or_none(family[need].ref)
        if image is not None:
            dates.append(engine.created_epoch(image))
    return max(dates, default=0)


def labels(family: Family, target: Target, created: dt.datetime, revision: str, source: str) -> dict[str, str]:
    """The OCI labels of an image and, where CPython is inside, the build profile (the input digest is added
    once it is known). `created` is the target's epoch, never the clock: identical inputs, identical labels."""
    config = family.config
    version = config.full_version(target.python) if target.python else ""
    has_python = bool(target.python or target.pythons)
    found = {
        "org.opencontainers.image.title": f"{config.repository}:{target.tags[0] if target.tags else target.name}",
        "org.opencontainers.image.description": recipe_of(target).describe(config, target),
        # no date: which dated tag an image gets is only known once it is built (pyfamily.plan.tags)
        "org.opencontainers.image.version": version or (target.tags[-1] if target.tags else target.name),
        CREATED_LABEL: created.isoformat(timespec="seconds"),
        "org.opencontainers.image.source": source,
        REVISION_LABEL: revision,
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
