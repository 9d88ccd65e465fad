"""What a team's pit wall shows (``/live/teams/{number}``): its car, its drivers against the
rules, its stops and pit window, its penalties and race control's messages.

Strategy: pure, like ``server.web.views``: the engine's ``TeamOutlook`` (everything
decided there) becomes dicts of strings. What moves between two messages carries the
server timestamps live.js ticks it from: the stint clock (``data-st``), the countdowns to
the stint limit and to the pit window's opening or closing (``data-until-us``), the time
in the pit lane (``data-since-us``); the server's text is the value at render time.
Read-only: confirmations stay with the marshals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any
from urllib.parse import quote

from server.engine.model import CarState, RaceControlMessage, SessionStatus
from server.engine.refusals import Refusal
from server.engine.team import DriverOutlook, StintOutlook, TeamOutlook, WindowOutlook
from server.web.car_views import NOTE_TEXTS
from server.web.control_views import race_time
from server.web.formatting import (
    STATE_LABELS,
    STATE_TITLES,
    format_clock,
    format_gap,
    format_lap,
    format_time_of_day,
)
from server.web.stewards_views import penalty_text
from server.web.views import STINT_CRITICAL_US, STINT_WARN_US, session_view, stint_view

TEAM_MESSAGES = 8  # race-control messages on a team's page
_REFUSAL_WORDS = {
    Refusal.REST_NOT_OVER: "resting",
    Refusal.LICENCE_FLAGGED: "licence flagged",
    Refusal.NOT_ON_ROSTER: "not on the entry",
    Refusal.CAR_FINISHED: "car finished",
    Refusal.CAR_RETIRED: "car retired",
}


def team_path(number: str) -> str:
    return "/live/teams/" + quote(number, safe="")


def _countdown(until_us: int | None, now_us: int) -> str:
    if until_us is None:
        return ""
    left = until_us - now_us
    return "in " + format_clock(left) if left > 0 else "now"


def stint_left_view(stint: StintOutlook, now_us: int) -> dict[str, Any]:
    """Time left to the stint limit: a countdown while the clock runs, else the value."""
    left = stint.left_us
    level = ""
    if left is not None:
        level = (
            "over"
            if left <= 0
            else "critical"
            if left <= STINT_CRITICAL_US
            else "warn"
            if left <= STINT_WARN_US
            else ""
        )
    text = ""
    if left is not None and left <= 0:
        text = "over by " + format_clock(-left)
    elif stint.limit_at_us is not None:
        text = _countdown(stint.limit_at_us, now_us)
    elif left is not None:
        text = format_clock(left) + " left"
    return {
        "limit": format_clock(stint.max_us) if stint.max_us is not None else "",
        "text": text,
        "until_us": stint.limit_at_us if left is not None and left > 0 else None,
        "level": level,
    }


def window_view(win: WindowOutlook, now_us: int, tz: tzinfo | None) -> dict[str, Any]:
    done = win.required > 0 and win.served >= win.required
    if win.state == "before":
        until = win.opens_us
        caption = "opens"
    elif win.state == "open" and win.closes_us is not None:
        until, caption = win.closes_us, "closes"
    else:
        until, caption = None, ""
    words = {
        "none": "no mandatory stop",
        "before": "not open yet",
        "open": "open",
        "closed": "closed",
    }
    return {
        "state": win.state.value,
        "text": words[win.state.value],
        "caption": caption,
        "until_us": until,
        "countdown": _countdown(until, now_us),
        "opens": format_time_of_day(win.opens_us, tz),
        "closes": format_time_of_day(win.closes_us, tz) or ("end of race" if win.required else ""),
        "required": str(win.required),
        "served": str(win.served),
        "done": done,
        "owed": win.required > 0 and not done,
    }


def _ticking(value_us: int, stint: dict[str, Any], now_us: int) -> dict[str, Any]:
    """``value_us`` (now) as a clock live.js ticks with the running stint (``_stint.html``)."""
    running = stint["state"] == "running" and stint["since_us"] != ""
    elapsed = max(now_us - int(stint["since_us"]), 0) if running else 0
    return {
        "state": stint["state"],
        "since_us": stint["since_us"] if running else "",  # not running: the text stands
        "base_us": value_us - elapsed,
        "max_us": "",
        "text": format_clock(value_us),
        "level": "",
    }


def driver_line(
    d: DriverOutlook, stint: dict[str, Any], stint_us: int, now_us: int, tz: tzinfo | None
) -> dict[str, Any]:
    """One driver; the one in the car has their total (and their longest stint, when it
    is this one) ticking with the stint clock ``stint`` (``stint_view``), now at
    ``stint_us``."""
    if d.in_car:
        status, ready = "in the car", False
    elif d.refusal is None:
        status, ready = "may drive", True
    elif d.refusal is Refusal.REST_NOT_OVER and d.rest_until_us is not None:
        status, ready = f"rests until {format_time_of_day(d.rest_until_us, tz)}", False
    else:
        status, ready = _REFUSAL_WORDS.get(d.refusal, d.refusal.value.replace("_", " ")), False
    return {
        "name": d.name,
        "in_car": d.in_car,
        "drive": format_clock(d.drive_us),
        "drive_clock": _ticking(d.drive_us, stint, now_us) if d.in_car else None,
        "stints": str(d.stints),
        "longest": format_clock(d.longest_stint_us) if d.stints else "",
        "longest_clock": _ticking(stint_us, stint, now_us)
        if d.in_car and d.longest_stint_us == stint_us and d.stints
        else None,
        "over": d.over_stint_limit,
        "status": status,
        "ready": ready,
        "rest_until_us": d.rest_until_us if not d.in_car and d.rest_until_us else None,
        "rest_in": _countdown(d.rest_until_us, now_us) if d.rest_until_us else "",
        "flagged": d.flagged,
    }


def stops_view(
    outlook: TeamOutlook, status: SessionStatus | None, tz: tzinfo | None
) -> list[dict[str, Any]]:
    out = []
    for p in outlook.stops:
        if p.pit_out_us is None and p.pit_in_us is not None and outlook.row.in_pit:
            duration = "in pit"
        else:
            duration = format_lap(p.duration_us) or "?"
        note = NOTE_TEXTS.get(p.note or "", (p.note or "").replace("_", " "))
        out.append(
            {
                "index": str(p.index),
                "at": race_time(p.pit_in_us, status) or format_time_of_day(p.pit_in_us, tz) or "?",
                "duration": duration,
                "change": f"{p.driver_out or '?'} → {p.driver_in or '?'}" if p.changed else "",
                "counts": p.counts,
                "note": "" if p.counts else note,
            }
        )
    return out


def car_view(outlook: TeamOutlook, now_us: int, tz: tzinfo | None) -> dict[str, Any]:
    row, detail = outlook.row, outlook.detail
    leader, class_leader = row.position == 1, row.class_position == 1
    open_stop = detail.stops[-1] if detail.stops and row.in_pit else None
    pit_since = (
        None if open_stop is None or open_stop.pit_out_us is not None else open_stop.pit_in_us
    )
    return {
        "number": row.number,
        "team": row.team,
        "class_name": row.class_name,
        "state": row.state.value,
        "state_label": STATE_LABELS[row.state],
        "state_title": STATE_TITLES[row.state],
        "started": row.state is not CarState.NOT_STARTED,
        "position": str(row.position),
        "class_position": str(row.class_position),
        "laps": str(row.laps),
        "gap": "leader" if leader else format_gap(row.gap_us, row.gap_laps),
        "interval": "" if leader else format_gap(row.interval_us, row.interval_laps),
        "class_gap": "class leader"
        if class_leader
        else format_gap(row.class_gap_us, row.class_gap_laps),
        "last": format_lap(row.last_lap_us),
        "best": format_lap(row.best_lap_us),
        "best_lap_number": "" if row.best_lap_number is None else str(row.best_lap_number),
        "driver": row.driver or "",
        "pending_driver": detail.pending_driver or "",
        "stint": stint_view(row, now_us, outlook.max_stint_us),
        "stint_left": stint_left_view(outlook.stint, now_us),
        "pit_since_us": pit_since,
        "pit_since": "" if pit_since is None else format_clock(now_us - pit_since),
        "stops": str(len(outlook.stops)),
    }


def penalties_lines(outlook: TeamOutlook) -> list[dict[str, str]]:
    """Decided (applied, to serve, served, converted), then proposed by the rule set or
    reported and not decided yet."""
    lines = [{"state": p.state.value, "text": penalty_text(p)} for p in outlook.row.penalties]
    for incident in outlook.open_incidents:
        where = " · ".join(x for x in (incident.occurred, incident.place) if x)
        what = incident.description if incident.proposed else "incident"
        lines.append({"state": "investigating", "text": f"{what} ({where}): under investigation"})
    return lines


def team_messages(
    messages: Sequence[RaceControlMessage], number: str, tz: tzinfo | None
) -> list[dict[str, Any]]:
    """Race control's messages shown now, newest first, those about this car marked; each
    with when it goes (the engine drops it from the list then)."""
    return [
        {
            "time": format_time_of_day(m.at_us, tz),
            "text": m.text,
            "number": m.number or "",
            "ours": m.number == number,
            "expires": "" if m.expires_at_us is None else format_time_of_day(m.expires_at_us, tz),
        }
        for m in messages[:TEAM_MESSAGES]
    ]


def team_context(
    *,
    number: str,
    event_name: str,
    status: SessionStatus | None,
    outlook: TeamOutlook | None,
    messages: Sequence[RaceControlMessage],
    server_now_us: int,
    clock_rate: float,
    tz: tzinfo | None = None,
) -> dict[str, Any]:
    """Everything ``team.html`` renders; ``outlook`` None: the car is not in the session."""
    now = server_now_us
    team: dict[str, Any] | None = None
    if outlook is not None:
        car = car_view(outlook, now, tz)
        team = {
            "car": car,
            "window": window_view(outlook.window, now, tz),
            "drivers": [
                driver_line(d, car["stint"], outlook.stint.drive_us, now, tz)
                for d in outlook.drivers
            ],
            "stops": stops_view(outlook, status, tz),
            "penalties": penalties_lines(outlook),
            "max_stint": format_clock(outlook.max_stint_us) if outlook.max_stint_us else "",
            "min_rest": format_clock(outlook.min_rest_us) if outlook.min_rest_us else "",
        }
    return {
        "page": "team",
        "ws_url": "/ws" + team_path(number),
        "number": number,
        "event_name": event_name,
        "session": None if status is None else session_view(status, now, clock_rate),
        "team": team,
        "messages": team_messages(messages, number, tz),
        "server_now_us": now,
        "clock_rate": clock_rate,
    }
