"""What every task starts from: the family file expanded into targets, and the selection of them it works on."""

from __future__ import annotations

from collections.abc import Sequence

from pyfamily import config as configuration
from pyfamily import plan as planner
from pyfamily.model import Family
from pyfamily.plan import Selection
from pyfamily.platforms import resolve as resolve_platforms


def load(
    config_file: str | None,
    profile: str | None = None,
    platforms: Sequence[str] = (),
    every_platform: bool = False,
) -> Family:
    """The family for --profile and --platform; without --platform, the host's platform (a quick local build and
    check), or every platform the file lists when `every_platform` (publish: every public tag is an index of all)."""
    config = configuration.load(config_file)
    default = config.platforms if every_platform else None
    return planner.expand(config, profile, resolve_platforms(config.platforms, platforms, default))


def selection(
    version: Sequence[str] = (), target: Sequence[str] = (), variant: Sequence[str] = (), apps: bool = True
) -> Selection:
    return Selection(tuple(version), tuple(target), tuple(variant), apps)
