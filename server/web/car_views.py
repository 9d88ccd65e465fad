"""One car seen closely (drivers, stints, stops), its crossings, and classifications.

Strategy: pure functions from the engine's records to dicts of strings, like
``server.web.views``: the car detail race control opens from a row, the crossings it picks
from to delete a false passing, the pit marshal's roster with who may get in, and the
hourly and sprint classifications kept with the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from server.engine.model import (
    CarDetail,
    CarState,
    DriverTime,
    Entry,
    LapRecord,
    SessionStatus,
    StandingRow,
)
from server.engine.snapshots import ClassificationSnapshot, SprintClassification
from server.web.control_views import race_time, rest_text
from server.web.formatting import (
    STATE_LABELS,
    format_clock,
    format_gap,
    format_lap,
    format_time_of_day,
    row_dom_id,
)

NOTE_TEXTS = {
    "outside_window": "outside the pit window",
    "too_short": "shorter than the minimum stop",
    "solo_no_exit": "solo driver's exit not confirmed",
}


def driver_view(driver: DriverTime, now_us: int, tz: tzinfo | None = None) -> dict[str, Any]:
    resting = rest_text(driver.rest_until_us, now_us, tz)
    if driver.in_car:
        status = "in car"
    elif driver.flagged:
        status = "licence flagged"
    elif resting:
        status = resting
    else:
        status = "may drive"
    return {
        "name": driver.name,
        "drive": format_clock(driver.drive_us),
        "stints": str(driver.stints),
        "rest_until": format_time_of_day(driver.rest_until_us, tz),
        "resting": bool(resting),
        # the browser counts this down ("in 0:12:34") from the timestamp
        "rest_until_us": driver.rest_until_us if resting else None,
        "rest_in": "in " + format_clock((driver.rest_until_us or now_us) - now_us),
        "in_car": driver.in_car,
        "flagged": driver.flagged,
        "status": status,
        "ready": not (driver.in_car or driver.flagged or resting),
    }


def car_detail_view(
    detail: CarDetail, status: SessionStatus | None, now_us: int, tz: tzinfo | None = None
) -> dict[str, Any]:
    """Everything the control page's car panel shows."""
    in_pit = detail.state is CarState.PIT
    return {
        "number": detail.number,
        "dom_id": row_dom_id(detail.number),
        "team": detail.team,
        "class_name": detail.class_name,
        "state": detail.state.value,
        "state_label": STATE_LABELS[detail.state],
        "driver": detail.driver or "",
        "pending_driver": detail.pending_driver or "",
        "drivers": [driver_view(d, now_us, tz) for d in detail.drivers],
        "stints": [
            {
                "index": str(s.index),
                "driver": s.driver or "?",
                "start": format_time_of_day(s.start_us, tz),
                "start_race": race_time(s.start_us, status),
                "end": format_time_of_day(s.end_us, tz) if s.end_us is not None else "driving",
                "drive": format_clock(s.drive_us),
            }
            for s in detail.stints
        ],
        "stops": [
            {
                "index": str(p.index),
                "pit_in": format_time_of_day(p.pit_in_us, tz) or "?",
                "pit_in_race": race_time(p.pit_in_us, status),
                "pit_out": format_time_of_day(p.pit_out_us, tz)
                or ("in pit" if in_pit and p is detail.stops[-1] else "not seen"),
                "duration": format_lap(p.duration_us),
                "driver_out": p.driver_out or "?",
                "driver_in": p.driver_in or "?",
                "changed": p.changed,
                "solo_exit": p.solo_exit,
                "counts": p.counts,
                "in_window": p.in_window,
                "note": NOTE_TEXTS.get(p.note or "", (p.note or "").replace("_", " ")),
            }
            for p in detail.stops
        ],
        "mandatory": f"{detail.mandatory_served}/{detail.mandatory_required}",
        "mandatory_done": detail.mandatory_served >= detail.mandatory_required,
        "penalties": [p.reason for p in detail.penalties_proposed],
    }


def roster_view(
    entry: Entry,
    detail: CarDetail | None,
    now_us: int,
    tz: tzinfo | None = None,
    undo_driver: str | None = None,
) -> list[dict[str, Any]]:
    """The team's drivers in roster order, each with whether they may get in now.

    ``undo_driver`` got out at the stop under way: confirming them again undoes the
    change (the engine takes it as no change), whatever their rest.
    """
    known = {d.name: d for d in detail.drivers} if detail is not None else {}
    out = []
    for name in entry.drivers:
        driver = known.get(name) or DriverTime(
            name, 0, 0, None, in_car=False, flagged=name in entry.flagged_drivers
        )
        view = driver_view(driver, now_us, tz)
        if name == undo_driver and not driver.flagged:
            view.update(status="stays in (undo the change)", ready=True, rest_until_us=None)
        out.append(view)
    return out


def crossings_view(
    laps: Sequence[LapRecord], limit: int = 30, tz: tzinfo | None = None
) -> list[dict[str, Any]]:
    """The car's latest crossings (newest first) to pick a false one from."""
    return [
        {
            "at_us": lap.at_us,
            "label": f"lap {lap.lap} · {format_time_of_day(lap.at_us, tz, millis=True)}"
            f" · {format_lap(lap.lap_time_us)}" + (" · pit" if lap.pitted else ""),
        }
        for lap in reversed(laps[-limit:])
    ]


def gaps_view(
    laps: Sequence[LapRecord], limit: int = 30, tz: tzinfo | None = None
) -> list[dict[str, Any]]:
    """Between which two crossings a missed passing goes (newest first): the point half
    way between them, where a car at an even pace crossed; a lap about twice the others
    is where the decoder missed one."""
    out: list[dict[str, Any]] = []
    for lap in reversed(laps[-limit:]):
        start = lap.at_us - lap.lap_time_us
        label = (
            f"between lap {lap.lap - 1} ({format_time_of_day(start, tz)}) and lap {lap.lap}"
            f" ({format_time_of_day(lap.at_us, tz)}) · {format_lap(lap.lap_time_us)}"
        )
        out.append({"at_us": start + lap.lap_time_us // 2, "label": label})
    return out


def classification_rows(rows: Sequence[StandingRow]) -> list[dict[str, str]]:
    return [
        {
            "position": str(r.position),
            "class_name": r.class_name,
            "class_position": str(r.class_position),
            "number": r.number,
            "team": r.team,
            "laps": str(r.laps),
            "gap": "" if r.position == 1 else format_gap(r.gap_us, r.gap_laps),
            "class_gap": ""
            if r.class_position == 1
            else format_gap(r.class_gap_us, r.class_gap_laps),
            "best": format_lap(r.best_lap_us),
        }
        for r in rows
    ]


def snapshots_view(
    snapshots: Sequence[ClassificationSnapshot],
    sprint: SprintClassification | None,
    status: SessionStatus | None,
    tz: tzinfo | None = None,
) -> list[dict[str, Any]]:
    """The sprint classification (if taken) and the hourly ones, newest first."""
    out = [
        {
            "label": f"After {snap.label}",
            "time": format_time_of_day(snap.at_us, tz),
            "race_time": race_time(snap.at_us, status),
            "note": "",
            "rows": classification_rows(snap.rows),
        }
        for snap in reversed(snapshots)
    ]
    if sprint is not None:
        out.insert(
            0,
            {
                "label": "Sprint",
                "time": format_time_of_day(sprint.checkered_at_us, tz),
                "race_time": race_time(sprint.checkered_at_us, status),
                "note": "" if sprint.complete else "provisional: cars still to cross",
                "rows": classification_rows(sprint.rows),
            },
        )
    return out
