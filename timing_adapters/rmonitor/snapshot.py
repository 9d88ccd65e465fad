"""What the RMonitor output server publishes, and which records a change between two
snapshots takes.

Strategy: the server does not know the engine. It is handed ``RMonitorSnapshot``s, plain
frozen values, and everything protocol-shaped is decided here, purely: ``full_picture``
is what a scoreboard needs to draw the whole board (``$B``, ``$C``, ``$E``, ``$A`` and
``$COMP``, ``$G``, ``$H``; the server adds ``$F``), ``changes`` is the smallest set of
records that takes a client that saw the old snapshot to the new one, and ``heartbeat``
is the ``$F`` at a moment after the snapshot. RMonitor cannot delete a row, so a change
that removes a class, a competitor or a position, or starts another run, is sent as
``$I`` (clear) followed by the full picture, as IMSA's feed does. Times are truncated to
the millisecond (``$F`` to the second) because that is what the wire carries.
"""

from __future__ import annotations

from dataclasses import dataclass

from .records import (
    ClassInfo,
    Competitor,
    CompetitorExt,
    Flag,
    Heartbeat,
    Init,
    Passing,
    PracticePosition,
    RacePosition,
    Record,
    Run,
    Setting,
)

NO_LAPS_LIMIT = 9999
"""``$F`` laps to go when the session is not limited by laps."""
NO_BEST_LAP_US = 3_599_999_000  # 00:59:59.999 with lap 0: what Orbits sends before a best lap
_DAY_US = 86_400_000_000


@dataclass(frozen=True, slots=True)
class SnapshotClass:
    number: int
    name: str


@dataclass(frozen=True, slots=True)
class SnapshotCompetitor:
    registration: str  # the key of every other record; usually the car number
    number: str
    transponder: str = ""
    first_name: str = ""
    last_name: str = ""  # or the team name
    nationality: str = ""
    class_number: int | None = None
    additional_data: str = ""  # $COMP only


@dataclass(frozen=True, slots=True)
class SnapshotPosition:
    """One standings line; ``position`` is used for both ``$G`` and ``$H``."""

    position: int
    registration: str
    laps: int | None = None
    total_time_us: int | None = None
    best_lap: int | None = None  # the lap number of the best lap
    best_lap_time_us: int | None = None


@dataclass(frozen=True, slots=True)
class SnapshotPassing:
    """A crossing since the previous snapshot; the only way the last lap time travels."""

    registration: str
    lap_time_us: int  # 0 for a first crossing
    total_time_us: int


@dataclass(frozen=True, slots=True)
class RMonitorSnapshot:
    session_name: str
    run_number: int = 1
    track_name: str = ""
    track_length: str = ""  # miles, as text, e.g. "2.500"
    flag: str = Flag.NONE
    laps_to_go: int = NO_LAPS_LIMIT
    time_to_go_us: int = 0
    time_of_day_us: int = 0  # at the moment of the snapshot
    race_time_us: int = 0
    clock_running: bool = False  # race time runs (and time to go runs down) between updates
    date: str = ""  # for $I, e.g. "12 Jan 01"
    classes: tuple[SnapshotClass, ...] = ()
    competitors: tuple[SnapshotCompetitor, ...] = ()
    positions: tuple[SnapshotPosition, ...] = ()
    passings: tuple[SnapshotPassing, ...] = ()  # consumed once: sent as $J by that update


def _ms(us: int | None) -> int | None:
    return None if us is None else us - us % 1000


def _competitor_records(c: SnapshotCompetitor) -> list[Record]:
    return [
        Competitor(
            c.registration,
            c.number,
            c.transponder,
            c.first_name,
            c.last_name,
            c.nationality,
            c.class_number,
        ),
        CompetitorExt(
            c.registration,
            c.number,
            c.class_number,
            c.first_name,
            c.last_name,
            c.nationality,
            c.additional_data,
        ),
    ]


