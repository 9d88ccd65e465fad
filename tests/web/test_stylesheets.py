"""Every stylesheet is whole: each block it opens is closed, at the level it was opened.

A block left open (a merge once cut the closing brace of an ``@media print`` block in
staff.css) silently swallows every rule after it: browsers read them as nested rules
that match nothing, and the pages lose their layout and contrast.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "server" / "web" / "static"
STYLESHEETS = sorted(p for p in STATIC.glob("*.css"))
COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def unclosed(css: str) -> list[str]:
    """What is wrong with the nesting of ``css``: [] when every block closes in order."""
    text = STRING.sub('""', COMMENT.sub("", css))
    problems: list[str] = []
    open_at: list[int] = []
    for match in re.finditer(r"[{}]", text):
        line = text.count("\n", 0, match.start()) + 1
        if match.group() == "{":
            # a top-level rule opened inside a block that is not an at-rule: a lost "}"
            head = text[: match.start()].rsplit("}", 1)[-1].rsplit(";", 1)[-1].strip()
            if open_at and not head.startswith("@") and _parent_is_rule(text, open_at[-1]):
                problems.append(f"line {line}: {head!r} inside the rule of line {open_at[-1]}")
            open_at.append(line)
        elif open_at:
            open_at.pop()
        else:
            problems.append(f"line {line}: a '}}' closes nothing")
    problems += [f"line {line}: a block never closed" for line in open_at]
    return problems


def _parent_is_rule(text: str, line: int) -> bool:
    """Whether the block opened on ``line`` is a style rule (not an at-rule)."""
    source = text.split("\n")[line - 1]
    return not source.lstrip().startswith("@")


def test_a_lost_closing_brace_is_found() -> None:
    cut = "@media print {\n  .a { color: red; }\n.b {\n  color: blue;\n}\n"
    assert unclosed(cut) == ["line 1: a block never closed"]
    assert unclosed(".a {\n  color: red;\n.b {\n  color: blue;\n}\n") != []
    assert unclosed("@media print {\n  .a { color: red; }\n}\n.b { color: blue; }\n") == []


@pytest.mark.parametrize("path", STYLESHEETS, ids=[p.name for p in STYLESHEETS])
def test_every_stylesheet_closes_what_it_opens(path: Path) -> None:
    assert unclosed(path.read_text(encoding="utf-8")) == []
