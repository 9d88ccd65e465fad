"""The stewards: incidents, their decisions, and what the decisions do to a classification.

Strategy: incidents and decisions are journaled input events (``IncidentReported``,
``IncidentDecided``, ``LapVoided``), checked here once and folded into plain records;
whether a decision can apply is decided here and nowhere else (a refusal is a
``Refusal``). The penalties a rule set proposes (a missed mandatory stop, a short stop)
are incidents too: derived from the endurance state with an id of their own, and kept as
a record from the moment a steward decides one. What a decision does to a car is
derived, never stored: a time penalty adds to the total time, a lap penalty removes laps,
a position penalty drops places after ordering, an exclusion or a disqualification puts
the car at the bottom with its status; a drive-through or stop-and-go is pending until
the car's next pit-in after the decision, served there, and converted into the rule set's
time penalty if the car's race ends first. ``classified`` is the one place where the
penalties change the order, so every view built on standing rows (the live pages, the
results exports) shows the same classification. Pure code: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from server.engine.events import (
    Decision,
    IncidentDecided,
    IncidentReported,
    SessionKind,
)
from server.engine.laps import CarTiming
from server.engine.model import CarState, Penalty, PenaltyState, ProposedPenalty, Status
from server.engine.pits import CarPits
from server.engine.refusals import Refusal
from server.engine.rules import RuleSet

SECOND_US = 1_000_000
# decisions that need a value (seconds, laps, places), and what it counts
VALUED = {
    Decision.TIME_PENALTY: "s",
    Decision.LAP_PENALTY: "laps",
    Decision.POSITION_PENALTY: "places",
}
SERVED_IN_PIT = frozenset({Decision.DRIVE_THROUGH, Decision.STOP_AND_GO})
OUT = {Decision.EXCLUSION: Status.EXCL, Decision.DISQUALIFICATION: Status.DSQ}


@dataclass(slots=True)
class Incident:
    """One incident and its decisions, oldest first (the last one stands)."""

    incident_id: str
    at_us: int
    occurred: str
    place: str
    cars: tuple[str, ...]
    description: str
    contact: bool
    reported_by: str
    proposed: bool = False  # the rule set proposed it (no one reported it)
    decisions: list[IncidentDecided] = field(default_factory=list)

    @property
    def decision(self) -> IncidentDecided | None:
        return self.decisions[-1] if self.decisions else None

    @property
    def is_open(self) -> bool:
        return not self.decisions


def proposed_id(session_id: int, penalty: ProposedPenalty) -> str:
    return f"{session_id}-auto-{penalty.number}-{penalty.at_us}"


def proposed_incident(session_id: int, penalty: ProposedPenalty) -> Incident:
    spec = f"{penalty.value} {penalty.kind.value.replace('_', ' ')}"
    return Incident(
        incident_id=proposed_id(session_id, penalty),
        at_us=penalty.at_us,
        occurred="",
        place="",
        cars=(penalty.number,),
        description=f"{penalty.reason}: the rule set proposes {spec}",
        contact=False,
        reported_by="rules",
        proposed=True,
    )


def describe(decision: str, value: int | None) -> str:
    """A decision in a steward's words: "30 s time penalty", "drive-through"."""
    kind = Decision(decision)
    words = kind.value.replace("_", " ").replace("drive through", "drive-through")
    words = words.replace("stop and go", "stop-and-go")
    unit = VALUED.get(kind)
    return words if unit is None or value is None else f"{value} {unit} {words}"


class Stewards:
    """The incidents of one session, in the order they were reported."""

    def __init__(self, session_id: int) -> None:
        self.session_id = session_id
        self.incidents: dict[str, Incident] = {}
        self.reported = 0
        self.version = 0  # changes of anything a decision or an incident shows

    def report(self, event: IncidentReported, entered: Mapping[str, object]) -> Refusal | str:
        """Record ``event``; its id, or why not (a car not entered)."""
        if not event.cars or any(number not in entered for number in event.cars):
            return Refusal.UNKNOWN_CAR
        self.reported += 1
        incident_id = f"{self.session_id}-{self.reported}"
        self.incidents[incident_id] = Incident(
            incident_id,
            event.at_us,
            event.occurred,
            event.place,
            tuple(dict.fromkeys(event.cars)),
            event.description,
            event.contact,
            event.actor,
        )
        self.version += 1
        return incident_id

    def all(self, proposals: Iterable[ProposedPenalty]) -> list[Incident]:
        """Every incident: the reported and decided ones, then the proposals not decided."""
        listed = list(self.incidents.values())
        for penalty in proposals:
            if proposed_id(self.session_id, penalty) not in self.incidents:
                listed.append(proposed_incident(self.session_id, penalty))
        return listed

    def decide(
        self, event: IncidentDecided, proposals: Iterable[ProposedPenalty]
    ) -> Refusal | None:
        """Record the decision ``event``, or why not (nothing changes then)."""
        incident = self.incidents.get(event.incident_id)
        if incident is None:
            incident = next(
                (i for i in self.all(proposals) if i.incident_id == event.incident_id), None
            )
        if incident is None:
            return Refusal.NO_SUCH_INCIDENT
        if event.amend and incident.is_open:
            return Refusal.NOT_DECIDED
        if not event.amend and not incident.is_open:
            return Refusal.ALREADY_DECIDED
        if event.decision in VALUED and (event.value is None or event.value <= 0):
            return Refusal.VALUE_REQUIRED
        if event.value is not None and event.value < 0:
            return Refusal.VALUE_REQUIRED
        if any(number not in incident.cars for number in event.cars):
            return Refusal.CAR_NOT_INVOLVED
        incident.decisions.append(event)
        self.incidents[incident.incident_id] = incident  # a proposal becomes a record
        self.version += 1
        return None

    def penalties(
        self,
        cars: Mapping[str, CarTiming],
        pits: Mapping[str, CarPits],
        rules: RuleSet,
        session_over: bool,
    ) -> dict[str, list[Penalty]]:
        """Each car's penalties as the decisions stand now, in the order decided."""
        result: dict[str, list[Penalty]] = {}
        decided = [i for i in self.incidents.values() if i.decision is not None]
        for incident in sorted(decided, key=lambda i: _decided_at(i)):
            decision = incident.decision
            assert decision is not None
            for number in decision.cars or incident.cars:
                car = cars.get(number)
                if car is None:
                    continue
                penalty = _penalty(incident, decision, car, pits.get(number), rules, session_over)
                result.setdefault(number, []).append(penalty)
        return result