def _race(p: SnapshotPosition) -> RacePosition:
    return RacePosition(p.position, p.registration, p.laps, _ms(p.total_time_us))


def _practice(p: SnapshotPosition) -> PracticePosition:
    if p.best_lap is None or p.best_lap_time_us is None:
        return PracticePosition(p.position, p.registration, 0, NO_BEST_LAP_US)
    return PracticePosition(p.position, p.registration, p.best_lap, _ms(p.best_lap_time_us))


def _ordered(s: RMonitorSnapshot) -> list[SnapshotPosition]:
    return sorted(s.positions, key=lambda p: (p.position, p.registration))


def full_picture(s: RMonitorSnapshot) -> list[Record]:
    """Every record a scoreboard needs to draw the board, ``$F`` excepted."""
    records: list[Record] = [Run(s.run_number, s.session_name)]
    records += [ClassInfo(c.number, c.name) for c in s.classes]
    records += [Setting("TRACKNAME", s.track_name), Setting("TRACKLENGTH", s.track_length)]
    for competitor in s.competitors:
        records += _competitor_records(competitor)
    records += [_race(p) for p in _ordered(s)]
    records += [_practice(p) for p in _ordered(s)]
    return records


def _needs_clear(old: RMonitorSnapshot, new: RMonitorSnapshot) -> bool:
    if new.run_number != old.run_number:
        return True
    gone = (
        {c.number for c in old.classes} - {c.number for c in new.classes}
        or {c.registration for c in old.competitors} - {c.registration for c in new.competitors}
        or {p.registration for p in old.positions} - {p.registration for p in new.positions}
    )
    return bool(gone)


def changes(old: RMonitorSnapshot | None, new: RMonitorSnapshot) -> list[Record]:
    """The records that take a client from ``old`` to ``new`` (``$F`` excepted)."""
    passings: list[Record] = [
        Passing(p.registration, _ms(p.lap_time_us) or 0, _ms(p.total_time_us) or 0)
        for p in new.passings
    ]
    if old is None:
        return passings + full_picture(new)
    if _needs_clear(old, new):
        tod = (new.time_of_day_us - new.time_of_day_us % 1_000_000) % _DAY_US
        return [Init(tod, new.date), *passings, *full_picture(new)]
    records: list[Record] = []
    if new.session_name != old.session_name:
        records.append(Run(new.run_number, new.session_name))
    old_classes = set(old.classes)
    records += [ClassInfo(c.number, c.name) for c in new.classes if c not in old_classes]
    if new.track_name != old.track_name:
        records.append(Setting("TRACKNAME", new.track_name))
    if new.track_length != old.track_length:
        records.append(Setting("TRACKLENGTH", new.track_length))
    old_competitors = set(old.competitors)
    for competitor in new.competitors:
        if competitor not in old_competitors:
            records += _competitor_records(competitor)
    records += passings
    old_race = {p.registration: _race(p) for p in old.positions}
    old_practice = {p.registration: _practice(p) for p in old.positions}
    ordered = _ordered(new)
    records += [g for p in ordered if (g := _race(p)) != old_race.get(p.registration)]
    records += [h for p in ordered if (h := _practice(p)) != old_practice.get(p.registration)]
    return records


def heartbeat(s: RMonitorSnapshot, elapsed_us: int) -> Heartbeat:
    """The ``$F`` for ``elapsed_us`` after the snapshot was taken (whole seconds)."""
    elapsed_us = max(0, elapsed_us)
    race, to_go = s.race_time_us, s.time_to_go_us
    if s.clock_running:
        race, to_go = race + elapsed_us, max(0, to_go - elapsed_us)
    tod = (s.time_of_day_us + elapsed_us) % _DAY_US
    return Heartbeat(
        max(0, s.laps_to_go),
        _seconds(to_go),
        _seconds(tod),
        _seconds(race),
        s.flag,
    )


def _seconds(us: int) -> int:
    us = max(0, us)
    return us - us % 1_000_000
