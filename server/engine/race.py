"""RaceEngine: the pure, deterministic race-state engine of one session.

Strategy: ``apply(event)`` folds one journaled input event into the state and returns the
facts it caused; ``tick(now_us)`` reports what follows from the state and the time alone
(clock expiry, finish timeout, STOPPED cars). No I/O and no clock reads: every time
arrives inside an event or a tick. The same input events in the same order give the same
standings whatever ticks happen in between, because nothing apply() decides on depends
on a tick: the checkered flag and the finish timeout are judged by crossing times, and a
classification made by a tick stays open to a crossing that happened within the timeout
but arrived later. Tick-made state (STOPPED, timeout classifications, ClockExpired) is
not journaled: after a restart, replaying the journal and then the first tick restores
it. Per passing the work is O(1) plus a bisect on the flag timeline; standings are sorted
lazily on request and cached until something changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.engine.events import Flag, FlagChanged, InputEvent, LoopRole, PassingDetected
from server.engine.finish import FinishState, scheduled_end
from server.engine.flags import FlagTimeline
from server.engine.laps import CarTiming
from server.engine.model import (
    CarState,
    Entry,
    LapRecord,
    SessionConfig,
    SessionStatus,
    StandingRow,
    UnknownTransponder,
)
from server.engine.outbound import (
    CarFinished,
    CarStateChanged,
    CheckeredFlagTaken,
    ClockExpired,
    FlagRejected,
    FlagShown,
    LapCompleted,
    OutEvent,
    PassingRejected,
    RejectReason,
    SessionFinished,
    StandingsChanged,
)
from server.engine.positions import order, rows
from server.engine.states import is_stopped, state_after_passing
from server.engine.transponders import TransponderMap


class RaceEngine:
    def __init__(self, config: SessionConfig, entries: Sequence[Entry]) -> None:
        self._config = config
        self._transponders = TransponderMap(entries)
        self._cars: dict[str, CarTiming] = {}
        for entry in entries:
            if entry.number in self._cars:
                raise ValueError(f"car {entry.number!r} is entered twice")
            self._cars[entry.number] = CarTiming(entry)
        self._flags = FlagTimeline()
        self._green_at_us: int | None = None
        self._end = FinishState()
        self._rejected = {reason.value: 0 for reason in RejectReason}
        self._ordered: list[CarTiming] | None = None  # None: a crossing may have moved cars
        self._rows: list[StandingRow] | None = None  # None: some row changed
        self._changed = False  # standings changed during the current apply() or tick()

    # --- queries ----------------------------------------------------------------------

    def standings(self) -> list[StandingRow]:
        if self._rows is None:
            self._rows = rows(self._order(), self._config.kind)
        return list(self._rows)

    def status(self) -> SessionStatus:
        config = self._config
        return SessionStatus(
            session_id=config.session_id,
            kind=config.kind,
            name=config.name,
            flag=self._flags.current,
            green_at_us=self._green_at_us,
            ends_at_us=scheduled_end(config, self._green_at_us),
            checkered_at_us=self._end.checkered_at_us,
            finished=self._end.finished,
        )

    def rejected_counts(self) -> dict[str, int]:
        return dict(self._rejected)

    def unknown_transponders(self) -> dict[str, UnknownTransponder]:
        return self._transponders.unknown()

    def laps_of(self, number: str) -> list[LapRecord]:
        """Completed laps of car ``number``; raises ``KeyError`` for a car not entered."""
        return list(self._cars[number].lap_records)

    # --- input ------------------------------------------------------------------------

    def apply(self, event: InputEvent) -> list[OutEvent]:
        out = self._passing(event) if isinstance(event, PassingDetected) else self._flag(event)
        return self._close(out, event.at_us, event.at_us)

    def tick(self, now_us: int) -> list[OutEvent]:
        config, end = self._config, self._end
        out: list[OutEvent] = []
        ends_at = scheduled_end(config, self._green_at_us)
        if ends_at is not None and now_us >= ends_at and not end.clock_expired_sent:
            end.clock_expired_sent = True
            out.append(ClockExpired(at_us=ends_at))
        finished_at = now_us
        if end.checkered_at_us is not None and end.timed_out(config, now_us):
            finished_at = end.checkered_at_us + config.finish_timeout_us
            for car in self._order():
                last = car.last_crossing_us
                if last is not None and not car.finished:
                    out += self._classify(car, last, provisional=True)
        if self._green_at_us is not None and not end.finished:
            out += self._find_stopped(now_us)
        return self._close(out, now_us, finished_at)

    # --- passings ---------------------------------------------------------------------

    def _passing(self, p: PassingDetected) -> list[OutEvent]:
        number = self._transponders.car_of(p.transponder)
        if number is None:
            self._rejected[RejectReason.UNKNOWN_TRANSPONDER.value] += 1
            return [self._transponders.seen_unknown(p.transponder, p.at_us)]
        car = self._cars[number]
        if self._green_at_us is None or p.at_us < self._green_at_us:
            return self._reject(p, number, RejectReason.NOT_STARTED)
        reopened = car.provisional_finish and not self._end.timed_out(self._config, p.at_us)
        if car.finished and not reopened:
            # pit loops after the flag are the expected way home: not an error to count
            if p.loop is not LoopRole.START_FINISH:
                return []
            return self._reject(p, number, RejectReason.FINISHED)
        if p.loop is LoopRole.START_FINISH:
            return self._crossing(p, car)
        if car.last_seen_us is not None and p.at_us < car.last_seen_us:
            return self._reject(p, number, RejectReason.OUT_OF_ORDER)
        car.see(p.at_us)
        if p.loop is not LoopRole.SECTOR:
            car.pitted = True
        state = state_after_passing(car.state, p.loop)
        return self._update(car, p.at_us, state=state, stopped=False)

    def _crossing(self, p: PassingDetected, car: CarTiming) -> list[OutEvent]:
        config, end = self._config, self._end
        checkered = end.checkered_at_us
        if checkered is not None and not car.started:
            return self._reject(p, car.number, RejectReason.FINISHED)
        previous = car.last_crossing_us
        if previous is not None and end.timed_out(config, p.at_us):
            # silent past the timeout: classified at its previous crossing
            classified = self._classify(car, previous, provisional=True)
            return classified + self._reject(p, car.number, RejectReason.FINISHED)
        reason = car.refusal(p.at_us, config.min_lap_us)
        if reason is not None:
            return self._reject(p, car.number, reason)
        latest = car.last_seen_us is None or p.at_us >= car.last_seen_us
        flag = Flag.GREEN if previous is None else self._flags.lap_flag(previous, p.at_us)
        lap = car.cross(p.at_us, flag)
        self._ordered = self._rows = None
        self._changed = True
        out: list[OutEvent] = []
        if lap is None:
            end.started += 1
        else:
            out.append(self._lap_completed(car, lap))
        if latest:  # an older crossing arriving late must not undo a pit state
            state = state_after_passing(car.state, p.loop)
            out += self._update(car, p.at_us, state=state, stopped=False)
        ends_at = scheduled_end(config, self._green_at_us)
        if (
            lap is not None
            and end.checkered_due(config, ends_at, p.at_us)
            and self._order()[0] is car
        ):
            return out + self._show_checkered(p.at_us, car)
        if checkered is not None and (p.at_us >= checkered or car.finished):
            out += self._classify(car, p.at_us, provisional=p.at_us < checkered)
        return out

    @staticmethod
    def _lap_completed(car: CarTiming, lap: LapRecord) -> LapCompleted:
        return LapCompleted(
            number=car.number,
            lap=lap.lap,
            lap_time_us=lap.lap_time_us,
            at_us=lap.at_us,
            is_best=car.best_lap_number == lap.lap,
            flag=lap.flag,
        )

    def _reject(self, p: PassingDetected, number: str, reason: RejectReason) -> list[OutEvent]:
        self._rejected[reason.value] += 1
        return [PassingRejected(p.transponder, p.at_us, reason, number)]

    # --- flags and the finish ---------------------------------------------------------

    def _flag(self, f: FlagChanged) -> list[OutEvent]:
        reason = self._flags.refusal(f.at_us, f.flag)
        if reason is not None:
            return [FlagRejected(f.flag, f.at_us, reason, self._flags.current)]
        if f.flag is Flag.CHECKERED:
            return self._show_checkered(f.at_us, None)
        if self._green_at_us is None:  # the table allows only GREEN from NONE
            self._green_at_us = f.at_us
        self._flags.show(f.at_us, f.flag)
        return [FlagShown(f.flag, f.at_us)]

    def _show_checkered(self, at_us: int, taker: CarTiming | None) -> list[OutEvent]:
        self._end.checkered_at_us = at_us
        self._flags.show(at_us, Flag.CHECKERED)
        out: list[OutEvent] = []
        if taker is not None:
            out.append(CheckeredFlagTaken(taker.number, at_us))
        out.append(FlagShown(Flag.CHECKERED, at_us))
        # the taker, and cars whose crossings at/after a manual flag were applied before it
        for car in self._order():
            last = car.last_crossing_us
            if last is not None and last >= at_us and not car.finished:
                out += self._classify(car, last, provisional=False)
        return out

    def _classify(self, car: CarTiming, at_us: int, *, provisional: bool) -> list[OutEvent]:
        if not car.finished:
            self._end.classified += 1
        car.finished_at_us = at_us
        car.provisional_finish = provisional
        self._rows = None
        self._changed = True
        position = self._order().index(car) + 1
        out: list[OutEvent] = [CarFinished(car.number, position, car.lap_count, at_us)]
        return out + self._update(car, at_us, state=CarState.FINISHED, stopped=False)

    # --- state ------------------------------------------------------------------------

    def _find_stopped(self, now_us: int) -> list[OutEvent]:
        ordered = self._order()
        leader_best = ordered[0].best_lap_us if ordered else None
        factor = self._config.stopped_after_laps
        out: list[OutEvent] = []
        for car in self._cars.values():
            out += self._update(car, now_us, stopped=is_stopped(car, now_us, leader_best, factor))
        return out

    def _update(
        self, car: CarTiming, at_us: int, *, state: CarState | None = None, stopped: bool = False
    ) -> list[OutEvent]:
        """Set the passing state and the STOPPED overlay; report what the car now shows."""
        shown = car.reported_state
        car.state = car.state if state is None else state
        car.stopped = stopped
        if car.reported_state is shown:
            return []
        self._rows = None
        self._changed = True
        return [CarStateChanged(car.number, car.reported_state, at_us)]

    def _order(self) -> list[CarTiming]:
        if self._ordered is None:
            self._ordered = order(self._cars.values(), self._config.kind)
        return self._ordered

    def _close(self, out: list[OutEvent], at_us: int, finished_at_us: int) -> list[OutEvent]:
        if self._end.all_classified():
            out.append(SessionFinished(finished_at_us))
        if self._changed:
            self._changed = False
            out.append(StandingsChanged(at_us))
        return out
