"""`invoke plan`, `invoke render`, `invoke matrix` and `invoke bake`: what a build of a selection would do, without
building."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from tabulate import tabulate

from pyfamily import plan as planner
from pyfamily import render
from pyfamily.build import bake, lock
from pyfamily.build.runner import git_source
from pyfamily.cli.family import load
from pyfamily.cli.pipeline import settings
from pyfamily.config import PLAIN
from pyfamily.errors import UserError
from pyfamily.kinds import recipe_of
from pyfamily.plan import Selection
from pyfamily.render.output import write_tree


def show_plan(config_file: str | None, chosen: Selection, profile: str | None = None) -> str:
    family = load(config_file, profile)
    plan = planner.select(family, chosen)
    rows = [
        (index, t.name, t.kind, t.parent or "-", plan.reasons[t.name])
        for index, level in enumerate(plan.levels)
        for t in level
    ]
    header = (
        f"{len(plan.targets)} targets in {len(plan.levels)} levels (profile {family.profile}); "
        "targets of one level can build in parallel."
    )
    return header + "\n" + tabulate(rows, headers=["level", "target", "kind", "built from", "why"])


def render_contexts(config_file: str | None, chosen: Selection, out: str, profile: str | None = None) -> str:
    family = load(config_file, profile)
    plan = planner.select(family, chosen)

    def fill(folder: Path) -> None:
        for target in plan.targets:
            render.render(family, target, folder / target.name)

    write_tree(Path(out), fill)
    return "\n".join(str(Path(out) / t.name / "Dockerfile") for t in plan.targets)


def github_matrix(config_file: str | None, chosen: Selection, profile: str | None = None) -> str:
    """JSON for GitHub Actions: {"levels": [{"include": [...]}, ...]}, one entry per target."""
    family = load(config_file, profile)
    plan = planner.select(family, chosen)
    levels = [
        {
            "include": [
                {
                    "target": t.name,
                    "kind": t.kind,
                    "python": t.python or "",
                    "variant": t.variant or PLAIN,
                    "needs": list(t.needs),
                    "tags": list(t.tags),
                    "level": index,
                }
                for t in level
            ]
        }
        for index, level in enumerate(plan.levels)
    ]
    return json.dumps({"levels": levels, "count": len(plan.targets)}, indent=2)


def bake_file(
    config_file: str | None,
    chosen: Selection,
    *,
    profile: str | None = None,
    platforms: Sequence[str] = (),
    ca_bundle: str | None = None,
    show: bool = False,
    out: str | None = None,
) -> str:
    """The selection as a `docker buildx bake` file (pyfamily.build.bake): the JSON itself with `show`, else what
    was written to `out`. The contexts are rendered into build/contexts, as `invoke build` renders them."""
    if not show and not out:
        raise UserError(
            "invoke bake only writes the selection as a `docker buildx bake` file for now: --print prints it, "
            "--file PATH writes it (give both for both); it builds nothing. `invoke build` is the front end that "
            "builds, and it prepares the contexts (CPython tarballs, base's Debian tree) that `docker buildx bake` "
            "reads."
        )
    family = load(config_file, profile, platforms)
    plan = planner.select(family, chosen)
    run = settings(family, ca_bundle=ca_bundle)
    with lock.hold([lock.work_lock(run.work_dir)], "bake"):  # not the engine's: bake touches no image
        contexts, anew = bake.render_contexts(plan, run.work_dir / "contexts")
    source = run.source or git_source()
    labels = {t.name: bake.stable_labels(plan, t, run.revision, source) for t in plan.targets}
    text = bake.dumps(bake.document(plan, contexts, labels, bake.secrets(run.ca_bundle)))
    unprepared = [name for name in anew if recipe_of(family[name]).prepare]
    note = (
        f"bake: {len(plan.targets)} target(s) for {', '.join(family.platforms)}; their contexts are in "
        f"{run.work_dir / 'contexts'}, which `docker buildx bake` reads as they are: `invoke build` of the same "
        "selection prepares them (CPython tarballs, a project's files, base's Debian tree)"
        + (f"; rendered anew, so not prepared: {', '.join(unprepared)}." if unprepared else ".")
    )
    print(note, file=sys.stderr, flush=True)
    if out:
        Path(out).write_text(text)
    return text if show else f"wrote {out}: docker buildx bake --file {out}"
