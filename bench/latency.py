"""End to end: decoder emulator -> server process -> N websocket clients.

Run: .venv/bin/python bench/latency.py [--clients 100 --clients 1000] [--runs 3]

Strategy: each run builds a fresh world (bench/race_world.py: a temporary SQLite database
with 36 cars, the P3 emulator in this process, ``racecontrol serve`` as a separate process
measured with psutil, a race shown green through the API), then two phases:
- ingest: a burst of K passings (round robin over the cars, decoder times 30 s apart per
  car, so none is a double read) is written as fast as the emulator can, and the standings
  are polled until the sum of laps matches: passings journaled and applied per second.
- fan-out: N clients connect to /ws/live (no compression) and get their snapshot; then
  passings go out at R a second for D seconds. Each passing is stamped right after the
  emulator wrote its frame to the socket; each client stamps the first update (heartbeats
  ignored) whose row for that car shows the new lap count. Latency = arrival - sent, over
  all clients and passings. The server's CPU time and RSS are read around this phase.
The clients share this process (the other core), so at large N their own receive loop is
part of the figure; "first" (the earliest client, median over passings) is the path
decoder -> journal -> engine -> render -> socket without that fan-out spread. The machine
is shared and noisy: with --runs, each figure is the median of the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import resource
import signal
import statistics
import time
from dataclasses import dataclass

import uvloop
from race_world import World, wait_for, world
from websockets.asyncio.client import connect

HEARTBEAT = '<span id="heartbeat"'
LAPS_CELL = '<td class="c-laps">'


@dataclass(frozen=True, slots=True)
class Sent:
    row_id: str  # the car's <tr id=...> in the live fragment
    laps: int  # the car's lap count once this passing is applied
    at: float  # perf_counter() right after the emulator wrote the frame


@dataclass(frozen=True, slots=True)
class RunResult:
    clients: int
    ingest_per_s: float
    first_ms: float  # median over passings of the earliest client's latency
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_pct: float  # server process, % of one core, during the fan-out
    rss_before_mb: float  # server process, before the clients connected
    rss_after_mb: float  # ... and at the end of the fan-out, clients still connected
    missed: int  # (client, passing) pairs not seen by the end of the drain

    @property
    def kb_per_client(self) -> float:
        return (self.rss_after_mb - self.rss_before_mb) * 1024 / self.clients


def laps_in(message: str, row_id: str) -> int:
    """The lap count the live fragment shows for a car; -1 when its row is missing."""
    row = message.find(f'<tr id="{row_id}"')
    cell = message.find(LAPS_CELL, row) if row >= 0 else -1
    if cell < 0:
        return -1
    start = cell + len(LAPS_CELL)
    return int(message[start : message.index("<", start)])


class Client:
    def __init__(self) -> None:
        self.latencies: list[float] = []  # seconds, one per passing in ``sent`` order
        self.ready = asyncio.Event()  # the snapshot arrived

    async def run(self, url: str, sent: list[Sent], gate: asyncio.Semaphore) -> None:
        async with gate:  # a bounded number of handshakes at once
            ws = await connect(url, compression=None, ping_interval=None, open_timeout=60)
        async with ws:
            async for message in ws:
                now = time.perf_counter()
                if not isinstance(message, str) or message.startswith(HEARTBEAT):
                    continue
                self.ready.set()
                # one update may carry several passings (the server coalesces renders)
                seen = len(self.latencies)
                while seen < len(sent) and laps_in(message, sent[seen].row_id) >= sent[seen].laps:
                    self.latencies.append(now - sent[seen].at)
                    seen += 1


async def ingest(w: World, burst: int, timeout: float) -> float:
    """Passings per second, from the first write to the last lap in the standings."""
    started = time.perf_counter()
    for _ in range(burst):
        w.race.push()

    async def applied() -> bool:
        rows: list[dict[str, int]] = (await w.http.get(w.standings)).raise_for_status().json()
        return sum(row["laps"] for row in rows) >= w.race.total_laps

    await wait_for("ingest", applied, timeout, w.server)
    return burst / (time.perf_counter() - started)


async def fan_out(w: World, args: argparse.Namespace, clients: int) -> RunResult:
    rss_before = w.server.rss_mb()
    sent: list[Sent] = []
    subscribers = [Client() for _ in range(clients)]
    url, gate = f"ws://127.0.0.1:{w.server.port}/ws/live", asyncio.Semaphore(50)
    tasks = [asyncio.create_task(c.run(url, sent, gate)) for c in subscribers]
    try:

        async def all_ready() -> bool:
            for task in tasks:
                if task.done():
                    task.result()  # a client that failed fails the run
            return all(c.ready.is_set() for c in subscribers)

        await wait_for(f"{clients} snapshots", all_ready, args.timeout, w.server)
        cpu0, t0 = w.server.cpu_s(), time.perf_counter()
        for i in range(round(args.rate * args.duration)):
            await asyncio.sleep(max(0.0, t0 + i / args.rate - time.perf_counter()))
            row_id, laps = w.race.push()
            await asyncio.sleep(0)  # the emulator's writer task (woken first) sends the frame
            sent.append(Sent(row_id, laps, time.perf_counter()))

        async def drained() -> bool:
            return all(len(c.latencies) == len(sent) for c in subscribers)

        with contextlib.suppress(TimeoutError):
            await wait_for("fan-out drain", drained, 15, w.server)
        cpu_pct = 100 * (w.server.cpu_s() - cpu0) / (time.perf_counter() - t0)
        rss_after = w.server.rss_mb()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(x * 1000 for c in subscribers for x in c.latencies)
    if not latencies:
        raise RuntimeError("no client saw any passing")
    firsts = [
        min(c.latencies[j] for c in subscribers if len(c.latencies) > j)
        for j in range(len(sent))
        if any(len(c.latencies) > j for c in subscribers)
    ]
    return RunResult(
        clients=clients,
        ingest_per_s=0.0,  # filled in by one_run
        first_ms=statistics.median(firsts) * 1000,
        p50_ms=statistics.median(latencies),
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        max_ms=latencies[-1],
        cpu_pct=cpu_pct,
        rss_before_mb=rss_before,
        rss_after_mb=rss_after,
        missed=clients * len(sent) - len(latencies),
    )


async def one_run(args: argparse.Namespace, clients: int) -> RunResult:
    async with world() as w:
        per_s = await ingest(w, args.burst, args.timeout)
        return dataclasses.replace(await fan_out(w, args, clients), ingest_per_s=per_s)


HEADER = (
    f"{'clients':>7} {'ingest/s':>9} {'first ms':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
    f"{'CPU %':>6} {'RSS MB':>11} {'KB/client':>9} {'missed':>6}"
)


def table_row(r: RunResult, note: str = "") -> str:
    rss = f"{r.rss_before_mb:.0f}->{r.rss_after_mb:.0f}"
    return (
        f"{r.clients:>7} {r.ingest_per_s:>9.0f} {r.first_ms:>8.1f} {r.p50_ms:>7.1f} "
        f"{r.p99_ms:>7.1f} {r.max_ms:>7.1f} {r.cpu_pct:>6.1f} {rss:>11} "
        f"{r.kb_per_client:>9.1f} {r.missed:>6}{note}"
    )


def median_of(runs: list[RunResult]) -> RunResult:
    """Each figure's own median (the row is not one of the runs); the worst ``missed``."""
    names = [f.name for f in dataclasses.fields(RunResult) if f.name not in ("clients", "missed")]
    medians = {name: float(statistics.median(getattr(r, name) for r in runs)) for name in names}
    return RunResult(clients=runs[0].clients, missed=max(r.missed for r in runs), **medians)


