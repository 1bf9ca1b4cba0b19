"""The platforms a family can be built for: one entry each, the one place to add one.

An image is built for every platform of the run in one BuildKit build, so each public tag is a multi-platform
index. What differs per platform is only what the CPython recipe needs to cross-compile on the build machine
(images/cpython/build-python.sh): Debian's architecture name (for `dpkg --add-architecture`, the `:arch`
-dev packages and `crossbuild-essential-<arch>`) and the GNU triplet (configure's --host). Everything else
(base's mmdebstrap tree, apt-install, find-libdeps, the checks) runs as that platform, emulated by qemu-user
where it is foreign.

Each entry also names the GitHub Actions runner of a machine of that platform (`invoke matrix --format github`
puts it in every job of the scheduled workflow): a release build trains CPython with PGO, which runs the
interpreter it builds, so every platform's release images are built on a native runner, never emulated.
"""

from __future__ import annotations

import platform as host_platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyfamily.errors import UserError


@dataclass(frozen=True)
class Platform:
    name: str  # BuildKit's / the OCI index's name, e.g. linux/arm64
    debian_arch: str  # dpkg's name, e.g. arm64
    gnu_type: str  # the GNU triplet, e.g. aarch64-linux-gnu
    machines: tuple[str, ...]  # what `uname -m` prints on such a host
    runner: str  # the GitHub-hosted runner label of such a host (.github/workflows/level.yml runs its jobs on it)


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform("linux/amd64", "amd64", "x86_64-linux-gnu", ("x86_64", "amd64"), runner="ubuntu-24.04"),
        Platform("linux/arm64", "arm64", "aarch64-linux-gnu", ("aarch64", "arm64"), runner="ubuntu-24.04-arm"),
    )
}
DEFAULT = ("linux/amd64", "linux/arm64")
ALL = "all"  # --platform all: every platform the family file lists


def host() -> str:
    """The platform of this machine (what a local build without --platform builds)."""
    machine = host_platform.machine().lower()
    for platform in PLATFORMS.values():
        if machine in platform.machines:
            return platform.name
    raise UserError(f"This machine ({machine}) is none of the platforms pyfamily knows: {', '.join(PLATFORMS)}.")


def resolve(listed: Sequence[str], requested: Sequence[str], default: Sequence[str] | None = None) -> tuple[str, ...]:
    """--platform (repeatable, comma-separated, or `all`) among the family file's `platforms:`, in their order.

    Nothing requested: `default` when given, else the host's platform alone (a quick local build)."""
    wanted = [name.strip() for text in requested for name in text.split(",") if name.strip()]
    if not wanted:
        wanted = list(default) if default is not None else [host()]
    if ALL in wanted:
        return tuple(listed)
    unknown = [name for name in wanted if name not in listed]
    if unknown:
        raise UserError(
            f"--platform {', '.join(unknown)}: not among the family file's `platforms:` ({', '.join(listed)}); "
            f"choose from those, comma-separated or repeated, or `{ALL}` for every one."
        )
    return tuple(name for name in listed if name in wanted)


def debian_arch(name: str) -> str:
    return PLATFORMS[name].debian_arch


def runner(name: str) -> str:
    return PLATFORMS[name].runner


LABEL = "org.pyfamily.platforms"  # on every image pyfamily builds: the platforms its index holds, comma-separated


def label_value(platforms: Sequence[str]) -> str:
    return ",".join(platforms)


def built_for(labels: Mapping[str, str] | None) -> tuple[str, ...]:
    """The platforms an image was built for, from its labels (the host's for one made before this label)."""
    value = (labels or {}).get(LABEL)
    return tuple(name for name in value.split(",") if name) if value else (host(),)


def missing(wanted: Sequence[str], labels: Mapping[str, str] | None) -> tuple[str, ...]:
    """The platforms of `wanted` an image with these labels lacks."""
    have = built_for(labels)
    return tuple(name for name in wanted if name not in have)


def union(listed: Sequence[str], *groups: Sequence[str]) -> tuple[str, ...]:
    """Every platform of `groups`, in the family file's order."""
    chosen = {name for group in groups for name in group}
    return tuple(name for name in listed if name in chosen)


def scoped_tag(name: str, listed: Sequence[str], chosen: Sequence[str]) -> str:
    """A registry tag for something of one target made for `chosen` platforms: `name` when they are every platform
    the family lists, else `name--<arch>[-<arch>]` (`cpython-3.13--arm64`), so per-platform jobs never collide."""
    if tuple(chosen) == tuple(listed):
        return name
    return f"{name}--{'-'.join(debian_arch(platform) for platform in chosen)}"
