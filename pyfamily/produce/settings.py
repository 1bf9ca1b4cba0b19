"""What a build run is told: its settings (`invoke build`'s flags), and the registry hand-over of a pipeline job."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pyfamily.model import Target
from pyfamily.util import WORK_DIR, default_cache_dir


def clock() -> dt.datetime:
    """The time now (UTC): the day of the dated tag a new image gets (its timestamps come from its inputs)."""
    return dt.datetime.now(dt.UTC)


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Handover:
    """How a pipeline job meets the jobs before and after it through registries (README: the scheduled pipeline)."""

    # --parents-from: takes a target the plan needs but was not asked for into the local engine, for these platforms,
    # instead of building it (pyfamily.publish.stage.pull); returns its image ID. None: such targets are built.
    take_parent: Callable[[Target, tuple[str, ...]], str] | None = field(default=None, compare=False)
    # --layer-cache: BuildKit's layer cache of each target in a registry (HOST[:PORT]/<repository>-cache), so a
    # fresh machine (a CI job) reuses what an earlier run compiled; None: the engine's own cache only.
    layer_cache: str | None = None
    layer_cache_insecure: bool = False  # a plain-HTTP registry


@dataclass(frozen=True)
class Settings:
    jobs: int = 2
    offline: bool = False
    ca_bundle: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    work_dir: Path = WORK_DIR
    docker_cli: str | None = None
    revision: str = "unknown"
    source: str = ""  # the org.opencontainers.image.source label; default: pyfamily.util.git_source()
    refresh: bool = False  # ask Debian and PyPI for updates; rebuild (without cache) what has some
    no_cache: bool = False  # from scratch: every target built again, no BuildKit cache, base bootstrapped again
    epoch: int | None = None  # $SOURCE_DATE_EPOCH: every image's time; None: each target's from its inputs
    backend: str = "docker"
    handover: Handover = field(default_factory=Handover)

    @property
    def logs(self) -> Path:
        return self.work_dir / "logs"
