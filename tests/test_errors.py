"""The exception tree: one module defines every exception class, and its docstring draws the tree."""

from __future__ import annotations

import importlib
import pkgutil
import re

import comfydsl
from comfydsl import errors
from comfydsl.errors import ComfyDSLError


def drawn_tree() -> dict[str, str | None]:
    """Each class named in the docstring's drawing mapped to its parent (None for the root)."""
    drawing = errors.__doc__.split("```")[1]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in drawing.strip("\n").splitlines():
        match = re.match(r"^([\s│├└─]*)(\w+)", line)
        assert match, line
        depth, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def real_tree() -> dict[str, str | None]:
    """The classes below ComfyDSLError, found by walking `__subclasses__()`, mapped to their parent."""
    parents: dict[str, str | None] = {ComfyDSLError.__name__: None}

    def walk(cls: type[BaseException]) -> None:
        for sub in cls.__subclasses__():
            assert sub.__module__ == "comfydsl.errors", f"{sub.__module__}.{sub.__name__} lives outside errors.py"
            assert sub.__name__ not in parents, f"{sub.__name__} appears twice in the tree"
            parents[sub.__name__] = cls.__name__
            walk(sub)

    walk(ComfyDSLError)
    return parents


def test_the_docstring_draws_the_real_tree():
    assert drawn_tree() == real_tree()


def test_every_exception_class_in_errors_py_is_in_the_tree():
    defined = {name for name, value in vars(errors).items()
               if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == errors.__name__}
    assert defined == set(real_tree())


def test_no_other_module_defines_an_exception_class():
    strays = []
    for info in pkgutil.walk_packages(comfydsl.__path__, "comfydsl."):
        if info.name in ("comfydsl.__main__", "comfydsl.errors"):
            continue
        module = importlib.import_module(info.name)
        strays += [f"{info.name}.{name}" for name, value in vars(module).items()
                   if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == info.name]
    assert strays == []


def test_value_error_mixins_keep_their_old_bases():
    # these were ValueErrors before they joined the tree; callers that catch ValueError still catch them
    assert issubclass(errors.ImageMetadataError, ValueError)
    assert issubclass(errors.LiteralTooLong, ValueError)
