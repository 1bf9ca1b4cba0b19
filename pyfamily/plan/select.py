"""Select: the targets a maintainer asked for, everything they need, and the order to build them in."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from graphlib import TopologicalSorter

from pyfamily.config import PLAIN, minor_of
from pyfamily.errors import UserError
from pyfamily.kinds import recipe_of
from pyfamily.model import Family, Target
from pyfamily.platforms import host as host_platform


@dataclass(frozen=True)
class Selection:
    versions: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()  # "plain" or a variant name
    apps: bool = True


@dataclass(frozen=True)
class Plan:
    family: Family
    levels: tuple[tuple[Target, ...], ...]  # dependency order; targets of one level can build in parallel
    reasons: dict[str, str] = field(default_factory=dict)  # target name -> why it is in the plan
    needed_only: frozenset[str] = frozenset()  # in the plan only because a selected target needs them

    @property
    def targets(self) -> list[Target]:
        return [target for level in self.levels for target in level]

    def platforms_of(self, name: str) -> tuple[str, ...]:
        """The platforms target `name` is built (or pulled) for: the run's, plus this machine's when a target of
        the plan compiles FROM it on the build platform (CPython's cross-compiling stage needs base's)."""
        chosen, host = self.family.platforms, host_platform()
        if name not in self._build_platform_parents or host in chosen:
            return chosen
        listed = self.family.config.platforms
        return tuple(p for p in listed if p in chosen or p == host) if host in listed else (*chosen, host)

    @functools.cached_property
    def _build_platform_parents(self) -> frozenset[str]:
        return frozenset(t.parent for t in self.targets if t.parent and recipe_of(t).compiles_on_build_platform)

    def graph(self) -> dict[str, tuple[str, ...]]:
        """Target name -> the targets of this plan it needs: what a scheduler walks."""
        names = set(self.reasons)
        return {t.name: tuple(n for n in t.needs if n in names) for t in self.targets}


def select(family: Family, selection: Selection) -> Plan:
    """The selected targets plus everything they need, grouped into dependency levels."""
    seeds = _seeds(family, selection)
    reasons = dict(seeds)
    pending = list(seeds)
    while pending:
        name = pending.pop(0)
        for need in family[name].needs:
            if need not in reasons:
                reasons[need] = f"needed by {name}"
                pending.append(need)
    return Plan(family, levels(family, reasons), reasons, frozenset(reasons) - set(seeds))


def _seeds(family: Family, selection: Selection) -> dict[str, str]:
    _check_known(selection.names, family.targets, "--target", "target")
    _check_known(selection.versions, family.config.pythons, "--version", "Python version")
    _check_known(selection.variants, [PLAIN, *family.config.variants], "--variant", "variant")
    seeds: dict[str, str] = {name: f"named with --target {name}" for name in selection.names}
    for target in family:
        # --version 3.14 takes its free-threaded 3.14t too (one release, one compile each); --version 3.14t alone
        if target.python and recipe_of(target).selected_by_version:
            if target.python in selection.versions:
                seeds.setdefault(target.name, f"its Python is {target.python} (--version)")
            elif minor_of(target.python) in selection.versions:
                seeds.setdefault(target.name, f"its Python is {target.python} (--version {minor_of(target.python)})")
    if not selection.names and not selection.versions:
        seeds = {t.name: "full build" for t in family if t.public}
    wanted = set(selection.variants)
    return {
        name: why
        for name, why in seeds.items()
        if (not wanted or (family[name].variant or PLAIN) in wanted)
        and (selection.apps or family[name].app is None or name in selection.names)
    }


def _check_known(asked: Iterable[str], known: Iterable[str], flag: str, what: str) -> None:
    valid = list(known)
    unknown = [item for item in asked if item not in valid]
    if unknown:
        raise UserError(f"{flag} {unknown[0]!r} is not a {what} of this family; valid: {', '.join(valid)}.")


def levels(family: Family, names: Iterable[str]) -> tuple[tuple[Target, ...], ...]:
    """Kahn's levels with graphlib: a level holds what only needs earlier levels; listing order within one."""
    chosen = set(names)
    sorter = TopologicalSorter({name: [n for n in family[name].needs if n in chosen] for name in chosen})
    sorter.prepare()
    position = {name: index for index, name in enumerate(family.targets)}
    out: list[tuple[Target, ...]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        out.append(tuple(family[name] for name in ready))
        sorter.done(*ready)
    return tuple(out)
