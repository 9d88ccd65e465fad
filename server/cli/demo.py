"""``racecontrol demo`` and ``racecontrol emulate``.

Strategy: the demo is the real product wired to an emulated decoder, not a shortcut:
the emulator is a P3 server on a real TCP port, and the server's decoder runner
connects to it exactly as it would to a decoder in a timing hut. The track has three
loops (start/finish, pit-in, pit-out), one emulator each, and ``server/demo_script.py``
plays race control and the pit marshal (driver changes, a solo exit, a missed stop, a
full-course yellow, messages). All share one ``ScaledClock`` so a 2-hour race plays in 12
minutes at 10x, and the browser is told the rate so its clocks tick at the same pace.
``setup_database``, ``start_decoders`` and ``run_race`` are the demo's wiring, which the
integration tests run on a short race. The demo owns its listeners (HTTP, the emulators,
the RMonitor output) and binds each itself: a default port that is taken (a second demo on
the machine) is replaced by a free one, a port the user asked for is an error naming it,
and what is printed is what is bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import socket
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvicorn

from server.cli.commands import add_user, import_entries, set_pit_pin, uvicorn_config
from server.cli.demo_script import (
    MINUTE,
    PIT_IN,
    PIT_OUT,
    START_FINISH,
    TRACK,
    DemoPlan,
    build_plan,
    run_race,
)
from server.cli.preflight import UserError, listening_socket, load_settings, port_problem
from server.db import repository
from server.db.connection import create_engine, sessionmaker
from server.db.migrate import upgrade
from server.db.track import replace_track
from server.engine.lengths import demo_kind
from server.web.state import app_state
from timing_adapters.capture import read_hex_capture
from timing_adapters.clock import Clock, ScaledClock
from timing_adapters.emulator.scenario import Scenario, generate_race
from timing_adapters.emulator.server import P3Emulator
from timing_adapters.rmonitor.server import RMonitorServer

DEMO_EVENT = "Demo Endurance Weekend"
HTTP_PORT = 8000
RMONITOR_PORT = 50000


def _taken(exc: OSError, host: str, port: int, what: str, option: str, free: str = "") -> UserError:
    """``free``: how to ask for any free port (default: leave the option out)."""
    free = free or f"leave {option} out"
    return UserError(
        f"{what} port {port} on {host} {port_problem(exc)}; give another {option}, "
        f"or {free} to use a free one"
    )


def bind_http(host: str, port: int | None) -> socket.socket:
    """The HTTP listening socket: ``port``, or 8000 (any free port when 8000 is taken)."""
    for candidate in (HTTP_PORT, 0) if port is None else (port,):
        try:
            return listening_socket(host, candidate)
        except OSError as exc:
            if port is not None or candidate == 0:
                raise _taken(exc, host, candidate, "HTTP", "--port") from None
    raise AssertionError("port 0 always binds")


async def _listen(
    start: Callable[[int], Awaitable[int]],
    host: str,
    port: int | None,
    default: int,
    what: str,
    option: str,
) -> int:
    """Start a listener on ``port``, or on ``default`` and else any free port."""
    for candidate in (default, 0) if port is None else (port,):
        try:
            return await start(candidate)
        except OSError as exc:
            if port is not None or candidate == 0:
                raise _taken(exc, host, candidate, what, option) from None
    raise AssertionError("port 0 always binds")


async def setup_database(
    url: str, scenario: Scenario, plan: DemoPlan, minutes: int, kind: str = "race"
) -> None:
    """Migrate, import the entries and the three-loop track, create the race session."""
    await asyncio.to_thread(upgrade, url)
    with tempfile.TemporaryDirectory() as tmp:
        entries = Path(tmp) / "entries.csv"
        entries.write_text(scenario.entries_csv(), encoding="utf-8")
        await import_entries(url, entries, DEMO_EVENT)
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            event = await repository.get_or_create_event(db, DEMO_EVENT)
            await replace_track(db, event.id, TRACK)
        async with sessionmaker(engine)() as db:
            hours = f"{minutes // 60} Hour" if minutes >= 60 else f"{minutes} min"
            name = f"{hours} SprintDuro" if kind == "sprintduro" else f"{hours} Endurance"
            await repository.create_session(db, DEMO_EVENT, kind, name, minutes, plan.rules)
    finally:
        await engine.dispose()


async def start_decoders(clock: Clock, first_port: int = 0) -> dict[int, P3Emulator]:
    """The three loops' P3 emulators, listening (start/finish on ``first_port``; the
    others on free ports)."""
    emulators = {
        decoder: P3Emulator(decoder_id=decoder, clock=clock, status_interval_s=2.0)
        for decoder in (START_FINISH, PIT_IN, PIT_OUT)
    }
    emulators[START_FINISH].port = first_port
    try:
        for emulator in emulators.values():
            await emulator.start()
    except OSError as exc:
        for emulator in emulators.values():
            await emulator.stop()
        raise _taken(exc, "127.0.0.1", first_port, "decoder emulator", "--decoder-port") from None
    return emulators


async def start_rmonitor(host: str, port: int | None, clock: Clock) -> RMonitorServer:
    """Our RMonitor output on ``port``, or on 50000 (a free port when 50000 is taken)."""
    server = RMonitorServer(host=host, clock=clock)

    async def start(candidate: int) -> int:
        server.port = candidate
        return await server.start()

    await _listen(start, host, port, RMONITOR_PORT, "RMonitor", "--rmonitor-port")
    return server


async def run_demo(args: argparse.Namespace) -> None:
    from server.app import create_app

    environment = load_settings()  # a bad RACECONTROL_* stops the demo before it starts
    clock = ScaledClock(args.speed)
    # every listener is bound first: a taken port stops the demo before it makes anything
    http = bind_http(args.host, args.port)
    http_port = int(http.getsockname()[1])
    emulators: dict[int, P3Emulator] = {}
    rmonitor: RMonitorServer | None = None
    serving: asyncio.Task[None] | None = None
    playing: asyncio.Task[None] | None = None
    try:
        emulators = await start_decoders(clock, args.decoder_port)
        rmonitor = await start_rmonitor(environment.rmonitor_host, args.rmonitor_port, clock)
        urls = {d: f"tcp://127.0.0.1:{e.port}" for d, e in emulators.items()}

        # named after the HTTP port off the default: a second demo in the same folder
        # must not delete the first one's database
        default_name = "racecontrol-demo" + ("" if http_port == HTTP_PORT else f"-{http_port}")
        db_file = Path(args.db_file or f"{default_name}.db").resolve()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{db_file}"
        scenario = generate_race(seed=args.seed, cars=args.cars, length_s=args.length_minutes * 60)
        plan = build_plan(scenario)
        # a SprintDuro when the rules say the length is one (main checked the length)
        kind = demo_kind(args.length_minutes).value
        await setup_database(url, scenario, plan, args.length_minutes, kind)
        password = secrets.token_urlsafe(9)
        await add_user(url, "control", password, "control")
        pit_pin = await set_pit_pin(url, DEMO_EVENT, None)

        settings = load_settings(
            database_url=url,
            decoders=list(urls.values()),
            host=args.host,
            port=http_port,
            speed=args.speed,
            rmonitor_port=None,  # the demo's own, started above
        )
        app = create_app(settings, clock=clock)
        server = uvicorn.Server(uvicorn_config(app, args.host, http_port))
        serving = asyncio.create_task(server.serve(sockets=[http]))
        while not server.started:
            if serving.done():
                await serving  # start-up failed: show why
                return
            await asyncio.sleep(0.05)
        race = app_state(app).race
        race.rmonitor = rmonitor
        race.publish()
        for emulator in emulators.values():
            await emulator.wait_for_clients(1, timeout=30)
        base = f"http://{_url_host(args.host)}:{http_port}"
        stint_limit = plan.rules["max_stint_us"]
        print(
            f"\nracecontrol demo: {scenario_summary(len(scenario.cars), args)}\n"
            f"  live timing   {base}/live\n"
            f"  race control  {base}/control   (login: control / {password})\n"
            f"  pit lane      {base}/pit   (pit PIN: {pit_pin})\n"
            f"  API docs      {base}/api/v1/docs\n"
            f"  RMonitor      tcp://{_url_host(rmonitor.host)}:{rmonitor.port} (scoreboards)\n"
            f"  database      {db_file} (recreated at each start)\n"
            f"  decoders      {urls[START_FINISH]} start/finish, {urls[PIT_IN]} pit in, "
            f"{urls[PIT_OUT]} pit out (P3 emulators)\n"
            f"  script        car {plan.missed_stop} skips its stop; full-course yellow at "
            f"{plan.yellow[0] // MINUTE} min; max stint {stint_limit // MINUTE} min\n"
            "Ctrl-C stops.\n",
            flush=True,
        )
        playing = asyncio.create_task(run_race(plan, emulators, clock, race.submit))
        await serving
    finally:
        if playing is not None:
            playing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await playing
        if serving is None:
            http.close()  # uvicorn closes it once it serves
        for emulator in emulators.values():
            await emulator.stop()
        if rmonitor is not None:
            await rmonitor.stop()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def scenario_summary(cars: int, args: argparse.Namespace) -> str:
    return f"{cars} cars, {args.length_minutes} min race at {args.speed:g}x"


async def run_emulator(args: argparse.Namespace) -> None:
    clock = ScaledClock(args.speed)
    emulator = P3Emulator(clock=clock, host=args.host, port=args.port)
    try:
        port = await emulator.start()
    except OSError as exc:
        raise _taken(exc, args.host, args.port, "decoder emulator", "--port", "--port 0") from None
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
