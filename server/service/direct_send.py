"""A subscriber that sends from the publisher's own call: no task woken per client.

Strategy: a hub channel hands each update to every subscriber in one loop
(``Channel._send``). A queue and a sender task per socket cost one event-loop wake-up per
client per update, a third of the fan-out's CPU (bench/README.md, "Why racecontrol's
fan-out ..."). Here the update's send is started right in that loop: uvicorn's websocket
send only waits while the socket's write buffer is over its high-water mark, so for a
client that keeps up it finishes without ever suspending, like the bare broadcast's
``await send_text`` one client after the other. Only a send that does suspend (a slow or
stalled client) goes on in a task of its own, and while it is in flight that subscriber's
next updates wait in its bounded mailbox (a full one is replaced by the snapshot, as for
every subscriber): a slow client never holds the loop, nor the others, back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from server.service.hub import Subscriber

SendText = Callable[[str], Coroutine[Any, Any, None]]


async def _resume(coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
    """Run the rest of ``coro``, whose first step ran outside any task and stopped on
    ``waiting_on`` (an asyncio future, or None for a bare yield): what a task would have
    done with it (Python 3.12's eager tasks do this; 3.11 has none)."""
    while True:
        error: BaseException | None = None
        try:
            if waiting_on is None:
                await asyncio.sleep(0)
            else:
                waiting_on._asyncio_future_blocking = False  # now this task awaits it
                await waiting_on
        except BaseException as exc:  # the future's error, or this task's cancellation
            error = exc
        try:
            waiting_on = coro.send(None) if error is None else coro.throw(error)
        except StopIteration:
            return


class DirectSubscriber(Subscriber):
    """A socket's subscriber: each message is sent as it is offered while the socket keeps
    up; ``on_gone`` is called once if a send fails (the client went away)."""

    __slots__ = ("_on_gone", "_send_text", "_sending", "closed")

    def __init__(self, maxsize: int, send_text: SendText, on_gone: Callable[[], None]) -> None:
        super().__init__(maxsize)
        self._send_text = send_text
        self._on_gone = on_gone
        self._sending: asyncio.Task[None] | None = None  # a send that had to wait
        self.closed = False

    def offer(self, message: str, snapshot: str | Callable[[], str]) -> None:
        if self.closed:
            return
        if self._sending is None:
            self._start(message)
        else:
            super().offer(message, snapshot)  # the mailbox, or the snapshot when it is full

    def reset(self, snapshot: str) -> None:
        if self.closed:
            return
        if self._sending is None:
            self._start(snapshot)
        else:
            super().reset(snapshot)

    def _start(self, message: str) -> None:
        coro = self._send_text(message)
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return  # sent: the usual case
        except Exception:
            self._gone()
            return
        self._sending = asyncio.get_running_loop().create_task(self._finish(coro, waiting_on))

    async def _finish(self, coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        """The send that had to wait, then what queued up meanwhile; idle again after."""
        try:
            await _resume(coro, waiting_on)
            while not self.queue.empty():
                await self._send_text(self.queue.get_nowait())
        except Exception:
            self._gone()
        finally:
            self._sending = None

    def _gone(self) -> None:
        if not self.closed:
            self.closed = True
            self._on_gone()

    async def close(self) -> None:
        """No more sends; a send in flight is cancelled (the socket is going)."""
        self.closed = True
        sending = self._sending
        if sending is not None:
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
