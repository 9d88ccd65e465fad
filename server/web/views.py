"""What the templates render: ready-made template contexts for the live and control pages.

Strategy: everything here is pure (no clock reads, no I/O, no Jinja): the caller passes the
server time and the engine's records and gets plain dicts of strings back, so a page, its
websocket fragments and the tests all see the same values. Times are integer microseconds
in the session time base; the strings come from ``server.web.formatting`` (re-exported here).
Clocks that move between two messages (the race clock, stint clocks, ages) also carry the
server timestamps the browser ticks them from (``server/web/static/live.js``), with the same
rules. The control page's other panels come from ``server.web.control_views`` and
``server.web.car_views``; the pit page's from ``server.web.pit_views``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from server.engine.alerts import Alert
from server.engine.events import (
    FLAG_UNDO_US,
    Correction,
    Flag,
    FlagChanged,
    PassingAdded,
    PassingDeleted,
    SessionKind,
)
from server.engine.model import (
    CarState,
    Entry,
    RaceControlMessage,
    SessionStatus,
    StandingRow,
    StintClock,
)
from server.engine.rules import IMG, MINUTE_US, RuleSet
from server.engine.snapshots import SprintClassification
from server.web.car_views import classification_rows
from server.web.control_views import (
    alerts_view,
    caution_buttons,
    clock_view,
    decoder_view,
    finish_view,
    messages_view,
    pit_window_view,
)
from server.web.formatting import (
    FLAG_LABELS,
    KIND_LABELS,
    STATE_LABELS,
    STATE_TITLES,
    US_PER_S,
    format_age,
    format_clock,
    format_gap,
    format_lap,
    format_seconds_ago,
    format_time_of_day,
    heartbeat_html,
    row_dom_id,
)
from server.web.live_table import table_view
from server.web.stewards_views import penalties_view

__all__ = [
    "FLAG_BUTTONS",
    "control_context",
    "decoder_view",
    "format_age",
    "format_clock",
    "format_gap",
    "format_lap",
    "format_seconds_ago",
    "heartbeat_html",
    "live_context",
    "row_dom_id",
    "session_view",
    "standings_view",
    "stint_view",
]

# the buttons race control may press, in the order they are shown; (flag, label, confirm)
FLAG_BUTTONS: tuple[tuple[Flag, str, str | None], ...] = (
    (Flag.GREEN, "Green", None),
    (Flag.YELLOW, "Full-course yellow", None),
    (Flag.RED, "Red", None),
    (Flag.CHECKERED, "Checkered", "Show the checkered flag and end the session?"),
)
_TIMED_KINDS = (SessionKind.RACE, SessionKind.SPRINTDURO)
# stint clocks turn amber, then red, this long before the limit (live.js: the same)
STINT_WARN_US = 30 * MINUTE_US
STINT_CRITICAL_US = 15 * MINUTE_US
LIVE_MESSAGES = 3  # race-control messages on the spectators' ticker
CONTROL_MESSAGES = 20


# --- context builders --------------------------------------------------------------


def corrections_view(
    corrections: Sequence[Correction], tz: tzinfo | None = None, limit: int = 6
) -> list[dict[str, Any]]:
    """The latest corrections that count (newest first), each with what undoes it."""
    out: list[dict[str, Any]] = []
    for c in reversed(corrections[-limit:]):
        if isinstance(c, PassingAdded):
            what = f"passing added at {format_time_of_day(c.at_us, tz, millis=True)}"
        elif isinstance(c, PassingDeleted):
            what = f"passing at {format_time_of_day(c.crossing_at_us, tz, millis=True)} deleted"
        else:
            what = f"transponder {c.transponder} assigned"
        out.append(
            {
                "kind": type(c).__name__,
                "number": c.number,
                "at_us": c.at_us,
                "text": f"Car {c.number}: {what}",
                "reason": c.reason,
                "actor": c.actor,
            }
        )
    return out


def stint_view(
    row: StandingRow, server_now_us: int | None, max_stint_us: int | None = None
) -> dict[str, Any]:
    """The current driver's stint clock: its text now, what the browser ticks it from
    (``base_us`` at ``since_us``, ticking only while ``state`` is "running") and how near
    the limit it is ("", "warn", "critical", "over")."""
    state, since = row.stint_clock, row.stint_clock_since_us
    value = row.stint_drive_us
    if state is StintClock.RUNNING and since is not None and server_now_us is not None:
        value += max(server_now_us - since, 0)
    level = ""
    if max_stint_us is not None and state is not StintClock.NONE:
        left = max_stint_us - value
        if left <= 0:
            level = "over"
        elif left <= STINT_CRITICAL_US:
            level = "critical"
        elif left <= STINT_WARN_US:
            level = "warn"
    return {
        "state": state.value,
        "since_us": "" if since is None else since,
        "base_us": row.stint_drive_us,
        "max_us": "" if max_stint_us is None else max_stint_us,
        "text": "" if state is StintClock.NONE else format_clock(value),
        "left": ""
        if max_stint_us is None or state is StintClock.NONE
        else ("-" if value > max_stint_us else "") + format_clock(abs(max_stint_us - value)),
        "level": level,
    }


def standings_view(
    rows: Sequence[StandingRow],
    *,
    server_now_us: int | None = None,
    max_stint_us: int | None = None,
) -> list[dict[str, Any]]:
    """One dict of display strings per row, in the engine's order."""
    bests = [r.best_lap_us for r in rows if r.best_lap_us is not None]
    overall_best = min(bests) if bests else None
    class_best: dict[str, int] = {}
    for r in rows:
        if r.best_lap_us is not None:
            known = class_best.get(r.class_name)
            class_best[r.class_name] = r.best_lap_us if known is None else min(known, r.best_lap_us)
    out: list[dict[str, Any]] = []
    for r in rows:
        leader, class_leader = r.position == 1, r.class_position == 1
        crossing_age = (
            None
            if r.last_crossing_us is None or server_now_us is None
            else server_now_us - r.last_crossing_us
        )
        out.append(
            {
                "dom_id": row_dom_id(r.number),
                "number": r.number,
                "class_name": r.class_name,
                "position": str(r.position),
                "class_position": str(r.class_position),
                "class_label": f"{r.class_name} {r.class_position}",
                "team": r.team,
                "laps": str(r.laps),
                "gap": "" if leader else format_gap(r.gap_us, r.gap_laps),
                "interval": "" if leader else format_gap(r.interval_us, r.interval_laps),
                "class_gap": "" if class_leader else format_gap(r.class_gap_us, r.class_gap_laps),
                "class_interval": (
                    "" if class_leader else format_gap(r.class_interval_us, r.class_interval_laps)
                ),
                "last": format_lap(r.last_lap_us),
                # sector loops: the last lap's sectors, for race control
                "sectors": " · ".join(format_lap(us) for us in r.last_sectors_us),
                "best": format_lap(r.best_lap_us),
                "best_lap_number": "" if r.best_lap_number is None else str(r.best_lap_number),
                "is_overall_best": r.best_lap_us is not None and r.best_lap_us == overall_best,
                "is_class_best": (
                    r.best_lap_us is not None and r.best_lap_us == class_best.get(r.class_name)
                ),
                "state": r.state.value,
                "state_label": STATE_LABELS[r.state],
                "state_title": STATE_TITLES[r.state],
                "last_crossing_us": r.last_crossing_us,
                "last_crossing": format_seconds_ago(crossing_age),
                "driver": r.driver or "",
                "stint": stint_view(r, server_now_us, max_stint_us),
                "pit_stops": str(r.pit_stops),
                "mandatory_served": r.mandatory_served,
                "in_pit": r.state is CarState.PIT,
            }
        )
    return out


