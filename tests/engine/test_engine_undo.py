"""Undo as a journaled reversal: a correction or the latest flag undone rebuilds the
state as if it had never been made; race-control messages expire, are edited and
retracted; every one of these inputs replays to the same state."""

from __future__ import annotations

import json

from engine_helpers import S, cross, flag, green, make_engine, of_type, row, run

from server.engine.events import (
    CorrectionReverted,
    Flag,
    FlagReverted,
    InputEvent,
    PassingAdded,
    PassingDeleted,
    RaceControlMessageEdited,
    RaceControlMessagePosted,
    RaceControlMessageRetracted,
    from_record,
    to_record,
)
from server.engine.outbound import CommandRefused, CorrectionApplied, FlagShown, MessageChanged
from server.engine.race import RaceEngine
from server.engine.refusals import Refusal


def lap_times(engine: RaceEngine, number: str) -> list[int]:
    return [lap.lap_time_us // S for lap in engine.laps_of(number)]


def replayed(events: list[InputEvent]) -> RaceEngine:
    engine = make_engine(["1", "2"])
    for event in events:
        engine.apply(from_record(json.loads(json.dumps(to_record(event)))))
    return engine


def test_undoing_a_deleted_passing_restores_the_laps_and_replays_the_same() -> None:
    engine = make_engine(["1", "2"])
    events: list[InputEvent] = [green(0), cross("1", 0), cross("1", 100), cross("1", 130)]
    events += [cross("1", 230)]
    run(engine, events)
    before = (lap_times(engine, "1"), engine.standings())
    delete = PassingDeleted("1", 130 * S, 400 * S, "pit-lane crossing", "timing")
    engine.apply(delete)
    assert lap_times(engine, "1") == [100, 130]
    undo = CorrectionReverted("PassingDeleted", "1", 400 * S, 410 * S, "timing")
    out = engine.apply(undo)
    assert CorrectionApplied("CorrectionReverted", "1", 410 * S) in out
    assert (lap_times(engine, "1"), engine.standings()) == before
    assert engine.corrections() == []
    again = replayed([*events, delete, undo])
    assert (lap_times(again, "1"), again.standings()) == before


def test_undoing_an_added_passing_takes_its_lap_away() -> None:
    engine = make_engine(["1", "2"])
    run(engine, [green(0), cross("1", 0), cross("1", 100), cross("1", 300)])
    engine.apply(PassingAdded("1", 200 * S, "loop missed it", "timing"))
    assert lap_times(engine, "1") == [100, 100, 100]
    engine.apply(CorrectionReverted("PassingAdded", "1", 200 * S, 320 * S, "timing"))
    assert lap_times(engine, "1") == [100, 200]
    assert row(engine, "1").laps == 2


def test_undoing_a_correction_never_made_is_refused_and_changes_nothing() -> None:
    engine = make_engine(["1", "2"])
    run(engine, [green(0), cross("1", 0), cross("1", 100)])
    before = engine.standings()
    out = engine.apply(CorrectionReverted("PassingDeleted", "1", 50 * S, 120 * S, "timing"))
    assert of_type(out, CommandRefused) == [
        CommandRefused("CorrectionReverted", 120 * S, Refusal.NO_SUCH_CORRECTION, "1")
    ]
    assert engine.standings() == before


def test_the_latest_flag_is_undone_within_ten_seconds() -> None:
    engine = make_engine(["1", "2"])
    run(engine, [green(0), cross("1", 0), flag(Flag.RED, 50)])
    assert engine.status().flag is Flag.RED
    out = engine.apply(FlagReverted(50 * S, 58 * S, "director"))
    assert FlagShown(Flag.GREEN, 58 * S) in out
    assert engine.status().flag is Flag.GREEN
    assert engine.undoable_flag(58 * S) is None  # the green, shown at 0 s: too old
    assert engine.undoable_flag(5 * S) == green(0)
    late = engine.apply(FlagReverted(0, 58 * S, "director"))
    assert of_type(late, CommandRefused)[0].reason is Refusal.UNDO_TOO_LATE
    assert engine.status().flag is Flag.GREEN


def test_a_flag_undo_too_late_or_of_an_older_flag_is_refused() -> None:
    engine = make_engine(["1", "2"])
    run(engine, [green(0), flag(Flag.YELLOW, 40), flag(Flag.GREEN, 60)])
    late = engine.apply(FlagReverted(60 * S, 71 * S, "director"))
    assert of_type(late, CommandRefused)[0].reason is Refusal.UNDO_TOO_LATE
    older = engine.apply(FlagReverted(40 * S, 62 * S, "director"))
    assert of_type(older, CommandRefused)[0].reason is Refusal.NO_SUCH_FLAG
    assert engine.status().flag is Flag.GREEN
    assert engine.undoable_flag(71 * S) is None


def test_undoing_the_first_green_unstarts_the_session_and_replays_the_same() -> None:
    events: list[InputEvent] = [green(10), FlagReverted(10 * S, 15 * S, "director")]
    engine = replayed(events)
    assert engine.status().flag is Flag.NONE
    assert engine.status().green_at_us is None
    events.append(green(20))
    assert replayed(events).status().green_at_us == 20 * S


def test_a_message_expires_at_its_time_and_says_so_once() -> None:
    engine = make_engine(["1"])
    engine.apply(RaceControlMessagePosted(10 * S, "Track clear", None, "rc", 70 * S))
    engine.apply(RaceControlMessagePosted(20 * S, "Drive-through car 1", "1", "rc"))
    engine.tick(30 * S)
    assert [m.text for m in engine.messages()] == ["Drive-through car 1", "Track clear"]
    assert of_type(engine.tick(69 * S), MessageChanged) == []
    assert of_type(engine.tick(71 * S), MessageChanged) == [MessageChanged(10 * S, 70 * S, False)]
    assert of_type(engine.tick(72 * S), MessageChanged) == []
    assert [m.text for m in engine.messages()] == ["Drive-through car 1"]
    assert [m.text for m in engine.messages(now_us=50 * S)] == [
        "Drive-through car 1",
        "Track clear",
    ]


def test_a_message_is_edited_and_retracted_through_the_journal() -> None:
    events: list[InputEvent] = [
        RaceControlMessagePosted(10 * S, "Car 7 black flag", "1", "rc"),
        RaceControlMessageEdited(10 * S, 15 * S, "Car 1 black flag", "rc", 600 * S),
        RaceControlMessagePosted(20 * S, "Oil at T3", None, "rc"),
    ]
    engine = replayed(events)
    edited = engine.messages()[1]
    assert (edited.text, edited.expires_at_us, edited.edited_at_us) == (
        "Car 1 black flag",
        600 * S,
        15 * S,
    )
    out = engine.apply(RaceControlMessageRetracted(20 * S, 30 * S, "rc"))
    assert out[0] == MessageChanged(20 * S, 30 * S, False)
    assert [m.text for m in engine.messages()] == ["Car 1 black flag"]
    again = engine.apply(RaceControlMessageRetracted(20 * S, 31 * S, "rc"))
    assert of_type(again, CommandRefused)[0].reason is Refusal.NO_SUCH_MESSAGE
    events.append(RaceControlMessageRetracted(20 * S, 30 * S, "rc"))
    assert replayed(events).messages() == engine.messages()
