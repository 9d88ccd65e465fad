"""SessionCore: the state of one session and the timing rules (laps, flags, the finish).

Strategy: the core folds passings and flags into per-car timing and hands pit passings
and crossings to the endurance state. Nothing it decides depends on a tick: the
checkered flag (and the SprintDuro's sprint flag) and the finish timeout are judged by
crossing times, and a classification made by a tick stays open to a crossing that
happened within the timeout but arrived later. Tick-made state (STOPPED, timeout
classifications, ClockExpired) is not journaled: replaying the journal and then one
tick restores it. Per passing the work is O(1) plus a bisect on the flag timeline;
standings are sorted lazily on request and cached until something changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.engine.alerts import Alert
from server.engine.endurance import Endurance
from server.engine.events import (
    Flag,
    FlagChanged,
    LoopRole,
    PassingDetected,
    SessionKind,
    TransponderAssigned,
)
from server.engine.finish import FinishState
from server.engine.flags import FlagTimeline
from server.engine.laps import CarTiming
from server.engine.model import (
    CarState,
    Entry,
    Penalty,
    ProposedPenalty,
    RaceControlMessage,
    SessionConfig,
    StandingRow,
)
from server.engine.outbound import (
    CarFinished,
    CarStateChanged,
    CheckeredFlagTaken,
    ClockExpired,
    FlagRejected,
    FlagShown,
    LocalFlagShown,
    OutEvent,
    PassingRejected,
    RejectReason,
    SprintCheckeredTaken,
)
from server.engine.positions import BY_BEST_LAP, order, rows
from server.engine.session_clock import SessionClock
from server.engine.states import is_stopped, state_after_passing
from server.engine.stewards import Stewards, adjusted, classified, status_of
from server.engine.suspects import SuspectPassings, suspect_reason
from server.engine.transponders import TransponderMap

_MAX_CARRIED_LAPS = 100_000  # a feed's "laps before we joined" beyond this is not a race


class SessionCore:
    def __init__(
        self,
        config: SessionConfig,
        entries: Sequence[Entry],
        assignments: Sequence[TransponderAssigned] = (),
    ) -> None:
        self.config = config
        self.transponders = TransponderMap((), assignments)
        self.cars: dict[str, CarTiming] = {}
        self.flags = FlagTimeline()
        self.clock = SessionClock()
        self.end = FinishState()
        self.endurance = Endurance(config, self.cars, self.flags, self.clock)
        self.entries_version = 0  # changes of the entry list
        self.stewards = Stewards(config.session_id)
        self.enter_list(entries)
        self.rejected = {reason.value: 0 for reason in RejectReason}
        self.sprint_at_us: int | None = None
        self.messages: list[RaceControlMessage] = []
        self.externals: list[Alert] = []  # raised by the server (decoders), journaled
        self.suspects: dict[str, SuspectPassings] = {}  # by decoder: held, never scored
        self.acks: set[str] = set()  # acknowledged alert ids
        self.crossings = 0  # accepted crossings, a version for classifications built on them
        self.voids = 0  # laps voided: a version for charts of past laps
        self.changed = False  # standings changed during the current apply() or tick()
        self._ordered: list[CarTiming] | None = None  # None: a crossing may have moved cars
        self._rows: list[StandingRow] | None = None  # None: some row changed
        self._rows_version = -1  # the endurance version the rows were built with

    def ends_at(self) -> int | None:
        return self.clock.at_race_time(self.config.length_us)

    def standings(self) -> list[StandingRow]:
        if self._rows is None or self._rows_version != self.endurance.version:
            self._rows_version = self.endurance.version
            kind = self.config.kind
            penalties = self.penalties()
            classified_order = classified(self.order(), kind, penalties, kind in BY_BEST_LAP)

            def totals(car: CarTiming) -> tuple[int, int]:
                return adjusted(car, penalties.get(car.number, ()))

            def more(car: CarTiming) -> dict[str, Any]:
                mine = penalties.get(car.number, [])
                return {"penalties": tuple(mine), "status": status_of(car, mine)}

            self._rows = rows(classified_order, kind, self.endurance.row_extras, totals, more)
        return self._rows

    def invalidate(self) -> None:
        """Something the order depends on changed outside a crossing (a retirement, a
        voided lap)."""
        self._ordered = self._rows = None
        self.changed = True

    def penalties(self) -> dict[str, list[Penalty]]:
        """Each car's stewards' penalties as they stand now."""
        pits = self.endurance.pits
        return self.stewards.penalties(self.cars, pits, self.config.rules, self.end.finished)

    def proposals(self) -> list[ProposedPenalty]:
        """The penalties the rule set proposes now (incidents for the stewards)."""
        endurance = self.endurance
        return [p for car in self.cars.values() for p in endurance.view(car).penalties]

    def order(self) -> list[CarTiming]:
        if self._ordered is None:
            self._ordered = order(self.cars.values(), self.config.kind)
        return self._ordered

    # --- entries ----------------------------------------------------------------------

    def enter_list(self, entries: Sequence[Entry]) -> None:
        """The entry list the session starts with (its transponders count for the whole
        session); raises ``ValueError`` for a car or a transponder entered twice."""
        numbers = [entry.number for entry in entries]
        twice = sorted({n for n in numbers if numbers.count(n) > 1 or n in self.cars})
        if twice:
            raise ValueError(f"car {twice[0]!r} is entered twice")
        self.transponders.enter_list(entries)
        for entry in entries:
            self._put(entry)

    def change_entry(self, entry: Entry, at_us: int) -> None:
        """Car ``entry.number`` entered or changed at ``at_us`` (its new transponders count
        from then on)."""
        car = self.cars.get(entry.number)
        before = () if car is None else car.entry.transponders
        self.transponders.change_entry(entry.number, before, entry.transponders, at_us)
        self._put(entry)

    def _put(self, entry: Entry) -> None:
        car = self.cars.get(entry.number)
        if car is None:
            car = self.cars[entry.number] = CarTiming(entry)
        else:
            car.entry = entry
        self.endurance.entered(car)
        self.entries_version += 1
        self._ordered = self._rows = None
        self.changed = True

    # --- passings ---------------------------------------------------------------------

    def passing(self, p: PassingDetected) -> list[OutEvent]:
        why = suspect_reason(p, self.clock.green_at_us, self.config.suspect_margin_us)
        if why is not None:
            return self.suspect(p, why)
        number = self.transponders.car_of(p.transponder, p.at_us)
        if number is None:
            self.rejected[RejectReason.UNKNOWN_TRANSPONDER.value] += 1
            seen = self.transponders.seen_unknown(p.transponder, p.at_us)
            if seen.count == 1:
                self.endurance.alerts_version += 1  # a new unknown transponder alert
            return [seen]
        car = self.cars[number]
        return self.car_passing(car, p.at_us, p.loop, p.transponder, p.sector, carried=p.lap)

    def car_over(self, car: CarTiming, at_us: int) -> bool:
        """Whether the car's race is over for something that happened at ``at_us``: a
        classification made by a tick's timeout does not count for a moment within it."""
        reopened = car.provisional_finish and not self.end.timed_out(self.config, at_us)
        return car.finished and not reopened

    def car_passing(
        self,
        car: CarTiming,
        at_us: int,
        loop: LoopRole,
        transponder: str,
        sector: int | None = None,
        *,
        carried: int | None = None,
    ) -> list[OutEvent]:
        if self.clock.green_at_us is None or at_us < self.clock.green_at_us:
            return self.reject(transponder, at_us, car.number, RejectReason.NOT_STARTED)
        if car.retired_at_us is not None and at_us >= car.retired_at_us:
            return self.reject(transponder, at_us, car.number, RejectReason.RETIRED)
        if self.car_over(car, at_us):
            # pit loops after the flag are the expected way home: not an error to count
            if loop is not LoopRole.START_FINISH:
                return []
            return self.reject(transponder, at_us, car.number, RejectReason.FINISHED)
        if loop is LoopRole.START_FINISH:
            return self._crossing(car, at_us, transponder, carried)
        if car.last_seen_us is not None and at_us < car.last_seen_us:
            return self.reject(transponder, at_us, car.number, RejectReason.OUT_OF_ORDER)
        return self.pit_or_sector(car, at_us, loop, sector)

    def pit_or_sector(
        self, car: CarTiming, at_us: int, loop: LoopRole, sector: int | None = None
    ) -> list[OutEvent]:
        """A pit loop, a pit marshal's mark or a sector loop, already validated."""
        car.see(at_us)
        if loop is LoopRole.SECTOR and sector is not None:
            car.sector_marks.append((sector, at_us))
        out: list[OutEvent] = []
        if loop is LoopRole.PIT_IN:
            self.endurance.pit_in(car, at_us)
        elif loop is LoopRole.PIT_OUT:
            out += self.endurance.pit_out(car, at_us)
        if loop is not LoopRole.SECTOR:
            car.pitted = True
        state = state_after_passing(car.state, loop)
        return out + self.update(car, at_us, state=state, stopped=False)

    def _crossing(
        self, car: CarTiming, at_us: int, transponder: str, carried: int | None = None
    ) -> list[OutEvent]:
        config, end = self.config, self.end
        checkered = end.checkered_at_us
        if checkered is not None and not car.started:
            return self.reject(transponder, at_us, car.number, RejectReason.FINISHED)
        previous = car.last_crossing_us
        if previous is not None and end.timed_out(config, at_us):
            # silent past the timeout: classified at its previous crossing
            classified = self.classify(car, previous, provisional=True)
            return classified + self.reject(transponder, at_us, car.number, RejectReason.FINISHED)
        reason = car.refusal(at_us, config.min_lap_us)
        if reason is not None:
            return self.reject(transponder, at_us, car.number, reason)
        latest = car.last_seen_us is None or at_us >= car.last_seen_us
        flag = Flag.GREEN if previous is None else self.flags.lap_flag(previous, at_us)
        lap = car.cross(at_us, flag)
        if lap is None and carried:
            # joined mid-race: the laps before this crossing were driven before we saw the
            # car; they count, at this crossing's time (no lap time for them)
            car.crossings[:0] = [at_us] * min(carried, _MAX_CARRIED_LAPS)
        self.endurance.crossing(car, at_us)
        self.crossings += 1
        self._ordered = self._rows = None
        self.changed = True
        out: list[OutEvent] = []
        if lap is None:
            end.started += 1
        else:
            out.append(car.lap_completed(lap))
        if latest:  # an older crossing arriving late must not undo a pit state
            out += self.update(
                car, at_us, state=state_after_passing(car.state, LoopRole.START_FINISH)
            )
        if lap is not None and self._sprint_due(at_us) and self.order()[0] is car:
            self.sprint_at_us = at_us
            out.append(SprintCheckeredTaken(car.number, at_us))
        if (
            lap is not None
            and end.checkered_due(config, self.ends_at(), at_us)
            and self.order()[0] is car
        ):
            return out + self.show_checkered(at_us, car)
        if checkered is not None and (at_us >= checkered or car.finished):
            out += self.classify(car, at_us, provisional=at_us < checkered)
        return out

    def _sprint_due(self, at_us: int) -> bool:
        if self.config.kind is not SessionKind.SPRINTDURO or self.sprint_at_us is not None:
            return False
        split = self.clock.at_race_time(self.config.rules.sprint_split_us)
        return split is not None and at_us >= split

    def suspect(self, p: PassingDetected, why: str) -> list[OutEvent]:
        held = self.suspects.get(p.decoder_id)
        if held is None:
            assert p.received_at_us is not None  # only then can a passing be suspect
            held = SuspectPassings(p.decoder_id, 0, p.at_us, p.received_at_us, why)
            self.suspects[p.decoder_id] = held
        held.count += 1
        self.endurance.alerts_version += 1  # the alert's count moved
        number = self.transponders.car_of(p.transponder, p.at_us) or ""
        return self.reject(p.transponder, p.at_us, number, RejectReason.SUSPECT_TIME)

    def reject(
        self, transponder: str, at_us: int, number: str, reason: RejectReason
    ) -> list[OutEvent]:
        self.rejected[reason.value] += 1
        return [PassingRejected(transponder, at_us, reason, number)]

    # --- flags and the finish ---------------------------------------------------------

    def flag(self, f: FlagChanged) -> list[OutEvent]:
        if f.station is not None:
            reason = self.flags.station_refusal(f.station, f.flag)
            if reason is not None:
                return [FlagRejected(f.flag, f.at_us, reason, self.flags.current)]
            self.flags.show_station(f.station, f.flag)
            return [LocalFlagShown(f.station, f.flag, f.at_us)]
        reason = self.flags.refusal(f.at_us, f.flag, self.config.rules.caution_flags)
        if reason is not None:
            return [FlagRejected(f.flag, f.at_us, reason, self.flags.current)]
        if self.endurance.follows_flags:  # frozen stint clocks, stops under the safety car
            self.endurance.touch()
        if f.flag is Flag.CHECKERED:
            return self.show_checkered(f.at_us, None)
        if self.clock.green_at_us is None:  # the table allows only GREEN from NONE
            self.clock.green_at_us = f.at_us
            self.endurance.touch(rows=False)  # the window and the licence checks start
        self.flags.show(f.at_us, f.flag)
        return [FlagShown(f.flag, f.at_us)]

    def show_checkered(self, at_us: int, taker: CarTiming | None) -> list[OutEvent]:
        self.end.checkered_at_us = at_us
        self.flags.show(at_us, Flag.CHECKERED)
        out: list[OutEvent] = []
        if taker is not None:
            out.append(CheckeredFlagTaken(taker.number, at_us))
        out.append(FlagShown(Flag.CHECKERED, at_us))
        # the taker, cars whose crossings at/after a manual flag were applied before it,
        # and the retired cars (they will not cross again)
        for car in self.order():
            last = car.last_crossing_us
            if last is None or car.finished:
                continue
            if last >= at_us or car.retired_at_us is not None:
                out += self.classify(car, last, provisional=False)
        return out

    def classify(self, car: CarTiming, at_us: int, *, provisional: bool) -> list[OutEvent]:
        shown = car.reported_state
        if not car.finished:
            self.end.classified += 1
        car.finished_at_us = at_us
        car.provisional_finish = provisional
        self._rows = None
        self.changed = True
        self.endurance.touch(car.number)
        position = self.order().index(car) + 1
        out: list[OutEvent] = [CarFinished(car.number, position, car.lap_count, at_us)]
        return out + self.update(car, at_us, state=CarState.FINISHED, shown=shown)

    def tick_finish(self, now_us: int) -> tuple[list[OutEvent], int]:
        """Clock expiry, the finish timeout and STOPPED cars at ``now_us``; the events and
        the time a session finished by the timeout finished at."""
        config, end = self.config, self.end
        out: list[OutEvent] = []
        ends_at = self.ends_at()
        if ends_at is not None and now_us >= ends_at and not end.clock_expired_sent:
            end.clock_expired_sent = True
            out.append(ClockExpired(at_us=ends_at))
        timed_out, finished_at = self.finish_timeout(now_us)
        out += timed_out
        if self.clock.green_at_us is not None and not end.finished:
            ordered = self.order()
            leader_best = ordered[0].best_lap_us if ordered else None
            factor = config.stopped_after_laps
            for car in self.cars.values():
                stopped = is_stopped(car, now_us, leader_best, factor)
                out += self.update(car, now_us, stopped=stopped)
        return out, finished_at

    def finish_timeout(self, now_us: int) -> tuple[list[OutEvent], int]:
        """Every car silent since the checkered classified at its last crossing once the
        finish timeout has run out at ``now_us``; the events and when the session finished."""
        config, end = self.config, self.end
        out: list[OutEvent] = []
        if end.checkered_at_us is None or not end.timed_out(config, now_us):
            return out, now_us
        for car in self.order():
            last = car.last_crossing_us
            if last is not None and not car.finished:
                out += self.classify(car, last, provisional=True)
        return out, end.checkered_at_us + config.finish_timeout_us

    def update(
        self,
        car: CarTiming,
        at_us: int,
        *,
        state: CarState | None = None,
        stopped: bool = False,
        shown: CarState | None = None,
    ) -> list[OutEvent]:
        """Set the passing state and the STOPPED overlay; report what the car now shows
        (compared with ``shown``, by default what it showed before this call)."""
        shown = car.reported_state if shown is None else shown
        car.state = car.state if state is None else state
        car.stopped = stopped
        if car.reported_state is shown:
            return []
        self._rows = None
        self.changed = True
        return [CarStateChanged(car.number, car.reported_state, at_us)]
