"""The ``racecontrol`` command line: demo, serve, db upgrade, users, tokens, PINs, login
lockouts, import, results, replay, emulate."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from server.cli.preflight import (
    UserError,
    check_database_url,
    check_range,
    ensure_migrated,
    load_settings,
)
from server.db.text_limits import TextRefused
from server.engine.lengths import demo_kind, length_refusal
from server.engine.rules import IMG
from server.settings import Settings

T = TypeVar("T")
DEFAULT_DB = Settings.model_fields["database_url"].default
# the demo's and the emulator's generated race (timing_adapters/emulator/scenario.py)
CARS = (1, 120)
LENGTH_MINUTES = (15, 240)
SPEED = (0.1, 1000.0)


def _db_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=None,
        help=f"database URL (default: $RACECONTROL_DATABASE_URL or {DEFAULT_DB})",
    )


def _db_url(args: argparse.Namespace) -> str:
    url = str(args.db or load_settings().database_url)
    check_database_url(url)
    return url


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port: give 0 to 65535")
    return port


def _watch_ttl(text: str) -> float:
    """An edge's car watch lifetime in seconds (docs/edges.md)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0.3 <= seconds <= 300:
        raise argparse.ArgumentTypeError(f"{text!r} is not a watch TTL: give 0.3 to 300 seconds")
    return seconds


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> timedelta:
    """ "90s", "30m", "8h", "2d" (or a combination, "1h30m") as a positive duration."""
    parts = re.fullmatch(r"(?:\d+[smhd])+", text.strip().lower())
    if parts is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: give e.g. 90s, 30m, 8h, 2d or 1h30m"
        )
    seconds = sum(
        int(n) * _UNITS[unit] for n, unit in re.findall(r"(\d+)([smhd])", text.strip().lower())
    )
    if not 0 < seconds <= 3650 * 86400:
        raise argparse.ArgumentTypeError(f"{text!r}: give a duration from 1s to 3650d")
    return timedelta(seconds=seconds)


