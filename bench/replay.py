"""Restart replay: how long a restarted race service takes to rebuild a long journal.

Run: .venv/bin/python bench/replay.py [--passings 500000] [--tail 10000] [--runs 5]

Strategy: a race service in this process (bench/service_world.py) journals ``--passings``
passings of a 24-hour race (200 cars, 30 s laps, written in batches of 10,000 through the
real journal, not timed). Then, as after a restart, a second race service on the same
database loads the session (``load_session``: read the journal, rebuild the decoder resume
points, replay every event into a fresh engine, write the local copy a start without the
database needs): that is the full replay, split into its parts (its load also pickles and
stores a checkpoint, as a server does after a long replay: its figure includes that). Then,
as after a restart of a server that checkpoints (``server.service.checkpoint``): the
session's newest checkpoint is ``--tail`` passings old (half the checkpoint interval: the
average restart) and the load restores it and replays those alone: the checkpointed figure.
Beside them, in the same run, the bare baseline: a plain loop over the journal's rows with
the standard library's ``sqlite3`` and ``json`` (select the session's rows in order, parse
each payload), no events built, no engine: the floor of reading the journal from Python.
Each figure is the median of ``--runs`` loads of the same journal (the journal is written
once); the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import sqlite3
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import uvloop
from service_world import ServiceWorld, service_world
from sqlalchemy import delete, update

from server.db.models import EngineCheckpointRow
from server.engine.events import PassingDetected
from server.service import checkpoint
from server.service.race_service import RaceService

WRITE_BATCH = 10_000


_HIDDEN = "bench: hidden"  # the checkpoints' engine version while a full replay is timed


@dataclass(frozen=True, slots=True)
class ReplayResult:
    load_s: float  # load_session, whole, replaying the whole journal
    read_s: float  # of which: the journal read into events
    checkpointed_s: float  # load_session from the checkpoint and the tail after it
    pickle_s: float  # pickling the engine and the mapper (a checkpoint's cost to the writer)
    bare_s: float  # sqlite3 + json.loads over the same rows
    laps: int  # the replayed standings' laps (a check that everything was applied)


async def fill(w: ServiceWorld, passings: int) -> None:
    """Journal ``passings`` passings through the mapper and the journal (not the engine)."""
    left = passings
    while left:
        batch = []
        for detection in w.passings(min(left, WRITE_BATCH)):
            event = w.race.mapper.map(detection, detection.time_us)
            assert isinstance(event, PassingDetected), event
            batch.append(event)
        await w.race.journal.store.append(w.session_id, batch, batch[-1].at_us)
        left -= len(batch)
    w.clock.advance_to(batch[-1].at_us)


def bare_loop(db_path: Path, session_id: int) -> tuple[float, int]:
    started = time.perf_counter()
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute(
            "SELECT seq, type, payload FROM journal WHERE session_id = ? ORDER BY seq",
            (session_id,),
        )
        count = sum(1 for _seq, _kind, payload in rows if json.loads(payload))
    finally:
        db.close()
    return time.perf_counter() - started, count


async def full_load(w: ServiceWorld) -> tuple[float, float, RaceService]:
    """A restarted service's load replaying the whole journal (the checkpoints hidden
    meanwhile; the one it stores is dropped after): (load s, read s, the service)."""
    race: RaceService = await w.restarted()
    async with w.db() as db, db.begin():
        await db.execute(update(EngineCheckpointRow).values(engine_version=_HIDDEN))
    started = time.perf_counter()
    await race.journal.read(w.session_id)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    await race.load_session(w.session_id)
    load_s = time.perf_counter() - started
    await race.journal.copy_written()  # (not timed) the next load writes the same files
    await race.checkpoint_now()  # its checkpoint stored (not timed), then dropped
    async with w.db() as db, db.begin():
        await db.execute(
            delete(EngineCheckpointRow).where(EngineCheckpointRow.engine_version != _HIDDEN)
        )
        fingerprint = checkpoint.ENGINE_FINGERPRINT
        await db.execute(update(EngineCheckpointRow).values(engine_version=fingerprint))
    return load_s, read_s, race


async def load_once(w: ServiceWorld, profile: cProfile.Profile | None) -> ReplayResult:
    load_s, read_s, full = await full_load(w)
    race: RaceService = await w.restarted()
    if profile is not None:
        profile.enable()
    started = time.perf_counter()
    await race.load_session(w.session_id)
    checkpointed_s = time.perf_counter() - started
    if profile is not None:
        profile.disable()
    await race.journal.copy_written()  # written in the background, after the load
    if race.checkpoint_counts or race.engine is None:
        raise RuntimeError(f"the checkpoint was not restored: {race.checkpoint_counts}")
    if race.standings() != full.standings():
        raise RuntimeError("checkpoint and tail rebuilt other standings than a full replay")
    started = time.perf_counter()
    checkpoint.dumps(race.engine, race.mapper)
    pickle_s = time.perf_counter() - started
    bare_s, _rows = await asyncio.to_thread(bare_loop, w.db_path, w.session_id)
    laps = sum(r.laps for r in race.standings())
    return ReplayResult(load_s, read_s, checkpointed_s, pickle_s, bare_s, laps)


async def checkpointed(w: ServiceWorld, passings: int, tail: int) -> None:
    """The journal of ``passings`` passings whose newest checkpoint is ``tail`` old."""
    await fill(w, passings - tail)
    race: RaceService = await w.restarted()
    await race.load_session(w.session_id)  # a long replay: it stores a checkpoint
    await race.checkpoint_now()
    if race.checkpoint_counts["written"] != 1:
        raise RuntimeError(f"no checkpoint stored: {race.checkpoint_counts}")
    await fill(w, tail)


async def main_async(args: argparse.Namespace) -> None:
    async with service_world(cars=args.cars, hours=None) as w:
        started = time.perf_counter()
        await checkpointed(w, args.passings, args.tail)
        took = time.perf_counter() - started
        print(
            f"journal of {args.passings} passings written, checkpointed {args.tail} before "
            f"its end, in {took:.1f} s",
            flush=True,
        )
        header = ("run", "load s", "read s", "ckpt s", "pickle s", "bare s", "laps")
        print(f"{header[0]:>5} " + " ".join(f"{h:>8}" for h in header[1:]), flush=True)
        profile = cProfile.Profile() if args.profile else None
        results = []
        for i in range(args.runs):
            r = await load_once(w, profile)
            results.append(r)
            print(
                f"{i + 1:>5} "
                + _figures(r.load_s, r.read_s, r.checkpointed_s, r.pickle_s, r.bare_s)
                + f" {r.laps:>8}",
                flush=True,
            )
        if len({r.laps for r in results}) != 1 or results[0].laps == 0:
            raise RuntimeError(f"the replays disagree or applied nothing: {results}")
        print(f"\nmedian of {args.runs} load(s) of a journal of {args.passings} passings")
        medians = [
            statistics.median(getattr(r, name) for r in results)
            for name in ("load_s", "read_s", "checkpointed_s", "pickle_s", "bare_s")
        ]
        print(f"{'median':>5} " + _figures(*medians) + f" {results[0].laps:>8}")
        if profile is not None:
            profile.dump_stats(args.profile)
            print(f"profile of the loads: {args.profile}")


def _figures(*seconds: float) -> str:
    return " ".join(f"{s:>8.2f}" for s in seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--passings", type=int, default=500_000, help="journaled passings")
    parser.add_argument(
        "--tail", type=int, default=10_000, help="passings journaled after the checkpoint"
    )
    parser.add_argument("--runs", type=int, default=5, help="loads; medians are shown")
    parser.add_argument("--cars", type=int, default=120, help="cars in the race")
    parser.add_argument("--profile", help="write a cProfile of the checkpointed loads to this file")
    args = parser.parse_args()
    if not (1 <= args.runs <= 20 and 1 <= args.passings <= 5_000_000 and 1 <= args.cars <= 120):
        raise SystemExit("--runs 1..20, --passings 1..5000000, --cars 1..120")
    if not 1 <= args.tail < args.passings:
        raise SystemExit("--tail 1..passings-1")
    uvloop.run(main_async(args))


if __name__ == "__main__":
    main()
