"""Expand a family file into its Family: every recipe declares its targets, the plan names, tags and checks them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pyfamily.config import Config
from pyfamily.errors import ConfigError, UserError
from pyfamily.kinds import REGISTRY, Draft, Listing, Recipe
from pyfamily.model import Family, Target
from pyfamily.plan.tags import dated_tag, moving_tags
from pyfamily.platforms import host as host_platform


def resolve_profile(config: Config, profile: str | None) -> str:
    """--profile, else build.profile; the one place a build profile is chosen."""
    chosen = profile or config.build.profile
    if chosen not in config.build.profiles:
        raise UserError(
            f"--profile {chosen!r} is not defined under build.profiles; "
            f"choose one of {', '.join(config.build.profiles)}."
        )
    return chosen


@dataclass(frozen=True)
class _Declared:
    recipe: Recipe
    draft: Draft


class _Index:
    """Finds the targets declared so far by kind, Python and variant, so recipes never compute names."""

    def __init__(self) -> None:
        self.declared: list[_Declared] = []

    def find(self, kind: str, *, python: str | None = None, variant: str | None = None) -> str:
        for item in self.declared:
            draft = item.draft
            if item.recipe.kind == kind and draft.python == python and draft.variant == variant:
                return draft.name
        raise LookupError(f"no {kind} target for Python {python} variant {variant} is declared before this one")


def expand(config: Config, profile: str | None = None, platforms: Sequence[str] = ()) -> Family:
    """Every target the family file defines, in listing order, with every reference and tag resolved, for
    `platforms` (resolved by pyfamily.platforms.resolve; none given: the host's platform)."""
    chosen = resolve_profile(config, profile)
    chosen_platforms = tuple(platforms) or (host_platform(),)
    index = _Index()
    for recipe in REGISTRY.values():
        for draft in recipe.expand(config, chosen, index):
            index.declared.append(_Declared(recipe, draft))
    minors = {python: position for position, python in enumerate(config.pythons)}
    kinds = {kind: position for position, kind in enumerate(REGISTRY)}

    def listing_order(item: _Declared) -> tuple[int, int, int]:
        per_python = item.recipe.listing is Listing.PER_PYTHON
        return item.recipe.listing, minors.get(item.draft.python or "", 0) if per_python else 0, kinds[item.recipe.kind]

    ordered = sorted(index.declared, key=listing_order)  # stable: declaration order within a kind
    targets = [_target(config, item) for item in ordered]
    return Family(config, chosen, _checked(config, targets), chosen_platforms)


def _target(config: Config, item: _Declared) -> Target:
    draft = item.draft
    # {suite} is the family's, the same for every kind; the schema refused it when base has no suite
    tags = moving_tags(draft.tag_templates, {"suite": config.base.debian_suite or "", **draft.tag_fields})
    ref_tag = tags[0] if tags else (draft.internal_tag or draft.name)
    return Target(
        name=draft.name,
        kind=item.recipe.kind,
        ref=f"{config.repository}:{ref_tag}",
        uses=draft.uses,
        python=draft.python,
        pythons=draft.pythons,
        variant=draft.variant,
        app=draft.app,
        tags=tags,
        profile=draft.profile,
    )


def _checked(config: Config, targets: list[Target]) -> dict[str, Target]:
    """Refuse names and tags that clash, internal tags included (the schema already refused tags Docker rejects)."""
    by_name: dict[str, Target] = {}
    owner_of_tag = {tag: what for recipe in REGISTRY.values() for tag, what in recipe.internal_tags(config).items()}
    sample_day = dt.date(2000, 1, 1)
    for target in targets:
        if target.name in by_name:
            raise ConfigError(
                f"apps.{target.name}: an app may not be named like the family target {target.name!r}; rename the app."
            )
        by_name[target.name] = target
        dated = dated_tag(config.tags, target, sample_day)
        for tag in dict.fromkeys((target.ref.rsplit(":", 1)[1], *target.tags, *([dated] if dated else []))):
            previous = owner_of_tag.setdefault(tag, target.name)
            if previous != target.name:
                raise ConfigError(
                    f"tags: {previous} and {target.name} would both be tagged {tag!r}; change the "
                    "tag templates under `tags` or rename the app so every tag names one image."
                )
    return by_name
