"""Engine checkpoints: a restart from a checkpoint and the journal after it rebuilds
exactly what a replay of the whole journal does; a stale or damaged one is ignored."""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import random
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from server.db.models import EngineCheckpointRow, JournalRow
from server.engine import RaceEngine
from server.engine.event_log import EventLog
from server.engine.events import (
    Flag,
    FlagChanged,
    InputEvent,
    PassingDeleted,
)
from server.service import checkpoint
from server.service.entries_import import import_entries
from server.service.ingest import PassingMapper
from server.service.race_service import RaceService
from tests.fixtures.service_world import (
    CHANGED,
    EVENT,
    S,
    World,
    race_of_three,
)


def state_of(value: Any, _path: tuple[int, ...] = ()) -> Any:
    """``value`` as plain data, every attribute of every object it holds included (an
    object met again inside itself is named by its type only)."""
    if isinstance(value, enum.Enum):
        return (type(value).__name__, value.value)
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, EventLog):  # its events, whether still pickled or not
        return ("EventLog", [state_of(v, _path) for v in value])
    if id(value) in _path:
        return ("cycle", type(value).__name__)
    path = (*_path, id(value))
    if isinstance(value, dict):
        return [(state_of(k, path), state_of(v, path)) for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [state_of(v, path) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(repr(state_of(v, path)) for v in value)
    if callable(value) and not hasattr(value, "__dict__") and not hasattr(value, "__slots__"):
        return ("callable", getattr(value, "__qualname__", type(value).__name__))
    names: list[str] = []
    for cls in type(value).__mro__:
        names += [n for n in getattr(cls, "__slots__", ()) if n not in names]
    if dataclasses.is_dataclass(value):
        names += [f.name for f in dataclasses.fields(value) if f.name not in names]
    attributes = {n: getattr(value, n) for n in names if hasattr(value, n)}
    attributes.update(getattr(value, "__dict__", {}))
    return (type(value).__name__, [(k, state_of(v, path)) for k, v in sorted(attributes.items())])


async def _saved(race: RaceService) -> None:
    """Wait for the checkpoint being stored (a bounded wait: the task ends or fails)."""
    if race._checkpoint_saving is not None:
        await race._checkpoint_saving


def _same(restarted: RaceService, engine: RaceEngine, mapper: PassingMapper) -> None:
    assert restarted.engine is not None
    assert restarted.engine.alerts() == engine.alerts()
    assert restarted.engine.status() == engine.status()
    for queried in (restarted.engine, engine):
        # the same caches filled on both sides; and the alerts judged at the same now:
        # the live engine judged them at its own ticks (its load's, at least), which one
        # tick after a replay makes current in what is shown, not in when it was judged
        queried.standings(), queried.entries()
        queried._book.refresh(queried._now_us, queried._core.acks)
    ours, theirs = state_of(restarted.engine)[1], state_of(engine)[1]
    assert [name for name, _ in ours] == [name for name, _ in theirs]
    differ = [a[0] for a, b in zip(ours, theirs, strict=True) if a != b]
    assert differ == [], differ  # every attribute, nested objects' included
    assert restarted.standings() == engine.standings()
    assert state_of(restarted._journaled_mapper) == state_of(mapper)


async def test_restart_from_a_checkpoint_rebuilds_what_a_full_replay_does(world: World) -> None:
    race = world.service(checkpoint_every=10)
    await race.load_session(world.session_id)
    await world.feed(race, [FlagChanged(S, Flag.GREEN), *race_of_three(5)])
    await _saved(race)
    assert race.checkpoint_counts["written"] == 1  # 16 events: one at the 10th
    assert await race.checkpoints.count(world.session_id) == 1
    race.checkpoint_every = 10**9
    # after the checkpoint: more laps, a correction and an entry change
    tail: list[InputEvent] = [
        *race_of_three(3, first_number=100, start_s=510),
        PassingDeleted("2", 513 * S, 800 * S, "double read", "rc"),
    ]
    await world.feed(race, tail)
    world.clock.advance_to(801 * S)
    # the organiser re-imports the list: car 3 loses a driver and changes class
    await import_entries(world.db, CHANGED, EVENT, on_imported=race.entries_changed)
    await world.feed(race, race_of_three(1, first_number=200, start_s=810))

    restarted = world.service()
    await restarted.load_session(world.session_id)
    assert not restarted.checkpoint_counts  # restored, nothing ignored
    engine, mapper = await world.full_replay()
    _same(restarted, engine, mapper)
    changed = [e for e in restarted.entries if e.number == "3"]
    assert [(e.class_name, e.drivers) for e in changed] == [("A", ("Di",))]
    assert race.checkpoint_counts["written"] == 1  # the change came after it
    # and the decoders resume where the journal ends
    assert restarted.mapper.resume("D1", 1) == mapper.resume("D1", 1)


async def test_random_cut_points_give_the_full_replay(world: World) -> None:
    """Checkpoint + tail == full replay, for checkpoints at random points of a race."""
    events: list[InputEvent] = [FlagChanged(S, Flag.GREEN), *race_of_three(12)]
    events.insert(20, PassingDeleted("1", 710 * S, 720 * S, "double read", "rc"))
    race = world.service()
    await race.load_session(world.session_id)
    rng = random.Random(20261202)
    cuts = sorted(rng.sample(range(1, len(events)), 4))
    fed = 0
    for cut in cuts:
        await world.feed(race, events[fed:cut])
        fed = cut
        await race.checkpoint_now()
        await world.feed(race, events[fed : fed + 1])  # at least one event after it
        fed += 1
        restarted = world.service()
        await restarted.load_session(world.session_id)
        assert not restarted.checkpoint_counts
        engine, mapper = await world.full_replay()
        _same(restarted, engine, mapper)


async def test_a_checkpoint_of_other_engine_code_is_ignored(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    race = await world.checkpointed_race()
    async with world.db() as db, db.begin():
        await db.execute(update(EngineCheckpointRow).values(engine_version="0" * 64))
    await world.feed(race, race_of_three(1, first_number=50, start_s=310))

    restarted = world.service()
    with caplog.at_level(logging.WARNING, "racecontrol.race"):
        await restarted.load_session(world.session_id)
    assert restarted.checkpoint_counts["stale"] == 1
    assert "other engine code" in caplog.text
    engine, mapper = await world.full_replay()
    _same(restarted, engine, mapper)


async def test_a_corrupt_checkpoint_is_logged_counted_and_ignored(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    race = await world.checkpointed_race()
    async with world.db() as db, db.begin():
        state = await db.scalar(
            EngineCheckpointRow.__table__.select().with_only_columns(EngineCheckpointRow.state)
        )
        assert isinstance(state, bytes)
        damaged = state[: len(state) // 2] + bytes(64) + state[len(state) // 2 + 64 :]
        await db.execute(update(EngineCheckpointRow).values(state=damaged))
    await world.feed(race, race_of_three(1, first_number=50, start_s=310))

    restarted = world.service()
    with caplog.at_level(logging.ERROR, "racecontrol.race"):
        await restarted.load_session(world.session_id)
    assert restarted.checkpoint_counts["unreadable"] == 1
    assert "checkpoint at seq" in caplog.text and "ignored" in caplog.text
    engine, mapper = await world.full_replay()
    _same(restarted, engine, mapper)


def test_a_checkpoint_for_another_configuration_is_stale() -> None:
    from server.engine.events import SessionKind
    from server.engine.model import SessionConfig

    config = SessionConfig(session_id=1, kind=SessionKind.RACE, length_us=3600 * S)
    blob = checkpoint.dumps(RaceEngine(config), PassingMapper())
    assert checkpoint.config_key(config) == checkpoint.config_key(dataclasses.replace(config))
    with pytest.raises(checkpoint.CheckpointStale):
        checkpoint.loads(blob, dataclasses.replace(config, min_lap_us=30 * S))
    with pytest.raises(checkpoint.CheckpointUnreadable):
        checkpoint.loads(blob[:-10], config)
    restored = checkpoint.loads(blob, config)
    assert state_of(restored.engine) == state_of(RaceEngine(config))


async def test_a_checkpoint_over_a_changed_journal_is_ignored(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.checkpointed_race()
    async with world.db() as db, db.begin():  # a passing before the checkpoint is gone
        first = select(func.min(JournalRow.seq)).where(JournalRow.type == "PassingDetected")
        await db.execute(delete(JournalRow).where(JournalRow.seq == (await db.scalar(first))))

    restarted = world.service()
    with caplog.at_level(logging.WARNING, "racecontrol.race"):
        await restarted.load_session(world.session_id)
    assert restarted.checkpoint_counts["stale"] == 1
    assert "the journal before it changed" in caplog.text
    engine, mapper = await world.full_replay()
    _same(restarted, engine, mapper)


async def test_a_start_without_the_database_restores_the_copied_checkpoint(world: World) -> None:
    race = world.service(spool="timing.spool")
    await race.load_session(world.session_id)
    await world.feed(race, [FlagChanged(S, Flag.GREEN), *race_of_three(4)])
    await race.checkpoint_now()
    await world.feed(race, race_of_three(1, first_number=50, start_s=410))
    # a restart with the database: loaded from the checkpoint, copied as it and the tail
    loaded = world.service(spool="timing.spool")
    await loaded.load_session(world.session_id)
    await loaded.journal.copy_written()
    copy = loaded.journal.copy
    assert copy.checkpoint_path.is_file()
    copied = copy.read()
    assert copied is not None and len(copied.events) == 3  # the tail alone
    # then a restart without it: rebuilt from the copy
    offline = world.service(spool="timing.spool")
    assert await offline.start_offline()
    engine, mapper = await world.full_replay()
    _same(offline, engine, mapper)


async def test_a_checkpoint_that_cannot_be_made_never_stops_timing(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refused(engine: RaceEngine, mapper: PassingMapper) -> bytes:
        raise TypeError("cannot pickle 'generator' object")  # what a bug would raise

    monkeypatch.setattr(checkpoint, "dumps", refused)
    race = world.service(checkpoint_every=5)
    await race.load_session(world.session_id)
    with caplog.at_level(logging.ERROR, "racecontrol.race"):
        await world.feed(race, [FlagChanged(S, Flag.GREEN), *race_of_three(4)])
    assert race.checkpoint_counts == {"failed": 2}  # at the 5th and the 10th event
    assert "checkpoint at seq" in caplog.text and "not made" in caplog.text
    assert race.journaled == 13
    engine, _mapper = await world.full_replay()
    assert race.standings() == engine.standings()


def test_the_keys_are_the_same_in_another_process() -> None:
    """A restart is another process, with other string hashes (a set's order)."""
    script = (
        "from server.engine.events import Flag, SessionKind\n"
        "from server.engine.model import SessionConfig\n"
        "from server.engine.rules import RuleSet\n"
        "from server.service import checkpoint\n"
        "flags = frozenset({Flag.YELLOW, Flag.RED, Flag.GREEN, Flag.CHECKERED})\n"
        "config = SessionConfig(1, SessionKind.RACE, rules=RuleSet(caution_flags=flags))\n"
        "print(checkpoint.ENGINE_FINGERPRINT, checkpoint.config_key(config))\n"
    )
    answers = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(answers) == 1 and len(answers.pop().split()) == 2
