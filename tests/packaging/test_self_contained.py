"""The suite tests from a bare clone: no file under tests/ reads a path outside the repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
PARENTS = re.compile(r"\.parents\[(\d+)\]")


def test_no_test_file_refers_outside_the_repository() -> None:
    offenders: list[str] = []
    for path in sorted(TESTS.rglob("*.py")):
        if path == Path(__file__).resolve():
            continue  # this file names what it looks for
        source = path.read_text()
        depth = len(path.relative_to(REPO).parts) - 1  # parents[depth] is the repository
        for match in PARENTS.finditer(source):
            if int(match.group(1)) > depth:
                offenders.append(f"{path.relative_to(REPO)}: parents[{match.group(1)}]")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if text == ".." or text.startswith("../") or "shared/timing-data" in text:
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {text!r}")
    assert offenders == []


def test_every_capture_the_tests_read_has_its_origin_and_licence() -> None:
    readme = (TESTS / "data" / "README.md").read_text()
    for folder in sorted(p for p in (TESTS / "data").iterdir() if p.is_dir()):
        assert f"`{folder.name}/`" in readme, f"{folder.name} is not described in tests/data"
    for licence in ("Apache-2.0", "GPL-3.0-or-later", "MIT"):
        assert licence in readme
