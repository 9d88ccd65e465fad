"""A series' settings stored on SQLite and PostgreSQL: scheme, classes, equivalency,
events in season order, and the stewards' awards."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository, series
from server.db.sessions import NotFound
from server.season.classes import ClassBand
from server.season.scheme import CLUB_TABLE, IMG, SchemeError

SM = async_sessionmaker[AsyncSession]


async def test_a_series_keeps_its_resolved_scheme_tables_and_events(db_sessionmaker: SM) -> None:
    async with db_sessionmaker() as db:
        await repository.create_session(db, "Spring", "race", "Race", 120)
        await repository.create_session(db, "Summer", "sprintduro", "SprintDuro", 120)
        await series.create_series(db, "IMG 2027")
        await series.create_series(db, "Club", preset="club-20", trophy_depth=5)
        await series.set_classes(db, "IMG 2027", [ClassBand("B", 30, 45), ClassBand("A", 0, 30)])
        await series.set_equivalency(db, "IMG 2027", {("NASA", "E1"): "B"})
        assert await series.add_event(db, "IMG 2027", "Summer", order=2) == 2
        assert await series.add_event(db, "IMG 2027", "Spring", order=1) == 1
    async with db_sessionmaker() as db:
        img = await series.load_series(db, "IMG 2027")
        club = await series.load_series(db, "Club")
    assert img.scheme == IMG
    assert club.scheme.table == CLUB_TABLE.table and club.scheme.trophy_depth == 5
    assert [(b.name, b.low, b.high) for b in img.bands] == [("A", 0, 30), ("B", 30, 45)]
    assert img.equivalency == {("NASA", "E1"): "B"}
    assert [(name, order) for _id, name, order in img.events] == [("Spring", 1), ("Summer", 2)]


async def test_bad_settings_are_refused_and_change_nothing(db_sessionmaker: SM) -> None:
    async with db_sessionmaker() as db:
        await repository.create_session(db, "Spring", "race", "Race", 120)
        await series.create_series(db, "S")
        await series.set_classes(db, "S", [ClassBand("A", 0, 30)])
        with pytest.raises(SchemeError, match="exists already"):
            await series.create_series(db, "S")
        with pytest.raises(SchemeError, match="not decreasing"):
            await series.create_series(db, "T", table=(10, 10))
        with pytest.raises(SchemeError, match="no points preset"):
            await series.create_series(db, "U", preset="f1")
        with pytest.raises(SchemeError, match="overlap"):
            await series.set_classes(db, "S", [ClassBand("A", 0, 30), ClassBand("B", 20, 40)])
        with pytest.raises(SchemeError, match="not one of the series' classes"):
            await series.set_equivalency(db, "S", {("NASA", "E1"): "Z"})
        with pytest.raises(NotFound, match="no event"):
            await series.add_event(db, "S", "Nowhere")
        await series.add_event(db, "S", "Spring")
        with pytest.raises(SchemeError, match="already"):
            await series.add_event(db, "S", "Spring")
        with pytest.raises(NotFound, match="no series"):
            await series.load_series(db, "missing")
    async with db_sessionmaker() as db:
        kept = await series.load_series(db, "S")
    assert [(b.name, b.low, b.high) for b in kept.bands] == [("A", 0, 30)]
    assert kept.equivalency == {}


async def test_on_the_move_awards_replace_per_class(db_sessionmaker: SM) -> None:
    async with db_sessionmaker() as db:
        race = await repository.create_session(db, "Spring", "race", "Race", 120)
        await series.award_on_the_move(db, race.id, "A", "12", "steward")
        await series.award_on_the_move(db, race.id, "B", "7", "steward")
        await series.award_on_the_move(db, race.id, "A", "34", "chief steward")
        assert await series.awards_of(db, race.id) == (("A", "34"), ("B", "7"))
        with pytest.raises(NotFound):
            await series.award_on_the_move(db, race.id + 99, "A", "1", "steward")
