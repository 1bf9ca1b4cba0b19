"""The recipe registry: every kind of image the family knows, in the order their targets are declared.

Adding a kind = one `register(Recipe(...))` (pyfamily.kinds.recipe says what a recipe declares) and one folder
under images/ with its Dockerfile.j2 and checks; nothing else in the pipeline names kinds. The family's own
kinds are registered in registry.py; a kind may use (by role) the targets of kinds registered before it.
"""

from pyfamily.kinds.recipe import Draft, Index, Listing, Preparation, Recipe
from pyfamily.kinds.registry import REGISTRY, recipe_of, register, unregister

__all__ = ["REGISTRY", "Draft", "Index", "Listing", "Preparation", "Recipe", "recipe_of", "register", "unregister"]
