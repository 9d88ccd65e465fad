"""Answers to recent idempotency keys: a double tap records one confirmation.

Strategy: a pit marshal's phone sends a key it made up once per intent (car picked,
then driver tapped) with every try of that intent. The first request with a key does
the work; a repeat gets the first answer without doing it again, and a repeat that
arrives while the first is still being journaled waits for it instead of racing it.
Keys are scoped by who sent them and kept in a bounded LRU: memory stays flat however
long the race, and a key old enough to be evicted is one no phone still retries.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Answer:
    """What a command replied: an HTML fragment and its status code."""

    html: str
    status: int = 200


class RecentAnswers:
    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self.replayed = 0  # repeats answered from memory
        self._done: OrderedDict[tuple[str, str], Answer] = OrderedDict()
        self._running: dict[tuple[str, str], asyncio.Future[Answer]] = {}

    async def answer(
        self, scope: str, key: str | None, work: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        """``work()``'s answer; at most one ``work()`` per (scope, key). No key: no memory."""
        if not key:
            return await work()
        slot = (scope, key)
        done = self._done.get(slot)
        if done is not None:
            self.replayed += 1
            self._done.move_to_end(slot)
            return done
        running = self._running.get(slot)
        if running is not None:
            self.replayed += 1
            return await asyncio.shield(running)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._running[slot] = future
        try:
            result = await work()
        except BaseException as exc:
            # a failed try is not remembered: the phone may try again with the same key
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # retrieved: nobody else may be waiting for it
            else:
                future.cancel()
            raise
        finally:
            del self._running[slot]
        future.set_result(result)
        self._done[slot] = result
        while len(self._done) > self.size:
            self._done.popitem(last=False)
        return result
