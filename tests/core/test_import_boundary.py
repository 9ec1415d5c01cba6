"""The core never imports a front-end or its toolkit: imports go from front-ends to the core."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CORE = REPO_ROOT / "adhash"
FRONT_END_MODULES = frozenset(
    {
        "adhash_cli",
        "adhash_gui",
        "adhash_tui",
        "typer",
        "click",
        "rich",
        "PyQt6",
        "pyqtgraph",
        "textual",
    }
)


def _imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """``(line, top-level module)`` for each absolute import, including ``import_module("x")``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.partition(".")[0]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value.partition(".")[0]


def test_core_sources_import_no_front_end() -> None:
    sources = sorted(CORE.rglob("*.py"))
    assert sources, f"no core sources under {CORE}"
    offences = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {module}"
        for path in sources
        for line, module in _imported_modules(ast.parse(path.read_bytes(), filename=str(path)))
        if module in FRONT_END_MODULES
    ]
    assert offences == []


def test_importing_the_core_loads_no_front_end() -> None:
    probe = (
        "import sys, adhash\n"
        f"print(' '.join(sorted(name for name in {sorted(FRONT_END_MODULES)!r} "
        "if name in sys.modules)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert completed.stdout.split() == []
