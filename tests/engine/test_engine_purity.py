"""The engine is pure: its modules import only an allow-list of computational stdlib
modules and each other, so no I/O, clock, randomness or storage can creep in."""

from __future__ import annotations

import ast
from pathlib import Path

import server.engine

ENGINE_PACKAGE = "server.engine"
ENGINE_DIR = Path(server.engine.__file__).parent
# what the engine needs today; a new entry here is a design decision, not a formality
ALLOWED_STDLIB = frozenset(
    {
        "__future__",
        "bisect",
        "collections",  # and collections.abc
        "dataclasses",
        "enum",
        "functools",
        "itertools",
        "math",
        "types",  # rule_spec reads union types from annotations
        "typing",
    }
)


def imported_modules(path: Path) -> set[str]:
    """The absolute names ``path`` imports (relative imports resolved inside the engine)."""
    package = ENGINE_PACKAGE.split(".")
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                assert node.module is not None
                names.add(node.module)
                continue
            if node.level > len(package):  # above ``server``: outside the project
                names.add("." * node.level + (node.module or ""))
                continue
            base = ".".join(package[: len(package) - node.level + 1])
            if node.module:
                names.add(f"{base}.{node.module}")
            else:  # ``from .. import web`` imports the module server.web
                names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def allowed(name: str) -> bool:
    if name == ENGINE_PACKAGE or name.startswith(ENGINE_PACKAGE + "."):
        return True
    return name.split(".")[0] in ALLOWED_STDLIB


def test_engine_modules_import_only_the_allow_list() -> None:
    modules = sorted(ENGINE_DIR.rglob("*.py"))
    assert len(modules) > 5
    refused = {
        f"{path.relative_to(ENGINE_DIR)} imports {name}"
        for path in modules
        for name in imported_modules(path)
        if not allowed(name)
    }
    assert refused == set()


def test_the_allow_list_refuses_io_clocks_and_other_layers(tmp_path: Path) -> None:
    module = tmp_path / "impure.py"
    module.write_text(
        "import time\n"
        "import asyncio.tasks\n"
        "from datetime import datetime\n"
        "from server.db import repository\n"
        "from .. import web\n"
        "from . import laps\n"
        "from collections.abc import Sequence\n"
    )
    assert {name for name in imported_modules(module) if not allowed(name)} == {
        "time",
        "asyncio.tasks",
        "datetime",
        "server.db",
        "server.web",
    }
