"""What survives a full collection is frozen; a sweep still collects a frozen cycle."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref
from collections.abc import AsyncIterator, Iterator

import pytest

from server.service.gc_keeper import GcKeeper
from tests.fixtures.app_server import wait_until


class Node:
    """A reference cycle: only the garbage collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def frozen_after() -> Iterator[None]:
    yield
    # left as the apps of the other tests leave this worker: all frozen. Unfrozen, the next
    # full collection would walk everything the worker ever made and stall another test's
    # event loop for seconds (an in-process emulator dropped its client over it)
    gc.freeze()


@contextlib.asynccontextmanager
async def keeping(keeper: GcKeeper) -> AsyncIterator[None]:
    task = asyncio.create_task(keeper.run())
    await asyncio.sleep(0)  # it installs its callback
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_survivors_of_a_full_collection_are_frozen_and_only_then() -> None:
    keeper = GcKeeper(sweep_s=600)
    gc.unfreeze()
    async with keeping(keeper):
        gc.collect(1)  # not a full collection
        assert keeper.freezes == 0 and gc.get_freeze_count() == 0
        gc.collect()
        assert keeper.freezes == 1 and gc.get_freeze_count() > 0
    assert keeper._after_collection not in gc.callbacks  # cancelled: uninstalled


def test_a_sweep_collects_a_cycle_that_became_garbage_after_it_was_frozen() -> None:
    keeper = GcKeeper()
    node = Node()
    gone = weakref.ref(node)
    gc.freeze()
    del node
    gc.collect()
    assert gone() is not None  # frozen: full collections no longer see it
    keeper.sweep()
    assert gone() is None
    assert keeper.sweeps == 1 and gc.get_freeze_count() > 0  # the survivors frozen again


async def test_the_keeper_sweeps_on_its_interval() -> None:
    keeper = GcKeeper(sweep_s=0.01)
    async with keeping(keeper):
        await wait_until(lambda: keeper.sweeps >= 2, timeout=10)
