"""The demo's wiring on a short race: three P3 emulators (start/finish, pit-in, pit-out) on
real TCP ports, the scripted pit marshal and race control, and what the engine made of it.

Expectations come from the scenario and the plan, not from the engine: the driver each
stop put in, the solo exit, the car that skipped its stop, the stints long enough for the
warnings, the laps driven under the full-course yellow and every stop's duration.
"""

from __future__ import annotations

import pytest

from server.engine import AlertKind, Flag
from tests.fixtures.demo_race import S, expected_stint_warnings, played_race
from timing_adapters.emulator.scenario import generate_race


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)  # timing, not storage
async def test_demo_script_on_a_short_race(db_url: str) -> None:
    scenario = generate_race(seed=11, cars=12, length_s=1800)
    async with played_race(db_url, scenario) as race:
        engine, plan, green = race.engine, race.plan, race.green_us
        assert plan.missed_stop is not None and plan.solo is not None
        # every played stop: the driver the marshal confirmed, and the loops' duration
        by_stop = {(s.number, s.in_offset_us): s for s in scenario.pit_stops}
        for number, pit_in, pit_out in plan.stops:
            stops = engine.car_detail(number).stops
            stop = next(s for s in stops if s.pit_in_us and abs(s.pit_in_us - green - pit_in) < S)
            assert stop.duration_us is not None
            assert stop.duration_us == pit_out - pit_in  # the decoders' exact times
            assert stop.driver_in == by_stop[(number, pit_in)].driver_in
            assert stop.counts, (number, stop)
        solo = engine.car_detail(plan.solo)
        assert [s.solo_exit for s in solo.stops] == [True]
        assert solo.mandatory_served == 1
        # the car that skipped its stop: no stop seen, flagged and a penalty proposed
        missed = engine.car_detail(plan.missed_stop)
        assert missed.stops == () and missed.mandatory_served == 0
        alerts = engine.alerts()
        assert {a.number for a in alerts if a.kind == AlertKind.MISSED_STOP} == {plan.missed_stop}
        assert [p.number for p in engine.proposed_penalties()] == [plan.missed_stop]
        # stint warnings (the demo's 5/8-of-the-race stint limit)
        due, unsure = expected_stint_warnings(race)
        assert (plan.missed_stop, 15) in due and (plan.missed_stop, 5) in due
        raised = {
            (a.number, int(a.id.split(":")[-1]) // 60)
            for a in alerts
            if a.kind == AlertKind.STINT_WARNING and a.number not in unsure
        }
        assert raised == {(n, m) for n, m in due if n not in unsure}
        # laps driven (even partly) under the full-course yellow are marked
        yellow_from, yellow_to = green + plan.yellow[0], green + plan.yellow[1]
        marked = 0
        for car in scenario.cars:
            for lap in engine.laps_of(car.number):
                start = lap.at_us - lap.lap_time_us
                edges = (start, lap.at_us)
                if any(abs(e - f) < S for e in edges for f in (yellow_from, yellow_to)):
                    continue  # a crossing right at the flag change
                under = start < yellow_to and lap.at_us > yellow_from
                assert lap.flag is (Flag.YELLOW if under else Flag.GREEN), (car.number, lap)
                marked += under
        assert marked >= len(scenario.cars) - 1
        texts = [m.text for m in engine.messages()]
        assert "Full-course yellow: debris at turn 3" in texts
