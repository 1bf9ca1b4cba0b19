"""The recipe registry: every kind of image the family knows, in the order their targets are declared.

Adding a kind = one `register(Recipe(...))` (pyfamily.kinds.recipe says what a recipe declares) and one folder
under images/ with its Dockerfile.j2 and checks; nothing else in the pipeline names kinds. The family's own
kinds are registered below; a kind may use (by role) the targets of kinds registered before it.
"""

from __future__ import annotations

from pyfamily.kinds import apps, base, builders, project, python
from pyfamily.kinds.recipe import Draft, Index, Listing, Preparation, Recipe
from pyfamily.model import Target

__all__ = ["REGISTRY", "Draft", "Index", "Listing", "Preparation", "Recipe", "recipe_of", "register"]

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
    builders.ALL,
    builders.ALL_VARIANT,
    apps.APP,
):
    register(_recipe)
register(project.PROJECT)
