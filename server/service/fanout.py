"""Row-level updates: a page as blocks and rows, and what changed between two renders.

Strategy: the web layer renders a channel's page blocks (header, ticker, standings, ...)
and splits the tables among them into rows, each with a stable element id; a ``View`` is
that render, with a ``key`` per block and row that leaves out what the browser ticks by
itself (clock texts, server timestamps), so a crossing changes only the rows it moved.
``ViewState`` keeps the last view of a channel and turns the next one into an update,
one JSON object of what changed, numbered by ``seq``::

    {"seq": 42, "now": <server time, us>,
     "b": {block id: html, split block id: [head, tail, container id]},
     "r": {row id: [parts]},              # new rows, or rows whose own tag changed
     "c": {row id: {part index: html}},   # the changed cells of the other rows
     "o": {container id: [row ids]},      # only when the order or the set of rows changed
     "p": {container id: [row ids]}}      # new rows put first, the others kept in order

A row travels as its parts: its opening tag, one part per cell, its closing tag (joined,
they are the row), so a crossing that changes a car's interval sends that one cell.

A snapshot has every block, row and order and ``"snap": 1`` (plus ``"rate"``, the clock
rate); a heartbeat is ``{"seq": <last seq>, "now": ..., "hb": 1}``: a client whose last
update is older than the heartbeat's ``seq`` missed one and asks for a snapshot. A split
block travels as its frame (head and tail, the rows' container left empty) and its rows.
The same class applies updates (``apply``) on an edge, which only forwards them and
serves snapshots; nothing here knows HTML, so the service stays free of ``server.web``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class BadUpdate(ValueError):
    """An update or snapshot that does not have the documented shape."""


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    parts: tuple[str, ...]  # opening tag, cells, closing tag (or the whole row, alone)
    # each part without what the browser ticks: equal keys, nothing to send
    keys: tuple[str, ...]

    @property
    def html(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True, slots=True)
class Block:
    id: str
    html: str  # the whole element; for a split block, its frame (head + tail)
    key: str
    # a split block: ``head`` ends with the rows' container's opening tag, ``tail`` starts
    # with its closing tag, ``rows`` go between them in order
    container: str = ""
    head: str = ""
    tail: str = ""
    rows: tuple[Row, ...] = ()

    @property
    def split(self) -> bool:
        return bool(self.container)

    def whole(self) -> str:
        """The element as a page shows it (rows in their container)."""
        if not self.split:
            return self.html
        return self.head + "".join(r.html for r in self.rows) + self.tail

    def wire(self) -> str | list[str]:
        return [self.head, self.tail, self.container] if self.split else self.html


@dataclass(frozen=True, slots=True)
class View:
    blocks: tuple[Block, ...]
    now_us: int
    rate: float = 1.0


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


@dataclass
class ViewState:
    """A channel's last view, its update number and its snapshot (made when asked for)."""

    seq: int = 0
    now_us: int = 0
    rate: float = 1.0
    blocks: dict[str, Block] = field(default_factory=dict)
    _snapshot: tuple[int, str] | None = None

    @property
    def empty(self) -> bool:
        return not self.blocks

    # --- the publishing side -----------------------------------------------------------

    def update(self, view: View) -> str | None:
        """The next message for ``view``: a snapshot for the first view, else an update of
        what changed; None when nothing a viewer sees changed (nothing is sent)."""
        first = self.empty
        message: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        rows: dict[str, list[str]] = {}
        cells: dict[str, dict[str, str]] = {}
        orders: dict[str, list[str]] = {}
        firsts: dict[str, list[str]] = {}
        for block in view.blocks:
            old = self.blocks.get(block.id)
            if old is not None and old.key == block.key and old.container == block.container:
                if block.split:
                    before = {r.id: r for r in old.rows}
                    for r in block.rows:
                        _compare(before.get(r.id), r, rows, cells)
                    ids = [r.id for r in block.rows]
                    kept = [r.id for r in old.rows]
                    added = len(ids) - len(kept)
                    if ids != kept and added > 0 and kept and ids[added:] == kept:
                        firsts[block.container] = ids[:added]  # a list that grows at the top
                    elif ids != kept:
                        orders[block.container] = ids
                continue
            blocks[block.id] = block.wire()
            if block.split:
                rows.update((r.id, list(r.parts)) for r in block.rows)
                orders[block.container] = [r.id for r in block.rows]
        self.blocks = {b.id: b for b in view.blocks}
        self.now_us, self.rate = view.now_us, view.rate
        if first:
            self.seq += 1
            return self.snapshot()
        if not (blocks or rows or cells or orders or firsts):
            return None
        self.seq += 1
        message = {"seq": self.seq, "now": view.now_us}
        if blocks:
            message["b"] = blocks
        if rows:
            message["r"] = rows
        if cells:
            message["c"] = cells
        if orders:
            message["o"] = orders
        if firsts:
            message["p"] = firsts
        return _dumps(message)

    def heartbeat(self, now_us: int) -> str:
        return _dumps({"seq": self.seq, "now": now_us, "hb": 1})

    def snapshot(self) -> str:
        """Everything, numbered with the last update's ``seq`` (made once per ``seq``)."""
        cached = self._snapshot
        if cached is not None and cached[0] == self.seq:
            return cached[1]
        blocks = list(self.blocks.values())
        text = _dumps(
            {
                "seq": self.seq,
                "now": self.now_us,
                "rate": self.rate,
                "snap": 1,
                "b": {b.id: b.wire() for b in blocks},
                "r": {r.id: list(r.parts) for b in blocks for r in b.rows},
                "o": {b.container: [r.id for r in b.rows] for b in blocks if b.split},
            }
        )
        self._snapshot = (self.seq, text)
        return text

    def page_blocks(self) -> dict[str, str]:
        """Each block's whole element, by id (what an edge puts into its page)."""
        return {b.id: b.whole() for b in self.blocks.values()}

    # --- the forwarding side (an edge) ---------------------------------------------------

    def apply(self, message: dict[str, Any]) -> None:
        """Apply a parsed update or snapshot (``BadUpdate`` if it is not one).

        The caller checks ``seq`` (``apply`` takes what it is given)."""
        try:
            seq = int(message["seq"])
            now = int(message.get("now", self.now_us))
            snap = bool(message.get("snap"))
            new_blocks: dict[str, Any] = dict(message.get("b", {}))
            new_rows: dict[str, Any] = dict(message.get("r", {}))
            new_cells: dict[str, Any] = dict(message.get("c", {}))
            orders: dict[str, list[str]] = dict(message.get("o", {}))
            firsts: dict[str, list[str]] = dict(message.get("p", {}))
            rate = float(message.get("rate", self.rate))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadUpdate(f"not an update: {exc}") from None
        blocks = {} if snap else dict(self.blocks)
        known: dict[str, Row] = {r.id: r for b in self.blocks.values() for r in b.rows}
        for row_id, parts in new_rows.items():
            if not isinstance(parts, list) or not _strings(parts):
                raise BadUpdate(f"row {row_id!r} is not a list of HTML parts")
            known[row_id] = Row(row_id, tuple(parts), tuple(parts))
        for row_id, changed in new_cells.items():
            row = known.get(row_id)
            if row is None or not isinstance(changed, dict):
                raise BadUpdate(f"cells of an unknown row {row_id!r}")
            patched = list(row.parts)
            for index, html in changed.items():
                at = int(index) if isinstance(index, str) and index.isdigit() else -1
                if not 0 < at < len(patched) - 1 or not isinstance(html, str):
                    raise BadUpdate(f"row {row_id!r} has no cell {index!r}")
                patched[at] = html
            known[row_id] = Row(row_id, tuple(patched), tuple(patched))
        containers: dict[str, str] = {}  # container id -> block id
        for block_id, wire in new_blocks.items():
            if isinstance(wire, str):
                blocks[block_id] = Block(block_id, wire, wire)
            elif isinstance(wire, list) and len(wire) == 3 and _strings(wire):
                head, tail, container = wire
                blocks[block_id] = Block(
                    block_id, head + tail, head + tail, container=container, head=head, tail=tail
                )
                if container not in orders:
                    raise BadUpdate(f"split block {block_id!r} without its rows' order")
            else:
                raise BadUpdate(f"block {block_id!r} is neither HTML nor a frame")
        for block in list(blocks.values()):
            if not block.split:
                continue
            containers[block.container] = block.id
            if block.container not in orders:  # rows changed in place, order kept
                blocks[block.id] = _with_rows(block, [r.id for r in block.rows], known)
        for container, ids in firsts.items():
            owner = containers.get(container)
            if owner is None or not isinstance(ids, list) or container in orders:
                raise BadUpdate(f"rows put first in an unknown container {container!r}")
            orders[container] = [*ids, *(r.id for r in blocks[owner].rows)]
        for container, ids in orders.items():
            owner = containers.get(container)
            if owner is None or not isinstance(ids, list):
                raise BadUpdate(f"order of an unknown container {container!r}")
            blocks[owner] = _with_rows(blocks[owner], ids, known)
        self.blocks, self.seq, self.now_us, self.rate = blocks, seq, now, rate


