"""The grid of a race from the event's qualifying and its contact incidents.

Strategy: qualifying orders cars by best lap, a tie going to whoever set the time first
(the qualifying standings are already in that order); cars without a time follow in
number order. The series' no-contact rule then sends every car of a contact incident in
practice or qualifying to the back, regardless of fault, keeping their qualifying order
among themselves behind all the others. Each row says why it is where it is. Pure code:
it takes standing rows and incidents, never a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from server.engine.model import StandingRow
from server.engine.positions import number_key


@dataclass(frozen=True, slots=True)
class ContactIncident:
    """A contact incident of a practice or qualifying session of the event."""

    session_name: str
    occurred: str
    place: str
    cars: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GridRow:
    position: int
    number: str
    class_name: str
    team: str
    qualifying_position: int | None  # None: not classified in qualifying
    best_lap_us: int | None
    best_lap_number: int | None
    sent_back: bool
    reason: str


def grid(
    qualifying: Sequence[StandingRow],
    entered: Iterable[tuple[str, str, str]],
    contacts: Sequence[ContactIncident],
) -> list[GridRow]:
    """The grid: ``qualifying`` standings in their order, ``entered`` (number, class,
    team) cars of the race that qualifying does not list, ``contacts`` to apply."""
    timed = [row for row in qualifying if row.best_lap_us is not None]
    untimed = sorted(
        [row for row in qualifying if row.best_lap_us is None], key=lambda r: number_key(r.number)
    )
    listed = {row.number for row in qualifying}
    absent = sorted((e for e in entered if e[0] not in listed), key=lambda e: number_key(e[0]))
    why_back: dict[str, str] = {}
    for incident in contacts:
        for number in incident.cars:
            others = ", ".join(n for n in incident.cars if n != number) or "another car"
            where = " ".join(part for part in (incident.occurred, incident.place) if part)
            text = f"contact with {others} in {incident.session_name}"
            why_back.setdefault(number, f"{text} ({where})" if where else text)
    ordered: list[tuple[str, str, str, int | None, StandingRow | None]] = []
    for index, timed_row in enumerate(timed, start=1):
        ordered.append((timed_row.number, timed_row.class_name, timed_row.team, index, timed_row))
    for untimed_row in untimed:
        ordered.append(
            (untimed_row.number, untimed_row.class_name, untimed_row.team, None, untimed_row)
        )
    for number, class_name, team in absent:
        ordered.append((number, class_name, team, None, None))
    front = [item for item in ordered if item[0] not in why_back]
    back = [item for item in ordered if item[0] in why_back]
    result: list[GridRow] = []
    for position, (number, class_name, team, q_pos, row) in enumerate(front + back, start=1):
        if number in why_back:
            reason = f"sent to the back: {why_back[number]}"
        elif q_pos is not None and row is not None:
            reason = f"qualifying P{q_pos}"
        elif row is not None:
            reason = "no qualifying time: at the back in number order"
        else:
            reason = "did not take part in qualifying: at the back in number order"
        result.append(
            GridRow(
                position=position,
                number=number,
                class_name=class_name,
                team=team,
                qualifying_position=q_pos,
                best_lap_us=None if row is None else row.best_lap_us,
                best_lap_number=None if row is None else row.best_lap_number,
                sent_back=number in why_back,
                reason=reason,
            )
        )
    return result
