"""The stewards: incidents, each kind of decision, drive-throughs served or converted,
amendments, voided laps, refusals, and the same state from a replayed journal."""

from __future__ import annotations

import json

import pytest
from engine_helpers import (
    S,
    cross,
    every_lap,
    flag,
    green,
    in_time_order,
    make_engine,
    numbers,
    of_type,
    pit_in,
    pit_out,
    row,
    run,
)

from server.engine import Flag, RaceEngine, SessionKind
from server.engine.events import (
    Decision,
    IncidentDecided,
    IncidentReported,
    InputEvent,
    LapVoided,
    from_record,
    to_record,
)
from server.engine.model import PenaltyState, Status
from server.engine.outbound import CommandRefused, DecisionRecorded, IncidentRecorded
from server.engine.refusals import Refusal
from server.engine.rules import RuleSet


def report(*cars: str, at_s: float = 50, contact: bool = True) -> IncidentReported:
    return IncidentReported(
        at_us=round(at_s * S),
        occurred="00:00:50",
        place="T3",
        cars=cars,
        description="contact at the hairpin",
        contact=contact,
        actor="control",
    )


def decide(
    incident_id: str,
    decision: Decision,
    value: int | None = None,
    at_s: float = 60,
    *,
    cars: tuple[str, ...] = (),
    amend: bool = False,
) -> IncidentDecided:
    return IncidentDecided(
        incident_id, decision, round(at_s * S), "steward's reason", "chief", value, cars, amend
    )


def race_of_three(**rules: object) -> RaceEngine:
    """Cars 1, 2, 3 each 1 s apart on laps of 100 s for 5 laps (1 leads)."""
    engine = make_engine(("1", "2", "3"), rules=RuleSet(**rules))  # type: ignore[arg-type]
    run(engine, [green(0)])
    for lap in range(6):
        for offset, number in enumerate(("1", "2", "3")):
            run(engine, [cross(number, 1 + lap * 100 + offset)])
    return engine


def incident_id(out: list[object]) -> str:
    (recorded,) = of_type(out, IncidentRecorded)
    return recorded.incident_id


def refusal(out: list[object]) -> Refusal:
    (refused,) = of_type(out, CommandRefused)
    return refused.reason


def test_an_incident_is_recorded_open_with_its_cars() -> None:
    engine = race_of_three()
    out = run(engine, [report("1", "2")])
    assert incident_id(out) == "1-1"
    (incident,) = engine.incidents()
    assert incident.cars == ("1", "2") and incident.contact and incident.is_open
    assert incident.place == "T3" and incident.occurred == "00:00:50"


def test_an_incident_with_a_car_not_entered_is_refused_and_changes_nothing() -> None:
    engine = race_of_three()
    assert refusal(run(engine, [report("1", "99")])) is Refusal.UNKNOWN_CAR
    assert engine.incidents() == []


def test_a_time_penalty_changes_the_order_and_the_gap() -> None:
    engine = race_of_three()
    assert numbers(engine) == ["1", "2", "3"]
    iid = incident_id(run(engine, [report("1")]))
    out = run(engine, [decide(iid, Decision.TIME_PENALTY, 30)])
    assert of_type(out, DecisionRecorded)[0].cars == ("1",)
    assert numbers(engine) == ["2", "3", "1"]
    penalised = row(engine, "1")
    assert penalised.gap_us == 29 * S  # 30 s added, 1 s ahead on the road
    (penalty,) = penalised.penalties
    assert penalty.state is PenaltyState.APPLIED and penalty.time_us == 30 * S
    assert penalty.describe() == "30 s time penalty"
    assert penalised.status is Status.RUNNING


def test_a_lap_penalty_removes_laps() -> None:
    engine = race_of_three()
    iid = incident_id(run(engine, [report("1")]))
    run(engine, [decide(iid, Decision.LAP_PENALTY, 1)])
    assert numbers(engine) == ["2", "3", "1"]
    assert row(engine, "1").laps == 4 and row(engine, "1").gap_laps == 1


def test_a_position_penalty_drops_places_after_ordering() -> None:
    engine = race_of_three()
    iid = incident_id(run(engine, [report("1")]))
    run(engine, [decide(iid, Decision.POSITION_PENALTY, 1)])
    assert numbers(engine) == ["2", "1", "3"]
    # more places than there are cars behind: last; car 1 still drops one place
    # from first (both penalties apply to the order on the road)
    iid = incident_id(run(engine, [report("2")]))
    run(engine, [decide(iid, Decision.POSITION_PENALTY, 5)])
    assert numbers(engine) == ["3", "1", "2"]