def _compare(
    old: Row | None, new: Row, rows: dict[str, list[str]], cells: dict[str, dict[str, str]]
) -> None:
    """What of ``new`` to send: nothing, its changed cells, or the whole row."""
    if old is not None and old.keys == new.keys:
        return
    n = len(new.keys)
    if old is None or n < 3 or len(old.keys) != n or old.keys[0] != new.keys[0]:
        rows[new.id] = list(new.parts)
        return
    changed = {str(i): new.parts[i] for i in range(1, n - 1) if old.keys[i] != new.keys[i]}
    if old.keys[-1] != new.keys[-1]:
        rows[new.id] = list(new.parts)
    elif changed:
        cells[new.id] = changed


def _strings(values: list[Any]) -> bool:
    return all(isinstance(x, str) for x in values)


def _with_rows(block: Block, ids: list[str], known: dict[str, Row]) -> Block:
    try:
        rows = tuple(known[str(i)] for i in ids)
    except KeyError as exc:
        raise BadUpdate(f"row {exc} ordered but never sent") from None
    return Block(
        block.id,
        block.html,
        block.key,
        container=block.container,
        head=block.head,
        tail=block.tail,
        rows=rows,
    )


def parse(message: str) -> dict[str, Any]:
    """A message from the wire as a dict (``BadUpdate`` if it is not a JSON object)."""
    try:
        value = json.loads(message)
    except ValueError as exc:
        raise BadUpdate(f"not JSON: {exc}") from None
    if not isinstance(value, dict) or "seq" not in value:
        raise BadUpdate("not an update object")
    return value
