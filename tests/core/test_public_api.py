"""The public surface: ``adhash.__all__`` is exactly what ``adhash/__init__.py`` defines, every
name in it imports, and the map classes are generic at runtime."""

from __future__ import annotations

import ast
import importlib
import typing
from pathlib import Path
from typing import Any

import pytest

import adhash
from adhash import AdaptiveMap, ChainingMap, CompactMap, RobinHoodMap

INIT = Path(adhash.__file__)


def names_bound_in_init() -> set[str]:
    """Every name a top-level statement of ``adhash/__init__.py`` binds."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"), filename=str(INIT))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(
                name.id
                for target in targets
                for name in ast.walk(target)
                if isinstance(name, ast.Name)
            )
    return names


def is_public(name: str) -> bool:
    return name == "__version__" or not name.startswith("_")


def test_all_is_exactly_the_public_names_of_the_package_init() -> None:
    assert set(adhash.__all__) == {name for name in names_bound_in_init() if is_public(name)}


def test_all_lists_each_name_once() -> None:
    assert len(adhash.__all__) == len(set(adhash.__all__))


@pytest.mark.parametrize("name", adhash.__all__)
def test_every_name_in_all_is_importable(name: str) -> None:
    module = importlib.import_module("adhash")
    assert getattr(module, name) is not None


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from adhash import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(adhash.__all__)


def test_version_is_a_string() -> None:
    assert isinstance(adhash.__version__, str)
    assert adhash.__version__


@pytest.mark.parametrize("cls", [ChainingMap, RobinHoodMap, CompactMap, AdaptiveMap])
def test_map_classes_are_generic_at_runtime(cls: Any) -> None:
    alias = cls[str, int]
    assert typing.get_origin(alias) is cls
    assert typing.get_args(alias) == (str, int)
    m = alias()
    m["a"] = 1
    assert type(m) is cls
    assert dict(m.items()) == {"a": 1}


def test_package_ships_a_py_typed_marker() -> None:
    assert (INIT.parent / "py.typed").is_file()
