"""The vocabulary every step shares: a Target (one image to build) and the Family (all of them, resolved).

No logic lives here beyond reading these records: recipes (pyfamily.kinds) say which targets exist, the plan
(pyfamily.plan) makes the Family and selects from it, the later steps only read it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from pyfamily.config import Config

FROM = "from"  # the role of the image a target is built FROM; every target but a bootstrapped base has one


@dataclass(frozen=True, eq=False)
class Target:
    name: str
    kind: str  # the recipe that makes it (pyfamily.kinds.REGISTRY)
    ref: str  # the local image reference: <repository>:<first tag>, or an internal tag
    uses: Mapping[str, str] = field(default_factory=dict)  # role -> target name, e.g. {"from": "base", ...}
    python: str | None = None  # the minor it is about (None for base, all, all-<variant>)
    pythons: tuple[str, ...] = ()  # the minors it holds (build stages)
    variant: str | None = None
    app: str | None = None
    tags: tuple[str, ...] = ()  # moving tags; empty for internal targets, which are never published
    profile: str | None = None  # the CPython build profile, on the targets that compile it

    @property
    def parent(self) -> str | None:
        """The target this one is built FROM (None: base, bootstrapped or pulled)."""
        return self.uses.get(FROM)

    @property
    def needs(self) -> tuple[str, ...]:
        """Every target it uses, each once, parent first."""
        return tuple(dict.fromkeys(self.uses.values()))

    @property
    def public(self) -> bool:
        return bool(self.tags)

    @property
    def repository(self) -> str:
        return self.ref.rsplit(":", 1)[0]


@dataclass(frozen=True, eq=False)
class Family:
    """Every target of a family file for one build profile, in listing order, with every reference resolved."""

    config: Config
    profile: str
    targets: Mapping[str, Target]
    platforms: tuple[str, ...] = ()  # what this run builds, verifies or publishes: some of config.platforms

    def __iter__(self) -> Iterator[Target]:
        return iter(self.targets.values())

    def __getitem__(self, name: str) -> Target:
        return self.targets[name]

    def root(self) -> Target | None:
        """The target every other one is built from, itself built FROM outside the family (base)."""
        return next((target for target in self if target.parent is None), None)

    def refs(self, target: Target) -> dict[str, str]:
        """Role -> local image reference of what `target` uses: what its recipe's template reads."""
        return {role: self.targets[name].ref for role, name in target.uses.items()}
