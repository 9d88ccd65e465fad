"""Durable ingest on SQLite: passings per second journaled (committed) and applied, in bursts.

Run: .venv/bin/python bench/ingest.py [--bursts 10 --burst 2000] [--runs 5]

Strategy: a race service in this process (bench/service_world.py: a temporary SQLite
database migrated and filled as an operator would, the real ``RaceService`` without the
web layer). Each burst hands ``--burst`` passings to ``on_detection`` as a P3 runner does
after a reconnect (RESEND) or a grid's worth of cars crossing together, then waits until
the writer has journaled (one transaction per batch of up to 1,000, committed) and
applied every one: ingest/s = passings / that time, over all bursts of a run.
Beside it, in the same run, the bare baseline: the same journal rows (the same JSON
payloads) inserted with the standard library's ``sqlite3`` into a table of the same
shape, with the journal's pragmas (WAL, synchronous=NORMAL), one transaction per 1,000
rows, no engine: the floor of what SQLite takes from one Python process.
The machine is shared and noisy: each figure is the median of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import uvloop
from service_world import service_world

from server.db.journal import journal_row
from server.engine.events import InputEvent

BATCH = 1000  # the writer's largest batch (race_service._BATCH_MAX)


@dataclass(frozen=True, slots=True)
class IngestResult:
    per_s: float  # racecontrol: passings journaled and applied per second
    bare_per_s: float  # raw sqlite3 inserts of the same rows per second
    worst_burst_ms: float  # the slowest burst, racecontrol


async def ingest_run(bursts: int, burst: int, cars: int) -> IngestResult:
    async with service_world(cars=cars) as w:
        journaled: list[InputEvent] = []
        elapsed, worst = 0.0, 0.0
        base = w.race.journaled
        for _ in range(bursts):
            detections = w.passings(burst)
            w.clock.advance_to(detections[-1].time_us)  # the burst arrives after its crossings
            started = time.perf_counter()
            for detection in detections:
                await w.race.on_detection(detection)
            await w.race.applied()
            took = time.perf_counter() - started
            elapsed, worst = elapsed + took, max(worst, took)
        done = w.race.journaled - base
        if done < bursts * burst or w.race.dropped:
            raise RuntimeError(f"journaled {done} of {bursts * burst}: {dict(w.race.dropped)}")
        events = await w.race.journal.store.read(w.session_id)
        journaled = [event for _seq, event in events][-bursts * burst :]
        bare = await asyncio.to_thread(bare_inserts, w.session_id, journaled, burst)
    return IngestResult(bursts * burst / elapsed, bare, worst * 1000)


def bare_inserts(session_id: int, events: list[InputEvent], burst: int) -> float:
    """Rows per second: the same rows with sqlite3 alone (one transaction per BATCH rows)."""
    rows = [journal_row(session_id, event, 0) for event in events]
    with tempfile.TemporaryDirectory(prefix="racecontrol-bench-bare-") as tmp:
        db = sqlite3.connect(Path(tmp) / "bare.db", isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER,"
                " type TEXT, payload TEXT, at_us INTEGER, recorded_at_us INTEGER)"
            )
            db.execute("CREATE INDEX journal_session ON journal (session_id, seq)")
            started = time.perf_counter()
            for at in range(0, len(rows), BATCH):
                db.execute("BEGIN")
                db.executemany(
                    "INSERT INTO journal (session_id, type, payload, at_us, recorded_at_us)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (r["session_id"], r["type"], json.dumps(r["payload"]), r["at_us"], 0)
                        for r in rows[at : at + BATCH]
                    ],
                )
                db.execute("COMMIT")
            return len(rows) / (time.perf_counter() - started)
        finally:
            db.close()


async def main_async(args: argparse.Namespace) -> None:
    print(f"{'run':>5} {'ingest/s':>9} {'bare/s':>9} {'worst burst ms':>14}", flush=True)
    results: list[IngestResult] = []
    for i in range(args.runs):
        result = await ingest_run(args.bursts, args.burst, args.cars)
        results.append(result)
        print(
            f"{i + 1:>5} {result.per_s:>9.0f} {result.bare_per_s:>9.0f} "
            f"{result.worst_burst_ms:>14.1f}",
            flush=True,
        )
    print(
        f"\nmedian of {args.runs} run(s), {args.bursts} bursts of {args.burst} passings, "
        f"{args.cars} cars"
    )
    print(
        f"{'median':>5} {statistics.median(r.per_s for r in results):>9.0f} "
        f"{statistics.median(r.bare_per_s for r in results):>9.0f} "
        f"{statistics.median(r.worst_burst_ms for r in results):>14.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="repeat; medians are shown")
    parser.add_argument("--bursts", type=int, default=10, help="bursts per run")
    parser.add_argument("--burst", type=int, default=2000, help="passings per burst")
    parser.add_argument("--cars", type=int, default=100, help="cars in the race")
    args = parser.parse_args()
    if not (1 <= args.runs <= 20 and 1 <= args.bursts <= 1000 and 1 <= args.burst <= 100_000):
        raise SystemExit("--runs 1..20, --bursts 1..1000, --burst 1..100000")
    if not 1 <= args.cars <= 120:
        raise SystemExit("--cars 1..120")
    uvloop.run(main_async(args))


if __name__ == "__main__":
    main()
