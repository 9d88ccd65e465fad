"""A standing row says since when its car is in the pit lane and how long its last
timed stop took (the live table's pit-lane column and chips)."""

from __future__ import annotations

from server.engine.events import LoopRole
from server.engine.model import CarState
from tests.engine.engine_helpers import S, cross, green, make_engine


def test_pit_in_time_while_in_the_lane_then_the_stops_time() -> None:
    engine = make_engine(["7"])
    engine.apply(green(0))
    engine.apply(cross("7", 1))
    engine.apply(cross("7", 100))
    (row,) = engine.standings()
    assert row.pit_in_us is None and row.last_pit_lane_us is None
    engine.apply(cross("7", 180, LoopRole.PIT_IN))
    (row,) = engine.standings()
    assert row.state is CarState.PIT and row.pit_in_us == 180 * S
    assert row.last_pit_lane_us is None
    engine.apply(cross("7", 245, LoopRole.PIT_OUT))
    (row,) = engine.standings()
    assert row.state is CarState.OUT and row.pit_in_us is None
    assert row.last_pit_lane_us == 65 * S
    engine.apply(cross("7", 300))
    engine.apply(cross("7", 390))
    (row,) = engine.standings()
    assert row.state is CarState.RUN and row.last_pit_lane_us == 65 * S
