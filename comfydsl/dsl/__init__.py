"""The `.comfy` recipe language: parse, lower to a Graph, check, compile.

Stages stand alone: `parse(text, path)` gives the AST (`ast.py`), `lower.lower(module)`
a `Graph`; `Recipe` ties them together with imports, parameters and attachments.
"""

from __future__ import annotations

from .parser import parse as parse
from .recipe import Recipe as Recipe
from .recipe import RecipeParam as RecipeParam
from .recipe import lint_recipe as lint_recipe
from .recipe import load_recipe as load_recipe
from .recipe import parse_param_value as parse_param_value

__all__ = [
    "Recipe",
    "RecipeParam",
    "lint_recipe",
    "load_recipe",
    "parse",
    "parse_param_value",
]
