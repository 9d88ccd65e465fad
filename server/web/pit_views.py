"""What the pit marshals' page shows: the cars in the pit lane first, every car's roster.

Strategy: one context for all marshals (the pit channel renders once per change), pure
like ``server.web.views``. A car's panel carries what a marshal needs to confirm a change in
two taps (car, then driver): the drivers in roster order, each saying whether they may
get in now (in the car, resting until when, licence flagged), so a refusal is seldom a
surprise; the engine still judges every confirmation. Cars are in number order (how a
marshal finds them); those in the pit lane are also listed on top with the time since
their pit-in, ticking in the browser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from server.engine.model import (
    CarDetail,
    CarState,
    Entry,
    RaceControlMessage,
    SessionStatus,
    StandingRow,
)
from server.engine.rules import IMG, RuleSet
from server.web.car_views import roster_view
from server.web.control_views import WINDOW_WARN_US, messages_view
from server.web.formatting import STATE_LABELS, STATE_TITLES, format_clock
from server.web.views import live_context, stint_view

_DIGITS = re.compile(r"(\d+)")
PIT_MESSAGES = 5


def number_order(number: str) -> tuple[tuple[int, int | str], ...]:
    """Car numbers as people sort them: 2 before 10, "07" next to "7"."""
    parts = _DIGITS.split(number)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


# what marks a car in the grid, in the order the marks show
MARKS = {
    "stint": "Stint",  # its driver is within STINT_WARN_US of the stint limit (or over)
    "due": "Stop",  # the pit window closes within WINDOW_WARN_US, mandatory stop not made
    "called": "Call",  # a race-control message about it is shown
}


def car_marks(
    row: StandingRow | None,
    status: SessionStatus | None,
    now_us: int,
    rules: RuleSet,
    called: frozenset[str],
) -> tuple[str, ...]:
    """Why a marshal should look at this car now: keys of ``MARKS``."""
    if row is None or row.state in (CarState.FINISHED, CarState.RETIRED):
        return ()
    marks: list[str] = []
    if stint_view(row, now_us, rules.max_stint_us)["level"]:
        marks.append("stint")
    opens = None if status is None else status.pit_window_opens_us
    closes = None if status is None else status.pit_window_closes_us
    # due: the window is open and closes soon (a window open from the green is not news)
    closing = closes is not None and closes - WINDOW_WARN_US <= now_us < closes
    if opens is not None and now_us >= opens and closing and not row.mandatory_served:
        marks.append("due")
    if row.number in called:
        marks.append("called")
    return tuple(marks)


def called_in(messages: Sequence[RaceControlMessage]) -> frozenset[str]:
    """The cars a shown race-control message is about."""
    return frozenset(m.number for m in messages if m.number)


def pit_car(
    entry: Entry,
    row: StandingRow | None,
    detail: CarDetail | None,
    now_us: int,
    rules: RuleSet,
    tz: tzinfo | None,
    marks: tuple[str, ...] = (),
) -> dict[str, Any]:
    state = row.state if row is not None else CarState.NOT_STARTED
    open_stop = None
    if detail is not None and detail.stops and state is CarState.PIT:
        last = detail.stops[-1]
        open_stop = last if last.pit_out_us is None else None
    pit_since = open_stop.pit_in_us if open_stop is not None else None
    changed = open_stop is not None and open_stop.changed
    undo_driver = open_stop.driver_out if changed and open_stop is not None else None
    return {
        "number": entry.number,
        "key": re.sub(r"[^A-Za-z0-9_-]", "_", entry.number),
        "team": entry.team,
        "class_name": entry.class_name,
        "state": state.value,
        "state_label": STATE_LABELS[state],
        "state_title": STATE_TITLES[state],
        "in_pit": state is CarState.PIT,
        "driver": (row.driver if row is not None else None) or "",
        "stint": stint_view(row, now_us, rules.max_stint_us) if row is not None else None,
        "pit_since_us": pit_since,
        "pit_since": "" if pit_since is None else format_clock(now_us - pit_since),
        "roster": roster_view(entry, detail, now_us, tz, undo_driver),
        "solo": len(entry.drivers) <= 1,
        "pending_driver": (detail.pending_driver if detail is not None else None) or "",
        "stop_change": open_stop.driver_in if open_stop is not None and open_stop.changed else "",
        "solo_exit_done": open_stop is not None and open_stop.solo_exit,
        "pit_stops": str(row.pit_stops) if row is not None else "0",
        "mandatory_served": row is not None and row.mandatory_served,
        "marks": [{"key": key, "label": MARKS[key]} for key in marks],
    }


def pit_context(
    *,
    event_name: str,
    status: SessionStatus | None,
    rows: Sequence[StandingRow],
    details: Mapping[str, CarDetail],
    entries: Sequence[Entry],
    server_now_us: int,
    clock_rate: float,
    messages: Sequence[RaceControlMessage] = (),
    rules: RuleSet = IMG,
    tz: tzinfo | None = None,
) -> dict[str, Any]:
    """Everything ``pit.html`` renders (page and fragments)."""
    context = live_context(
        event_name=event_name,
        status=status,
        rows=(),
        server_now_us=server_now_us,
        clock_rate=clock_rate,
        messages=messages,
        tz=tz,
    )
    by_number = {row.number: row for row in rows}
    called = called_in(messages)
    cars = []
    for e in sorted(entries, key=lambda e: number_order(e.number)):
        row = by_number.get(e.number)
        marks = car_marks(row, status, server_now_us, rules, called)
        cars.append(pit_car(e, row, details.get(e.number), server_now_us, rules, tz, marks))
    context.update(
        page="pit",
        ws_url="/ws/pit",
        cars=cars,
        in_pit=[car for car in cars if car["in_pit"]],
        ticker=messages_view(messages, PIT_MESSAGES, tz),
    )
    return context
