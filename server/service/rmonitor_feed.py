"""Our engine's state as an RMonitor snapshot, for scoreboards and apps that speak RMonitor.

Strategy: the RMonitor output server (timing_adapters/rmonitor/server.py) knows nothing of
the engine; this module maps one moment of the race to its plain ``RMonitorSnapshot``.
Registration is the car number (unique per event); race times are measured from the
green flag; ``$J`` passings are the laps completed since the previous snapshot.
RMonitor knows five flag words (``Green``, ``Yellow``, ``Red``, ``Finish`` and blank): a
full-course yellow, a code 60 and a safety car all go out as ``Yellow``, the word
scoreboards show as a caution (a blank flag would read as "no session"). While race control
has the clock stopped (red flag), time to go and race time stand at the moment it stopped,
as the web header shows them.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.engine.events import Flag
from server.engine.model import Entry, SessionStatus, StandingRow
from server.engine.outbound import LapCompleted
from timing_adapters.rmonitor.records import Flag as RMFlag
from timing_adapters.rmonitor.snapshot import (
    RMonitorSnapshot,
    SnapshotClass,
    SnapshotCompetitor,
    SnapshotPassing,
    SnapshotPosition,
)

_DAY_US = 86_400_000_000
_FLAGS = {
    Flag.NONE: RMFlag.NONE,
    Flag.GREEN: RMFlag.GREEN,
    Flag.YELLOW: RMFlag.YELLOW,
    Flag.CODE_60: RMFlag.YELLOW,
    Flag.SAFETY_CAR: RMFlag.YELLOW,
    Flag.RED: RMFlag.RED,
    Flag.CHECKERED: RMFlag.FINISH,
}


def snapshot_of(
    status: SessionStatus | None,
    entries: Sequence[Entry],
    rows: Sequence[StandingRow],
    laps: Sequence[LapCompleted],
    now_us: int,
) -> RMonitorSnapshot:
    if status is None:
        return RMonitorSnapshot(session_name="", time_of_day_us=now_us % _DAY_US)
    class_numbers = {name: n for n, name in enumerate(sorted({e.class_name for e in entries}), 1)}
    green = status.green_at_us

    def since_green(at_us: int | None) -> int | None:
        return None if at_us is None or green is None else max(0, at_us - green)

    running = green is not None and not status.finished and status.checkered_at_us is None
    # the race clock stands while race control has it stopped (the web header does the same)
    paused_since = status.clock_paused_since_us
    clock_now = now_us if paused_since is None else min(now_us, paused_since)
    return RMonitorSnapshot(
        session_name=status.name,
        run_number=status.session_id,
        flag=_FLAGS.get(status.flag, RMFlag.NONE),
        time_to_go_us=max(0, status.ends_at_us - clock_now) if status.ends_at_us and running else 0,
        time_of_day_us=now_us % _DAY_US,
        race_time_us=max(0, (since_green(clock_now) or 0) - status.clock_paused_us),
        clock_running=running and paused_since is None,
        classes=tuple(SnapshotClass(n, name) for name, n in class_numbers.items()),
        competitors=tuple(
            SnapshotCompetitor(
                registration=e.number,
                number=e.number,
                transponder=e.transponders[0] if e.transponders else "",
                last_name=e.team,
                class_number=class_numbers[e.class_name],
            )
            for e in entries
        ),
        positions=tuple(
            SnapshotPosition(
                position=r.position,
                registration=r.number,
                laps=r.laps,
                total_time_us=since_green(r.last_crossing_us),
                best_lap=r.best_lap_number,
                best_lap_time_us=r.best_lap_us,
            )
            for r in rows
        ),
        passings=tuple(
            SnapshotPassing(lap.number, lap.lap_time_us, since_green(lap.at_us) or 0)
            for lap in laps
        ),
    )
