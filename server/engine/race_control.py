"""Race control's inputs: which handler each input event goes to, and the small ones.

Strategy: ``dispatch`` is the one place that maps an input event type to what it does
to a ``SessionCore``; commands that cannot apply (an unknown car, a pause without a red
flag) are answered with a ``CommandRefused`` fact and change nothing, never with an
exception. Pit-marshal marks go through the same path as pit-loop passings, so a track
without pit loops gets the same stops and states. Timing corrections are not handled
here: the engine rebuilds its state from its log with them (see ``corrections``).
"""

from __future__ import annotations

from dataclasses import replace

from server.engine.alerts import Alert, AlertKind, alert_id
from server.engine.core import SessionCore
from server.engine.entry_events import apply_entry_event
from server.engine.events import (
    AlertAcknowledged,
    CarRetired,
    DriverChangeConfirmed,
    EntryChanged,
    EntryListSet,
    ExternalAlertRaised,
    Flag,
    FlagChanged,
    IncidentDecided,
    IncidentReported,
    InputEvent,
    LapVoided,
    LoopRole,
    PassingAdded,
    PassingDetected,
    PitInMarked,
    PitOutMarked,
    RaceControlMessageEdited,
    RaceControlMessagePosted,
    RaceControlMessageRetracted,
    SessionClockPaused,
    SessionClockResumed,
    SoloExitConfirmed,
)
from server.engine.model import RaceControlMessage
from server.engine.outbound import (
    CarRetirementRecorded,
    ClockPaused,
    ClockResumed,
    CommandRefused,
    DecisionRecorded,
    DriverChangeRefused,
    IncidentRecorded,
    LapVoidRecorded,
    MessageChanged,
    MessagePosted,
    OutEvent,
)
from server.engine.refusals import OVERRIDABLE, Refusal


def dispatch(core: SessionCore, event: InputEvent) -> list[OutEvent]:
    match event:
        case PassingDetected():
            return core.passing(event)
        case FlagChanged():
            return core.flag(event)
        case PitInMarked() | PitOutMarked():
            return _mark(core, event)
        case DriverChangeConfirmed():
            number, driver_in, at_us = event.number, event.driver_in, event.at_us
            reason = driver_change_refusal(core, number, driver_in, at_us, override=event.override)
            if reason is not None:
                return [DriverChangeRefused(number, driver_in, at_us, reason)]
            return core.endurance.driver_change(core.cars[number], event)
        case SoloExitConfirmed():
            car = core.cars.get(event.number)
            reason = _over(core, event.number, event.at_us)
            if car is None or reason is not None:
                return [_refused(event, reason or Refusal.UNKNOWN_CAR, event.number)]
            return core.endurance.solo_exit(car, event)
        case CarRetired():
            return _retire(core, event)
        case SessionClockPaused():
            return _pause(core, event)
        case SessionClockResumed():
            reason = core.clock.resume_refusal(event.at_us)
            if reason is not None:
                return [_refused(event, reason)]
            core.clock.resume(event.at_us)
            core.endurance.touch()
            return [ClockResumed(event.at_us, core.ends_at())]
        case RaceControlMessagePosted():
            message = RaceControlMessage(
                event.at_us, event.text, event.number, event.actor, event.expires_at_us
            )
            core.messages.append(message)
            return [MessagePosted(message)]
        case RaceControlMessageEdited() | RaceControlMessageRetracted():
            return _message_change(core, event)
        case EntryListSet() | EntryChanged():
            return apply_entry_event(core, event)
        case AlertAcknowledged():
            core.acks.add(event.alert_id)
            core.endurance.alerts_version += 1
            return []
        case ExternalAlertRaised():
            key = alert_id(AlertKind.EXTERNAL, event.kind, event.at_us, event.number or "")
            alert = Alert(key, event.kind, event.severity, event.text, event.at_us, event.number)
            core.externals.append(alert)
            core.endurance.alerts_version += 1
            return []
        case PassingAdded():
            car = core.cars[event.number]  # checked when the correction was accepted
            return core.car_passing(car, event.at_us, event.loop, "")
        case IncidentReported():
            result = core.stewards.report(event, core.cars)
            if isinstance(result, Refusal):
                unknown = next((n for n in event.cars if n not in core.cars), None)
                return [_refused(event, result, unknown)]
            core.endurance.touch(rows=False)
            return [IncidentRecorded(result, event.at_us, core.stewards.incidents[result].cars)]
        case IncidentDecided():
            reason = core.stewards.decide(event, core.proposals())
            if reason is not None:
                return [_refused(event, reason)]
            core.endurance.touch()  # the classification changes at once
            incident = core.stewards.incidents[event.incident_id]
            cars = event.cars or incident.cars
            return [
                DecisionRecorded(
                    event.incident_id,
                    event.decision.value,
                    event.value,
                    cars,
                    event.at_us,
                    event.amend,
                )
            ]
        case LapVoided():
            return _void(core, event)
    return []  # PassingDeleted, TransponderAssigned: applied by the rebuild itself


