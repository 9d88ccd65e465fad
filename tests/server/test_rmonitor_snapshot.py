"""Our engine's state as an RMonitor snapshot: caution flags and the clock stopped under red."""

from __future__ import annotations

import pytest

from server.engine.events import Flag, SessionKind
from server.engine.model import SessionStatus
from server.service.rmonitor_feed import snapshot_of
from timing_adapters.rmonitor.codec import encode
from timing_adapters.rmonitor.records import Flag as RMFlag
from timing_adapters.rmonitor.snapshot import heartbeat

S = 1_000_000
GREEN = 1_000 * S


def status(flag: Flag, *, paused_since: int | None = None, paused: int = 0) -> SessionStatus:
    return SessionStatus(
        session_id=7,
        kind=SessionKind.RACE,
        name="Race",
        flag=flag,
        green_at_us=GREEN,
        ends_at_us=GREEN + 3_600 * S + paused,
        checkered_at_us=None,
        finished=False,
        clock_paused_since_us=paused_since,
        clock_paused_us=paused,
    )


@pytest.mark.parametrize("flag", [Flag.YELLOW, Flag.CODE_60, Flag.SAFETY_CAR])
def test_cautions_go_out_as_yellow(flag: Flag) -> None:
    snapshot = snapshot_of(status(flag), [], [], [], GREEN + 60 * S)
    assert snapshot.flag == RMFlag.YELLOW
    # what a scoreboard reads: the caution word of $F, never the blank "no session" flag
    assert encode(heartbeat(snapshot, 0)).endswith(b',"Yellow"\r\n')


def test_time_to_go_and_race_time_stand_while_the_clock_is_stopped() -> None:
    stopped_at = GREEN + 600 * S
    red = status(Flag.RED, paused_since=stopped_at)
    at_stop = snapshot_of(red, [], [], [], stopped_at)
    later = snapshot_of(red, [], [], [], stopped_at + 300 * S)
    assert later.time_to_go_us == at_stop.time_to_go_us == 3_000 * S
    assert later.race_time_us == at_stop.race_time_us == 600 * S
    assert later.flag == RMFlag.RED
    assert not later.clock_running
    # and the $F sent every second while stopped says the same
    beat = heartbeat(later, 5 * S)
    assert (beat.time_to_go_us, beat.race_time_us) == (3_000 * S, 600 * S)


def test_the_clock_runs_again_without_the_pause() -> None:
    # stopped 300 s, resumed: race time and time to go leave the pause out
    resumed = status(Flag.GREEN, paused=300 * S)
    snapshot = snapshot_of(resumed, [], [], [], GREEN + 1_000 * S)
    assert snapshot.race_time_us == 700 * S
    assert snapshot.time_to_go_us == 2_900 * S
    assert snapshot.clock_running