def session_view(status: SessionStatus, server_now_us: int, clock_rate: float) -> dict[str, Any]:
    """The header: names, flag and the clock with what the browser needs to tick it."""
    remaining = status.kind in _TIMED_KINDS and status.ends_at_us is not None
    # the clock stops at the checkered flag, and while race control has stopped it
    stops = [t for t in (status.checkered_at_us, status.clock_paused_since_us) if t is not None]
    stopped = min(stops) if stops else None
    now = server_now_us if stopped is None else min(server_now_us, stopped)
    if remaining:
        assert status.ends_at_us is not None
        left = max(status.ends_at_us - now, 0)
        text = format_clock(-(-left // US_PER_S) * US_PER_S)  # round a countdown up
    elif status.green_at_us is None:
        text = format_clock(0)
    else:
        text = format_clock(now - status.green_at_us - status.clock_paused_us)
    return {
        "id": status.session_id,
        "name": status.name,
        "kind": status.kind.value,
        "kind_label": KIND_LABELS[status.kind],
        "flag": status.flag.value,
        "flag_label": FLAG_LABELS[status.flag],
        "finished": status.finished,
        "local_yellows": sorted(status.local_yellows),
        "clock": {
            "mode": "remaining" if remaining else "elapsed",
            "text": text,
            "green_at_us": status.green_at_us,
            "ends_at_us": status.ends_at_us,
            "stopped_at_us": stopped,
            "paused_us": status.clock_paused_us,
            "paused": status.clock_paused_since_us is not None and status.checkered_at_us is None,
            "server_now_us": server_now_us,
            "rate": clock_rate,
        },
    }


def live_context(
    *,
    event_name: str,
    status: SessionStatus | None,
    rows: Sequence[StandingRow],
    server_now_us: int,
    clock_rate: float,
    messages: Sequence[RaceControlMessage] = (),
    sprint: SprintClassification | None = None,
    max_stint_us: int | None = None,
    tz: tzinfo | None = None,
    sectors: int = 0,
    pit_columns: bool = False,
) -> dict[str, Any]:
    """Everything ``live.html`` renders (page and fragments): spectators see names and
    numbers only (drivers, teams, cars), never who in race control did what. ``sectors``
    and ``pit_columns``: the track's sector and pit loops (``live_table.track_columns``)."""
    views = standings_view(rows, server_now_us=server_now_us, max_stint_us=max_stint_us)
    kind = None if status is None else status.kind
    table = table_view(
        rows, views, kind, now_us=server_now_us, sectors=sectors, pit_columns=pit_columns
    )
    return {
        "page": "live",
        "ws_url": "/ws/live",
        "event_name": event_name,
        "session": None if status is None else session_view(status, server_now_us, clock_rate),
        "rows": views,
        "table": table,
        "server_now_us": server_now_us,
        "clock_rate": clock_rate,
        "ticker": messages_view(messages, LIVE_MESSAGES, tz),
        "penalties": penalties_view(rows),
        "sprint": None
        if sprint is None
        else {"complete": sprint.complete, "rows": classification_rows(sprint.rows)},
    }


def control_context(
    *,
    event_name: str,
    status: SessionStatus | None,
    rows: Sequence[StandingRow],
    server_now_us: int,
    clock_rate: float,
    decoders: Sequence[Mapping[str, object]],
    unknowns: Mapping[str, tuple[int, int, int]],
    rejected: Mapping[str, int],
    alerts: Sequence[Alert] = (),
    messages: Sequence[RaceControlMessage] = (),
    entries: Sequence[Entry] = (),
    rules: RuleSet = IMG,
    tz: tzinfo | None = None,
    database_down_since_us: int | None = None,
    undo_flag: FlagChanged | None = None,
    corrections: Sequence[Correction] = (),
) -> dict[str, Any]:
    """Everything ``control.html`` renders: the live context plus alerts, flags, clock,
    finish prediction, messages, decoders and what the correction forms pick from.

    ``unknowns`` maps a transponder to (count, first_seen_us, last_seen_us); ``rejected``
    counts passings that did not count, by reason.
    """
    context = live_context(
        event_name=event_name,
        status=status,
        rows=rows,
        server_now_us=server_now_us,
        clock_rate=clock_rate,
        max_stint_us=rules.max_stint_us,
    )
    seen = sorted(unknowns.items(), key=lambda item: (-item[1][2], item[0]))
    for row in context["rows"]:
        row["window"] = pit_window_view(row, status, server_now_us, tz)
    context.update(
        page="control",
        undo_flag=None
        if undo_flag is None
        else {
            "flag_at_us": undo_flag.at_us,
            "label": undo_flag.flag.value.replace("_", " "),
            "until_us": undo_flag.at_us + FLAG_UNDO_US,
        },
        corrections=corrections_view(corrections, tz),
        ws_url="/ws/control",
        decoders=[decoder_view(d, server_now_us) for d in decoders],
        unknowns=[
            {
                "transponder": code,
                "count": str(count),
                "first_seen_us": first,
                "last_seen_us": last,
                "last_seen": format_age(server_now_us - last),
            }
            for code, (count, first, last) in seen
        ],
        rejected=[
            {"reason": reason, "label": reason.replace("_", " "), "count": str(count)}
            for reason, count in sorted(rejected.items(), key=lambda item: (-item[1], item[0]))
            if count
        ],
        flag_url=None if status is None else f"/api/v1/sessions/{status.session_id}/flag",
        flag_buttons=[
            {
                "flag": flag.value,
                "label": label,
                "confirm": confirm or f"Show the {label.lower()} flag?",
                "current": status is not None and status.flag is flag,
            }
            for flag, label, confirm in FLAG_BUTTONS
        ],
        caution_buttons=caution_buttons(status, rules),
        local_yellows=[] if status is None else sorted(status.local_yellows),
        clock=clock_view(status, rules, tz),
        finish=finish_view(status, rows, server_now_us, tz),
        alerts=alerts_view(alerts, status, tz),
        ticker=messages_view(messages, CONTROL_MESSAGES, tz),
        cars=[{"number": e.number, "team": e.team} for e in entries],
        # None while the database answers; else since when events wait in the local spool
        database_down_since=(
            None
            if database_down_since_us is None
            else format_time_of_day(database_down_since_us, tz)
        ),
    )
    return context
