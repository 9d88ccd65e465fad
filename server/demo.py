"""``racecontrol demo`` and ``racecontrol emulate``.

Strategy: the demo is the real product wired to an emulated decoder, not a shortcut:
the emulator is a P3 server on a real TCP port, and the server's decoder runner
connects to it exactly as it would to a decoder in a timing hut. Both share one
``ScaledClock`` so a 2-hour race plays in 12 minutes at 10x, and the browser is told the
rate so its clocks tick at the same pace.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import tempfile
from pathlib import Path

import uvicorn

from server.commands import add_user, import_entries, uvicorn_config
from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.db.migrate import upgrade
from server.engine.events import Flag, FlagChanged
from server.settings import Settings
from server.state import app_state
from timing_adapters.capture import read_hex_capture
from timing_adapters.clock import ScaledClock
from timing_adapters.emulator.scenario import generate_race
from timing_adapters.emulator.server import P3Emulator

DEMO_EVENT = "Demo Endurance Weekend"


async def run_demo(args: argparse.Namespace) -> None:
    from server.app import create_app

    db_file = Path(args.db_file).resolve()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{db_file}"
    await asyncio.to_thread(upgrade, url)

    scenario = generate_race(seed=args.seed, cars=args.cars, length_s=args.length_minutes * 60)
    with tempfile.TemporaryDirectory() as tmp:
        entries = Path(tmp) / "entries.csv"
        entries.write_text(scenario.entries_csv(), encoding="utf-8")
        await import_entries(url, entries, DEMO_EVENT)
    password = secrets.token_urlsafe(9)
    await add_user(url, "control", password, "control")
    engine = create_engine(url)
    async with sessionmaker(engine)() as db:
        await repository.create_session(
            db,
            DEMO_EVENT,
            "race",
            f"{args.length_minutes // 60} Hour Endurance",
            args.length_minutes,
        )
    await engine.dispose()

    clock = ScaledClock(args.speed)
    emulator = P3Emulator(clock=clock, port=args.decoder_port, status_interval_s=2.0)
    decoder_port = await emulator.start()
    settings = Settings(
        database_url=url,
        decoders=[f"tcp://127.0.0.1:{decoder_port}"],
        host=args.host,
        port=args.port,
        speed=args.speed,
    )
    app = create_app(settings, clock=clock)
    server = uvicorn.Server(uvicorn_config(app, args.host, args.port))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving  # start-up failed (port taken...): show why
            return
        await asyncio.sleep(0.05)
    await emulator.wait_for_clients(1, timeout=30)
    base = f"http://{args.host}:{args.port}"
    print(
        f"\nracecontrol demo: {scenario_summary(len(scenario.cars), args)}\n"
        f"  live timing   {base}/live\n"
        f"  race control  {base}/control   (login: control / {password})\n"
        f"  API docs      {base}/api/v1/docs\n"
        f"  decoder       tcp://127.0.0.1:{decoder_port} (P3 emulator)\n"
        "Ctrl-C stops.\n",
        flush=True,
    )
    race = app_state(app).race
    await race.flag(FlagChanged(at_us=clock.now_us(), flag=Flag.GREEN))
    playing = asyncio.create_task(emulator.play(scenario.passings))
    try:
        await serving
    finally:
        playing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await playing
        await emulator.stop()


def scenario_summary(cars: int, args: argparse.Namespace) -> str:
    return f"{cars} cars, {args.length_minutes} min race at {args.speed:g}x"


async def run_emulator(args: argparse.Namespace) -> None:
    clock = ScaledClock(args.speed)
    emulator = P3Emulator(clock=clock, host=args.host, port=args.port)
    port = await emulator.start()
    print(f"P3 decoder emulator on tcp://{args.host}:{port}", flush=True)
    try:
        if args.capture is not None:
            await emulator.play_capture(read_hex_capture(args.capture), realtime=True)
        else:
            scenario = generate_race(
                seed=args.seed, cars=args.cars, length_s=args.length_minutes * 60
            )
            if args.entries_out is not None:
                args.entries_out.write_text(scenario.entries_csv(), encoding="utf-8")
                print(f"entries written to {args.entries_out}", flush=True)
            await emulator.play(scenario.passings)
        print("playback finished; the decoder stays up (Ctrl-C stops)", flush=True)
        await asyncio.Event().wait()
    finally:
        await emulator.stop()
