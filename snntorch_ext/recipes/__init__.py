"""Every experiment of the four papers (and their STBP baseline) as a named :class:`Recipe`.

Each paper has one module here whose ``RECIPES`` list holds its table rows; ``snntorch-ext list``
prints them all.

Example::

    >>> import snntorch_ext as snx
    >>> r = snx.recipes.get("stbp-mnist")
    >>> r.quick_variant().dataset
    'snntorch_ext.data:mnist_offline'
"""

from __future__ import annotations

import importlib

from ._recipe import Recipe, resolve

__all__ = ["Recipe", "all_recipes", "get", "names", "resolve"]

_MODULES = ("stbp", "bpsta", "msg", "asf", "ssl")


def all_recipes() -> dict[str, Recipe]:
    """All recipes by name, in the order of the papers.

    Example::

        >>> import snntorch_ext as snx
        >>> "stbp-mnist" in snx.recipes.all_recipes()
        True
    """
    recipes: dict[str, Recipe] = {}
    for module in _MODULES:
        for recipe in importlib.import_module(f"{__name__}.{module}").RECIPES:
            if recipe.name in recipes:
                raise RuntimeError(f"recipe name {recipe.name!r} is defined twice")
            recipes[recipe.name] = recipe
    return recipes


def names() -> list[str]:
    """The names of all recipes.

    Example::

        >>> import snntorch_ext as snx
        >>> snx.recipes.names()[0]
        'stbp-mnist'
    """
    return list(all_recipes())


def get(name: str) -> Recipe:
    """The recipe called ``name``; a ValueError lists the valid names if there is none.

    Example::

        >>> import snntorch_ext as snx
        >>> snx.recipes.get("stbp-mnist").num_steps
        8
    """
    recipes = all_recipes()
    if name not in recipes:
        raise ValueError(f"unknown recipe {name!r}; valid recipes: {', '.join(recipes)}")
    return recipes[name]
