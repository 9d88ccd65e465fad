"""Determinism: the same input events give the same standings whatever the ticks; the
journal round trip; and random sequences never raise and always rank 1..n."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from engine_helpers import S, entry, make_engine, race_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine import (
    Flag,
    FlagChanged,
    InputEvent,
    LoopRole,
    PassingDetected,
    RaceEngine,
    SessionKind,
    from_record,
    to_record,
)

CARS = [entry(str(n), "AB"[n % 2]) for n in range(1, 21)]


def race_engine() -> RaceEngine:
    return make_engine(CARS, length_us=1800 * S, finish_timeout_us=300 * S)


def snapshot(engine: RaceEngine) -> object:
    laps = {c.number: engine.laps_of(c.number) for c in CARS}
    return engine.standings(), laps, engine.rejected_counts(), engine.unknown_transponders()


def test_tick_schedule_does_not_change_the_result() -> None:
    events = race_scenario(seed=7)
    end_us = events[-1].at_us + 3600 * S
    no_ticks, every_event, random_ticks = race_engine(), race_engine(), race_engine()
    rng = random.Random(3)
    for event in events:
        no_ticks.apply(event)
        every_event.tick(event.at_us)
        every_event.apply(event)
        if rng.random() < 0.2:  # ticks from any clock, even far ahead of the events
            random_ticks.tick(rng.randrange(0, end_us))
        random_ticks.apply(event)
    for engine in (no_ticks, every_event, random_ticks):
        engine.tick(end_us)
    assert no_ticks.status().checkered_at_us is not None
    assert no_ticks.status().finished
    assert snapshot(no_ticks) == snapshot(every_event) == snapshot(random_ticks)
    assert no_ticks.status() == every_event.status() == random_ticks.status()


def test_replaying_the_journal_restores_the_state() -> None:
    events = race_scenario(seed=11)
    live = race_engine()
    journal = []
    for event in events[: len(events) // 2]:
        live.apply(event)
        live.tick(event.at_us + 5 * S)
        journal.append(json.dumps(to_record(event)))
    restarted = race_engine()
    for line in journal:
        restarted.apply(from_record(json.loads(line)))
    now = events[len(events) // 2 - 1].at_us + 5 * S
    restarted.tick(now)
    live.tick(now)
    assert snapshot(restarted) == snapshot(live)


def test_every_input_event_type_round_trips_through_a_record() -> None:
    samples: list[InputEvent] = [
        PassingDetected(at_us=5, transponder="1234567", decoder_id="D", passing_number=9, loop=loop)
        for loop in LoopRole
    ]
    samples.append(PassingDetected(at_us=6, transponder="X", decoder_id="D"))
    samples += [FlagChanged(at_us=7, flag=f) for f in Flag]
    for event in samples:
        assert from_record(json.loads(json.dumps(to_record(event)))) == event


_TIMES = st.integers(min_value=0, max_value=4000).map(lambda s: s * S)
_PASSINGS = st.builds(
    PassingDetected,
    at_us=_TIMES,
    transponder=st.sampled_from(["T1", "T2", "T3", "T4", "T5", "T6", "X"]),
    decoder_id=st.just("D1"),
    loop=st.sampled_from(list(LoopRole)),
)
_FLAGS = st.builds(FlagChanged, at_us=_TIMES, flag=st.sampled_from(list(Flag)))
_STEPS = st.lists(
    st.one_of(_PASSINGS, _PASSINGS, _PASSINGS, _FLAGS, _TIMES.map(lambda t: ("tick", t))),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(
    steps=_STEPS,
    kind=st.sampled_from(list(SessionKind)),
    length_s=st.one_of(st.none(), st.integers(min_value=60, max_value=2000)),
)
def test_random_sequences_never_raise_and_rank_a_permutation(
    steps: list[InputEvent | tuple[str, int]], kind: SessionKind, length_s: int | None
) -> None:
    cars = [entry(str(n), "AB"[n % 2]) for n in range(1, 7)]
    config = {"length_us": None if length_s is None else length_s * S, "min_lap_us": 30 * S}
    ticked = make_engine(cars, kind=kind, finish_timeout_us=200 * S, **config)
    plain = make_engine(cars, kind=kind, finish_timeout_us=200 * S, **config)
    last = 0
    for step in steps:
        if isinstance(step, tuple):
            ticked.tick(step[1])
            last = max(last, step[1])
            continue
        ticked.apply(step)
        plain.apply(step)
        last = max(last, step.at_us)
        rows = ticked.standings()
        assert sorted(r.position for r in rows) == list(range(1, len(cars) + 1))
        per_class = Counter(r.class_name for r in rows)
        for cls, count in per_class.items():
            positions = sorted(r.class_position for r in rows if r.class_name == cls)
            assert positions == list(range(1, count + 1))
    ticked.tick(last)
    plain.tick(last)
    assert ticked.standings() == plain.standings()
    assert ticked.rejected_counts() == plain.rejected_counts()


def test_bad_records_raise_value_error() -> None:
    with pytest.raises(ValueError, match="unknown journal event type"):
        from_record({"type": "Nope", "at_us": 1})
    with pytest.raises(ValueError, match="unexpected fields"):
        from_record({"type": "FlagChanged", "at_us": 1, "flag": "green", "extra": 2})
