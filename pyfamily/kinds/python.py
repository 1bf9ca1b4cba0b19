"""The Python kinds: `cpython-X.Y` (internal: the compiled tree), the thin runtime `X.Y`, and `X.Y-<variant>`."""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from pyfamily import platforms, sources
from pyfamily.config import Config, JitSpec, is_freethreaded
from pyfamily.digest import EPOCH_PART
from pyfamily.kinds.recipe import Draft, Index, Preparation, Recipe, python_env
from pyfamily.model import FROM, Family, Target

# --- cpython-X.Y: compiled once per version and profile ------------------------------------------------------


def _cpython_expand(config: Config, profile: str, index: Index) -> list[Draft]:
    return [
        Draft(
            f"cpython-{minor}",
            uses={FROM: index.find("base")},
            python=minor,
            profile=profile,
            internal_tag=f"cpython-{config.full_version(minor)}-{profile}",
        )
        for minor in config.pythons
    ]


# The JIT built in, off unless the environment says PYTHON_JIT=1: what Debian's and python.org's own 3.14 builds do.
JIT_OFF = "--enable-experimental-jit=yes-off"


def _cpython_variables(family: Family, target: Target) -> dict[str, Any]:
    config = family.config
    profile = config.build.profiles[target.profile or family.profile]
    jit = built_jit(family, target)
    shipped = config.python.build_packages
    if jit is None:
        return {"configure_flags": profile.configure, "build_packages": shipped, "backports": False}
    # LLVM compiles the JIT's stencils in the compile stage, with python3 running Tools/jit/build.py.
    added = [name for name in (f"clang-{jit.llvm}", f"llvm-{jit.llvm}", "python3") if name not in shipped]
    return {
        "configure_flags": [*profile.configure, JIT_OFF],
        "build_packages": [*shipped, *added],
        "backports": jit.backports,
    }


def built_jit(family: Family, target: Target) -> JitSpec | None:
    """The JIT a target's Python (its cpython target's, for a runtime) is built with, or None when it has none: the
    profile builds none, the minor names no LLVM, or it is a free-threaded build (3.14's JIT does not support them;
    3.15's configure warns it does not work correctly with them)."""
    assert target.python is not None
    jit = family.config.release(target.python).jit
    if not family.config.build.profiles[target.profile or family.profile].jit or jit is None:
        return None
    return None if is_freethreaded(target.python) else jit


def _cpython_refuses(family: Family, target: Target) -> str | None:
    """PGO trains the interpreter it builds by running it: a cross-compiled one cannot be trained here."""
    profile = target.profile or family.profile
    foreign = [name for name in family.platforms if name != platforms.host()]
    if not foreign or "--enable-optimizations" not in family.config.build.profiles[profile].configure:
        return None
    return (
        f"{target.name}: the {profile} profile trains CPython with PGO, which runs the interpreter it builds, so it "
        f"cannot be cross-compiled for {', '.join(foreign)} on this {platforms.host()} machine; build that profile on "
        f"a machine of that platform (the scheduled workflow uses native runners), or choose --platform "
        f"{platforms.host()} or another profile (e.g. --profile fast)."
    )


def source_urls(config: Config, python: Any) -> list[str]:
    """Where a tarball may come from: python.org, the Debian archive(s), then the configured mirrors."""
    roots, mirrors = sources.locations(config)
    return sources.candidate_urls(python, roots, mirrors)


def _fetch_source(step: Preparation) -> dict[str, str]:
    """Fetch the pinned tarball on the host (checked against its sha256) and link it into the context."""
    config, target = step.family.config, step.target
    assert target.python is not None
    python = config.release(target.python)
    tarball = sources.fetch(
        python,
        step.cache_dir / "sources",
        source_urls(config, python),
        offline=step.offline,
        progress=sources.console_progress(),
        should_stop=step.should_stop,
    )
    _link(tarball, step.context / tarball.name)
    # the tarball is in the context, so its bytes are part of the context digest; its date is the target's own
    return {EPOCH_PART: str(released(tarball))}


def released(tarball: Path) -> int:
    """A source tarball's release date: the newest time among its members (seconds since 1970), kept beside it
    in the cache dir (reading a .tar.xz through takes a few seconds)."""
    noted = tarball.with_name(tarball.name + ".epoch")
    if noted.exists() and noted.stat().st_mtime >= tarball.stat().st_mtime and noted.read_text().strip().isdigit():
        return int(noted.read_text())
    with tarfile.open(tarball) as archive:
        newest = max((int(member.mtime) for member in archive), default=0)
    noted.write_text(f"{newest}\n")
    return newest


def _link(source: Path, destination: Path) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another filesystem
        shutil.copy2(source, destination)


CPYTHON = Recipe(
    kind="cpython",
    expand=_cpython_expand,
    describe=lambda config, target: "internal: the compiled CPython tree, copied into runtimes and builders",
    variables=_cpython_variables,
    prepare=_fetch_source,
    refuses=_cpython_refuses,
    compiles_on_build_platform=True,
    check_folders=(),  # FROM scratch: no shell to check with; the runtimes and builders check it
    # Recompiled only when its own inputs change (tarball, configure flags, build scripts, the base recipe: suite,
    # packages, helpers), never because a refresh brought Debian updates into base; see README "Keeping the
    # family current". Nothing to ask on a refresh: the tree has no packages of its own.
    freshness=(),
    kept_across_refresh=True,
)


# --- X.Y: the thin runtime -----------------------------------------------------------------------------------


def _runtime_expand(config: Config, profile: str, index: Index) -> list[Draft]:
    return [
        Draft(
            minor,
            uses={FROM: index.find("base"), "cpython": index.find("cpython", python=minor)},
            python=minor,
            tag_templates=config.tags.python,
            tag_fields={"minor": minor, "version": config.full_version(minor), "variant": ""},
        )
        for minor in config.pythons
    ]


def runtime_env(family: Family, target: Target) -> dict[str, str]:
    return {
        **python_env(family, target),
        "CHECK_IMPORTS": " ".join(family.config.python.check_imports),
        "JIT_BUILT": "1" if built_jit(family, target) is not None else "0",  # checks/jit.sh
    }


RUNTIME = Recipe(
    kind="runtime",
    expand=_runtime_expand,
    describe=lambda config, target: (
        "thin runtime: CPython from its pinned tarball and only the libraries it loads; no compiler, headers or pip"
    ),
    selected_by_version=True,
    check_env=runtime_env,
)


# --- X.Y-<variant>: the runtime plus what a source-built probe package loads --------------------------------


def _variant_expand(config: Config, profile: str, index: Index) -> list[Draft]:
    return [
        Draft(
            f"{minor}-{variant}",
            python=minor,
            variant=variant,
            tag_templates=config.tags.python,
            uses={
                FROM: index.find("runtime", python=minor),
                "probe": index.find("builder-variant", python=minor, variant=variant),
            },
            tag_fields={"minor": minor, "version": config.full_version(minor), "variant": f"-{variant}"},
        )
        for minor in config.pythons
        for variant in config.variants
    ]


def _variant_variables(family: Family, target: Target) -> dict[str, Any]:
    assert target.variant is not None
    variant = family.config.variants[target.variant]
    return {"variant": variant, "probe_name": Requirement(variant.probe).name}


RUNTIME_VARIANT = Recipe(
    kind="runtime-variant",
    expand=_variant_expand,
    describe=lambda config, target: f"the runtime plus exactly the libraries a source-built {target.variant} needs",
    selected_by_version=True,
    variables=_variant_variables,
    check_folders=("base", "runtime"),
    check_env=runtime_env,
)