def _decided_at(incident: Incident) -> int:
    return incident.decisions[0].at_us


def _penalty(
    incident: Incident,
    decision: IncidentDecided,
    car: CarTiming,
    pits: CarPits | None,
    rules: RuleSet,
    session_over: bool,
) -> Penalty:
    kind, value = decision.decision, decision.value
    base = Penalty(
        incident.incident_id,
        car.number,
        kind.value,
        value,
        PenaltyState.APPLIED,
        reason=decision.reason,
        at_us=decision.at_us,
    )
    if kind in SERVED_IN_PIT:
        # served at the first pit-in after the (first) decision: an amendment does not
        # make a car serve again what it already served
        since = _decided_at(incident)
        stop = next((s for s in (pits.stops if pits else []) if s.in_us >= since), None)
        if stop is not None:
            return replace(base, state=PenaltyState.SERVED, served_at_us=stop.in_us)
        if car.ended_at_us is not None or session_over:
            time_us = (
                rules.drive_through_time_us
                if kind is Decision.DRIVE_THROUGH
                else rules.stop_and_go_time_us
            )
            return replace(base, state=PenaltyState.CONVERTED, time_us=time_us)
        return replace(base, state=PenaltyState.PENDING)
    amount = value or 0
    return replace(
        base,
        time_us=amount * SECOND_US if kind is Decision.TIME_PENALTY else 0,
        laps=amount if kind is Decision.LAP_PENALTY else 0,
        places=amount if kind is Decision.POSITION_PENALTY else 0,
    )


def status_of(car: CarTiming, penalties: Sequence[Penalty]) -> Status:
    for penalty in reversed(penalties):
        out = OUT.get(Decision(penalty.decision))
        if out is not None:
            return out
    if car.reported_state is CarState.RETIRED:
        return Status.DNF
    if not car.started:
        return Status.DNS
    return Status.RUNNING


def classified(
    ordered: Sequence[CarTiming],
    kind: SessionKind,
    penalties: Mapping[str, Sequence[Penalty]],
    by_best_lap: bool,
) -> list[CarTiming]:
    """``ordered`` (the order on track) as the stewards' decisions classify it: time and
    lap penalties re-rank a race, position penalties drop places after that, excluded and
    disqualified cars go to the bottom (in the order they had)."""
    if not penalties:
        return list(ordered)
    place = {car.number: index for index, car in enumerate(ordered)}

    def out(car: CarTiming) -> bool:
        return status_of(car, penalties.get(car.number, ())) in (Status.EXCL, Status.DSQ)

    def key(car: CarTiming) -> tuple[int, int, int, int]:
        if by_best_lap or car.last_crossing_us is None:
            return (out(car), 0, 0, place[car.number])
        laps, time_us = adjusted(car, penalties.get(car.number, ()))
        return (out(car), -laps, time_us, place[car.number])

    ranked = sorted(ordered, key=key)
    running = [car for car in ranked if not out(car)]
    bottom = ranked[len(running) :]
    for car in sorted(running, key=lambda c: -running.index(c)):
        places = sum(p.places for p in penalties.get(car.number, ()))
        if places:
            index = running.index(car)
            running.insert(min(index + places, len(running) - 1), running.pop(index))
    return running + bottom


def adjusted(car: CarTiming, penalties: Sequence[Penalty]) -> tuple[int, int]:
    """The car's laps and its last crossing time after lap and time penalties."""
    laps = max(car.lap_count - sum(p.laps for p in penalties), 0)
    last = car.last_crossing_us or 0
    return laps, last + sum(p.time_us for p in penalties)