def _check_race_options(args: argparse.Namespace) -> None:
    """The generated race's limits, said before anything starts: the demo's length is
    what its rule set (IMG) allows a race, the emulator's what it can generate."""
    check_range("--cars", args.cars, *CARS)
    if args.command == "demo":
        minutes = args.length_minutes
        refusal = length_refusal(demo_kind(minutes), IMG, minutes)
        if refusal is not None:
            raise UserError(f"--length-minutes {minutes}: {refusal}")
    else:
        check_range("--length-minutes", args.length_minutes, *LENGTH_MINUTES)
    check_range("--speed", args.speed, *SPEED)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="racecontrol", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="a simulated race on SQLite, decoder emulator included")
    demo.add_argument("--speed", type=float, default=10.0, help="race time per wall second")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument(
        "--port", type=_port, default=None, help="HTTP port (default: 8000, or a free one)"
    )
    demo.add_argument(
        "--decoder-port", type=_port, default=0, help="start/finish emulator port (0: any)"
    )
    demo.add_argument(
        "--rmonitor-port", type=_port, default=None, help="default: 50000, or a free one"
    )
    demo.add_argument(
        "--db-file",
        default=None,
        help="recreated at start (default: racecontrol-demo.db, racecontrol-demo-PORT.db "
        "off HTTP port 8000)",
    )
    demo.add_argument("--cars", type=int, default=36, help=f"{CARS[0]} to {CARS[1]}")
    demo.add_argument(
        "--length-minutes",
        type=int,
        default=120,
        help="what the IMG rules allow: a race of 60 to 240 (90 to 120: a SprintDuro)",
    )
    demo.add_argument("--seed", type=int, default=1)

    serve = sub.add_parser("serve", help="run the server")
    _db_arg(serve)
    serve.add_argument("--decoder", action="append", default=None, help="tcp://HOST:PORT")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=_port, default=None)
    serve.add_argument(
        "--redis", default=None, help="redis://HOST:PORT/DB: publish live timing for edges"
    )
    serve.add_argument("--redis-prefix", default=None, help="key prefix (default: racecontrol)")

    edge = sub.add_parser("edge", help="serve /live from Redis (no database): see --redis")
    edge.add_argument("--redis", required=True, help="redis://HOST:PORT/DB of the race service")
    edge.add_argument("--redis-prefix", default="racecontrol", help="as given to serve")
    edge.add_argument("--host", default="127.0.0.1")
    edge.add_argument("--port", type=_port, default=8100)
    edge.add_argument(
        "--watch-ttl",
        type=_watch_ttl,
        default=10.0,
        help="seconds a car watch lives in Redis unless refreshed (default 10)",
    )

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    _db_arg(db_sub.add_parser("upgrade", help="migrate the database to the newest schema"))

    user = sub.add_parser("user", help="logins")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["control", "steward", "timing", "pit"])
    add.add_argument("--password", default=None, help="default: asked on the terminal")
    _db_arg(add)
    remove = user_sub.add_parser("remove", help="remove a user and end its logins at once")
    remove.add_argument("name")
    _db_arg(remove)

    token = sub.add_parser("token", help="bearer tokens for the API")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token and print it once")
    create.add_argument("--role", required=True, choices=["control", "steward", "timing", "pit"])
    create.add_argument("--label", default="")
    create.add_argument(
        "--expires-in",
        type=_duration,
        default=None,
        help="e.g. 8h or 3d; then the token answers 401 (default: until revoked)",
    )
    _db_arg(create)
    revoke = token_sub.add_parser("revoke", help="revoke a token at once (by id or label)")
    revoke.add_argument("which", metavar="ID|LABEL")
    _db_arg(revoke)
    _db_arg(token_sub.add_parser("list", help="the tokens: id, role, label, expiry"))

    login = sub.add_parser("login", help="failed logins: lift waits and lockouts")
    login_sub = login.add_subparsers(dest="login_command", required=True)
    _db_arg(login_sub.add_parser("list", help="keys with failed logins counted"))
    lift = login_sub.add_parser("lift", help="forget the failed logins of a key, or all")
    lift_which = lift.add_mutually_exclusive_group(required=True)
    lift_which.add_argument("key", nargs="?", help="as listed: user:NAME, pin:EVENT, addr:IP")
    lift_which.add_argument("--all", action="store_true", help="every key")
    _db_arg(lift)

    results = sub.add_parser("results", help="a session's results (docs/results.md)")
    results.add_argument("session_id", type=int, metavar="SESSION_ID")
    results.add_argument("--format", choices=["csv", "json", "pdf"], default="csv")
    results.add_argument("--out", type=Path, default=None, help="default: standard output")
    results.add_argument("--version", type=int, default=None, help="default: the latest")
    results.add_argument("--class", dest="class_name", default=None, help="one class only")
    _db_arg(results)

    pin = sub.add_parser("pin", help="the pit marshals' PIN of an event")
    pin_sub = pin.add_subparsers(dest="pin_command", required=True)
    pin_set = pin_sub.add_parser("set", help="set the PIN (a random one by default) and print it")
    pin_set.add_argument("--event", required=True)
    pin_set.add_argument("--pin", default=None, help="4 to 12 digits (default: 6 random)")
    _db_arg(pin_set)

    imp = sub.add_parser("import", help="load data")
    imp_sub = imp.add_subparsers(dest="import_command", required=True)
    entries = imp_sub.add_parser("entries", help="CSV: number,class,team,drivers,transponder")
    entries.add_argument("file", type=Path)
    entries.add_argument("--event", required=True)
    entries.add_argument(
        "--decoder",
        default=None,
        help="URL of the decoder that times the event: refuse codes it cannot report",
    )
    entries.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="the event's date (YYYY-MM-DD): licences and medicals must be valid on it",
    )
    _db_arg(entries)
    track = imp_sub.add_parser("track", help="CSV: decoder,role,sector,distance_m,name")
    track.add_argument("file", type=Path)
    track.add_argument("--event", required=True)
    _db_arg(track)

    replay = sub.add_parser(
        "replay", help="re-score a recording into a session, faster than real time"
    )
    replay.add_argument("file", type=Path)
    replay.add_argument(
        "--format", required=True, choices=["p3", "amb", "ilap", "rmonitor", "mylaps"]
    )
    replay.add_argument("--event", required=True)
    replay.add_argument("--session", default=None, help="name of the session to create")
    replay.add_argument("--session-id", type=int, default=None, help="replay into this session")
    replay.add_argument("--type", default="race", help="practice, qualifying or race ...")
    replay.add_argument("--length-minutes", type=int, default=None)
    replay.add_argument(
        "--speed", default="max", help="times real time, or max: as fast as the engine takes it"
    )
    replay.add_argument(
        "--green", default=None, help="HH:MM:SS in the recording's clock (default: its own)"
    )
    _db_arg(replay)
    from server.cli import series_commands

    series_commands.add_parser(sub, _db_arg)

    emulate = sub.add_parser("emulate", help="a P3 decoder on a TCP port")
    emulate.add_argument("--host", default="127.0.0.1")
    emulate.add_argument("--port", type=_port, default=5403)
    emulate.add_argument("--capture", type=Path, default=None, help="hex-per-line P3 capture")
    emulate.add_argument("--speed", type=float, default=1.0)
    emulate.add_argument("--seed", type=int, default=1)
    emulate.add_argument("--cars", type=int, default=36, help=f"{CARS[0]} to {CARS[1]}")
    emulate.add_argument(
        "--length-minutes",
        type=int,
        default=120,
        help=f"{LENGTH_MINUTES[0]} to {LENGTH_MINUTES[1]}",
    )
    emulate.add_argument("--entries-out", type=Path, default=None, help="write the entries CSV")
    return parser


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await factory()

    return asyncio.run(main())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is noise
    from server.cli import commands  # imported late: `racecontrol --help` stays fast

    try:
        if args.command in ("demo", "emulate"):
            _check_race_options(args)
        if args.command == "demo":
            commands.demo(args)
        elif args.command == "serve":
            commands.serve(args)
        elif args.command == "edge":
            commands.edge(args)
        elif args.command == "db":
            commands.db_upgrade(_db_url(args))
        elif args.command == "emulate":
            commands.emulate(args)
        else:
            _database_command(args)
    except UserError as exc:
        print(f"racecontrol: {exc}", file=sys.stderr)
        return 2
    except TextRefused as exc:  # a name with control characters, or too long for its column
        print(f"racecontrol: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _database_command(args: argparse.Namespace) -> None:
    """user, token, login, pin, import, results and replay: on a migrated database only."""
    from server.cli import commands

    url = _db_url(args)
    _run(lambda: ensure_migrated(url))
    if args.command == "series":
        from server.cli import series_commands

        print(_run(lambda: series_commands.run(url, args)))
    elif args.command == "user" and args.user_command == "remove":
        ended = _run(lambda: commands.remove_user(url, args.name))
        print(f"user {args.name!r} removed; {ended} login(s) ended")
    elif args.command == "user":
        password = args.password or _ask_password()
        _run(lambda: commands.add_user(url, args.name, password, args.role))
        print(f"user {args.name!r} added with role {args.role}")
    elif args.command == "token" and args.token_command == "revoke":
        gone = _run(lambda: commands.revoke_token(url, args.which))
        print(f"{gone} token(s) revoked")
    elif args.command == "token" and args.token_command == "list":
        print(_run(lambda: commands.list_tokens(url)))
    elif args.command == "token":
        print(_run(lambda: commands.create_token(url, args.role, args.label, args.expires_in)))
    elif args.command == "login" and args.login_command == "list":
        print(_run(lambda: commands.list_logins(url)))
    elif args.command == "login":
        lifted = _run(lambda: commands.lift_logins(url, None if args.all else args.key))
        print(f"{lifted} key(s) lifted")
    elif args.command == "pin":
        pin = _run(lambda: commands.set_pit_pin(url, args.event, args.pin))
        print(f"pit PIN for {args.event!r}: {pin}")
    elif args.command == "results":
        data = _run(
            lambda: commands.results(
                url, args.session_id, args.format, args.version, args.class_name
            )
        )
        if args.out is not None:
            args.out.write_bytes(data)
            print(f"results of session {args.session_id} written to {args.out}")
        elif args.format == "pdf" and sys.stdout.isatty():
            raise UserError("a PDF is not for a terminal: give --out FILE")
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
    elif args.command == "replay":
        print(_run(lambda: _replay(url, args)))
    elif args.import_command == "track":
        print(_run(lambda: commands.import_track(url, args.file, args.event)))
    else:
        print(
            _run(
                lambda: commands.import_entries(url, args.file, args.event, args.date, args.decoder)
            )
        )


async def _replay(url: str, args: argparse.Namespace) -> str:
    from server.cli import commands

    speed: float | None = None
    if args.speed != "max":
        try:
            speed = float(args.speed)
        except ValueError:
            raise UserError(f"--speed {args.speed!r}: give a number or max") from None
        check_range("--speed", speed, *SPEED)
    return await commands.replay(
        url,
        args.file,
        args.format,
        args.event,
        args.session,
        kind=args.type,
        length_minutes=args.length_minutes,
        speed=speed,
        green=args.green,
        session_id=args.session_id,
    )


def _ask_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise SystemExit("racecontrol: the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")
