"""``racecontrol series``: create a championship and set its classes, equivalency table,
events and the stewards' On the Move awards."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from server.cli.preflight import UserError
from server.db import series
from server.db.connection import create_engine, sessionmaker
from server.db.sessions import NotFound
from server.season.classes import bands_from_csv, equivalency_from_csv
from server.season.scheme import PRESETS, SchemeError

T = TypeVar("T")


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    db_arg: Callable[[argparse.ArgumentParser], None],
) -> None:
    parser = sub.add_parser("series", help="a championship: classes, events, awards")
    series_sub = parser.add_subparsers(dest="series_command", required=True)
    create = series_sub.add_parser("create", help="a new series with a points preset")
    create.add_argument("name")
    create.add_argument("--scheme", choices=sorted(PRESETS), default="img")
    create.add_argument("--trophy-depth", type=int, default=None)
    classes = series_sub.add_parser("classes", help="CSV class,low,high: the index bands")
    classes.add_argument("name")
    classes.add_argument("file", type=Path)
    equivalency = series_sub.add_parser(
        "equivalency", help="CSV body,their_class,class: other bodies' classes"
    )
    equivalency.add_argument("name")
    equivalency.add_argument("file", type=Path)
    event = series_sub.add_parser("add-event", help="count an event in the series")
    event.add_argument("name")
    event.add_argument("event")
    event.add_argument("--order", type=int, default=None, help="season order (default: last)")
    award = series_sub.add_parser("award", help="a steward's On the Move award")
    award.add_argument("session_id", type=int)
    award.add_argument("car_class", metavar="class")
    award.add_argument("car")
    award.add_argument("--by", default="steward")
    for command in (create, classes, equivalency, event, award):
        db_arg(command)


async def run(url: str, args: argparse.Namespace) -> str:
    """The line to print for ``args``; ``UserError`` with the reason when refused."""
    command = args.series_command
    if command == "create":
        extra = {} if args.trophy_depth is None else {"trophy_depth": args.trophy_depth}
        return await _with_db(url, lambda db: _create(db, args.name, args.scheme, extra))
    if command == "classes":
        text = _read(args.file)
        bands = _checked(lambda: list(bands_from_csv(text)))
        await _with_db(url, lambda db: series.set_classes(db, args.name, bands))
        return f"series {args.name!r}: {len(bands)} classes"
    if command == "equivalency":
        text = _read(args.file)

        async def set_table(db: AsyncSession) -> int:
            loaded = await series.load_series(db, args.name)
            table = equivalency_from_csv(text, loaded.bands)
            await series.set_equivalency(db, args.name, table)
            return len(table)

        count = await _with_db(url, set_table)
        return f"series {args.name!r}: {count} equivalent classes"
    if command == "add-event":
        order = await _with_db(
            url, lambda db: series.add_event(db, args.name, args.event, args.order)
        )
        return f"series {args.name!r}: event {args.event!r} is round {order}"
    await _with_db(
        url,
        lambda db: series.award_on_the_move(db, args.session_id, args.car_class, args.car, args.by),
    )
    return f"On the Move in class {args.car_class} of session {args.session_id}: car {args.car}"


async def _create(db: AsyncSession, name: str, preset: str, extra: dict[str, int]) -> str:
    await series.create_series(db, name, preset, **extra)
    return f"series {name!r} created with the {preset} points scheme"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None


def _checked(make: Callable[[], T]) -> T:
    try:
        return make()
    except SchemeError as exc:
        raise UserError(str(exc)) from None


async def _with_db(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as db:
            return await work(db)
    except (SchemeError, NotFound) as exc:
        raise UserError(str(exc)) from None
    finally:
        await engine.dispose()
