"""One supervisor for every background task: a task that dies is restarted, said and counted.

Strategy: timing must never stop silently. Each long-lived task (decoder runners, the journal
writer, the publisher, the ticker, the heartbeat, the RMonitor server, the spool drain) runs
inside ``Supervisor.run``, which catches anything but cancellation, logs it with its traceback,
raises an alert to race control, waits a back-off (doubling up to ``max_backoff_s``) and
starts the task again. A run that lasted ``stable_after_s`` resets the count. After
``unhealthy_after`` failures in a row the server reports itself unhealthy (``/healthz`` 503),
and after ``fatal_after`` the ``on_fatal`` callback asks the process to exit non-zero, so that
systemd, Docker or a race director restarts it: loud, never a server that looks alive and
times nothing. A task returning normally is a failure too: they are all meant to run forever.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("racecontrol.supervisor")

TaskFactory = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class TaskHealth:
    """What ``/healthz`` and race control see of one supervised task."""

    name: str
    running: bool = False
    restarts: int = 0
    failures_in_a_row: int = 0
    last_error: str | None = None

    def as_json(self, unhealthy_after: int) -> dict[str, Any]:
        return {
            "ok": self.failures_in_a_row < unhealthy_after,
            "running": self.running,
            "restarts": self.restarts,
            "failures_in_a_row": self.failures_in_a_row,
            "last_error": self.last_error,
        }


class Supervisor:
    def __init__(
        self,
        *,
        on_failure: Callable[[str, str], None] | None = None,
        on_fatal: Callable[[str], None] | None = None,
        initial_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        stable_after_s: float = 30.0,
        unhealthy_after: int = 3,
        fatal_after: int = 10,
    ) -> None:
        self.tasks: dict[str, TaskHealth] = {}
        self._on_failure = on_failure
        self._on_fatal = on_fatal
        self._initial_backoff_s = initial_backoff_s
        self._max_backoff_s = max_backoff_s
        self._stable_after_s = stable_after_s
        self.unhealthy_after = unhealthy_after
        self._fatal_after = fatal_after

    @property
    def healthy(self) -> bool:
        return all(t.failures_in_a_row < self.unhealthy_after for t in self.tasks.values())

    def health(self) -> dict[str, dict[str, Any]]:
        return {name: t.as_json(self.unhealthy_after) for name, t in self.tasks.items()}

    async def run(self, name: str, factory: TaskFactory) -> None:
        """Run ``factory()`` for ever, restarting it after any failure; ends when cancelled."""
        health = self.tasks.setdefault(name, TaskHealth(name))
        backoff = self._initial_backoff_s
        while True:
            started = time.monotonic()
            health.running = True
            try:
                await factory()
                error = "ended unexpectedly"
            except asyncio.CancelledError:
                health.running = False
                raise
            except Exception as exc:  # the point of a supervisor: nothing escapes, all is said
                log.exception("task %s failed", name)
                error = f"{type(exc).__name__}: {exc}"[:300]
            health.running = False
            if time.monotonic() - started >= self._stable_after_s:
                health.failures_in_a_row, backoff = 0, self._initial_backoff_s
            health.failures_in_a_row += 1
            health.restarts += 1
            health.last_error = error
            log.error(
                "task %s restarts in %.1f s (%d failures in a row): %s",
                name,
                backoff,
                health.failures_in_a_row,
                error,
            )
            self._report(name, error)
            if health.failures_in_a_row >= self._fatal_after and self._on_fatal is not None:
                self._on_fatal(f"task {name} failed {health.failures_in_a_row} times: {error}")
            await asyncio.sleep(backoff)
            backoff = min(self._max_backoff_s, max(backoff * 2, 0.01))

    def _report(self, name: str, error: str) -> None:
        if self._on_failure is None:
            return
        try:
            self._on_failure(name, error)
        except Exception:  # a broken alert path must not stop the restarts
            log.exception("could not raise the alert for task %s", name)


async def cancel_all(tasks: Iterable[asyncio.Task[Any]], patience_s: float = 1.0) -> None:
    """Cancel ``tasks`` and wait until every one has ended, cancelling again whichever still
    runs after ``patience_s``: a library may swallow a cancellation that lands mid-call
    (redis-py can, redis/redis-py#2028), and the task then runs on, holding the shutdown for
    ever (a race service with Redis once hung there after a Redis restart)."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _ended, pending = await asyncio.wait(pending, timeout=patience_s)
        if pending:
            names = ", ".join(sorted(task.get_name() for task in pending))
            log.warning("still running after a cancellation, cancelled again: %s", names)
