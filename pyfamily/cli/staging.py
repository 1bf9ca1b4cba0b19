"""`--stage-to`, `--parents-from` and `invoke pull --from`: the build's side of pyfamily.publish.stage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pyfamily import plan as planner
from pyfamily import produce
from pyfamily.cli.family import load
from pyfamily.model import Family, Target
from pyfamily.plan import Selection
from pyfamily.produce import Report, Status
from pyfamily.publish import stage
from pyfamily.util import WORK_DIR, default_cache_dir


def _say(line: str) -> None:
    print(line, flush=True)


class Staging:
    """What one `invoke build` takes from and gives to the staging registry."""

    def __init__(self, family: Family, cache_dir: Path, stage_to: str | None, parents_from: str | None) -> None:
        config = family.config
        self.family, self.cache_dir = family, cache_dir
        self.to = stage.location(config, stage_to, "--stage-to") if stage_to else None
        self.source = stage.location(config, parents_from, "--parents-from") if parents_from else None

    def take_parent(self) -> Callable[[Target, tuple[str, ...]], str] | None:
        source = self.source
        if source is None:
            return None
        return lambda target, chosen: stage.pull(self.family, [target], source, self.cache_dir, _say, chosen)[
            target.name
        ]

    def stage(self, report: Report) -> None:
        """Push what this run built or kept (not what it pulled: that is staged already)."""
        if self.to is None:
            return
        made = [r.target for r in report.results if r.status in (Status.BUILT, Status.UP_TO_DATE)]
        stage.stage(self.family, made, self.to, self.cache_dir, _say)


def pull(
    config_file: str | None, chosen: Selection, profile: str | None, platforms: Sequence[str], source: str
) -> None:
    """`invoke pull --from LOCATION`: every target of the selection, staged by earlier jobs, into this engine."""
    family = load(config_file, profile, platforms)
    plan = planner.select(family, chosen)
    where = stage.location(family.config, source, "--from")
    cache_dir = default_cache_dir()
    with produce.held_locks(family, WORK_DIR, cache_dir, "pull"):
        stage.pull(family, plan.targets, where, cache_dir, _say)
