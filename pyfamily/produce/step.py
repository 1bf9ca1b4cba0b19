"""What a recipe's prepare step gets (pyfamily.kinds.recipe.Preparation): one target's part, the run's settings and
the services every step of the run shares, put together by `Step.of`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyfamily.engine import BuildRequest
from pyfamily.kinds.freshness import AptLists, Probe
from pyfamily.model import Family, Target
from pyfamily.produce.backend import Backend
from pyfamily.produce.processes import Processes
from pyfamily.produce.settings import Settings
from pyfamily.util import Say


@dataclass(frozen=True)
class Services:
    """What every step of one run shares: its processes (stopped together), its backend, the apt lists a refresh
    fetches once, and where progress goes."""

    processes: Processes
    backend: Backend
    apt_lists: AptLists
    say: Say


@dataclass  # not frozen: Preparation's attributes are plain ones
class Step:
    family: Family
    target: Target
    context: Path  # the rendered build context
    platforms: tuple[str, ...]  # what the target is built for (Plan.platforms_of)
    cache_dir: Path
    log_dir: Path
    offline: bool
    refresh: bool
    no_cache: bool
    epoch: int | None
    ca_bundle: Path | None
    services: Services

    @classmethod
    def of(cls, family: Family, target: Target, context: Path, platforms: tuple[str, ...], *, settings: Settings,
           services: Services) -> Step:  # fmt: skip
        return cls(
            family,
            target,
            context,
            platforms,
            cache_dir=settings.cache_dir,
            log_dir=settings.logs,
            offline=settings.offline,
            refresh=settings.refresh,
            no_cache=settings.no_cache,
            epoch=settings.epoch,
            ca_bundle=settings.ca_bundle,
            services=services,
        )

    def say(self, line: str) -> None:
        self.services.say(line)

    def should_stop(self) -> bool:
        return self.services.processes.stopping

    def probe(self) -> Probe:
        return Probe(self.family, self.target, self.context, self.ca_bundle, self.services.apt_lists)

    def run(self, command: Sequence[str], log: Path) -> int:
        return self.services.processes.run(command, log)

    def build(self, request: BuildRequest) -> None:
        self.services.backend.build(request, self.services.processes, self.services.say)
