"""The entry list as journaled input: the engine owns its entries and applies changes.

A session's engine starts empty and gets its cars from ``EntryListSet`` (the list the
session starts with) and ``EntryChanged`` (a car entered or changed during the session),
so a replay of the journal alone rebuilds the same results whatever the entry tables
hold by then.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from server.engine import (
    CommandRefused,
    EntryChanged,
    EntryListSet,
    Flag,
    InputEvent,
    PassingDetected,
    RaceEngine,
    SessionConfig,
    SessionKind,
    TransponderAssigned,
    UnknownTransponderSeen,
    entry_list_first,
    from_record,
    to_record,
)
from tests.engine.engine_helpers import (
    S,
    change,
    cross,
    entry,
    flag,
    green,
    laps,
    make_engine,
    of_type,
    row,
    run,
    team,
)

CONFIG = SessionConfig(session_id=1, kind=SessionKind.RACE)
ENTRIES = (entry("1"), entry("2"), team("3", "Ann", "Bob"))


def journaled(events: list[InputEvent]) -> RaceEngine:
    """An engine built from ``events`` as a journal stores them (JSON round trip)."""
    engine = RaceEngine(CONFIG)
    for event in events:
        engine.apply(from_record(json.loads(json.dumps(to_record(event)))))
    return engine


def seen(transponder: str, at_s: float) -> PassingDetected:
    return PassingDetected(at_us=round(at_s * S), transponder=transponder, decoder_id="D1")


def test_an_engine_gets_its_entries_from_the_journal() -> None:
    race = [green(0), *laps("1", 1, 100, 3), *laps("2", 2, 101, 3), *laps("3", 3, 99, 2)]
    given = make_engine(list(ENTRIES))
    run(given, race)
    from_journal = journaled([EntryListSet(0, ENTRIES), *race])
    assert from_journal.standings() == given.standings()
    assert from_journal.entries() == list(ENTRIES)
    assert RaceEngine(CONFIG).standings() == []  # nothing entered, nothing shown


def test_a_transponder_changed_mid_race_scores_the_new_one_from_then_on() -> None:
    swap = EntryChanged(250 * S, entry("1", "A", "T9"), actor="import")
    events: list[InputEvent] = [
        EntryListSet(0, ENTRIES),
        green(0),
        cross("1", 1),
        cross("1", 101),
        cross("1", 201),
        swap,
        seen("T9", 301),  # the new transponder: car 1's lap 3
        seen("T1", 305),  # the old one, now nobody's
        seen("T9", 401),
    ]
    engine = journaled(events)
    assert row(engine, "1").laps == 4
    assert row(engine, "1").last_lap_us == 100 * S
    assert "T1" in engine.unknown_transponders()
    assert engine.entries()[0].transponders == ("T9",)
    # the same events applied live (one at a time, no round trip) give the same state
    live = RaceEngine(CONFIG)
    out = run(live, events)
    assert live.standings() == engine.standings()
    assert of_type(out, UnknownTransponderSeen)[0].transponder == "T1"


def test_passings_before_a_change_keep_the_car_they_were_scored_for() -> None:
    # T9 was someone else's spare before it went on car 1: its earlier passing is not
    # car 1's (only race control's whole-session assignment is retroactive)
    events: list[InputEvent] = [
        EntryListSet(0, ENTRIES),
        green(0),
        cross("1", 1),
        seen("T9", 50),
        EntryChanged(60 * S, entry("1", "A", "T1", "T9")),
        cross("1", 101),
        seen("T9", 201),
    ]
    engine = journaled(events)
    assert row(engine, "1").laps == 2
    assert engine.unknown_transponders()["T9"].count == 1


@pytest.mark.parametrize("order", ["a_first", "b_first"])
def test_transponders_swapped_between_two_cars_in_either_order(order: str) -> None:
    one, two = entry("1", "A", "T2"), entry("2", "A", "T1")
    first, second = (one, two) if order == "a_first" else (two, one)
    events: list[InputEvent] = [
        EntryListSet(0, ENTRIES),
        green(0),
        cross("1", 1),
        cross("2", 2),
        EntryChanged(50 * S, first),
        EntryChanged(50 * S, second),
        seen("T2", 101),  # car 1 now
        seen("T1", 102),  # car 2 now
    ]
    engine = journaled(events)
    assert (row(engine, "1").laps, row(engine, "1").last_lap_us) == (1, 100 * S)
    assert (row(engine, "2").laps, row(engine, "2").last_lap_us) == (1, 100 * S)
    assert engine.unknown_transponders() == {}


def test_class_team_and_drivers_change_and_a_car_is_added() -> None:
    events: list[InputEvent] = [
        EntryListSet(0, ENTRIES),
        green(0),
        *laps("3", 1, 100, 1),
        EntryChanged(150 * S, replace(team("3", "Ann", "Cy"), class_name="B", team="New")),
        change("3", "Cy", 160),  # Cy is listed now, Bob no longer
        change("3", "Bob", 170),
        EntryChanged(180 * S, entry("4", "B")),
        *laps("4", 190, 100, 1),
    ]
    engine = journaled(events)
    three = row(engine, "3")
    assert (three.class_name, three.team, three.class_position) == ("B", "New", 1)
    assert row(engine, "4").laps == 1 and row(engine, "4").class_position == 2
    detail = engine.car_detail("3")
    assert [d.name for d in detail.drivers] == ["Ann", "Cy"]
    refused = [o.reason for o in run(RaceEngine(CONFIG), events) if hasattr(o, "reason")]
    assert refused == ["not_on_roster"]


def test_an_entry_change_after_the_finish_is_refused_and_changes_nothing() -> None:
    events: list[InputEvent] = [
        EntryListSet(0, (entry("1"),)),
        green(0),
        cross("1", 1),
        cross("1", 101),
        flag(Flag.CHECKERED, 150),
        cross("1", 201),
    ]
    engine = journaled(events)
    before = engine.standings()
    assert engine.status().finished
    out = engine.apply(EntryChanged(300 * S, entry("1", "B", "T7")))
    assert of_type(out, CommandRefused)[0].reason == "session_finished"
    assert engine.standings() == before


def test_an_entry_list_claiming_a_transponder_twice_is_refused() -> None:
    engine = RaceEngine(CONFIG)
    out = engine.apply(EntryListSet(0, (entry("1", "A", "T1"), entry("2", "A", "T1"))))
    assert of_type(out, CommandRefused)[0].reason == "invalid_entry_list"
    assert engine.entries() == []


def test_a_correction_rebuild_keeps_the_entry_changes() -> None:
    events: list[InputEvent] = [
        EntryListSet(0, ENTRIES),
        green(0),
        cross("1", 1),
        EntryChanged(50 * S, entry("1", "A", "T9")),
        seen("T9", 101),
        seen("X", 150),
        TransponderAssigned("X", "2", 160 * S, "found it", "timing"),
        seen("T9", 201),
    ]
    engine = journaled(events)
    assert row(engine, "1").laps == 2
    assert row(engine, "2").laps == 0  # X's passing started car 2's timing
    assert row(engine, "2").last_crossing_us == 150 * S


def test_the_entry_list_is_applied_first_in_a_journal_that_got_it_late() -> None:
    late = EntryListSet(0, ENTRIES)
    older: list[InputEvent] = [green(0), cross("1", 1), cross("1", 101)]
    assert entry_list_first([*older, late]) == [late, *older]
    assert entry_list_first([late, *older]) == [late, *older]
    assert entry_list_first(older) == older
    engine = journaled(entry_list_first([*older, late]))
    assert row(engine, "1").laps == 1
