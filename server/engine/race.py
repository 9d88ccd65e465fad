"""RaceEngine: the pure, deterministic race-state engine of one session.

Strategy: ``apply(event)`` folds one journaled input event into the state and returns the
facts it caused; ``tick(now_us)`` reports what follows from the state and the time alone
(clock expiry, finish timeout, STOPPED cars, due alerts, hourly snapshots). No I/O and no
clock reads: every time arrives inside an event or a tick. The state lives in a
``SessionCore``; the engine keeps the log of the input events it applied, so a timing
correction is applied by building a new core from the corrected log (``corrections``):
the same journal, live or replayed, goes through the same rebuilds at the same points
and ends in the same state. Alerts are derived (``alerts``): the engine re-derives them
when their inputs changed and reports new ones as ``AlertRaised``. Tick-made state is
not journaled: after a restart, replaying the journal and then one tick restores it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from server.engine.alerts import Alert, AlertBook, AlertKind, alert_id, newest_first
from server.engine.car_laps import MarkedLap, marked_laps, session_bests
from server.engine.charts import FlagPeriod, LapPoint, flag_periods, lap_points, new_points
from server.engine.core import SessionCore
from server.engine.corrections import effective, refusal
from server.engine.detail import car_detail
from server.engine.event_log import EventLog
from server.engine.events import (
    FLAG_UNDO_US,
    Correction,
    CorrectionReverted,
    FlagChanged,
    FlagReverted,
    InputEvent,
    PassingAdded,
    PassingDeleted,
    Severity,
    TransponderAssigned,
)
from server.engine.finish import TIME_CERTAIN
from server.engine.model import (
    CarDetail,
    Entry,
    LapRecord,
    Penalty,
    ProposedPenalty,
    RaceControlMessage,
    SessionConfig,
    SessionStatus,
    StandingRow,
    UnknownTransponder,
)
from server.engine.outbound import (
    AlertRaised,
    AlertsChanged,
    CommandRefused,
    CorrectionApplied,
    FlagShown,
    MessageChanged,
    OutEvent,
    SessionFinished,
    SnapshotTaken,
    StandingsChanged,
)
from server.engine.race_control import dispatch, driver_change_refusal
from server.engine.refusals import Refusal
from server.engine.rules import HOUR_US
from server.engine.snapshots import ClassificationSnapshot, SprintClassification, hourly, sprint
from server.engine.stewards import Incident
from server.engine.suspects import alert_text as suspect_alert_text
from server.engine.team import TeamOutlook, team_outlook

_CORRECTIONS = (PassingAdded, PassingDeleted, TransponderAssigned)


class RaceEngine:
    def __init__(self, config: SessionConfig, entries: Sequence[Entry] = ()) -> None:
        """``entries``: an entry list given up front (tests, tools); a session's engine
        gets its entries from its journal (``EntryListSet``, ``EntryChanged``)."""
        self._config = config
        self._entries = tuple(entries)
        self._core = SessionCore(config, self._entries)
        self._log = EventLog()  # every input event but the corrections
        self._corrections: list[Correction] = []
        self._book = AlertBook()
        # the endurance (alerts, timed) versions the alert candidates were derived from
        self._alerts_version = (-1, -1)
        # the endurance version last reported as StandingsChanged (entries given up front
        # are the starting point, not a change)
        self._rows_reported = self._core.endurance.version
        self._now_us: int | None = None  # the latest tick
        self._snapshots_reported = 0
        self._snapshots: tuple[object, list[ClassificationSnapshot]] = (None, [])
        self._rebuilds = 0  # cores built from the log (a version for cached classifications)
        self._entries_seen: tuple[object, list[Entry]] = (None, [])

    # --- queries ----------------------------------------------------------------------

    @property
    def config(self) -> SessionConfig:
        """The session's configuration, its rule set included (read-only)."""
        return self._config

    def standings(self) -> list[StandingRow]:
        return list(self._core.standings())

    def entries(self) -> list[Entry]:
        """The entry list as the journal has it now, in the order cars were entered; the
        same list object until it changes (callers key caches on it)."""
        key = (self._rebuilds, self._core.entries_version)
        if self._entries_seen[0] != key:
            self._entries_seen = (key, [car.entry for car in self._core.cars.values()])
        return self._entries_seen[1]

    def status(self) -> SessionStatus:
        config, core = self._config, self._core
        green, length = core.clock.green_at_us, config.length_us
        window = core.endurance.window() if core.endurance.required > 0 else None
        return SessionStatus(
            session_id=config.session_id,
            kind=config.kind,
            name=config.name,
            flag=core.flags.current,
            green_at_us=green,
            ends_at_us=None
            if green is None or length is None
            else green + length + core.clock.paused_us,
            checkered_at_us=core.end.checkered_at_us,
            finished=core.end.finished,
            clock_paused_since_us=core.clock.paused_since_us,
            clock_paused_us=core.clock.paused_us,
            local_yellows=tuple(core.flags.local_yellows),
            pit_window_opens_us=None if window is None else window.opens_us,
            pit_window_closes_us=None if window is None else window.closes_us,
            sprint_checkered_at_us=core.sprint_at_us,
        )

    def rejected_counts(self) -> dict[str, int]:
        return dict(self._core.rejected)

    def unknown_transponders(self) -> dict[str, UnknownTransponder]:
        return self._core.transponders.unknown()

    def laps_of(self, number: str) -> list[LapRecord]:
        """Completed laps of car ``number``; raises ``KeyError`` for a car not entered."""
        return list(self._core.cars[number].lap_records)

    def car_laps(self, number: str) -> tuple[MarkedLap, ...]:
        """Car ``number``'s laps with their personal and overall bests marked (lap and
        sector times; voided laps never a best); ``KeyError`` for a car not entered."""
        car = self._core.cars[number]
        return marked_laps(car, session_bests(self._core.cars.values()))

    def chart_points(self, since: Mapping[str, int] | None = None) -> list[LapPoint]:
        """Every car's laps as chart points (``server.engine.charts``); with ``since``
        (laps already charted, by car) only the laps after those."""
        cars = list(self._core.cars.values())
        return lap_points(cars) if since is None else new_points(cars, since)

    def chart_laps(self) -> dict[str, int]:
        """How many laps each car has completed (what ``chart_points`` has charted)."""
        return {number: car.lap_count for number, car in self._core.cars.items()}

    @property
    def chart_version(self) -> tuple[int, int]:
        """Changes when laps already charted may have changed (a correction rebuilt the
        state, a lap was voided): charts then start again from the history."""
        return self._rebuilds, self._core.voids

    def flag_periods(self) -> list[FlagPeriod]:
        """The cautions and red flags shown so far, in time order."""
        return flag_periods(self._core.flags)

    def alerts(self) -> list[Alert]:
        """The alerts shown now (as of the latest apply or tick), newest first."""
        return newest_first(self._book.shown.values())

    def messages(self, now_us: int | None = None) -> list[RaceControlMessage]:
        """Race-control messages shown at ``now_us`` (default: the latest tick), newest
        first: a retracted one is gone, an expired one no longer shown."""
        at = now_us if now_us is not None else self._now_us
        shown = [m for m in self._core.messages if m.shown_at(at)]
        return sorted(reversed(shown), key=lambda m: -m.at_us)

    def corrections(self) -> list[Correction]:
        """The corrections that count now (undone ones left out), oldest first."""
        return list(self._corrections)

    def undoable_flag(self, now_us: int) -> FlagChanged | None:
        """The session flag race control may still undo at ``now_us`` (None: none)."""
        latest = self._latest_flag()
        if latest is None or now_us - latest.at_us > FLAG_UNDO_US or self._core.end.finished:
            return None
        return latest

    def car_detail(self, number: str, now_us: int | None = None) -> CarDetail:
        """Drivers, stints and stops of car ``number`` (``KeyError`` if not entered); the
        open stint is counted up to ``now_us`` (default: the latest tick)."""
        car = self._core.cars[number]
        at = now_us if now_us is not None else self._now_us
        if at is None:
            at = car.last_seen_us or 0
        return car_detail(self._core.endurance, car, at)

    def driver_change_refusal(
        self, number: str, driver_in: str, at_us: int, *, override: bool = False
    ) -> Refusal | None:
        """Why ``apply`` would refuse ``driver_in`` getting into car ``number`` at ``at_us``
        now (None: it would record the change): the very check ``apply`` makes, for a page
        to ask before a marshal taps."""
        return driver_change_refusal(self._core, number, driver_in, at_us, override=override)

    def rest_until(self, number: str, driver: str, at_us: int) -> int | None:
        """Until when ``driver`` must still rest before taking car ``number`` over at
        ``at_us`` (what ``Refusal.REST_NOT_OVER`` waits for); None when nothing is owed
        or no such car is entered."""
        car = self._core.cars.get(number)
        return None if car is None else self._core.endurance.rest_owed_until(car, driver, at_us)

    def cars(self, now_us: int | None = None) -> list[CarDetail]:
        return [self.car_detail(row.number, now_us) for row in self._core.standings()]

    def team_outlook(self, number: str, now_us: int) -> TeamOutlook:
        """Car ``number``'s pit wall at ``now_us``: stint against the limit, drivers
        against the rules, pit window, stops, open incidents (``KeyError`` if not entered)."""
        detail = self.car_detail(number, now_us)
        row = next((r for r in self._core.standings() if r.number == number), None)
        if row is None:
            raise KeyError(number)
        return team_outlook(
            detail,
            row,
            self._config.rules,
            self.status(),
            self.incidents(),
            lambda name: self.driver_change_refusal(number, name, now_us),
            lambda name: self.rest_until(number, name, now_us),
            now_us,
        )

    def incidents(self) -> list[Incident]:
        """Every incident (the rule set's proposals included), in the order reported; the
        records are the engine's: read them, never change them."""
        return self._core.stewards.all(self._core.proposals())

    def incident(self, incident_id: str) -> Incident | None:
        return next((i for i in self.incidents() if i.incident_id == incident_id), None)

    def penalties(self) -> list[Penalty]:
        """The stewards' penalties on every car, in the order of the classification."""
        return [p for row in self._core.standings() for p in row.penalties]

    def proposed_penalties(self) -> list[ProposedPenalty]:
        return [p for row in self._core.standings() for p in row.penalties_proposed]

    def sprint_standings(self) -> SprintClassification | None:
        """The SprintDuro's sprint classification; None until its flag is taken."""
        core = self._core
        if core.sprint_at_us is None:
            return None
        return sprint(core.order(), core.sprint_at_us, self._config.finish_timeout_us, self._now_us)

    def snapshots(self) -> list[ClassificationSnapshot]:
        """Hourly classifications of an endurance race, oldest first."""
        marks = self._hour_marks()
        key = (self._rebuilds, self._core.crossings, tuple(marks))
        if self._snapshots[0] != key:
            self._snapshots = (key, hourly(self._core.order(), marks))
        return list(self._snapshots[1])

    # --- input ------------------------------------------------------------------------

    def apply(self, event: InputEvent) -> list[OutEvent]:
        if isinstance(event, _CORRECTIONS):
            out = self._correct(event)
        elif isinstance(event, CorrectionReverted):
            out = self._revert_correction(event)
        elif isinstance(event, FlagReverted):
            out = self._revert_flag(event)
        else:
            self._log.append(event)
            # The finish timeout runs out at a moment, not at a tick: an event after it is
            # judged after it, whether or not a tick came between (a replay has no ticks).
            out, finished_at = self._core.finish_timeout(event.at_us)
            out += dispatch(self._core, event)
            return self._close(out, event.at_us, finished_at)
        return self._close(out, event.at_us, event.at_us)

    def tick(self, now_us: int) -> list[OutEvent]:
        before, self._now_us = self._now_us, now_us
        out, finished_at = self._core.tick_finish(now_us)
        for message in self._core.messages:
            expires = message.expires_at_us
            if expires is not None and expires <= now_us and (before is None or before < expires):
                out.append(MessageChanged(message.at_us, expires, shown=False))
        marks = self._hour_marks()
        for label, at in marks[self._snapshots_reported :]:
            out.append(SnapshotTaken(label, at))
        self._snapshots_reported = max(self._snapshots_reported, len(marks))
        return self._close(out, now_us, finished_at, ticking=True)

    # --- corrections ------------------------------------------------------------------

    def _correct(self, correction: Correction) -> list[OutEvent]:
        core = self._core
        car_of = core.transponders.car_of
        reason = refusal(correction, core.cars, self._log, self._corrections, car_of)
        name = type(correction).__name__
        if reason is not None:
            return [CommandRefused(name, correction.at_us, reason, correction.number)]
        self._corrections.append(correction)
        self._rebuild()
        return [CorrectionApplied(name, correction.number, correction.at_us)]

    def _revert_correction(self, event: CorrectionReverted) -> list[OutEvent]:
        """Undo the latest matching correction: the state is rebuilt without it."""
        for index in range(len(self._corrections) - 1, -1, -1):
            c = self._corrections[index]
            if (type(c).__name__, c.number, c.at_us) == (
                event.kind,
                event.number,
                event.correction_at_us,
            ):
                del self._corrections[index]
                self._rebuild()
                return [CorrectionApplied(type(event).__name__, event.number, event.at_us)]
        name, reason = type(event).__name__, Refusal.NO_SUCH_CORRECTION
        return [CommandRefused(name, event.at_us, reason, event.number)]

    def _latest_flag(self) -> FlagChanged | None:
        index = self._latest_flag_index()
        return None if index is None else self._flag_at(index)

    def _flag_at(self, index: int) -> FlagChanged:
        event = self._log[index]
        assert isinstance(event, FlagChanged)
        return event

    def _latest_flag_index(self) -> int | None:
        """Where the latest session flag shown is in the log (a refused one never counts)."""
        flags = self._core.flags
        for index in range(len(self._log) - 1, -1, -1):
            event = self._log[index]
            if (
                isinstance(event, FlagChanged)
                and event.station is None
                and event.at_us == flags.latest_at_us
                and event.flag is flags.current
            ):
                return index
        return None

    def _revert_flag(self, event: FlagReverted) -> list[OutEvent]:
        """Undo the latest session flag within 10 s: rebuilt as if never shown."""
        name = type(event).__name__
        index = self._latest_flag_index()
        if index is None or self._flag_at(index).at_us != event.flag_at_us:
            return [CommandRefused(name, event.at_us, Refusal.NO_SUCH_FLAG)]
        if self._core.end.finished:
            return [CommandRefused(name, event.at_us, Refusal.SESSION_FINISHED)]
        if event.at_us - event.flag_at_us > FLAG_UNDO_US:
            return [CommandRefused(name, event.at_us, Refusal.UNDO_TOO_LATE)]
        del self._log[index]
        self._rebuild()
        return [FlagShown(self._core.flags.current, event.at_us)]

    def _rebuild(self) -> None:
        """A new core from the log and the corrections that count."""
        assignments = [c for c in self._corrections if isinstance(c, TransponderAssigned)]
        core = SessionCore(self._config, self._entries, assignments)
        for event in effective(self._log, self._corrections, core.transponders.car_of):
            dispatch(core, event)
        # restore what ticks had made (and reported: ClockExpired, the finish) silently
        if self._now_us is not None:
            core.tick_finish(self._now_us)
        if self._core.end.finished:
            core.end.all_classified()
        core.changed = True
        self._core, self._alerts_version = core, (-1, -1)
        self._rebuilds += 1

    # --- derived ----------------------------------------------------------------------

    def _hour_marks(self) -> list[tuple[str, int]]:
        core, now = self._core, self._now_us
        config = self._config
        if not config.rules.hourly_snapshots or config.kind not in TIME_CERTAIN:
            return []
        if config.length_us is None:  # endurance races are time-certain: no length, no marks
            return []
        ends, checkered = core.ends_at(), core.end.checkered_at_us
        marks: list[tuple[str, int]] = []
        while now is not None:
            at = core.clock.at_race_time((len(marks) + 1) * HOUR_US)
            if at is None or at > now or (ends is not None and at >= ends):
                break
            if checkered is not None and at >= checkered:
                break
            marks.append((f"{len(marks) + 1}h", at))
        return marks

    def _candidates(self) -> list[Alert]:
        core = self._core
        alerts = core.endurance.candidates() + core.externals
        kind = AlertKind.UNKNOWN_TRANSPONDER
        for transponder, seen in core.transponders.unknown().items():
            text = f"Unknown transponder {transponder} seen"
            key = alert_id(kind, transponder)
            alerts.append(Alert(key, kind, Severity.WARNING, text, seen.first_seen_us))
        for decoder, held in core.suspects.items():
            key = alert_id(AlertKind.SUSPECT_PASSING, decoder)
            text = suspect_alert_text(held)
            at_us = held.first_received_us
            alerts.append(Alert(key, AlertKind.SUSPECT_PASSING, Severity.CRITICAL, text, at_us))
        return alerts

    def _close(
        self, out: list[OutEvent], at_us: int, finished_at_us: int, *, ticking: bool = False
    ) -> list[OutEvent]:
        core = self._core
        endurance = core.endurance
        if core.end.all_classified():
            out.append(SessionFinished(finished_at_us))
        versions = (endurance.alerts_version, endurance.timed_version)
        # changes that only timed alerts follow from wait for a tick (they show from one)
        stale = versions[0] != self._alerts_version[0] or (
            ticking and versions != self._alerts_version
        )
        if stale or self._book.due_soon(self._now_us):
            if stale:
                self._book.candidates = self._candidates()
                self._alerts_version = versions
            new, changed = self._book.refresh(self._now_us, core.acks)
            out += [AlertRaised(alert) for alert in new]
            if changed:
                out.append(AlertsChanged(at_us))
        if core.changed or endurance.version != self._rows_reported:
            core.changed = False
            self._rows_reported = endurance.version
            out.append(StandingsChanged(at_us))
        return out
