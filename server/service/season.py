"""The season read from the database: each series event's official race results, scored.

Strategy: only official results count (docs/season.md): for every race and SprintDuro
of the series' events, the latest results version if it is signed official (a later
amendment of official results is official too); a SprintDuro counts twice, its sprint
(results part "sprint", kind "sprint": the best 6 count) and its endurance result. The
rows are what every export shows (``server.service.results``); the stewards' "On the
Move" awards come with them (with the endurance result: one award per class and session).
A new results version changes the points at the next read: nothing is cached.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from server.db import repository, series
from server.engine.events import SessionKind
from server.season.points import CountedResult, ResultEntry, Status
from server.season.standings import By, StandingRow, Trophy, standings, trophies
from server.service.results import ResultRow, rows_of

Kind = Literal["sprint", "endurance"]
SCORED_KINDS = frozenset({SessionKind.RACE.value, SessionKind.SPRINTDURO.value})
STATUS = {
    "running": Status.RUNNING,
    "NC": Status.NC,
    "DNF": Status.DNF,
    "DNS": Status.DNS,
    "DSQ": Status.DSQ,
    "EXCL": Status.EXCL,
}


def _entry(row: ResultRow) -> ResultEntry:
    return ResultEntry(
        number=row.number,
        car_class=row.class_name,
        class_position=row.class_position,
        status=STATUS.get(row.status, Status.NC),
        team=row.team,
        drivers=row.drivers,
        lap_times_us=row.fastest_laps_us,
    )


async def counted_results(db: AsyncSession, loaded: series.Series) -> list[CountedResult]:
    """The series' official sprint and endurance results, in season order (a
    SprintDuro's sprint before its endurance result)."""
    counted: list[CountedResult] = []
    for event_id, event_name, order in loaded.events:
        for session in await repository.list_sessions(db, event_id):
            if session.type not in SCORED_KINDS:
                continue
            parts: list[tuple[str, Kind, str]] = [("race", "endurance", session.name)]
            if session.type == SessionKind.SPRINTDURO.value:
                parts.insert(0, ("sprint", "sprint", f"{session.name} (sprint)"))
            awards = await series.awards_of(db, session.id)
            for part, kind, label in parts:
                latest = await repository.latest_version(db, session.id, part)
                if latest is None or not latest.official:
                    continue
                entries = tuple(_entry(row) for row in rows_of(latest.rows))
                # the stewards' On the Move is one award per class and session: the race's;
                # an award for a car not in that class of these results (its class changed
                # since) does not score rather than break the standings
                ran = {(entry.car_class, entry.number) for entry in entries}
                held = tuple(a for a in awards if a in ran) if kind == "endurance" else ()
                counted.append(CountedResult(event_name, label, kind, order, entries, held))
    return counted


async def series_standings(
    db: AsyncSession, name: str, by: By = "driver"
) -> dict[str, tuple[StandingRow, ...]]:
    """Class -> standings of series ``name``; ``NotFound`` for an unknown series."""
    loaded = await series.load_series(db, name)
    return standings(await counted_results(db, loaded), loaded.scheme, by)


async def series_trophies(db: AsyncSession, name: str, event: str) -> tuple[Trophy, ...]:
    loaded = await series.load_series(db, name)
    if event not in {event_name for _id, event_name, _order in loaded.events}:
        raise LookupError(f"event {event!r} is not in series {name!r}")
    return trophies(await counted_results(db, loaded), loaded.scheme, event)
