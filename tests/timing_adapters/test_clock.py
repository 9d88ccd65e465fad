"""The clocks: ``ManualClock`` wakes its sleepers as a test moves it; the scaled clock
sleeps its own time."""

from __future__ import annotations

import asyncio

import pytest

from timing_adapters.clock import ManualClock, ScaledClock, WallClock

S = 1_000_000


async def test_a_manual_clock_wakes_each_sleeper_at_its_moment_in_order() -> None:
    clock = ManualClock(1_000 * S)
    woke: list[tuple[str, int]] = []

    async def sleeper(name: str, at_us: int) -> None:
        await clock.sleep_until(at_us)
        woke.append((name, clock.now_us()))

    tasks = [
        asyncio.create_task(sleeper(name, at))
        for name, at in (("late", 1_030 * S), ("early", 1_010 * S), ("tie", 1_010 * S))
    ]
    await asyncio.sleep(0)  # every task is asleep now
    assert clock.sleepers == 3
    clock.advance(9 * S)
    await asyncio.sleep(0)
    assert woke == [] and clock.now_us() == 1_009 * S
    clock.advance(S)
    await asyncio.gather(*tasks[1:])
    assert woke == [("early", 1_010 * S), ("tie", 1_010 * S)]  # ties: first asleep first
    assert clock.sleepers == 1 and not tasks[0].done()
    clock.advance_to(2_000 * S)  # past the moment: woken, seeing the new time
    await tasks[0]
    assert woke[-1] == ("late", 2_000 * S) and clock.sleepers == 0


async def test_a_moment_already_reached_does_not_wait() -> None:
    clock = ManualClock(5 * S)
    async with asyncio.timeout(1):  # would hang if it waited for an advance
        await clock.sleep_until(5 * S)
        await clock.sleep_until(4 * S)
    assert clock.sleepers == 0


async def test_a_cancelled_sleeper_is_forgotten() -> None:
    clock = ManualClock(0)
    task = asyncio.create_task(clock.sleep_until(10 * S))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.sleepers == 0
    clock.advance(20 * S)  # nothing to wake, nothing breaks
    assert clock.now_us() == 20 * S


def test_a_manual_clock_does_not_go_back() -> None:
    clock = ManualClock(10 * S)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance_to(9 * S)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)
    assert clock.now_us() == 10 * S


async def test_a_scaled_clock_sleeps_its_own_time() -> None:
    clock = ScaledClock(1000.0)  # 20 s of its time in 20 ms of ours
    target = clock.now_us() + 20 * S
    await clock.sleep_until(target)
    assert clock.now_us() >= target - 1_000  # asyncio may wake within its clock resolution
    async with asyncio.timeout(1):
        await clock.sleep_until(0)  # long past: at once
    with pytest.raises(ValueError):
        ScaledClock(0)


async def test_the_wall_clock_sleeps_until_its_moment() -> None:
    clock = WallClock()
    target = clock.now_us() + 2_000
    await clock.sleep_until(target)
    assert clock.now_us() >= target - 1_000
    async with asyncio.timeout(1):
        await clock.sleep_until(target - S)  # long past: at once
