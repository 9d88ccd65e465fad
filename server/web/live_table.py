"""The spectators' timing table: chips, sector cells, pit-lane times, what the table shows.

Strategy: ``views.standings_view`` gives every row its strings; this module adds what
only the public table shows, as plain strings, so the page, its row-level updates and
the tests see the same values. A row shows its exceptions only (in the pit, out lap,
stopped, a penalty to serve...), never "RUN" or "0 stops". The table as a whole says
which optional columns it has: laps once a car is lapped, sector columns when the track
has sector loops, pit-lane columns when it has pit loops. Nothing here decides a rule:
states, penalties and lap times are the engine's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.engine.events import Decision, LoopRole, SessionKind
from server.engine.model import CarState, PenaltyState, StandingRow, Status
from server.web.formatting import format_lap, format_minutes_seconds

# a chip per state that is an exception; RUN and NOT_STARTED have none
STATE_CHIPS: dict[CarState, tuple[str, str]] = {
    CarState.PIT: ("PIT", "in the pit lane (time since pit-in)"),
    CarState.OUT: ("OUT", "out lap (time of the stop in the pit lane)"),
    CarState.STOPPED: ("STOP", "stopped on track"),
    CarState.FINISHED: ("FIN", "took the checkered flag"),
    CarState.RETIRED: ("RET", "retired"),
    CarState.NOT_CLASSIFIED: ("NC", "not classified"),
    CarState.DISQUALIFIED: ("DSQ", "disqualified"),
}
_TO_SERVE = {Decision.DRIVE_THROUGH.value: "DT", Decision.STOP_AND_GO.value: "SG"}
_PENALISED = {
    Decision.TIME_PENALTY.value,
    Decision.LAP_PENALTY.value,
    Decision.POSITION_PENALTY.value,
}


def _chip(kind: str, label: str, title: str) -> dict[str, Any]:
    return {"kind": kind, "label": label, "title": title, "time": "", "since_us": None}


def chips(row: StandingRow, now_us: int | None = None) -> list[dict[str, Any]]:
    """The exceptions of one car, most urgent first: each a kind (for colour and the
    legend), a label, a title, and for the pit lane the pit-in time the browser ticks."""
    out: list[dict[str, Any]] = []
    state = STATE_CHIPS.get(row.state)
    if row.status in (Status.DSQ, Status.EXCL):
        out.append(_chip("dsq", row.status.value, "excluded or disqualified"))
    elif state is not None:
        chip = _chip(row.state.value, *state)
        if row.state is CarState.PIT and row.pit_in_us is not None:
            chip["since_us"] = row.pit_in_us
            if now_us is not None:
                chip["time"] = format_minutes_seconds(now_us - row.pit_in_us)
        elif row.state is CarState.OUT and row.last_pit_lane_us is not None:
            chip["time"] = format_minutes_seconds(row.last_pit_lane_us)
        out.append(chip)
    for p in row.penalties:
        if p.state is PenaltyState.PENDING and p.decision in _TO_SERVE:
            label = _TO_SERVE[p.decision]
            title = "drive-through" if label == "DT" else "stop-and-go"
            out.append(_chip("pen", label, f"{title} to serve"))
        elif p.state is not PenaltyState.PENDING and p.decision in _PENALISED:
            out.append(_chip("pen", "PEN", "penalised: see Penalties"))
            break
    return out


def sector_cells(row: StandingRow, field_best: Sequence[int | None]) -> list[dict[str, str]]:
    """The last lap's sector times, each marked "ob" (fastest of the field), "pb" (the
    car's own best) or ""; empty strings for sectors the lap did not time."""
    cells: list[dict[str, str]] = []
    for i in range(len(field_best)):
        us = row.last_sectors_us[i] if i < len(row.last_sectors_us) else None
        own = row.best_sectors_us[i] if i < len(row.best_sectors_us) else None
        mark = ""
        if us is not None and us == field_best[i]:
            mark = "ob"
        elif us is not None and us == own:
            mark = "pb"
        cells.append({"text": format_lap(us), "mark": mark})
    return cells


def field_best_sectors(rows: Sequence[StandingRow], count: int) -> list[int | None]:
    best: list[int | None] = [None] * count
    for r in rows:
        for i, us in enumerate(r.best_sectors_us[:count]):
            known = best[i]
            if us is not None and (known is None or us < known):
                best[i] = us
    return best


def lapped(rows: Sequence[StandingRow]) -> bool:
    """Whether a car of a race has been lapped: two laps down, or one lap down and last
    seen before the leader's previous crossing (a car between the leader's crossing and
    its own is one lap down on the counts but still on the lead lap)."""
    if not rows:
        return False
    leader = rows[0]
    leader_before = (
        None
        if leader.last_crossing_us is None or leader.last_lap_us is None
        else leader.last_crossing_us - leader.last_lap_us
    )
    for r in rows[1:]:
        if r.gap_laps >= 2:
            return True
        seen, before = r.last_crossing_us, leader_before
        if r.gap_laps == 1 and seen is not None and before is not None and seen < before:
            return True
    return False


def track_columns(roles: Sequence[tuple[LoopRole, int | None]]) -> tuple[int, bool]:
    """(sector columns, pit-lane columns) for a track of loops (role, sector index): n
    sector loops time n + 1 sectors (the last one ends at the line)."""
    sectors = {s for role, s in roles if role is LoopRole.SECTOR and s is not None}
    pits = any(role in (LoopRole.PIT_IN, LoopRole.PIT_OUT) for role, _ in roles)
    return (len(sectors) + 1 if sectors else 0), pits


def table_view(
    rows: Sequence[StandingRow],
    views: list[dict[str, Any]],
    kind: SessionKind | None,
    *,
    now_us: int | None = None,
    sectors: int = 0,
    pit_columns: bool = False,
) -> dict[str, Any]:
    """Adds each public row's chips, sector cells and pit-lane time to ``views`` (the
    rows of ``standings_view``, in the same order) and says what the table shows."""
    field_best = field_best_sectors(rows, sectors)
    for r, v in zip(rows, views, strict=True):
        v["chips"] = chips(r, now_us)
        v["sector_cells"] = sector_cells(r, field_best) if sectors else []
        v["pit_lane"] = format_minutes_seconds(r.last_pit_lane_us)
        v["pit_in_us"] = r.pit_in_us if r.state is CarState.PIT else None
        if v["pit_in_us"] is not None and now_us is not None:
            v["pit_lane"] = format_minutes_seconds(now_us - v["pit_in_us"])
    racing = kind in (SessionKind.RACE, SessionKind.SPRINTDURO)
    return {
        # "all": laps always shown (practice, qualifying); a race: "lapped" or "lead"
        "laps": "all" if not racing else "lapped" if lapped(rows) else "lead",
        "sectors": list(range(1, sectors + 1)),
        "pit_columns": pit_columns,
    }
