"""The benches' websocket spectators, in the bench process or spread over worker processes.

Strategy: a spectator only stamps arrivals (``time.monotonic_ns()``, CLOCK_MONOTONIC, the
same clock in every process on Linux, so a worker's stamps compare with the bench's
crossing stamps) and keeps each message (a bare one, its number); which crossing an
arrival answers is matched at the end (``arrivals``), so a worker needs nothing while the
crossings go out. The lap counts are read out of the updates only after the fan-out, each
distinct update once per worker (``laps_in`` is cached), not once per socket: a real
audience parses on its own phones, in parallel, while here every socket's parsing shared
the 2 cores with the server and delayed the next socket's stamp (the live clients took
twice the bare clients' CPU). ``LocalPool`` runs them in this process; ``ProcessPool``
runs K workers (``python bench/spectators.py``), each with its share, spoken to in JSON
lines over its stdin/stdout: the job; ``ready``; the crossings sent, ``drained`` once all
arrived (or after the drain limit); ``report``, the arrivals.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
from websockets.asyncio.client import connect

LAPS_CELL = '<td class="c-laps">'
Arrivals = list[list[int | None]]  # per spectator, per crossing: monotonic ns or None


_LAPS_SEEN: dict[str, dict[str, int]] = {}  # every socket of a worker gets the same updates


def laps_in(message: str) -> dict[str, int]:
    """The lap counts an update (or a snapshot) carries, by row id: rows sent whole ("r")
    and changed laps cells ("c"); heartbeats carry none. Read once per distinct message."""
    known = _LAPS_SEEN.get(message)
    if known is None:
        known = _LAPS_SEEN[message] = _read_laps(message)
    return known


def _read_laps(message: str) -> dict[str, int]:
    if '"hb":1' in message:
        return {}
    parsed = json.loads(message)
    out: dict[str, int] = {}
    for row_id, parts in parsed.get("r", {}).items():
        for part in parts:
            if part.startswith(LAPS_CELL):
                out[row_id] = int(part[len(LAPS_CELL) : part.index("<", len(LAPS_CELL))])
    for row_id, cells in parsed.get("c", {}).items():
        for part in cells.values():
            if part.startswith(LAPS_CELL):
                out[row_id] = int(part[len(LAPS_CELL) : part.index("<", len(LAPS_CELL))])
    return out


class Spectator:
    """One websocket on ``/ws/live`` (``bare``: on the bare broadcast's ``/ws``)."""

    def __init__(self, bare: bool) -> None:
        self.bare = bare
        self.ready = asyncio.Event()  # the snapshot arrived (bare: connected)
        # after the snapshot: each message and its arrival (two flat lists: no tuple per
        # message for the clients' garbage collector to walk)
        self.received: list[str] = []
        self.arrived: list[int] = []
        self.numbered: dict[int, int] = {}  # bare: message number -> arrival
        self._seen: dict[str, list[tuple[int, int]]] = {}  # row -> (arrival, lap count)...
        self._seen_upto = 0  # how many of ``received`` ``_seen`` holds

    @property
    def bytes(self) -> int:
        """Received after the snapshot (updates and heartbeats)."""
        return sum(len(message.encode()) for message in self.received)

    @property
    def seen(self) -> dict[str, list[tuple[int, int]]]:
        """Per row, when its lap count showed which value (read from what has come)."""
        fresh = zip(self.arrived[self._seen_upto :], self.received[self._seen_upto :], strict=True)
        for now, message in fresh:
            for row_id, laps in laps_in(message).items():
                self._seen.setdefault(row_id, []).append((now, laps))
        self._seen_upto = len(self.received)
        return self._seen

    async def run(self, url: str, gate: asyncio.Semaphore) -> None:
        async with gate:  # a bounded number of handshakes at once
            ws = await connect(url, compression=None, ping_interval=None, open_timeout=60)
        if self.bare:
            self.ready.set()
        async with ws:
            async for message in ws:
                now = time.monotonic_ns()
                if not isinstance(message, str):
                    continue
                if self.bare:
                    self.numbered.setdefault(int(message[5 : message.index(",")]), now)
                    continue
                if self.ready.is_set():
                    self.received.append(message)
                    self.arrived.append(now)
                elif '"snap":1' in message:
                    self.ready.set()

    def arrivals(self, crossings: list[Any]) -> list[int | None]:
        """Per crossing, when it arrived: for (row id, laps, sent ns), the first update
        after it was sent whose row shows that lap count or more (one update can carry
        several crossings: the server coalesces renders); a bare message by its number."""
        if self.bare:
            return [self.numbered.get(int(i)) for i in crossings]
        out: list[int | None] = []
        seen_by_row = self.seen
        for row, laps, sent in crossings:
            seen = seen_by_row.get(row, ())
            out.append(next((t for t, n in seen if t >= sent and n >= laps), None))
        return out


class LocalPool:
    """The spectators as tasks of this process's event loop."""

    def __init__(self, bare: bool, urls: list[str], count: int) -> None:
        self.spectators = [Spectator(bare) for _ in range(count)]
        gate = asyncio.Semaphore(50)
        self.tasks = [
            asyncio.create_task(s.run(urls[i % len(urls)], gate))
            for i, s in enumerate(self.spectators)
        ]
        self.processes = [psutil.Process()]  # whose CPU the spectators cost

    async def is_ready(self) -> bool:
        for task in self.tasks:
            if task.done():
                task.result()  # a spectator that failed fails the run
        return all(s.ready.is_set() for s in self.spectators)

    def _messages(self) -> int:
        return sum(len(s.received) + len(s.numbered) for s in self.spectators)

    async def drain(self, crossings: list[Any], timeout: float) -> None:
        """Until every spectator saw every crossing, or ``timeout`` s (some never came).
        Each look waits for a quiet 0.1 s (no message to any socket), so that reading the
        updates never delays the stamping of the last ones."""
        deadline = time.monotonic() + timeout
        waiting = self.spectators
        while waiting and time.monotonic() < deadline:
            before = self._messages()
            await asyncio.sleep(0.1)
            if self._messages() != before:
                continue
            # only the spectators still short of a crossing: the check costs their CPU
            waiting = [s for s in waiting if None in s.arrivals(crossings)]

    async def collect(self, crossings: list[Any]) -> tuple[Arrivals, int]:
        """Arrivals per spectator and crossing, and the bytes all received."""
        got = [s.arrivals(crossings) for s in self.spectators]
        return got, sum(s.bytes for s in self.spectators)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class ProcessPool:
    """``workers`` processes, each with its share of the spectators (``count // workers``,
    the rest spread), on the URLs round robin as in ``LocalPool``."""

    def __init__(self, workers: list[asyncio.subprocess.Process]) -> None:
        self.workers = workers
        self.processes = [psutil.Process(w.pid) for w in workers]
        self._ready = [False] * len(workers)

    @classmethod
    async def start(cls, bare: bool, urls: list[str], count: int, k: int) -> ProcessPool:
        workers = []
        script = str(Path(__file__))
        for j in range(k):
            share = count // k + (1 if j < count % k else 0)
            worker = await asyncio.create_subprocess_exec(
                sys.executable, script, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, limit=2**30,
            )  # fmt: skip
            job = {"bare": bare, "urls": urls[j % len(urls) :] + urls[: j % len(urls)]}
            await cls._send(worker, {**job, "count": share})
            workers.append(worker)
        return cls(workers)

    @staticmethod
    async def _send(worker: asyncio.subprocess.Process, message: object) -> None:
        assert worker.stdin is not None
        worker.stdin.write(json.dumps(message).encode() + b"\n")
        await worker.stdin.drain()

    @staticmethod
    async def _read(worker: asyncio.subprocess.Process) -> dict[str, Any]:
        assert worker.stdout is not None
        line = await worker.stdout.readline()
        if not line:
            raise RuntimeError(f"spectator worker exited ({await worker.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"spectator worker: {answer['error']}")
        return answer

    async def is_ready(self) -> bool:
        for j, worker in enumerate(self.workers):
            if not self._ready[j]:
                assert worker.stdout is not None
                with contextlib.suppress(TimeoutError):
                    self._ready[j] = "ready" in await asyncio.wait_for(self._read(worker), 0.01)
        return all(self._ready)

    async def drain(self, crossings: list[Any], timeout: float) -> None:
        for worker in self.workers:
            await self._send(worker, {"crossings": crossings, "drain_s": timeout})
        for worker in self.workers:
            await self._read(worker)  # drained

    async def collect(self, crossings: list[Any]) -> tuple[Arrivals, int]:
        """The crossings are the ones ``drain`` had (the workers keep them)."""
        for worker in self.workers:
            await self._send(worker, {"report": True})
        got: Arrivals = []
        received = 0
        for worker in self.workers:
            answer = await self._read(worker)
            got += answer["arrivals"]
            received += answer["bytes"]
        return got, received

    async def close(self) -> None:
        for worker in self.workers:
            if worker.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.terminate()
            await worker.wait()


async def worker_main() -> None:
    """One worker: the job from stdin, ``ready`` when every spectator has its snapshot,
    then the crossings to match from stdin and the arrivals to stdout."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**30)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def say(message: object) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    job = json.loads(await reader.readline())
    pool = LocalPool(job["bare"], job["urls"], job["count"])
    try:
        snapshots = asyncio.gather(*(s.ready.wait() for s in pool.spectators))
        all_ready = asyncio.ensure_future(snapshots)
        done, _ = await asyncio.wait([all_ready, *pool.tasks], return_when="FIRST_COMPLETED")
        for task in done - {all_ready}:
            task.result()  # a spectator that failed (a spectator's task never ends otherwise)
        # no collection pauses the clients while they stamp (the bare ones' as well): what
        # they hold lives until the report
        gc.collect()
        gc.freeze()
        gc.disable()
        say({"ready": True})
        job = json.loads(await reader.readline())
        await pool.drain(job["crossings"], job["drain_s"])
        gc.enable()
        say({"drained": True})
        await reader.readline()  # report
        arrivals, received = await pool.collect(job["crossings"])
        say({"arrivals": arrivals, "bytes": received})
    except Exception as error:  # reported to the bench, which fails the run
        say({"error": repr(error)})
    finally:
        await pool.close()


if __name__ == "__main__":
    import resource

    import uvloop

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvloop.run(worker_main())
