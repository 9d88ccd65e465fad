"""The folders show the architecture, and the imports keep to it (each folder's ``__init__``
docstring says what may import it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# package -> the project packages it must never import
FORBIDDEN = {
    "timing_adapters": ("server", "fastapi", "sqlalchemy", "starlette"),
    "server/db": ("server.service", "server.web", "server.cli", "server.app"),
    "server/service": ("server.web", "server.cli", "server.app", "fastapi", "starlette"),
    "server/web": ("server.cli",),
    # the season's scoring is pure: results in, points out
    "server/season": (
        "server.db",
        "server.service",
        "server.web",
        "server.cli",
        "server.app",
        "sqlalchemy",
        "fastapi",
        "starlette",
    ),
}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_lower_layer_never_imports_a_higher_one(package: str) -> None:
    offenders = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sorted((REPO / package).rglob("*.py"))
        for name in sorted(imports_of(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package])
    ]
    assert offenders == []