@pytest.mark.parametrize(
    ("decision", "status"),
    [(Decision.EXCLUSION, Status.EXCL), (Decision.DISQUALIFICATION, Status.DSQ)],
)
def test_exclusion_and_disqualification_go_to_the_bottom(
    decision: Decision, status: Status
) -> None:
    engine = race_of_three()
    iid = incident_id(run(engine, [report("1", "2")]))
    run(engine, [decide(iid, decision)])
    assert numbers(engine) == ["3", "1", "2"]
    assert row(engine, "1").status is status and row(engine, "2").status is status
    assert row(engine, "3").status is Status.RUNNING


@pytest.mark.parametrize("decision", [Decision.NO_ACTION, Decision.WARNING])
def test_no_action_and_a_warning_change_no_order(decision: Decision) -> None:
    engine = race_of_three()
    iid = incident_id(run(engine, [report("1")]))
    run(engine, [decide(iid, decision)])
    assert numbers(engine) == ["1", "2", "3"]
    (penalty,) = row(engine, "1").penalties
    assert penalty.decision == decision.value and penalty.time_us == 0
    assert not engine.incidents()[0].is_open


def test_a_decision_names_one_car_of_the_incident() -> None:
    engine = race_of_three()
    iid = incident_id(run(engine, [report("1", "2")]))
    run(engine, [decide(iid, Decision.TIME_PENALTY, 5, cars=("2",))])
    assert row(engine, "1").penalties == () and len(row(engine, "2").penalties) == 1
    iid = incident_id(run(engine, [report("1")]))
    refused = run(engine, [decide(iid, Decision.WARNING, cars=("3",))])
    assert refusal(refused) is Refusal.CAR_NOT_INVOLVED


def test_refusals_change_nothing() -> None:
    engine = race_of_three()
    iid = incident_id(run(engine, [report("1")]))
    assert refusal(run(engine, [decide("1-99", Decision.WARNING)])) is Refusal.NO_SUCH_INCIDENT
    assert refusal(run(engine, [decide(iid, Decision.TIME_PENALTY)])) is Refusal.VALUE_REQUIRED
    refused = run(engine, [decide(iid, Decision.LAP_PENALTY, -1)])
    assert refusal(refused) is Refusal.VALUE_REQUIRED
    assert refusal(run(engine, [decide(iid, Decision.WARNING, amend=True)])) is (
        Refusal.NOT_DECIDED
    )
    assert engine.incidents()[0].is_open and numbers(engine) == ["1", "2", "3"]
    run(engine, [decide(iid, Decision.TIME_PENALTY, 30)])
    # closed: another decision is refused, an amendment is not
    assert refusal(run(engine, [decide(iid, Decision.WARNING)])) is Refusal.ALREADY_DECIDED
    assert numbers(engine) == ["2", "3", "1"]
    run(engine, [decide(iid, Decision.TIME_PENALTY, 2, at_s=700, amend=True)])
    # 2 s: behind car 2, level with car 3 and ahead of it on the road
    assert numbers(engine) == ["2", "1", "3"]
    (incident,) = engine.incidents()
    assert [d.value for d in incident.decisions] == [30, 2]


def test_a_drive_through_is_pending_then_served_at_the_next_stop() -> None:
    engine = make_engine(("1", "2"), length_us=3600 * S)
    run(engine, [green(0), cross("1", 1), cross("2", 2), cross("1", 101), cross("2", 102)])
    run(engine, [pit_in("1", 90)])  # a stop before the decision does not serve it
    run(engine, [pit_out("1", 95)])
    iid = incident_id(run(engine, [report("1", at_s=110)]))
    run(engine, [decide(iid, Decision.DRIVE_THROUGH, at_s=120)])
    (penalty,) = row(engine, "1").penalties
    assert penalty.state is PenaltyState.PENDING
    run(engine, [cross("1", 201), pit_in("1", 250), pit_out("1", 270), cross("1", 301)])
    (penalty,) = row(engine, "1").penalties
    assert penalty.state is PenaltyState.SERVED and penalty.served_at_us == 250 * S
    assert penalty.time_us == 0


