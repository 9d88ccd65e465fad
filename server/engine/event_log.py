"""The engine's log of the input events it applied, which a correction rebuilds from.

Strategy: a list, except that a log restored from a checkpoint (``server.service
.checkpoint``) holds its events in chunks, each the pickle of a run of events, until
something reads them: a restart does not build an object for every event of a long
journal, which only a correction (or a flag undone) ever reads again, and each checkpoint
stores the chunks as they are and pickles only the events appended since the last one
(``sealed``). Reading thaws every chunk at once, in order, for good, with the function the
checkpoint gave (unpickling: computation, no I/O; the engine itself knows no format).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import overload

from server.engine.events import InputEvent


class EventLog(Sequence[InputEvent]):
    __slots__ = ("_chunks", "_events", "_thaw")

    def __init__(
        self,
        chunks: Sequence[bytes] = (),
        thaw: Callable[[bytes], list[InputEvent]] | None = None,
    ) -> None:
        self._chunks = list(chunks)  # the oldest events, pickled, in order
        self._thaw = thaw  # a chunk's events (given with the chunks)
        self._events: list[InputEvent] = []  # the events after them

    def append(self, event: InputEvent) -> None:
        self._events.append(event)

    def sealed(
        self, seal: Callable[[list[InputEvent]], bytes], thaw: Callable[[bytes], list[InputEvent]]
    ) -> list[bytes]:
        """The whole log as chunks: the events not yet in one become one more chunk (made
        by ``seal``, read back by ``thaw``), and are held only as it from now on."""
        if self._events:
            self._chunks.append(seal(self._events))
            self._events, self._thaw = [], thaw
        return list(self._chunks)

    def _thawed(self) -> list[InputEvent]:
        if self._chunks:
            assert self._thaw is not None, "chunks come with their thaw"
            thawed: list[InputEvent] = []
            for chunk in self._chunks:
                thawed += self._thaw(chunk)
            self._events[:0] = thawed
            self._chunks = []
        return self._events

    def __len__(self) -> int:
        return len(self._thawed())

    def __iter__(self) -> Iterator[InputEvent]:
        return iter(self._thawed())

    @overload
    def __getitem__(self, index: int) -> InputEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[InputEvent]: ...

    def __getitem__(self, index: int | slice) -> InputEvent | Sequence[InputEvent]:
        return self._thawed()[index]

    def __delitem__(self, index: int) -> None:
        del self._thawed()[index]