async def main_async(args: argparse.Namespace) -> None:
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    summary: list[RunResult] = []
    print(HEADER + "   (each run)", flush=True)
    for clients in args.clients:
        runs = []
        for i in range(args.runs):
            runs.append(await one_run(args, clients))
            print(table_row(runs[-1], f"   run {i + 1}/{args.runs}"), flush=True)
        summary.append(median_of(runs))
    print(
        f"\nmedian of {args.runs} run(s); ingest: burst of {args.burst} passings; fan-out: "
        f"{args.rate:g} passings/s for {args.duration:g} s; latency: emulator write -> client"
    )
    print(HEADER)
    for result in summary:
        print(table_row(result))


def client_counts(values: list[str]) -> list[int]:
    counts = [int(v) for value in values for v in value.split(",") if v.strip()]
    if not counts or min(counts) < 1 or max(counts) > 5000:
        raise SystemExit("--clients: between 1 and 5000")
    return counts


def raise_open_files_limit(clients: int) -> None:
    # each client is a socket here and one in the server, which inherits this limit
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * clients + 256
    if soft != resource.RLIM_INFINITY and soft < want:
        limit = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clients", action="append", default=[], help="N; repeat, or 100,1000")
    parser.add_argument("--runs", type=int, default=1, help="repeat each N; medians are shown")
    parser.add_argument("--burst", type=int, default=5000, help="passings in the ingest burst")
    parser.add_argument("--rate", type=float, default=5.0, help="fan-out passings per second")
    parser.add_argument("--duration", type=float, default=20.0, help="fan-out seconds")
    parser.add_argument("--timeout", type=float, default=180.0, help="ingest or connect limit, s")
    args = parser.parse_args()
    args.clients = client_counts(args.clients or ["100"])
    if not (1 <= args.runs <= 20 and 1 <= args.burst <= 100_000 and 0 < args.rate <= 200):
        raise SystemExit("--runs 1..20, --burst 1..100000, --rate up to 200")
    if not 0 < args.duration <= 600 or not 0 < args.timeout <= 600:
        raise SystemExit("--duration and --timeout: up to 600 s")
    raise_open_files_limit(max(args.clients))
    try:
        uvloop.run(main_async(args))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, SIGTERM: cleaned up
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
