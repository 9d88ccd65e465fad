"""Determinism of the endurance rules: every input event round-trips through the
journal's JSON, and a restart (replay of the JSON records, then one tick) ends in the
same standings, car details, alerts (ids and acknowledgements), messages and
classifications as the live engine, whatever ticks the live engine saw."""

from __future__ import annotations

import json
import os
import random
from typing import Any

import pytest
from engine_helpers import (
    H,
    M,
    S,
    change,
    cross,
    green,
    make_engine,
    pit_in,
    pit_out,
    solo_exit,
    team,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine import (
    AlertAcknowledged,
    CarRetired,
    Entry,
    EntryChanged,
    EntryListSet,
    ExternalAlertRaised,
    Flag,
    FlagChanged,
    InputEvent,
    LoopRole,
    PassingAdded,
    PassingDeleted,
    PassingDetected,
    PitInMarked,
    PitOutMarked,
    RaceControlMessagePosted,
    RaceEngine,
    RuleSet,
    SessionClockPaused,
    SessionClockResumed,
    SessionKind,
    Severity,
    SoloExitConfirmed,
    TransponderAssigned,
    from_record,
    preset,
    to_record,
)
from server.engine import DriverChangeConfirmed as Change

ENTRIES = [
    team("1", "A"),  # solo
    team("2", "A", "B", "C", flagged=("C",)),
    *(team(str(n), "A", "B", "C") for n in range(3, 9)),
]
RULES = RuleSet(stint_frozen_under_caution=True, min_stop_us=60 * S, window_opens_us=20 * M)


def engine(kind: SessionKind = SessionKind.SPRINTDURO, rules: RuleSet = RULES) -> RaceEngine:
    return make_engine(ENTRIES, kind=kind, rules=rules, length_us=2 * H, finish_timeout_us=300 * S)


def endurance_scenario(seed: int) -> list[InputEvent]:
    """A seeded 2-hour race with stops, changes (some early, some refused), solo exits,
    marshal marks, a yellow, a retirement, messages, acknowledgements and corrections."""
    rng = random.Random(seed)
    timed: list[tuple[float, int, InputEvent]] = [
        (0, 0, green(0)),
        (1500, 0, FlagChanged(1500 * S, Flag.YELLOW)),
        (1620, 0, FlagChanged(1620 * S, Flag.GREEN)),
        (2000, 0, FlagChanged(2000 * S, Flag.LOCAL_YELLOW, station="T4")),
        (2100, 0, FlagChanged(2100 * S, Flag.GREEN, station="T4")),
        (3000, 0, RaceControlMessagePosted(3000 * S, "Debris at T4", actor="rc")),
        (3100, 0, ExternalAlertRaised("decoder_silent", "D1 silent", 3100 * S)),
        (3200, 0, AlertAcknowledged("window_open", 3200 * S, actor="rc")),
        (3300, 0, AlertAcknowledged("stint_warning:1:1:900", 3300 * S, actor="rc")),
    ]
    for number in [e.number for e in ENTRIES]:
        marks = number == "8"  # a car whose stops the marshal marks
        at = 1 + int(number) * 0.7
        retires = number == "7"
        stops = sorted(rng.uniform(1300, 5600) for _ in range(rng.randint(0, 2)))
        while at < 2 * 3600 + 300:
            timed.append((at, 1, cross(number, at)))
            lap = rng.uniform(95, 110)
            if stops and at > stops[0]:
                stops.pop(0)
                pin, pout = at + 40, at + 40 + rng.uniform(30, 200)
                if marks:
                    timed.append((pin, 1, PitInMarked(number, round(pin * S), "marshal")))
                    timed.append((pout, 1, PitOutMarked(number, round(pout * S), "marshal")))
                else:
                    timed += [(pin, 1, pit_in(number, pin)), (pout, 1, pit_out(number, pout))]
                when = pin + 10 if rng.random() < 0.7 else at + 5  # or before pit-in
                if number == "1":
                    timed.append((when, 1, solo_exit(number, when)))
                else:
                    driver = rng.choice("ABC")
                    timed.append((when, 1, change(number, driver, when, rng.random() < 0.3)))
                lap += pout - at
            if retires and at > 4000:
                timed.append((at + 30, 1, pit_in(number, at + 30)))
                timed.append((at + 60, 1, CarRetired(number, round((at + 60) * S), "oil", "rc")))
                break
            at += lap
    timed.sort(key=lambda item: (item[0], item[1]))
    events = [event for *_, event in timed]
    unknown = PassingDetected(at_us=700 * S, transponder="X1", decoder_id="D1")
    events.insert(len(events) // 10, unknown)
    late = events[-1].at_us
    fifth = [e for e in events if isinstance(e, PassingDetected) and e.transponder == "T4"][5]
    return [
        *events,
        PassingAdded("3", 1000 * S, "loop missed it", "timing"),
        PassingDeleted("4", fifth.at_us, late, "double read", "timing"),
        TransponderAssigned("X1", "6", late, "borrowed", "timing"),
    ]


def state(e: RaceEngine, now_us: int) -> dict[str, Any]:
    numbers = [entry.number for entry in ENTRIES]
    return {
        "standings": e.standings(),
        "details": [e.car_detail(n, now_us) for n in numbers],
        "laps": [e.laps_of(n) for n in numbers],
        "alerts": e.alerts(),
        "messages": e.messages(),
        "snapshots": e.snapshots(),
        "sprint": e.sprint_standings(),
        "status": e.status(),
        "rejected": e.rejected_counts(),
        "unknown": e.unknown_transponders(),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_restart_replays_the_json_journal_to_the_same_state(seed: int) -> None:
    events = endurance_scenario(seed)
    live, journal = engine(), []
    rng = random.Random(seed)
    for event in events:
        live.apply(event)
        live.tick(event.at_us + rng.randrange(0, 5 * S))
        journal.append(json.dumps(to_record(event)))
    restarted = engine()
    for line in journal:
        restarted.apply(from_record(json.loads(line)))
    now = events[-1].at_us + 600 * S
    live.tick(now)
    restarted.tick(now)
    assert state(restarted, now) == state(live, now)
    alerts = {a.id: a for a in live.alerts()}
    assert alerts["window_open"].acknowledged and "stint_warning:2:1:900" not in alerts
    assert live.sprint_standings() is not None and live.snapshots()
    assert any(d.stops for d in state(live, now)["details"])


def test_alert_ids_and_acknowledgements_survive_a_replay_without_ticks() -> None:
    events = [green(0), *(cross("1", t) for t in range(1, 3 * 3600, 100))]
    events.append(AlertAcknowledged("stint_warning:1:1:900", 3 * H, "rc"))
    live = make_engine([team("1", "A", "B")], length_us=4 * H)
    for event in events:
        live.tick(event.at_us)
        live.apply(event)
    replayed = make_engine([team("1", "A", "B")], length_us=4 * H)
    for event in events:
        replayed.apply(event)
    assert replayed.alerts() != live.alerts()  # timed alerts wait for a tick
    live.tick(3 * H + S)
    replayed.tick(3 * H + S)
    assert replayed.alerts() == live.alerts()
    ids = {a.id: a.acknowledged for a in live.alerts() if a.kind.startswith("stint")}
    assert ids == {
        "stint_warning:1:1:900": True,
        "stint_warning:1:1:300": False,
        "stint_limit:1:1": False,
    }


def test_every_input_event_type_round_trips_with_its_audit_fields() -> None:
    samples: list[InputEvent] = [
        FlagChanged(1, Flag.LOCAL_YELLOW, station="T3"),
        PitInMarked("7", 2, "marshal"),
        PitOutMarked("7", 3, "marshal"),
        Change("7", "B", 4, "marshal", override=True),
        SoloExitConfirmed("7", 5, "marshal"),
        CarRetired("7", 6, "gearbox", "rc"),
        RaceControlMessagePosted(7, "text", number="7", actor="rc"),
        AlertAcknowledged("stint_limit:7:1", 8, "rc"),
        ExternalAlertRaised("decoder_lost", "lost", 9, number="7", severity=Severity.CRITICAL),
        SessionClockPaused(10, "rc"),
        SessionClockResumed(11, "rc"),
        PassingAdded("7", 12, "missed", "timing", LoopRole.PIT_IN),
        PassingDeleted("7", 13, 14, "double read", "timing", LoopRole.PIT_OUT),
        PassingDeleted("7", 13, 14, "double read", "timing"),
        TransponderAssigned("X", "7", 15, "found", "timing", from_us=3),
        EntryListSet(0, (Entry("7", "GT", "Team", ("A", "B"), ("X", "Y"), ("B",)),)),
        EntryListSet(0, ()),
        EntryChanged(16, Entry("8", "Cup", "Eight", transponders=("8",)), actor="import"),
    ]
    for event in samples:
        assert from_record(json.loads(json.dumps(to_record(event)))) == event


def test_journals_written_before_stations_existed_still_read() -> None:
    assert from_record({"type": "FlagChanged", "at_us": 1, "flag": "yellow"}) == FlagChanged(
        1, Flag.YELLOW
    )


_TIMES = st.integers(min_value=0, max_value=4000).map(lambda s: s * S)
_NUMBERS = st.sampled_from(["1", "2", "3", "4", "9"])
_EVENTS = st.one_of(
    st.builds(
        PassingDetected,
        at_us=_TIMES,
        transponder=st.sampled_from(["T1", "T2", "T3", "T4", "X"]),
        decoder_id=st.just("D1"),
        loop=st.sampled_from(list(LoopRole)),
    ),
    st.builds(FlagChanged, at_us=_TIMES, flag=st.sampled_from(list(Flag))),
    st.builds(FlagChanged, at_us=_TIMES, flag=st.sampled_from(list(Flag)), station=st.just("T1")),
    st.builds(PitInMarked, _NUMBERS, _TIMES, st.just("m")),
    st.builds(PitOutMarked, _NUMBERS, _TIMES, st.just("m")),
    st.builds(Change, _NUMBERS, st.sampled_from("ABCZ"), _TIMES, st.just("m"), st.booleans()),
    st.builds(SoloExitConfirmed, _NUMBERS, _TIMES, st.just("m")),
    st.builds(CarRetired, _NUMBERS, _TIMES, st.just("r"), st.just("rc")),
    st.builds(
        AlertAcknowledged,
        st.sampled_from(["window_open", "stint_limit:2:1"]),
        _TIMES,
        st.just("rc"),
    ),
    st.builds(SessionClockPaused, _TIMES, st.just("rc")),
    st.builds(SessionClockResumed, _TIMES, st.just("rc")),
    st.builds(
        PassingAdded, _NUMBERS, _TIMES, st.just("r"), st.just("t"), st.sampled_from(list(LoopRole))
    ),
    st.builds(PassingDeleted, _NUMBERS, _TIMES, _TIMES, st.just("r"), st.just("t")),
    st.builds(TransponderAssigned, st.just("X"), _NUMBERS, _TIMES, st.just("r"), st.just("t")),
)
_SMALL = [Entry("1", "A", "T1", ("A",), ("T1",)), *(team(n, "A", "B", "C") for n in "234")]


@settings(max_examples=int(os.environ.get("ENGINE_EXAMPLES", 150)), deadline=None)
@given(
    steps=st.lists(st.one_of(_EVENTS, _EVENTS, _TIMES.map(lambda t: ("tick", t))), max_size=60),
    kind=st.sampled_from([SessionKind.RACE, SessionKind.SPRINTDURO, SessionKind.PRACTICE]),
    rules=st.sampled_from([RULES, preset("brscc"), preset("wcma"), RuleSet(max_stint_us=600 * S)]),
    started=st.booleans(),
)
def test_random_endurance_sequences_never_raise_and_replay_the_same(
    steps: list[InputEvent | tuple[str, int]], kind: SessionKind, rules: RuleSet, started: bool
) -> None:
    def fresh() -> RaceEngine:
        return make_engine(_SMALL, kind=kind, rules=rules, length_us=3000 * S, min_lap_us=30 * S)

    ticked, replayed = fresh(), fresh()
    last = 0
    if started:  # most interesting sequences need a green flag and cars that crossed
        steps = [green(0), *(cross(n, 1) for n in "1234"), *steps]
    for step in steps:
        if isinstance(step, tuple):
            ticked.tick(step[1])
            last = max(last, step[1])
            continue
        ticked.apply(step)
        replayed.apply(from_record(json.loads(json.dumps(to_record(step)))))
        last = max(last, step.at_us)
        rows = ticked.standings()
        assert sorted(r.position for r in rows) == list(range(1, len(_SMALL) + 1))
    ticked.tick(last)
    replayed.tick(last)
    numbers = [e.number for e in _SMALL]
    assert ticked.standings() == replayed.standings()
    assert ticked.alerts() == replayed.alerts()
    details = [ticked.car_detail(n, last) for n in numbers]
    assert details == [replayed.car_detail(n, last) for n in numbers]
    assert ticked.sprint_standings() == replayed.sprint_standings()
    assert ticked.snapshots() == replayed.snapshots()
    assert ticked.status() == replayed.status()
    assert ticked.rejected_counts() == replayed.rejected_counts()
    assert ticked.messages() == replayed.messages()
