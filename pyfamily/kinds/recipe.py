"""A recipe: what one kind of image is, declared once (see pyfamily.kinds for the registry).

A recipe says which targets of its kind a family file defines (and what each uses, by role), how it is
described, the variables and files its `images/<folder>/Dockerfile.j2` renders with, what must be fetched or
bootstrapped before it builds, and how `invoke verify` checks it (the `checks/*.sh` scripts beside the
template, the environment they get, an optional smoke command).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, Protocol

from pyfamily.config import Config
from pyfamily.engine import BuildRequest
from pyfamily.kinds.freshness import Freshness, Probe, apt_updates
from pyfamily.model import Family, Target
from pyfamily.util import RECIPES


class Listing(IntEnum):
    """Where a kind's targets stand in `invoke list` and the README: base, then per Python, then the rest."""

    FIRST = 0
    PER_PYTHON = 1
    FAMILY = 2
    LAST = 3


@dataclass(frozen=True)
class Draft:
    """A target as its recipe declares it; the plan gives it its tags and local reference."""

    name: str
    uses: dict[str, str] = field(default_factory=dict)  # role -> target name, found with Index.find
    python: str | None = None
    pythons: tuple[str, ...] = ()
    variant: str | None = None
    app: str | None = None
    tag_templates: Sequence[str] = ()  # from config.tags; none: an internal target, never published
    tag_fields: dict[str, str] = field(default_factory=dict)
    internal_tag: str | None = None  # the local tag of an internal target (default: its name)
    profile: str | None = None


class Index(Protocol):
    """What recipes see of the targets declared before theirs."""

    def find(self, kind: str, *, python: str | None = None, variant: str | None = None) -> str:
        """The name of the target of `kind` for that Python and variant; LookupError when there is none."""
        ...


class Preparation(Protocol):
    """What a recipe's `prepare` step gets from the build: where to put inputs and how to run tools."""

    family: Family
    target: Target
    context: Path  # the rendered build context, to add fetched files to
    cache_dir: Path
    log_dir: Path
    offline: bool
    refresh: bool
    no_cache: bool  # from scratch: nothing taken from BuildKit's cache or the cache dir's earlier results
    epoch: int | None  # $SOURCE_DATE_EPOCH, the time of every image of the run; None: each one's from its inputs
    platforms: tuple[str, ...]  # what the target is built for (pyfamily.plan.Plan.platforms_of)

    def say(self, line: str) -> None: ...

    def probe(self) -> Probe:
        """What freshness checks get, for asking about an image this step made or reuses (on a refresh)."""
        ...

    def should_stop(self) -> bool: ...

    def run(self, command: Sequence[str], log: Path) -> int:
        """Run a tool the way builds run (stopped on Ctrl-C); its exit code."""
        ...

    def build(self, request: BuildRequest) -> None:
        """Build an image through the run's backend, as targets are built; raises engine.BuildFailed."""
        ...


Expand = Callable[[Config, str, Index], Iterable[Draft]]
Describe = Callable[[Config, Target], str]
Variables = Callable[[Family, Target], dict[str, Any]]
Files = Callable[[Family, Target], dict[str, bytes]]
Prepare = Callable[[Preparation], dict[str, str]]
CheckEnv = Callable[[Family, Target], dict[str, str]]
Smoke = Callable[[Config, Target], list[str] | None]


def no_variables(family: Family, target: Target) -> dict[str, Any]:
    return {}


def no_files(family: Family, target: Target) -> dict[str, bytes]:
    return {}


def python_env(family: Family, target: Target) -> dict[str, str]:
    """The environment every check script gets: which Python(s) the image is about."""
    config = family.config
    return {
        "TARGET": target.name,
        "PYTHON_MINOR": target.python or "",  # "3.14t" for a free-threaded one: its interpreter is python3.14t
        "PYTHON_VERSION": config.release(target.python).version if target.python else "",  # what --version says
        "PYTHONS": " ".join(target.pythons or ((target.python,) if target.python else ())),
    }


def no_smoke(config: Config, target: Target) -> list[str] | None:
    return None


def refuses_nothing(family: Family, target: Target) -> str | None:
    return None


def no_internal_tags(config: Config) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Recipe:
    kind: str
    expand: Expand  # the targets of this kind that a family file defines
    describe: Describe  # one line for `invoke list` and the README
    folder: Path | None = None  # images/<kind> unless given; holds Dockerfile.j2, checks/ and files to ship
    listing: Listing = Listing.PER_PYTHON
    selected_by_version: bool = False  # `--version X.Y` selects this kind's targets on X.Y
    origin: Callable[[Config], str] | None = None  # "built from" of a target with no parent
    # The image a target of this kind with no parent is built FROM (base: `base.from`, or its bootstrapped tree).
    root_image: Callable[[Config], str] | None = None
    # Tags this kind makes in the family's repository beside its targets' (tag -> what it holds), which no target
    # may take (base: the bootstrapped tree's rootfs-<suite>).
    internal_tags: Callable[[Config], dict[str, str]] = no_internal_tags
    variables: Variables = no_variables  # extra template variables
    files: Files = no_files  # generated files added to the context (name -> bytes)
    prepare: Prepare | None = None  # fetch or bootstrap inputs; returns extra input parts (pyfamily.produce.inputs)
    # What `build --refresh` asks of an image up to date with its recipe (pyfamily.kinds.freshness): any answer
    # rebuilds it. Most kinds are Debian trees whose packages may have updates.
    freshness: tuple[Freshness, ...] = (apt_updates,)
    # Kept across refreshes: up to date while its recipe is, whatever the bytes of what it is built from (CPython:
    # a refreshed base does not recompile it; Debian stable keeps the ABI of its libraries within a suite).
    kept_across_refresh: bool = False
    check_folders: tuple[str, ...] = ("base",)  # other recipe folders whose checks also apply
    check_env: CheckEnv = python_env
    smoke: Smoke = no_smoke  # a command run in fresh (writable, then read-only) containers by verify
    # Whether its image has a shell to run checks/*.sh with; the shell-less ones are checked by their smoke command.
    has_shell: Callable[[Family, Target], bool] = lambda family, target: True
    # Its Dockerfile compiles in a stage FROM --platform=$BUILDPLATFORM its parent (cross-compiling for the others),
    # so the parent must hold the build machine's platform too, whatever the run's platforms are.
    compiles_on_build_platform: bool = False
    # Why this machine cannot build the target for the run's platforms (None: it can); asked before anything builds.
    refuses: Callable[[Family, Target], str | None] = refuses_nothing

    @property
    def path(self) -> Path:
        return self.folder or RECIPES / self.kind

    def check_scripts(self) -> list[Path]:
        """Every checks/*.sh that applies: those of the listed folders, then this recipe's own."""
        folders = [RECIPES / name for name in self.check_folders if RECIPES / name != self.path] + [self.path]
        return [script for folder in folders for script in sorted((folder / "checks").glob("*.sh"))]