def _void(core: SessionCore, event: LapVoided) -> list[OutEvent]:
    car = core.cars.get(event.number)
    if car is None:
        return [_refused(event, Refusal.UNKNOWN_CAR, event.number)]
    if not 1 <= event.lap <= len(car.lap_records):
        return [_refused(event, Refusal.NO_SUCH_LAP, event.number)]
    if car.lap_records[event.lap - 1].voided:
        return [_refused(event, Refusal.ALREADY_VOIDED, event.number)]
    car.void(event.lap, event.reason)
    core.voids += 1
    core.invalidate()
    core.endurance.touch(car.number)
    return [LapVoidRecorded(car.number, event.lap, event.at_us, car.best_lap_us)]


def _message_change(
    core: SessionCore, event: RaceControlMessageEdited | RaceControlMessageRetracted
) -> list[OutEvent]:
    """Edit or retract the message posted at ``event.posted_at_us`` (the latest posted
    then, if two share the microsecond); a retracted message is gone from every page."""
    index = next(
        (
            i
            for i in range(len(core.messages) - 1, -1, -1)
            if core.messages[i].at_us == event.posted_at_us
        ),
        None,
    )
    if index is None:
        return [_refused(event, Refusal.NO_SUCH_MESSAGE)]
    message = core.messages[index]
    if isinstance(event, RaceControlMessageRetracted):
        del core.messages[index]
        return [MessageChanged(message.at_us, event.at_us, shown=False)]
    core.messages[index] = replace(
        message, text=event.text, expires_at_us=event.expires_at_us, edited_at_us=event.at_us
    )
    return [MessageChanged(message.at_us, event.at_us, shown=True)]


def driver_change_refusal(
    core: SessionCore, number: str, driver_in: str, at_us: int, *, override: bool
) -> Refusal | None:
    """Why ``driver_in`` may not get into car ``number`` at ``at_us`` (None: recorded):
    the one check, made by ``apply`` and by the engine's query of the same name."""
    reason = _over(core, number, at_us)
    if reason is None:
        reason = core.endurance.change_refusal(core.cars[number], driver_in, at_us)
    return None if override and reason in OVERRIDABLE else reason


def _refused(event: InputEvent, reason: Refusal, number: str | None = None) -> CommandRefused:
    return CommandRefused(type(event).__name__, event.at_us, reason, number)


def _over(core: SessionCore, number: str, at_us: int) -> Refusal | None:
    """Why car ``number`` can take nothing more at ``at_us`` (None: it can)."""
    car = core.cars.get(number)
    if car is None:
        return Refusal.UNKNOWN_CAR
    if car.retired_at_us is not None and at_us >= car.retired_at_us:
        return Refusal.CAR_RETIRED
    return Refusal.CAR_FINISHED if core.car_over(car, at_us) else None


def _mark(core: SessionCore, event: PitInMarked | PitOutMarked) -> list[OutEvent]:
    car = core.cars.get(event.number)
    green = core.clock.green_at_us
    reason = _over(core, event.number, event.at_us)
    if reason is None and (green is None or event.at_us < green):
        reason = Refusal.NOT_STARTED
    if car is not None and car.last_seen_us is not None and event.at_us < car.last_seen_us:
        reason = reason or Refusal.OUT_OF_ORDER
    if car is None or reason is not None:
        return [_refused(event, reason or Refusal.UNKNOWN_CAR, event.number)]
    loop = LoopRole.PIT_IN if isinstance(event, PitInMarked) else LoopRole.PIT_OUT
    return core.pit_or_sector(car, event.at_us, loop)


def _retire(core: SessionCore, event: CarRetired) -> list[OutEvent]:
    car = core.cars.get(event.number)
    if car is None:
        return [_refused(event, Refusal.UNKNOWN_CAR, event.number)]
    if car.retired_at_us is not None:
        return [_refused(event, Refusal.ALREADY_RETIRED, event.number)]
    if core.car_over(car, event.at_us):
        return [_refused(event, Refusal.CAR_FINISHED, event.number)]
    shown = car.reported_state
    car.retired_at_us = event.at_us
    core.invalidate()  # behind the cars still racing: the finish belongs to their leader
    core.endurance.touch(car.number)  # its stint ends; the standings show it
    out: list[OutEvent] = [CarRetirementRecorded(car.number, event.at_us)]
    out += core.update(car, event.at_us, shown=shown)
    last = car.last_crossing_us
    # classified at its last crossing, whether or not a tick's timeout already did it
    if core.end.checkered_at_us is not None and last is not None:
        out += core.classify(car, last, provisional=False)
    return out


def _pause(core: SessionCore, event: SessionClockPaused) -> list[OutEvent]:
    reason: Refusal | None = None
    if not core.config.rules.red_may_stop_clock:
        reason = Refusal.NOT_IN_RULES
    elif core.flags.current is not Flag.RED:
        reason = Refusal.NOT_UNDER_RED
    else:
        reason = core.clock.pause_refusal(event.at_us)
    if reason is not None:
        return [_refused(event, reason)]
    core.clock.pause(event.at_us)
    core.endurance.touch()
    return [ClockPaused(event.at_us)]
