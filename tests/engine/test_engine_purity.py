"""The engine is pure: no module in server/engine imports an I/O or clock library."""

from __future__ import annotations

import ast
from pathlib import Path

import server.engine

FORBIDDEN = {"asyncio", "sqlalchemy", "fastapi", "socket", "time", "datetime"}
ENGINE_DIR = Path(server.engine.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_engine_modules_import_no_io_or_clock() -> None:
    modules = sorted(ENGINE_DIR.glob("*.py"))
    assert len(modules) > 5
    for path in modules:
        for name in imported_modules(path):
            root = name.split(".")[0]
            assert root not in FORBIDDEN, f"{path.name} imports {name}"
            if root == "server":  # only the engine itself, never storage or the web layer
                assert name.startswith("server.engine"), f"{path.name} imports {name}"
