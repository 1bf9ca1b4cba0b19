"""`docker buildx bake`: a plan as a bake file, in the JSON form buildx reads (`invoke bake --print`).

One bake target per target of the plan, in build order, all in the group `default`: the build context `invoke
build` renders (build/contexts/<target>), the references it tags, the labels known before it is built, the run's
platforms with a provenance attestation each, and the CA bundle as the secret the download steps mount. Every
image its Dockerfile uses (FROM or COPY --from) that the plan also builds is wired as a named context
`target:<bake target>`, so bake builds it first and hands it over; an image outside the plan is left to BuildKit,
which takes it from the image store or a registry (base's bootstrapped tree, `<repository>:rootfs-<suite>`, is
one: `invoke build` makes it).

The file describes builds; it fetches nothing: `invoke build` prepares the contexts (CPython tarballs, a project's
files, base's bootstrapped tree) that `docker buildx bake` then reads.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pyfamily import platforms
from pyfamily.errors import UserError
from pyfamily.model import Family, Target
from pyfamily.plan import Plan, image_refs
from pyfamily.produce import inputs
from pyfamily.produce.backend import attestations
from pyfamily.produce.sbom import scanner_ref
from pyfamily.render import CA_SECRET_ID, Context, render

GROUP = "default"
TARGET_LABEL = "org.pyfamily.target"  # the family's name of the target, which a bake name may not spell
BASE_DIGEST_LABEL = "org.opencontainers.image.base.digest"
_NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9_-]")  # bake target names are [a-zA-Z0-9_-]+

Document = dict[str, Any]


def bake_name(name: str) -> str:
    """The bake target of the family target `name`: each character a bake name may not hold becomes `_`
    (3.13 -> 3_13, cpython-3.13 -> cpython-3_13, 3.13-pillow -> 3_13-pillow)."""
    return _NOT_IN_A_NAME.sub("_", name)


def bake_names(targets: Iterable[Target]) -> dict[str, str]:
    """Family target name -> bake target name; two targets that would get one name are refused."""
    names: dict[str, str] = {}
    owner: dict[str, str] = {}
    for target in targets:
        name = names[target.name] = bake_name(target.name)
        first = owner.setdefault(name, target.name)
        if first != target.name:
            raise UserError(
                f"The targets {first!r} and {target.name!r} would both be the bake target {name!r} (bake names hold "
                "only letters, digits, '_' and '-'; other characters become '_'): rename one of the apps."
            )
    return names


def wired_contexts(family: Family, target: Target, names: Mapping[str, str]) -> dict[str, str]:
    """Image reference -> `target:<bake name>` for every image `target` uses that `names` (the plan) builds."""
    refs = family.refs(target)
    return {refs[role]: f"target:{names[used]}" for role, used in target.uses.items() if used in names}


def secrets(ca_bundle: Path | None) -> dict[str, Path]:
    """The BuildKit secrets of a build: the CA bundle the download steps mount, when there is one."""
    return {CA_SECRET_ID: ca_bundle} if ca_bundle else {}


def bake_target(
    family: Family,
    target: Target,
    names: Mapping[str, str],
    context: Context,
    labels: Mapping[str, str],
    secret_files: Mapping[str, Path],
) -> Document:
    """One target of the bake file."""
    entry: Document = {
        "context": str(context.directory),
        "dockerfile": str(context.dockerfile.relative_to(context.directory)),
        "tags": list(image_refs(target)),
        "labels": {**labels, platforms.LABEL: platforms.label_value(family.platforms), TARGET_LABEL: target.name},
        "platforms": list(family.platforms),
        "attest": list(attestations(scanner_ref(family.config.repository))),
    }
    wired = wired_contexts(family, target, names)
    if wired:
        entry["contexts"] = wired
    if secret_files:
        entry["secret"] = [f"id={secret_id},src={path}" for secret_id, path in secret_files.items()]
    return entry


def document(
    plan: Plan,
    contexts: Mapping[str, Context],
    labels: Mapping[str, Mapping[str, str]],
    secret_files: Mapping[str, Path],
) -> Document:
    """The bake file of `plan`: `contexts` and `labels` by family target name (see `render_contexts` and
    `stable_labels`), `secret_files` by BuildKit secret id (see `secrets`)."""
    names = bake_names(plan.targets)
    return {
        "group": {GROUP: {"targets": [names[t.name] for t in plan.targets]}},
        "target": {
            names[t.name]: bake_target(plan.family, t, names, contexts[t.name], labels[t.name], secret_files)
            for t in plan.targets
        },
    }


def dumps(bake_file: Document) -> str:
    return json.dumps(bake_file, indent=2, ensure_ascii=False) + "\n"


def stable_labels(plan: Plan, target: Target, revision: str, source: str) -> dict[str, str]:
    """The labels `invoke build` gives the image (pyfamily.produce.inputs.labels) that are known before it is built.

    Left out: the created time (when the image is built, not when this file is written), the input labels
    (org.pyfamily.inputs, .recipe, .inputs.parts: they digest the images a target uses, which must be built first)
    and, for the same reason, the digest of a parent this file builds (it has none until bake builds it)."""
    found = inputs.labels(plan.family, target, dt.datetime.now(dt.UTC), revision, source)
    found.pop(inputs.CREATED_LABEL, None)
    if target.parent in plan.reasons:
        found.pop(BASE_DIGEST_LABEL, None)
    return found


def render_contexts(plan: Plan, folder: Path) -> tuple[dict[str, Context], list[str]]:
    """Each target's build context in folder/<target name>, as `invoke build` renders it; and the targets whose
    context was rendered anew (see `render_context`)."""
    contexts: dict[str, Context] = {}
    fresh: list[str] = []
    for target in plan.targets:
        contexts[target.name], anew = render_context(plan.family, target, folder / target.name)
        if anew:
            fresh.append(target.name)
    return contexts, fresh


def render_context(family: Family, target: Target, folder: Path) -> tuple[Context, bool]:
    """`folder` holding the target's context as `invoke build` renders it (pyfamily.render.render, same arguments).

    A folder that already holds exactly this render is kept as it is, with what `invoke build`'s prepare step
    added to it (a CPython tarball, a project's files); else it is rendered anew (True), without those."""
    with tempfile.TemporaryDirectory(prefix="pyfamily-bake-") as scratch:
        wanted = render(family, target, Path(scratch) / target.name)
        if _holds(folder, wanted.directory):
            return Context(folder, folder / wanted.dockerfile.relative_to(wanted.directory)), False
    return render(family, target, folder), True


def _holds(folder: Path, rendered: Path) -> bool:
    """Whether every file of `rendered` is in `folder` with the same bytes and permissions."""
    if not folder.is_dir():
        return False
    for path in rendered.rglob("*"):
        if path.is_dir():
            continue
        there = folder / path.relative_to(rendered)
        if not there.is_file() or there.is_symlink() != path.is_symlink():
            return False
        if (there.stat().st_mode & 0o7777) != (path.stat().st_mode & 0o7777):
            return False
        if not filecmp.cmp(there, path, shallow=False):
            return False
    return True
