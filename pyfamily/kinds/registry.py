"""The one registry of kinds: every recipe, in the order their targets are declared, and the lookup of a target's."""

from __future__ import annotations

from pyfamily.kinds import apps, base, builders, distroless, project, python
from pyfamily.kinds.recipe import Recipe
from pyfamily.model import Target

REGISTRY: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    """Add a kind after those already registered."""
    if recipe.kind in REGISTRY:
        raise ValueError(f"the kind {recipe.kind!r} is registered twice")
    REGISTRY[recipe.kind] = recipe
    return recipe


def unregister(kind: str) -> None:
    REGISTRY.pop(kind, None)


def recipe_of(target: Target) -> Recipe:
    return REGISTRY[target.kind]


for _recipe in (
    base.BASE,
    python.CPYTHON,
    python.RUNTIME,
    builders.BUILDER,
    builders.BUILDER_VARIANT,
    python.RUNTIME_VARIANT,
    distroless.DISTROLESS,
    builders.ALL,
    builders.ALL_VARIANT,
    apps.APP,
):
    register(_recipe)
register(project.PROJECT)
