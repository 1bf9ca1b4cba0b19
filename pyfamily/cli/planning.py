"""`invoke plan`, `invoke render` and `invoke matrix`: what a build of a selection would do, without building."""

from __future__ import annotations

import json
from pathlib import Path

from tabulate import tabulate

from pyfamily import plan as planner
from pyfamily import render
from pyfamily.cli.family import load
from pyfamily.config import PLAIN
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
