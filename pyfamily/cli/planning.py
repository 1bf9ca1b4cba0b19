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
from pyfamily.cli.family import load
from pyfamily.cli.pipeline import settings
from pyfamily.config import PLAIN
from pyfamily.errors import UserError
from pyfamily.kinds import recipe_of
from pyfamily.plan import Selection
from pyfamily.platforms import runner
from pyfamily.produce import bake, lock
from pyfamily.render.output import write_tree
from pyfamily.util import git_source


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


# The scheduled workflow's level jobs, level-0 ... level-6 (GitHub cannot make jobs at run time, so the workflow
# names each); tests/unit/test_workflows.py checks .github/workflows/images.yml has exactly these.
GITHUB_LEVEL_JOBS = 7


def github_matrix(
    config_file: str | None, chosen: Selection, profile: str | None = None, platforms: Sequence[str] = ()
) -> str:
    """JSON for the scheduled workflow: {"levels": [{"include": [...]}, ...], "depth": ..., ...}.

    Each level holds one entry per target per platform (every platform the family file lists unless --platform
    says otherwise), with the runner of that platform: a job builds one target for one platform natively. `levels`
    always has GITHUB_LEVEL_JOBS entries (the empty ones past `depth`, whose jobs the workflow skips), so every
    level job can read its own; a selection deeper than that is refused rather than silently cut short."""
    family = load(config_file, profile, platforms, every_platform=True)
    plan = planner.select(family, chosen)
    depth = len(plan.levels)
    if depth > GITHUB_LEVEL_JOBS:
        raise UserError(
            f"The selection has {depth} levels, but .github/workflows/images.yml has level jobs for "
            f"{GITHUB_LEVEL_JOBS} (level-0 ... level-{GITHUB_LEVEL_JOBS - 1}), so its deepest targets would never be "
            f"built: add a level-{GITHUB_LEVEL_JOBS} job there (a copy of the last one, its number and needs: "
            "changed) and raise GITHUB_LEVEL_JOBS in pyfamily/cli/planning.py to match."
        )
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
                    "platform": platform,
                    "runner": runner(platform),
                }
                for t in level
                for platform in family.platforms
            ]
        }
        for index, level in enumerate(plan.levels)
    ]
    levels += [{"include": []} for _ in range(GITHUB_LEVEL_JOBS - depth)]
    document = {
        "levels": levels,
        "depth": depth,  # levels with targets: the workflow runs level-N only when N < depth
        "level_jobs": GITHUB_LEVEL_JOBS,
        "platforms": list(family.platforms),
        "count": len(plan.targets),  # targets
        "jobs": sum(len(level["include"]) for level in levels),  # targets x platforms
    }
    return json.dumps(document, indent=2)


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
    """The selection as a `docker buildx bake` file (pyfamily.produce.bake): the JSON itself with `show`, else what
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
