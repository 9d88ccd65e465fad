"""View models of the stewards' work: the incident queue, the penalties list, decisions
in the ticker, a car's laps with the voided ones, and the printable grid.

Strategy: plain dicts of strings for the templates, built from the engine's records;
nothing here decides a rule (a penalty's state, a car's status, the grid order are the
engine's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from server.engine.events import Decision
from server.engine.grid import GridRow
from server.engine.model import LapRecord, Penalty, PenaltyState, RaceControlMessage, StandingRow
from server.engine.stewards import Incident, describe
from server.web.formatting import format_lap, format_time_of_day

DECISIONS = [(d.value, describe(d.value, None).capitalize()) for d in Decision]
STATE_WORDS = {
    PenaltyState.APPLIED: "",
    PenaltyState.PENDING: "to serve",
    PenaltyState.SERVED: "served",
    PenaltyState.CONVERTED: "not served: converted to time",
}


def penalty_text(penalty: Penalty) -> str:
    text = describe(penalty.decision, penalty.value)
    if penalty.state is PenaltyState.CONVERTED:
        text += f" (not served: +{penalty.time_us // 1_000_000} s)"
    elif penalty.state is not PenaltyState.APPLIED:
        text += f" ({STATE_WORDS[penalty.state]})"
    return text


def penalties_view(rows: Sequence[StandingRow]) -> list[dict[str, str]]:
    """Every car's decisions, in classification order (the /live penalties list)."""
    return [
        {
            "number": p.number,
            "text": penalty_text(p),
            "state": p.state.value,
            "decision": p.decision,
            "status": row.status.value,
        }
        for row in rows
        for p in row.penalties
    ]


def decision_messages(incidents: Sequence[Incident]) -> list[RaceControlMessage]:
    """Each decision (and amendment) as a ticker line, newest first."""
    lines: list[RaceControlMessage] = []
    for incident in incidents:
        for d in incident.decisions:
            cars = d.cars or incident.cars
            what = describe(d.decision, d.value)
            verb = "Stewards amend" if d.amend else "Stewards"
            text = f"{verb}: car {', '.join(cars)} {what}"
            if d.reason:
                text += f" ({d.reason})"
            lines.append(RaceControlMessage(d.at_us, text, None, d.actor))
    return sorted(lines, key=lambda m: -m.at_us)


def with_decisions(
    messages: Sequence[RaceControlMessage], incidents: Sequence[Incident]
) -> list[RaceControlMessage]:
    """Race-control messages and the stewards' decisions merged, newest first."""
    return sorted([*messages, *decision_messages(incidents)], key=lambda m: -m.at_us)


def incident_view(incident: Incident, tz: tzinfo | None = None) -> dict[str, Any]:
    decision = incident.decision
    return {
        "id": incident.incident_id,
        "dom_id": "incident-" + "".join(c if c.isalnum() else "-" for c in incident.incident_id),
        "open": incident.is_open,
        "occurred": incident.occurred,
        "reported": format_time_of_day(incident.at_us, tz),
        "place": incident.place,
        "cars": list(incident.cars),
        "description": incident.description,
        "contact": incident.contact,
        "proposed": incident.proposed,
        "reported_by": incident.reported_by,
        "decision": None
        if decision is None
        else {
            "text": describe(decision.decision, decision.value),
            "reason": decision.reason,
            "by": decision.actor,
            "amended": decision.amend,
        },
        "history": [
            f"{describe(d.decision, d.value)} ({d.reason})" for d in incident.decisions[:-1]
        ],
    }


def queue_view(incidents: Sequence[Incident], tz: tzinfo | None = None) -> dict[str, Any]:
    views = [incident_view(i, tz) for i in incidents]
    return {
        "open": [v for v in views if v["open"]],
        "decided": [v for v in reversed(views) if not v["open"]],
        "decisions": DECISIONS,
    }


def laps_view(laps: Sequence[LapRecord], limit: int = 40) -> list[dict[str, Any]]:
    """The car's laps, newest first; a voided lap is shown struck through."""
    return [
        {"lap": lap.lap, "time": format_lap(lap.lap_time_us), "voided": lap.voided}
        for lap in reversed(laps[-limit:])
    ]


def grid_view(rows: Sequence[GridRow]) -> list[dict[str, str]]:
    return [
        {
            "position": str(row.position),
            "number": row.number,
            "class_name": row.class_name,
            "team": row.team,
            "best": format_lap(row.best_lap_us) if row.best_lap_us is not None else "",
            "reason": row.reason,
            "sent_back": "true" if row.sent_back else "false",
        }
        for row in rows
    ]
