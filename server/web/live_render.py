"""A page's websocket blocks as a ``View``: blocks, the rows of their tables, change keys.

Strategy: the blocks are rendered exactly as the page renders them (``Renderer.fragments``,
one block at a time), then a block holding a table body with id'd rows (``<tbody
id="standings">`` and its ``<tr id="car-7">`` rows) is cut into its frame and its rows.
The cut is checked: frame and rows put back together are the block, byte for byte, else
the block stays whole (bigger updates, never wrong ones). Each block and row gets a key:
its HTML without what ``live.js`` ticks by itself between two messages (the text of the
race clock, stint clocks, ages and countdowns, and the server timestamps), so a render a second
later, with nothing else changed, sends nothing. ``server.service.fanout`` compares the
keys and sends what changed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from server.service.fanout import Block, Row, View
from server.web.rendering import Renderer

_BLOCK_ID = re.compile(r'\s*<[a-zA-Z][a-zA-Z0-9]*\b[^>]*?\sid="([^"]+)"')
_TBODY = re.compile(r'<tbody id="([^"]+)"[^>]*>\n?')
_ROW = re.compile(r'<tr id="([^"]+)"[^>]*>.*?</tr>\n?', re.S)
_ROW_TAG = re.compile(r"<tr\b[^>]*>\n?")
_TABLE_TAG = re.compile(r"<(?:t[dhr]|table|tbody|thead)\b")
_CELL = re.compile(r"<t[dh]\b[^>]*>.*?</t[dh]>\n?", re.S)
# what the browser ticks from the server's timestamps (live.js (a) and (d))
_TICKED_TEXT = re.compile(
    r'(<[a-z]+\b[^>]*\s(?:data-clock(?=[\s>])|data-st="|data-since-us="|data-until-us=")'
    r"[^>]*>)[^<]*"
)
_SERVER_NOW = re.compile(r' data-server-now-us="[^"]*"')


_TICKED_MARKS = (
    "data-clock",
    "data-st=",
    "data-since-us=",
    "data-until-us=",
    "data-server-now-us=",
)


def change_key(html: str) -> str:
    """``html`` without the texts and timestamps the browser ticks by itself."""
    if not any(mark in html for mark in _TICKED_MARKS):
        return html  # most cells: nothing ticks in them (and no regex to run)
    return _SERVER_NOW.sub("", _TICKED_TEXT.sub(r"\1", html))


def row_parts(html: str) -> tuple[str, ...]:
    """A table row as its opening tag, its cells and its closing tag (joined: ``html``);
    ``(html,)`` if it does not cut cleanly (a cell holding a table, say)."""
    start = _ROW_TAG.match(html)
    if start is None:
        return (html,)
    parts, at = [start.group(0)], start.end()
    while (cell := _CELL.match(html, at)) is not None:
        if len(_TABLE_TAG.findall(cell.group(0))) != 1:  # a table in a cell: not cut
            return (html,)
        parts.append(cell.group(0))
        at = cell.end()
    end = html[at:]
    if len(parts) < 2 or end.rstrip("\n") != "</tr>":
        return (html,)
    return (*parts, end)


@functools.lru_cache(maxsize=512)  # a row unchanged since the last render: cut once
def row_of(row_id: str, html: str) -> Row:
    parts = row_parts(html)
    return Row(row_id, parts, tuple(change_key(p) for p in parts))


def block_of(html: str) -> Block:
    """One rendered block (one element with an id), its table rows cut out if it has any."""
    found = _BLOCK_ID.match(html)
    if found is None:
        raise ValueError(f"a block must be one element with an id: {html[:80]!r}")
    block_id = found.group(1)
    body = _TBODY.search(html)
    if body is not None:
        rows: list[Row] = []
        at = body.end()
        while (row := _ROW.match(html, at)) is not None and row.group(0).count("<tr") == 1:
            rows.append(row_of(row.group(1), row.group(0)))
            at = row.end()
        head, tail = html[: body.end()], html[at:]
        if rows and tail.startswith("</tbody>"):
            frame = head + tail
            return Block(
                block_id,
                frame,
                change_key(frame),
                container=body.group(1),
                head=head,
                tail=tail,
                rows=tuple(rows),
            )
    return Block(block_id, html, change_key(html))


def page_view(
    renderer: Renderer,
    template: str,
    block_names: Iterable[str],
    context: Mapping[str, Any],
) -> View:
    """The named blocks of ``template`` as a View (``context`` as for the page)."""
    blocks = tuple(block_of(renderer.fragments(template, (name,), context)) for name in block_names)
    return View(blocks, int(context["server_now_us"]), float(context["clock_rate"]))