def test_a_drive_through_not_served_before_the_end_becomes_the_rule_sets_time() -> None:
    engine = make_engine(("1", "2"), length_us=250 * S, rules=RuleSet(drive_through_time_us=20 * S))
    run(engine, [green(0), cross("1", 1), cross("2", 2), cross("1", 101), cross("2", 112)])
    iid = incident_id(run(engine, [report("1", at_s=110)]))
    run(engine, [decide(iid, Decision.DRIVE_THROUGH, at_s=120)])
    iid2 = incident_id(run(engine, [report("2", at_s=121)]))
    run(engine, [decide(iid2, Decision.STOP_AND_GO, 10, at_s=122)])
    assert row(engine, "1").penalties[0].state is PenaltyState.PENDING
    # the clock expires at 250 s: the leader's next crossing takes the flag
    run(engine, [cross("1", 201), cross("2", 212), cross("1", 301), cross("2", 312)])
    assert engine.status().finished
    (penalty,) = row(engine, "1").penalties
    assert penalty.state is PenaltyState.CONVERTED and penalty.time_us == 20 * S
    assert penalty.describe() == "drive-through (not served: +20 s)"
    (penalty,) = row(engine, "2").penalties
    assert penalty.state is PenaltyState.CONVERTED and penalty.time_us == 40 * S  # default
    # 1 finished 11 s ahead on the road, then 20 s against 40 s: it keeps the lead
    assert numbers(engine) == ["1", "2"] and row(engine, "2").gap_us == 31 * S


def test_a_voided_lap_counts_but_is_no_longer_the_best() -> None:
    engine = make_engine(("1",), kind=SessionKind.QUALIFYING)
    run(engine, [green(0), cross("1", 0), cross("1", 90), cross("1", 190), cross("1", 285)])
    assert row(engine, "1").best_lap_number == 1 and row(engine, "1").best_lap_us == 90 * S
    run(engine, [LapVoided("1", 1, 300 * S, "track limits T4", "control")])
    assert row(engine, "1").best_lap_number == 3 and row(engine, "1").best_lap_us == 95 * S
    assert row(engine, "1").laps == 3
    assert [lap.voided for lap in engine.laps_of("1")] == [True, False, False]
    out = run(engine, [LapVoided("1", 9, 301 * S, "no such", "control")])
    assert refusal(out) is Refusal.NO_SUCH_LAP
    assert refusal(run(engine, [LapVoided("1", 1, 302 * S, "again", "control")])) is (
        Refusal.ALREADY_VOIDED
    )
    assert refusal(run(engine, [LapVoided("9", 1, 303 * S, "x", "control")])) is (
        Refusal.UNKNOWN_CAR
    )


def test_the_rule_sets_proposal_is_an_incident_the_stewards_decide() -> None:
    engine = make_engine(("1", "2"), length_us=250 * S)
    run(engine, [green(0), *in_time_order(every_lap("1", 1, 301), every_lap("2", 2, 302))])
    assert engine.status().finished
    proposed = [i for i in engine.incidents() if i.proposed]
    assert [i.cars for i in proposed] == [("1",), ("2",)]
    assert "missed mandatory stop" in proposed[0].description
    run(engine, [decide(proposed[1].incident_id, Decision.LAP_PENALTY, 1, at_s=400)])
    assert numbers(engine) == ["1", "2"] and row(engine, "2").gap_laps == 1
    decided = engine.incident(proposed[1].incident_id)
    assert decided is not None and not decided.is_open and decided.proposed


def stewards_journal() -> list[InputEvent]:
    events: list[InputEvent] = [green(0)]
    for lap in range(4):
        events += [cross("1", 1 + lap * 100), cross("2", 2 + lap * 100), cross("3", 3 + lap * 100)]
    events += [
        report("1", "3", at_s=310),
        decide("1-1", Decision.TIME_PENALTY, 30, at_s=311, cars=("1",)),
        LapVoided("2", 2, 312 * S, "track limits", "control"),
        decide("1-1", Decision.POSITION_PENALTY, 1, at_s=313, amend=True, cars=("1",)),
        flag(Flag.YELLOW, 320),
    ]
    return events


def test_replaying_the_journal_rebuilds_the_same_stewards_state() -> None:
    live = make_engine(("1", "2", "3"))
    journal = [json.dumps(to_record(event)) for event in stewards_journal()]
    run(live, stewards_journal())
    replayed = make_engine(("1", "2", "3"))
    run(replayed, [from_record(json.loads(line)) for line in journal])
    assert replayed.standings() == live.standings()
    assert [(i.incident_id, i.decisions) for i in replayed.incidents()] == [
        (i.incident_id, i.decisions) for i in live.incidents()
    ]
    assert numbers(live) == ["2", "1", "3"]
    assert replayed.laps_of("2") == live.laps_of("2")
