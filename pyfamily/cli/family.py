"""What every task starts from: the family file expanded into targets, and the selection of them it works on."""

from __future__ import annotations

from collections.abc import Sequence

from pyfamily import config as configuration
from pyfamily import plan as planner
from pyfamily.model import Family
from pyfamily.plan import Selection


def load(config_file: str | None, profile: str | None = None) -> Family:
    return planner.expand(configuration.load(config_file), profile)


def selection(
    version: Sequence[str] = (), target: Sequence[str] = (), variant: Sequence[str] = (), apps: bool = True
) -> Selection:
    return Selection(tuple(version), tuple(target), tuple(variant), apps)
