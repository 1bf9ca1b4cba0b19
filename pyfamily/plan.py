"""Plan: expand the configuration into targets, their dependency graph, a selection and its build levels."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pyfamily.config import PLAIN, Config, TagsSpec
from pyfamily.errors import ConfigError, UserError


class Kind(StrEnum):
    """What a target is; each kind has one recipe folder under images/."""

    BASE = "base"
    CPYTHON = "cpython"  # internal: one compiled CPython, FROM scratch, copied into runtimes and builders
    RUNTIME = "runtime"  # X.Y
    RUNTIME_VARIANT = "runtime-variant"  # X.Y-pillow
    BUILDER = "builder"  # all, and the per-version builder-X.Y
    BUILDER_VARIANT = "builder-variant"  # all-pillow, builder-X.Y-pillow
    APP = "app"


@dataclass(frozen=True)
class Target:
    name: str
    kind: Kind
    parent: str | None  # the target this one is built FROM (None: base, bootstrapped or pulled)
    needs: tuple[str, ...]  # every target it uses: the parent and the images it copies from
    python: str | None = None  # the minor it is about (None for base, all, all-<variant>)
    pythons: tuple[str, ...] = ()  # the minors it holds (builders)
    variant: str | None = None
    app: str | None = None
    tags: tuple[str, ...] = ()  # moving tags; empty for internal targets, which are never published
    dated_tag: str | None = None
    ref: str = ""  # the local image reference other targets build FROM
    profile: str | None = None  # the build profile a compiled CPython is made with

    @property
    def public(self) -> bool:
        return bool(self.tags)

    @property
    def local_tags(self) -> tuple[str, ...]:
        return (*self.tags, self.dated_tag) if self.dated_tag else self.tags


@dataclass(frozen=True)
class Plan:
    levels: tuple[tuple[Target, ...], ...]  # dependency order; targets of one level can build in parallel
    reasons: dict[str, str] = field(default_factory=dict)  # target name -> why it is in the plan

    @property
    def targets(self) -> list[Target]:
        return [target for level in self.levels for target in level]


@dataclass(frozen=True)
class Selection:
    versions: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()  # "plain" or a variant name
    apps: bool = True


SEED_KINDS_FOR_VERSION = {Kind.RUNTIME, Kind.RUNTIME_VARIANT, Kind.APP}


def build_date(today: dt.date | None = None) -> dt.date:
    return today or dt.datetime.now(dt.UTC).date()


def expand(config: Config, profile: str | None = None, date: dt.date | None = None) -> dict[str, Target]:
    """Every target the configuration defines, in definition order, keyed by name."""
    profile = profile or config.build.profile
    if profile not in config.build.profiles:
        raise UserError(f"--profile {profile!r} is not defined under build.profiles; "
                        f"choose one of {', '.join(config.build.profiles)}.")
    stamp = build_date(date).strftime(config.tags.date_format)
    namer = _Namer(config, stamp)
    targets: list[Target] = [namer.public("base", Kind.BASE, None, (), config.tags.base, {})]
    for minor in config.minors:
        version = config.python.versions[minor].version
        fmt = {"minor": minor, "version": version}
        cpython = namer.internal(f"cpython-{minor}", Kind.CPYTHON, "base", ("base",), python=minor,
                                 profile=profile, ref_tag=f"cpython-{version}-{profile}")
        runtime = namer.public(minor, Kind.RUNTIME, "base", ("base", cpython.name), config.tags.python,
                               {**fmt, "variant": ""}, python=minor)
        builder = namer.internal(f"builder-{minor}", Kind.BUILDER, "base", ("base", cpython.name),
                                 python=minor, pythons=(minor,))
        targets += [cpython, runtime, builder]
        for variant in config.variants:
            variant_builder = namer.internal(f"builder-{minor}-{variant}", Kind.BUILDER_VARIANT, builder.name,
                                             (builder.name,), python=minor, pythons=(minor,), variant=variant)
            variant_runtime = namer.public(f"{minor}-{variant}", Kind.RUNTIME_VARIANT, runtime.name,
                                           (runtime.name, variant_builder.name), config.tags.python,
                                           {**fmt, "variant": f"-{variant}"}, python=minor, variant=variant)
            targets += [variant_builder, variant_runtime]
    every_cpython = tuple(f"cpython-{minor}" for minor in config.minors)
    targets.append(namer.public("all", Kind.BUILDER, "base", ("base", *every_cpython), config.tags.all,
                                {"variant": ""}, pythons=tuple(config.minors)))
    for variant in config.variants:
        targets.append(namer.public(f"all-{variant}", Kind.BUILDER_VARIANT, "all", ("all",), config.tags.all,
                                    {"variant": f"-{variant}"}, pythons=tuple(config.minors), variant=variant))
    for name, app in config.apps.items():
        variant = None if app.variant == PLAIN else app.variant
        suffix = f"-{variant}" if variant else ""
        runtime_name, builder_name = f"{app.python}{suffix}", f"builder-{app.python}{suffix}"
        fmt = {"name": name, "minor": app.python, "version": config.python.versions[app.python].version,
               "variant": suffix}
        targets.append(namer.public(name, Kind.APP, runtime_name, (runtime_name, builder_name), config.tags.app,
                                    fmt, python=app.python, variant=variant, app=name))
    return _checked(targets)


class _Namer:
    """Gives targets their tags and local references."""

    def __init__(self, config: Config, stamp: str) -> None:
        self.repository = config.repository
        self.tags: TagsSpec = config.tags
        self.stamp = stamp

    def public(self, name: str, kind: Kind, parent: str | None, needs: tuple[str, ...],
               templates: Sequence[str], fmt: dict[str, str], **attrs: Any) -> Target:
        moving = tuple(template.format(**fmt) for template in templates)
        dated = self.tags.dated.format(tag=moving[-1], date=self.stamp)
        return Target(name=name, kind=kind, parent=parent, needs=needs, tags=moving, dated_tag=dated,
                      ref=f"{self.repository}:{moving[0]}", **attrs)

    def internal(self, name: str, kind: Kind, parent: str, needs: tuple[str, ...], *,
                 ref_tag: str | None = None, **attrs: Any) -> Target:
        return Target(name=name, kind=kind, parent=parent, needs=needs,
                      ref=f"{self.repository}:{ref_tag or name}", **attrs)


_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _checked(targets: list[Target]) -> dict[str, Target]:
    """Refuse names and tags that clash or that Docker would reject."""
    by_name: dict[str, Target] = {}
    owner_of_tag: dict[str, str] = {}
    for target in targets:
        if target.name in by_name:
            raise ConfigError(f"apps.{target.name}: an app may not be named like the family target "
                              f"{target.name!r}; rename the app.")
        by_name[target.name] = target
        for tag in (*target.local_tags, target.ref.rsplit(":", 1)[1]):
            if not _TAG.match(tag):
                raise ConfigError(f"tags: {target.name} would get the tag {tag!r}, which Docker rejects; a tag is "
                                  "up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'.")
            previous = owner_of_tag.setdefault(tag, target.name)
            if previous != target.name:
                raise ConfigError(f"tags: {previous} and {target.name} would both be tagged {tag!r}; change the "
                                  "tag templates under `tags` or rename the app so every tag names one image.")
    return by_name


def select(targets: dict[str, Target], selection: Selection) -> Plan:
    """The selected targets plus everything they need, grouped into dependency levels."""
    seeds = _seeds(targets, selection)
    reasons: dict[str, str] = {name: why for name, why in seeds.items()}
    pending = list(seeds)
    while pending:
        name = pending.pop(0)
        for need in targets[name].needs:
            if need not in reasons:
                reasons[need] = f"needed by {name}"
                pending.append(need)
    return Plan(levels=_levels(targets, reasons), reasons=reasons)


def _seeds(targets: dict[str, Target], selection: Selection) -> dict[str, str]:
    _check_known(selection.names, targets, "--target", "target")
    minors = sorted({t.python for t in targets.values() if t.python})
    _check_known(selection.versions, minors, "--version", "Python version")
    variants = sorted({t.variant for t in targets.values() if t.variant} | {PLAIN})
    _check_known(selection.variants, variants, "--variant", "variant")

    seeds: dict[str, str] = {}
    for name in selection.names:
        seeds[name] = f"named with --target {name}"
    for target in targets.values():
        if target.python in selection.versions and target.kind in SEED_KINDS_FOR_VERSION:
            seeds.setdefault(target.name, f"its Python is {target.python} (--version)")
    if not selection.names and not selection.versions:
        seeds = {t.name: "full build" for t in targets.values() if t.public}
    wanted_variants = set(selection.variants)
    return {
        name: why for name, why in seeds.items()
        if (not wanted_variants or (targets[name].variant or PLAIN) in wanted_variants)
        and (selection.apps or targets[name].kind is not Kind.APP or name in selection.names)
    }


def _check_known(asked: Iterable[str], known: Iterable[str], flag: str, what: str) -> None:
    known = list(known)
    unknown = [item for item in asked if item not in known]
    if unknown:
        raise UserError(f"{flag} {unknown[0]!r} is not a {what} of this family; valid: {', '.join(known)}.")


def _levels(targets: dict[str, Target], included: Iterable[str]) -> tuple[tuple[Target, ...], ...]:
    """Level = longest chain of needs below a target; definition order within a level."""
    depth: dict[str, int] = {}

    def depth_of(name: str) -> int:
        if name not in depth:
            depth[name] = 1 + max((depth_of(need) for need in targets[name].needs), default=-1)
        return depth[name]

    chosen = set(included)
    for name in chosen:
        depth_of(name)
    levels: list[list[Target]] = [[] for _ in range(max((depth[n] for n in chosen), default=-1) + 1)]
    for name, target in targets.items():
        if name in chosen:
            levels[depth[name]].append(target)
    return tuple(tuple(level) for level in levels)
