"""The control page's view of one car: drivers, stints, stops, penalties to propose.

Strategy: a read-only projection of the car's derived ``CarView`` at a given moment
(the open stint's drive time is counted up to it); nothing here changes state.
"""

from __future__ import annotations

from server.engine.endurance import Endurance
from server.engine.laps import CarTiming
from server.engine.model import CarDetail, DriverTime, PitStopInfo, StintInfo


def car_detail(endurance: Endurance, car: CarTiming, at_us: int) -> CarDetail:
    view = endurance.view(car)
    freeze = endurance.freeze()
    entry, pits = car.entry, endurance.pits[car.number]
    stints = tuple(
        StintInfo(s.index, s.driver, s.start_us, s.end_us, s.driven_us(freeze, at_us))
        for s in view.stints
    )
    current = view.extras["driver"]
    in_car = current if car.ended_at_us is None else None
    names = list(entry.drivers)
    names += [s.driver for s in stints if s.driver is not None and s.driver not in names]
    if current is not None and current not in names:
        names.append(current)
    drivers = tuple(
        DriverTime(
            name=name,
            drive_us=sum(s.drive_us for s in stints if s.driver == name),
            stints=sum(1 for s in stints if s.driver == name),
            rest_until_us=None if name == in_car else view.rest.get(name),
            in_car=name == in_car,
            flagged=name in entry.flagged_drivers,
        )
        for name in names
    )
    stops: list[PitStopInfo] = []
    driver = endurance.starting[car.number]
    for index, (stop, verdict) in enumerate(view.judged, start=1):
        driver_out = driver
        if stop.change is not None:
            driver = stop.change.driver_in
        stops.append(
            PitStopInfo(
                index=index,
                pit_in_us=stop.pit_in_us,
                pit_out_us=stop.pit_out_us,
                duration_us=stop.duration_us,
                driver_out=driver_out,
                driver_in=driver,
                changed=stop.change is not None,
                solo_exit=stop.solo_exit_us is not None,
                counts=verdict.counts,
                in_window=verdict.in_window,
                note=verdict.note,
            )
        )
    pending = pits.pending_change
    return CarDetail(
        number=car.number,
        team=entry.team,
        class_name=entry.class_name,
        state=car.reported_state,
        driver=current,
        pending_driver=None if pending is None else pending.driver_in,
        drivers=drivers,
        stints=stints,
        stops=tuple(stops),
        mandatory_required=endurance.required,
        mandatory_served=view.served,
        penalties_proposed=view.penalties,
    )
