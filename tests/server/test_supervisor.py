"""The supervisor restarts a failed task, says so, and gives up loudly when it keeps failing."""

from __future__ import annotations

import asyncio

import pytest

from server.service.supervisor import Supervisor, cancel_all
from tests.fixtures.app_server import wait_until


async def test_a_failed_task_is_restarted_and_reported() -> None:
    failures: list[tuple[str, str]] = []
    runs = 0
    steady = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise ValueError(f"bad record {runs}")
        steady.set()
        await asyncio.Event().wait()  # runs for ever from the third start on

    supervisor = Supervisor(
        on_failure=lambda name, error: failures.append((name, error)), initial_backoff_s=0
    )
    task = asyncio.create_task(supervisor.run("writer", flaky))
    await asyncio.wait_for(steady.wait(), 5)
    assert failures == [
        ("writer", "ValueError: bad record 1"),
        ("writer", "ValueError: bad record 2"),
    ]
    health = supervisor.health()["writer"]
    assert health["running"] and health["restarts"] == 2 and health["ok"]
    assert supervisor.healthy  # two failures in a row are under the threshold of three
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not supervisor.tasks["writer"].running


async def test_a_task_that_keeps_failing_makes_the_server_unhealthy_then_fatal() -> None:
    fatal: list[str] = []

    async def broken() -> None:
        raise RuntimeError("no such table")

    supervisor = Supervisor(on_fatal=fatal.append, initial_backoff_s=0, fatal_after=5)
    task = asyncio.create_task(supervisor.run("publisher", broken))
    await wait_until(
        lambda: supervisor.health().get("publisher", {}).get("failures_in_a_row", 0) >= 3
    )
    assert not supervisor.healthy
    assert supervisor.health()["publisher"]["last_error"] == "RuntimeError: no such table"
    await wait_until(lambda: bool(fatal))
    assert fatal[0] == "task publisher failed 5 times: RuntimeError: no such table"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_task_that_ends_is_a_failure_and_a_broken_alert_path_stops_nothing() -> None:
    starts = 0

    async def ends() -> None:
        nonlocal starts
        starts += 1

    def alert_path_down(name: str, error: str) -> None:
        raise OSError("queue gone")

    supervisor = Supervisor(on_failure=alert_path_down, initial_backoff_s=0)
    task = asyncio.create_task(supervisor.run("ticker", ends))
    await wait_until(lambda: starts >= 3)
    assert supervisor.tasks["ticker"].last_error == "ended unexpectedly"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_shutdown_ends_a_task_that_swallowed_its_cancellation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What redis-py can do when a cancellation lands mid-command (redis/redis-py#2028): the
    call returns as if nothing happened and the task's loop goes on."""
    rounds: list[int] = []
    swallowed = asyncio.Event()

    async def polls_redis() -> None:
        while True:
            try:
                await asyncio.sleep(0.01)  # the command in flight
            except asyncio.CancelledError:
                if not swallowed.is_set():
                    swallowed.set()
                    asyncio.current_task().uncancel()  # type: ignore[union-attr]
                    continue
                raise
            rounds.append(1)

    stubborn = asyncio.create_task(polls_redis(), name="car watches")
    quiet = asyncio.create_task(asyncio.sleep(3600), name="ticker")
    await wait_until(lambda: rounds)
    async with asyncio.timeout(10):
        await cancel_all((stubborn, quiet), patience_s=0.05)
    assert swallowed.is_set()
    assert stubborn.cancelled() and quiet.cancelled()
    assert "cancelled again: car watches" in caplog.text
