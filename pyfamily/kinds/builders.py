"""The build stages: `all` (every Python, compilers, headers), `all-<variant>`, and their internal one-Python
twins `builder-X.Y` and `builder-X.Y-<variant>`, so one version builds without compiling the others."""

from __future__ import annotations

from typing import Any

from packaging.requirements import Requirement

from pyfamily.config import Config, is_freethreaded
from pyfamily.kinds.freshness import apt_updates, pip_updates
from pyfamily.kinds.recipe import Draft, Index, Listing, Recipe, python_env
from pyfamily.model import FROM, Family, Target
from pyfamily.util import RECIPES


def cpython_role(minor: str) -> str:
    """The role under which a build stage uses the compiled tree of `minor`."""
    return f"cpython {minor}"


def _default_minor(family: Family, target: Target) -> str:
    return target.pythons[0] if len(target.pythons) == 1 else family.config.python.default


def _builder_variables(family: Family, target: Target) -> dict[str, Any]:
    refs = family.refs(target)
    return {
        "cpythons": [(minor, refs[cpython_role(minor)]) for minor in target.pythons],
        "default_minor": _default_minor(family, target),
        # pip --altinstall names its script pip3.14 for 3.14 and 3.14t alike: the free-threaded ones first, each
        # script renamed pip3.14t, so the default build's pip3.14 is the one left.
        "pip_order": sorted(target.pythons, key=lambda python: not is_freethreaded(python)),
    }


def _builder_env(family: Family, target: Target) -> dict[str, str]:
    return {
        **python_env(family, target),
        "DEFAULT_PYTHON": _default_minor(family, target),
        "TOOLS": " ".join(Requirement(tool).name for tool in family.config.all.tools),
    }


def _variant_variables(family: Family, target: Target) -> dict[str, Any]:
    assert target.variant is not None
    return {"variant": family.config.variants[target.variant]}


def _builder_expand(config: Config, profile: str, index: Index) -> list[Draft]:
    return [
        Draft(
            f"builder-{minor}",
            python=minor,
            pythons=(minor,),
            uses={FROM: index.find("base"), cpython_role(minor): index.find("cpython", python=minor)},
        )
        for minor in config.pythons
    ]


def _builder_variant_expand(config: Config, profile: str, index: Index) -> list[Draft]:
    return [
        Draft(
            f"builder-{minor}-{variant}",
            python=minor,
            pythons=(minor,),
            variant=variant,
            uses={FROM: index.find("builder", python=minor)},
        )
        for minor in config.pythons
        for variant in config.variants
    ]


def _all_expand(config: Config, profile: str, index: Index) -> list[Draft]:
    uses = {FROM: index.find("base"), **{cpython_role(m): index.find("cpython", python=m) for m in config.pythons}}
    return [
        Draft(
            "all", uses=uses, pythons=tuple(config.pythons), tag_templates=config.tags.all, tag_fields={"variant": ""}
        )
    ]


def _all_variant_expand(config: Config, profile: str, index: Index) -> list[Draft]:
    return [
        Draft(
            f"all-{variant}",
            uses={FROM: index.find("all")},
            pythons=tuple(config.pythons),
            variant=variant,
            tag_templates=config.tags.all,
            tag_fields={"variant": f"-{variant}"},
        )
        for variant in config.variants
    ]


def _all_description(config: Config, target: Target) -> str:
    return (
        "build stage: every Python with pip, setuptools, wheel; headers, compiler, -dev libraries, "
        f"{', '.join(config.all.tools) or 'no tools'}; python3 is {config.python.default}"
    )


def _variant_description(config: Config, target: Target) -> str:
    return f"{target.parent} plus the -dev libraries {target.variant} builds against"


BUILDER = Recipe(
    kind="builder",
    expand=_builder_expand,
    folder=RECIPES / "builder",
    describe=lambda config, target: f"internal: `all` with Python {target.python} only",
    variables=_builder_variables,
    check_env=_builder_env,
    freshness=(apt_updates, pip_updates),
)
BUILDER_VARIANT = Recipe(
    kind="builder-variant",
    expand=_builder_variant_expand,
    describe=_variant_description,
    variables=_variant_variables,
    check_env=_builder_env,
    check_folders=("base", "builder"),
)
ALL = Recipe(
    kind="all",
    expand=_all_expand,
    describe=_all_description,
    folder=RECIPES / "builder",
    listing=Listing.FAMILY,
    variables=_builder_variables,
    check_env=_builder_env,
    freshness=(apt_updates, pip_updates),
)
ALL_VARIANT = Recipe(
    kind="all-variant",
    expand=_all_variant_expand,
    describe=_variant_description,
    folder=RECIPES / "builder-variant",
    listing=Listing.FAMILY,
    variables=_variant_variables,
    check_env=_builder_env,
    check_folders=("base", "builder"),
)
