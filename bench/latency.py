"""End to end: decoder emulator -> server process -> N websocket clients.

Run: .venv/bin/python bench/latency.py [--clients 100 --clients 1000] [--runs 3]

Strategy: each run builds a fresh world (bench/race_world.py: a temporary SQLite database
with 36 cars, the P3 emulator in this process, ``racecontrol serve`` as a separate process
measured with psutil, a race shown green through the API), then two phases:
- ingest: a burst of K passings (round robin over the cars, decoder times 30 s apart per
  car, so none is a double read) is written as fast as the emulator can, and the standings
  are polled until the sum of laps matches: passings journaled and applied per second.
- fan-out: N clients connect to /ws/live (no compression) and get their snapshot; then
  passings go out at R a second for D seconds. Each passing is stamped right before it is
  handed to the emulator (its writer sends it at once); each client stamps the first
  update (heartbeats ignored) whose row for that car shows the new lap count. Latency =
  arrival - sent, over all clients and passings. The server's CPU time and RSS are read
  around this phase.
Then bursts of crossings back to back (the last car's update, p99). The clients share this
process unless --client-procs K spreads them over K worker processes (bench/spectators.py;
their stamps are CLOCK_MONOTONIC, the same clock as this process's); "first" (the earliest
client, median over passings) is the path decoder -> journal -> engine -> render -> socket
without the fan-out spread. The machine is shared and noisy: with --runs, each figure is
the median of the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import resource
import signal
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]
import uvloop
from race_world import BareProcess, EdgeProcess, ServerProcess, World, wait_for, world
from spectators import LocalPool, ProcessPool
from websockets.asyncio.client import ClientConnection, connect


@dataclass(frozen=True, slots=True)
class Sent:
    row_id: str  # the car's <tr id=...> in the live fragment
    laps: int  # the car's lap count once this passing is applied
    at: int  # time.monotonic_ns() right after the emulator wrote the frame


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
    bytes_per_pass: float = 0.0  # received per client per passing (updates, heartbeats)
    clients_cpu_pct: float = 0.0  # the spectators' process(es), % of one core
    redis_cpu_pct: float = 0.0  # the Redis server (with --edges), % of one core
    burst_p99_ms: float = 0.0  # last crossing of a burst -> its update, p99 over clients

    @property
    def kb_per_client(self) -> float:
        return (self.rss_after_mb - self.rss_before_mb) * 1024 / self.clients


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


Pool = LocalPool | ProcessPool


async def spectators(args: argparse.Namespace, bare: bool, urls: list[str], n: int) -> Pool:
    """In this process, or over ``--client-procs`` worker processes."""
    if args.client_procs:
        return await ProcessPool.start(bare, urls, n, args.client_procs)
    return LocalPool(bare, urls, n)


def cpu_s(processes: list[psutil.Process]) -> float:
    return sum(float(t.user + t.system) for t in (p.cpu_times() for p in processes))


def redis_servers(args: argparse.Namespace) -> list[psutil.Process]:
    """The local Redis the edges use (with --edges), for its CPU; none if not visible."""
    if not args.edges:
        return []
    found = []
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "redis-server":
            found.append(process)
    return found


@dataclass
class Meter:
    """CPU of the servers, the spectators and Redis over one phase, % of one core."""

    servers: list[psutil.Process]
    clients: list[psutil.Process]
    redis: list[psutil.Process]

    def __post_init__(self) -> None:
        self.t0 = time.monotonic()
        self.start = [cpu_s(self.servers), cpu_s(self.clients), cpu_s(self.redis)]

    def percents(self) -> list[float]:
        took = time.monotonic() - self.t0
        now = [cpu_s(self.servers), cpu_s(self.clients), cpu_s(self.redis)]
        return [100 * (b - a) / took for a, b in zip(self.start, now, strict=True)]


def figures(
    arrivals: list[list[int | None]], steady: list[int], bursts: list[tuple[int, int, int]]
) -> dict[str, float]:
    """Latencies (ms) from the arrivals: ``steady[j]`` is crossing j's send time; a burst
    is (first index, end index, the last crossing's send time)."""
    lat = sorted(
        (t - steady[j]) / 1e6 for a in arrivals for j, t in enumerate(a[: len(steady)]) if t
    )
    if not lat:
        raise RuntimeError("no client saw any passing")
    firsts = [
        min(a[j] for a in arrivals if a[j]) - steady[j]  # type: ignore[type-var, operator]
        for j in range(len(steady))
        if any(a[j] for a in arrivals)
    ]
    burst_lat = sorted(
        (max(a[i:end]) - at) / 1e6  # type: ignore[type-var, operator]
        for i, end, at in bursts
        for a in arrivals
        if None not in a[i:end]
    )
    return {
        "first_ms": statistics.median(firsts) / 1e6,
        "p50_ms": statistics.median(lat),
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "max_ms": lat[-1],
        "burst_p99_ms": burst_lat[int(len(burst_lat) * 0.99)] if burst_lat else 0.0,
        "missed": sum(a.count(None) for a in arrivals),
    }


async def crossings(
    args: argparse.Namespace,
    send: Callable[[], Awaitable[None]],
    send_burst: Callable[[], Awaitable[None]] | None = None,
) -> tuple[list[int], list[tuple[int, int, int]]]:
    """``--rate`` crossings a second for ``--duration`` s, then ``--bursts`` bursts of
    ``--burst-cars`` back to back, 2 s apart: the send times and the bursts' spans (in
    crossings; ``send_burst``, the bare broadcast's, sends a whole burst as one message)."""
    steady: list[int] = []
    t0 = time.monotonic()
    for i in range(round(args.rate * args.duration)):
        await asyncio.sleep(max(0.0, t0 + i / args.rate - time.monotonic()))
        # stamped before the send: a client in another process may have the update before
        # the send returns (a stamp after it made a bare burst -0.1 ms on a busy machine)
        steady.append(time.monotonic_ns())
        await send()
    bursts: list[tuple[int, int, int]] = []
    index = len(steady)
    for _ in range(args.bursts):
        await asyncio.sleep(2.0)  # the previous burst's updates are out
        count = 1 if send_burst else args.burst_cars
        last_sent = 0
        for _ in range(count):
            last_sent = time.monotonic_ns()
            await (send_burst or send)()
        bursts.append((index, index + count, last_sent))
        index += count
    return steady, bursts


async def fan_out(
    w: World, args: argparse.Namespace, clients: int, edges: list[ServerProcess]
) -> RunResult:
    """The spectators on the race service, or spread over ``edges`` (through Redis)."""
    servers = edges or [w.server]
    rss_before = sum(s.rss_mb() for s in servers)
    urls = [f"ws://127.0.0.1:{s.port}/ws/live" for s in servers]
    pool = await spectators(args, False, urls, clients)
    matched: list[tuple[str, int, int]] = []  # (row id, laps, sent ns) of every crossing

    async def send() -> None:
        sent = time.monotonic_ns()  # before the push: no update can answer it earlier
        row_id, laps = w.race.push()
        matched.append((row_id, laps, sent))
        await asyncio.sleep(0)  # the emulator's writer task (woken first) sends the frame

    try:
        await wait_for(f"{clients} snapshots", pool.is_ready, args.timeout, w.server)
        meter = Meter([s.process for s in servers], pool.processes, redis_servers(args))
        steady, bursts = await crossings(args, send)
        await pool.drain(matched, 15)
        cpu, clients_cpu, redis_cpu = meter.percents()
        rss_after = sum(s.rss_mb() for s in servers)
        arrivals, received = await pool.collect(matched)
    finally:
        await pool.close()
    return RunResult(
        clients=clients,
        ingest_per_s=0.0,  # filled in by one_run
        cpu_pct=cpu,
        rss_before_mb=rss_before,
        rss_after_mb=rss_after,
        bytes_per_pass=received / clients / max(len(matched), 1),
        clients_cpu_pct=clients_cpu,
        redis_cpu_pct=redis_cpu,
        **figures(arrivals, steady, bursts),  # type: ignore[arg-type]
    )


async def bare_fan_out(args: argparse.Namespace, clients: int, size: int) -> RunResult:
    """The same count of clients, messages of ``size`` bytes at the same rate, through the
    bare Starlette broadcast (its own process): the figure to compare with."""
    with tempfile.TemporaryDirectory(prefix="racecontrol-bench-bare-") as tmp:
        server = BareProcess(Path(tmp) / "bare.log")
        try:
            return await _bare_run(server, args, clients, size)
        finally:
            server.stop()


async def _drain(ws: ClientConnection) -> None:
    async for _message in ws:  # the trigger gets the broadcast too
        pass


async def _bare_run(
    server: BareProcess, args: argparse.Namespace, clients: int, size: int
) -> RunResult:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:

        async def up() -> bool:
            try:
                return (await http.post("/send", content=b"")).status_code == 204
            except httpx.TransportError:
                return False

        await wait_for("bare server start", up, 30, server)
    rss_before = server.rss_mb()
    url = f"ws://127.0.0.1:{server.port}/ws"
    pool = await spectators(args, True, [url], clients)
    trigger = await connect(url, compression=None, ping_interval=None, open_timeout=60)
    draining = asyncio.create_task(_drain(trigger))
    numbers: list[int] = []

    async def send(length: int = size) -> None:
        head = f'{{"i":{len(numbers)},"p":"'
        numbers.append(len(numbers))
        await trigger.send(head + "x" * max(0, length - len(head) - 2) + '"}')

    async def send_burst() -> None:  # racecontrol coalesces a burst into a few updates
        await send(size * args.burst_cars)

    try:
        await wait_for(f"{clients} bare clients", pool.is_ready, args.timeout, server)
        await asyncio.sleep(0.5)  # the last handshakes registered on the server
        meter = Meter([server.process], pool.processes, [])
        steady, bursts = await crossings(args, send, send_burst)
        await pool.drain(numbers, 15)
        cpu, clients_cpu, _redis = meter.percents()
        rss_after = server.rss_mb()
        arrivals, _received = await pool.collect(numbers)
    finally:
        draining.cancel()
        await asyncio.gather(draining, return_exceptions=True)
        await trigger.close()
        await pool.close()
    return RunResult(
        clients=clients,
        ingest_per_s=0.0,
        cpu_pct=cpu,
        rss_before_mb=rss_before,
        rss_after_mb=rss_after,
        bytes_per_pass=float(size),
        clients_cpu_pct=clients_cpu,
        **figures(arrivals, steady, bursts),  # type: ignore[arg-type]
    )


async def one_run(args: argparse.Namespace, clients: int) -> tuple[RunResult, RunResult]:
    """racecontrol's figures, then the bare broadcast's with messages of the same size."""
    extra: list[str] = []
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    if args.edges:
        extra = ["--redis", args.redis, "--redis-prefix", prefix]
    async with world(extra, args.cars) as w:
        per_s = await ingest(w, args.burst, args.timeout) if args.burst else 0.0
        edges: list[ServerProcess] = []
        tmp = Path(tempfile.mkdtemp(prefix="racecontrol-bench-edges-"))
        try:
            for k in range(args.edges):
                edges.append(EdgeProcess(args.redis, prefix, tmp / f"edge{k}.log"))
            for edge in edges:

                async def edge_up(port: int = edge.port) -> bool:
                    try:
                        async with httpx.AsyncClient() as http:
                            answer = await http.get(f"http://127.0.0.1:{port}/healthz")
                            return bool(answer.json()["seq"] > 0)
                    except (httpx.TransportError, ValueError, KeyError):
                        return False

                await wait_for("edge start", edge_up, 30, edge)
            ours = dataclasses.replace(await fan_out(w, args, clients, edges), ingest_per_s=per_s)
        finally:
            for edge in edges:
                edge.stop()
            for log in tmp.iterdir():
                log.unlink()
            os.rmdir(tmp)
    # the bare broadcast sends the average update racecontrol sent (heartbeats included)
    size = round(ours.bytes_per_pass)
    return ours, await bare_fan_out(args, clients, size)


HEADER = (
    f"{'clients':>7} {'ingest/s':>9} {'first ms':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
    f"{'CPU %':>6} {'RSS MB':>11} {'KB/client':>9} {'B/pass':>6} {'missed':>6} "
    f"{'cli CPU%':>8} {'Redis %':>7} {'burst p99':>9}"
)


def table_row(r: RunResult, note: str = "") -> str:
    rss = f"{r.rss_before_mb:.0f}->{r.rss_after_mb:.0f}"
    return (
        f"{r.clients:>7} {r.ingest_per_s:>9.0f} {r.first_ms:>8.1f} {r.p50_ms:>7.1f} "
        f"{r.p99_ms:>7.1f} {r.max_ms:>7.1f} {r.cpu_pct:>6.1f} {rss:>11} "
        f"{r.kb_per_client:>9.1f} {r.bytes_per_pass:>6.0f} {r.missed:>6} "
        f"{r.clients_cpu_pct:>8.1f} {r.redis_cpu_pct:>7.1f} {r.burst_p99_ms:>9.1f}{note}"
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
    summary: list[tuple[RunResult, RunResult]] = []
    where = f"over {args.edges} edge(s) through Redis" if args.edges else "on the race service"
    print(f"spectators {where}", flush=True)
    print(HEADER + "   (each run)", flush=True)
    for clients in args.clients:
        runs, bare = [], []
        for i in range(args.runs):
            ours, baseline = await one_run(args, clients)
            runs.append(ours)
            bare.append(baseline)
            print(table_row(ours, f"   run {i + 1}/{args.runs}"), flush=True)
            print(table_row(baseline, "   bare Starlette broadcast, same size"), flush=True)
        summary.append((median_of(runs), median_of(bare)))
    print(
        f"\nmedian of {args.runs} run(s); ingest: burst of {args.burst} passings; fan-out: "
        f"{args.rate:g} passings/s for {args.duration:g} s; latency: crossing handed to the "
        "emulator -> client (bare: before its trigger websocket send -> client); "
        f"bursts: {args.bursts} x {args.burst_cars} crossings back to back, burst p99: the last "
        f"crossing's send -> the burst's last update; clients in "
        f"{args.client_procs or 'this'} process(es)"
    )
    print(HEADER)
    for result, baseline in summary:
        print(table_row(result))
        print(table_row(baseline, "   bare"))


def client_counts(values: list[str]) -> list[int]:
    counts = [int(v) for value in values for v in value.split(",") if v.strip()]
    if not counts or min(counts) < 1 or max(counts) > 10_000:
        raise SystemExit("--clients: between 1 and 10000")
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
    parser.add_argument("--edges", type=int, default=0, help="spectators on K edges (Redis)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="for --edges")
    parser.add_argument("--client-procs", type=int, default=0, help="clients in K processes")
    parser.add_argument("--cars", type=int, default=36, help="entries in the race")
    parser.add_argument("--bursts", type=int, default=3, help="bursts after the fan-out")
    parser.add_argument("--burst-cars", type=int, default=50, help="crossings per burst")
    args = parser.parse_args()
    args.clients = client_counts(args.clients or ["100"])
    if not (1 <= args.runs <= 20 and 0 <= args.burst <= 100_000 and 0 < args.rate <= 200):
        raise SystemExit("--runs 1..20, --burst 0..100000, --rate up to 200")
    if not 0 <= args.edges <= 8:
        raise SystemExit("--edges: 0 to 8")
    if not (0 <= args.client_procs <= 32 and 1 <= args.cars <= 120):
        raise SystemExit("--client-procs: 0 (this process) to 32; --cars: 1 to 120")
    if not (0 <= args.bursts <= 20 and 1 <= args.burst_cars <= 500):
        raise SystemExit("--bursts: 0 to 20; --burst-cars: 1 to 500")
    if not 0 < args.duration <= 600 or not 0 < args.timeout <= 600:
        raise SystemExit("--duration and --timeout: up to 600 s")
    raise_open_files_limit(max(args.clients))
    try:
        uvloop.run(main_async(args))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, SIGTERM: cleaned up
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
