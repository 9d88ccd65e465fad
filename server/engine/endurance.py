"""Endurance state of a session: pit stops, drivers and their stints, per car; the
driver-change and solo-exit confirmations; and what standings and alerts derive from it.

Strategy: the only stored facts are each car's stops (with the changes and exits
confirmed at them), the pending confirmations, and the starting drivers. Everything
else (stints, drive time, rest, which stops count, penalties to propose, alerts) is a
``CarView`` derived from those facts plus the flags and the race clock, cached per car
and dropped when something of that car changes (``touch``); the green, a pause of the
clock, and a flag when the rule set makes stint clocks or stop minimums follow flags,
drop them all. ``version`` counts the changes so the engine knows when rows need
rebuilding, ``alerts_version`` when alerts need re-deriving (``timed_version`` for
changes only timed alerts follow, re-derived at the next tick). Crossings cost nothing
here unless they close a stop or start a car.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.engine.alerts import Alert, AlertKind, alert_id
from server.engine.drivetime import Span
from server.engine.events import DriverChangeConfirmed, Flag, Severity, SoloExitConfirmed
from server.engine.finish import TIME_CERTAIN
from server.engine.flags import CAUTIONS, FlagTimeline
from server.engine.laps import CarTiming
from server.engine.mandatory import (
    CarStops,
    Verdict,
    Window,
    judge,
    stop_alerts,
    window,
    window_alerts,
)
from server.engine.model import CarState, ProposedPenalty, SessionConfig
from server.engine.outbound import (
    CommandRefused,
    DriverChangeRecorded,
    OutEvent,
    PitStopCompleted,
    SoloExitRecorded,
)
from server.engine.pits import CarPits, Change, Stop
from server.engine.refusals import Refusal
from server.engine.rules import DriveTime
from server.engine.session_clock import SessionClock
from server.engine.stints import (
    Stint,
    build_stints,
    change_refusal,
    rest_until,
    stint_alerts,
    stint_clock,
)


@dataclass(frozen=True, slots=True)
class CarView:
    stints: tuple[Stint, ...]
    judged: tuple[tuple[Stop, Verdict], ...]
    served: int  # valid mandatory stops
    rest: Mapping[str, int]  # driver -> may drive again from
    penalties: tuple[ProposedPenalty, ...]
    alerts: tuple[Alert, ...]
    extras: Mapping[str, Any]  # StandingRow fields


class Endurance:
    def __init__(
        self,
        config: SessionConfig,
        cars: Mapping[str, CarTiming],
        flags: FlagTimeline,
        clock: SessionClock,
    ) -> None:
        self.config, self.rules = config, config.rules
        self.cars, self.flags, self.clock = cars, flags, clock
        self.pits = {number: CarPits() for number in cars}
        self.starting = {n: (c.entry.drivers or (None,))[0] for n, c in cars.items()}
        rules, race = config.rules, config.kind in TIME_CERTAIN
        self.required = rules.required_stops(config.length_us) if race else 0
        self.solo_allowed = rules.solo_allowed(config.length_us)
        frozen = rules.stint_frozen_under_caution or rules.stint_frozen_under_red
        self.follows_flags = frozen or rules.min_stop_under_safety_car_us is not None
        self.version = 0  # changes of anything a standing row shows
        self.alerts_version = 0  # changes of anything an alert derives from
        self.timed_version = 0  # changes only timed alerts derive from
        self._views: dict[str, CarView] = {}
        self._freeze: tuple[int, list[Span]] = (-1, [])

    def touch(self, number: str | None = None, *, rows: bool = True, now: bool = True) -> None:
        """Something of car ``number`` (of every car, with None) changed; ``rows`` False
        when no standing row can show it; ``now`` False when only timed alerts (shown
        from a tick) can follow from it, so the alerts wait for the next tick."""
        self.version += rows
        if now:
            self.alerts_version += 1
        else:
            self.timed_version += 1
        if number is None:
            self._views.clear()
        else:
            self._views.pop(number, None)

    # --- input ------------------------------------------------------------------------

    def entered(self, car: CarTiming) -> None:
        """Car ``car`` was entered, or its entry changed (class, team, drivers)."""
        number = car.number
        self.pits.setdefault(number, CarPits())
        starter = self.starting.get(number)
        drivers = car.entry.drivers
        # the first listed driver starts, unless a change before the start named another
        if number not in self.starting or (not car.started and starter not in drivers):
            self.starting[number] = (drivers or (None,))[0]
        self.touch(number)

    def pit_in(self, car: CarTiming, at_us: int) -> None:
        if car.started and self.pits[car.number].pit_in(at_us):
            car.pit_open = True
            self.touch(car.number)

    def pit_out(self, car: CarTiming, at_us: int) -> list[OutEvent]:
        pits = self.pits[car.number]
        stop = pits.pit_out(at_us) if car.started else None
        if stop is None:
            return []
        car.pit_open = False
        self.touch(car.number)
        index = len(pits.stops) - pits.stops[::-1].index(stop)
        return [PitStopCompleted(car.number, index, stop.pit_in_us, at_us, stop.duration_us)]

    def crossing(self, car: CarTiming, at_us: int) -> None:
        if self.pits[car.number].crossing(at_us):
            car.pit_open = False
            self.touch(car.number)
        elif len(car.crossings) == 1:  # its stint starts: stint and window alerts are timed
            self.touch(car.number, now=False)

    def change_refusal(self, car: CarTiming, driver_in: str, at_us: int) -> Refusal | None:
        """Why ``driver_in`` may not take ``car`` over at ``at_us``: the roster, the licence,
        then the rest rule (None: the change is recorded)."""
        reason = change_refusal(car.entry, driver_in)
        if reason is None and self.rest_owed_until(car, driver_in, at_us) is not None:
            reason = Refusal.REST_NOT_OVER
        return reason

    def rest_owed_until(self, car: CarTiming, driver_in: str, at_us: int) -> int | None:
        """Until when ``driver_in`` must still rest before taking ``car`` over at ``at_us``;
        None when nothing is owed (on the grid, rested, or the driver of the last stint
        again: a mis-tap corrected during the stop is no change at all)."""
        if not car.started or driver_in == self._driver_out(car):
            return None
        until = self.view(car).rest.get(driver_in)
        if until is None or self.rules.min_rest_us is None or at_us >= until:
            return None
        return until

    def _driver_out(self, car: CarTiming) -> str | None:
        stints = self.view(car).stints
        return stints[-1].driver if stints else self.starting[car.number]

    def driver_change(self, car: CarTiming, e: DriverChangeConfirmed) -> list[OutEvent]:
        """Record a change that ``change_refusal`` let through (or race control forced)."""
        number = car.number
        if not car.started:  # still on the grid: who starts
            old, self.starting[number] = self.starting[number], e.driver_in
            self.touch(number)
            return [DriverChangeRecorded(number, old, e.driver_in, e.at_us, pending=False)]
        pits, driver_out = self.pits[number], self._driver_out(car)
        change: Change | None = None
        if e.driver_in != driver_out:  # the same driver again: no change after all
            owed = self.rest_owed_until(car, e.driver_in, e.at_us)  # not None: overridden
            change = Change(e.driver_in, e.at_us, e.actor, owed)
        stop = pits.open_stop()
        if stop is not None:
            stop.change = change
        else:
            pits.pending_change = change
        self.touch(number)
        overridden = change is not None and change.override_rest_until_us is not None
        return [
            DriverChangeRecorded(number, driver_out, e.driver_in, e.at_us, stop is None, overridden)
        ]

    def solo_exit(self, car: CarTiming, e: SoloExitConfirmed) -> list[OutEvent]:
        if not car.started:
            return [CommandRefused("SoloExitConfirmed", e.at_us, Refusal.NOT_STARTED, car.number)]
        pits = self.pits[car.number]
        stop = pits.open_stop()
        if stop is not None:
            stop.solo_exit_us = e.at_us
        else:
            pits.pending_solo_exit_us = e.at_us
        self.touch(car.number)
        return [SoloExitRecorded(car.number, e.at_us, pending=stop is None)]

    # --- derived ----------------------------------------------------------------------

    def freeze(self) -> list[Span]:
        """The spans during which stint clocks stand still under the rule set."""
        if self._freeze[0] != self.flags.changes:
            frozen: set[Flag] = set()
            if self.rules.stint_frozen_under_caution:
                frozen |= CAUTIONS
            if self.rules.stint_frozen_under_red:
                frozen.add(Flag.RED)
            spans = self.flags.periods(frozenset(frozen)) if frozen else []
            self._freeze = (self.flags.changes, spans)
        return self._freeze[1]

    def window(self) -> Window:
        return window(self.rules, self.clock, self.config.length_us)

    def view(self, car: CarTiming) -> CarView:
        cached = self._views.get(car.number)
        if cached is None:
            cached = self._views[car.number] = self._build_view(car)
        return cached

    def row_extras(self, car: CarTiming) -> Mapping[str, Any]:
        return self.view(car).extras

    def _build_view(self, car: CarTiming) -> CarView:
        rules, number, pits = self.rules, car.number, self.pits[car.number]
        freeze, green, ended = self.freeze(), self.clock.green_at_us, car.ended_at_us
        solo = len(car.entry.drivers) == 1
        stints: list[Stint] = []
        if green is not None and car.started:
            stints = build_stints(
                green,
                self.starting[number],
                pits.stops,
                ended,
                solo_exit_ends=solo and self.solo_allowed,
                pit_excluded=rules.drive_time is DriveTime.PIT_EXCLUDED,
            )
        sc = self.flags.periods(frozenset({Flag.SAFETY_CAR}))
        win = self.window()
        judged = tuple(
            (s, judge(s, rules, win, solo=solo, solo_allowed=self.solo_allowed, safety_car=sc))
            for s in pits.stops
        )
        served = sum(1 for _, verdict in judged if verdict.counts)
        open_stop = pits.open_stop()
        clock, since, drive = stint_clock(stints, freeze, open_stop, ended is not None)
        driver = stints[-1].driver if stints else self.starting[number]
        handing_over = bool(stints) and stints[-1].end_us is not None and ended is None
        if handing_over and open_stop is not None and open_stop.change is not None:
            driver = open_stop.change.driver_in
        penalties, alerts = self._car_alerts(car, judged, served, solo)
        alerts += stint_alerts(number, stints, rules, freeze)
        extras = {
            "driver": driver,
            "stint_started_us": None if handing_over or not stints else stints[-1].start_us,
            "stint_clock": clock,
            "stint_drive_us": drive,
            "stint_clock_since_us": since,
            "pit_stops": len(pits.stops),
            "mandatory_served": self.required > 0 and served >= self.required,
            "in_window": bool(judged) and judged[-1][1].in_window,
            "penalties_proposed": penalties,
            # the pit lane: since when the car is in it, and how long its last stop took
            "pit_in_us": None if open_stop is None else open_stop.pit_in_us,
            "last_pit_lane_us": next(
                (s.duration_us for s in reversed(pits.stops) if s.duration_us is not None), None
            ),
        }
        rest = rest_until(stints, rules.min_rest_us)
        return CarView(tuple(stints), judged, served, rest, penalties, tuple(alerts), extras)

    def _car_alerts(
        self, car: CarTiming, judged: tuple[tuple[Stop, Verdict], ...], served: int, solo: bool
    ) -> tuple[tuple[ProposedPenalty, ...], list[Alert]]:
        rules, number, pits = self.rules, car.number, self.pits[car.number]
        alerts = stop_alerts(number, judged, solo and self.solo_allowed and self.required > 0)
        penalties: list[ProposedPenalty] = []
        short = rules.short_stop_penalty
        for index, (stop, verdict) in enumerate(judged, start=1):
            if verdict.short and short is not None and stop.pit_out_us is not None:
                reason = f"stop {index} under the minimum stop time"
                penalties.append(
                    ProposedPenalty(number, short.kind, short.value, reason, stop.pit_out_us)
                )
        changes = [stop.change for stop in pits.stops] + [pits.pending_change]
        for change in changes:
            if change is not None and change.override_rest_until_us is not None:
                kind = AlertKind.REST_OVERRIDE
                text = f"Car {number}: {change.driver_in} put back in before the rest was over"
                key = alert_id(kind, number, change.at_us)
                alerts.append(Alert(key, kind, Severity.WARNING, text, change.at_us, number))
        starter, green = self.starting[number], self.clock.green_at_us
        if starter is not None and starter in car.entry.flagged_drivers and green is not None:
            kind = AlertKind.LICENCE_FLAGGED
            text = f"Car {number}: starting driver {starter} has a flagged licence or medical"
            key = alert_id(kind, number, starter)
            alerts.append(Alert(key, kind, Severity.CRITICAL, text, green, number))
        finished = car.finished_at_us
        retired = car.reported_state is CarState.RETIRED
        missed = self.required > 0 and served < self.required and not retired
        if finished is not None and missed and car.started:
            spec = rules.missed_stop_penalty
            penalties.append(
                ProposedPenalty(number, spec.kind, spec.value, "missed mandatory stop", finished)
            )
            kind = AlertKind.MISSED_STOP
            text = (
                f"Car {number} classified with {served} of {self.required} mandatory stops: "
                f"{spec.describe()} proposed to the stewards"
            )
            alerts.append(
                Alert(alert_id(kind, number), kind, Severity.CRITICAL, text, finished, number)
            )
        return tuple(penalties), alerts

    def candidates(self) -> list[Alert]:
        """Every alert the endurance state holds (the engine adds unknown transponders)."""
        alerts: list[Alert] = []
        cars: list[CarStops] = []
        for car in self.cars.values():
            view = self.view(car)
            alerts += view.alerts
            cars.append(CarStops(car.number, car.first_crossing_us, car.ended_at_us, view.judged))
        return alerts + window_alerts(self.rules, self.window(), self.required, cars)
