"""What the templates render: formatted times and ready-made template contexts.

Strategy: everything here is pure (no clock reads, no I/O, no Jinja): the caller passes the
server time and the engine's rows and gets plain dicts of strings back, so a page, its
websocket fragments and the tests all see the same values. Times are integer microseconds
in the session time base. Lap and gap times are truncated to the thousandth (timing never
rounds up); clocks show whole seconds, a countdown rounded up so it reads 0:00:00 only
when the time is really over. The browser ticks clocks and ages between two messages
(``web/static/live.js``) with the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from server.engine.events import Flag, SessionKind
from server.engine.model import CarState, SessionStatus, StandingRow

US_PER_S = 1_000_000

FLAG_LABELS: dict[Flag, str] = {
    Flag.NONE: "Not started",
    Flag.GREEN: "Green",
    Flag.YELLOW: "Full-course yellow",
    Flag.RED: "Red flag",
    Flag.CHECKERED: "Checkered",
    Flag.CODE_60: "Code 60",
    Flag.SAFETY_CAR: "Safety car",
    Flag.LOCAL_YELLOW: "Local yellow",
}
KIND_LABELS: dict[SessionKind, str] = {
    SessionKind.PRACTICE: "Practice",
    SessionKind.QUALIFYING: "Qualifying",
    SessionKind.RACE: "Race",
    SessionKind.SPRINTDURO: "SprintDuro",
}
STATE_LABELS: dict[CarState, str] = {
    CarState.NOT_STARTED: "\N{EN DASH}",
    CarState.RUN: "RUN",
    CarState.PIT: "PIT",
    CarState.OUT: "OUT",
    CarState.STOPPED: "STOP",
    CarState.FINISHED: "FIN",
    CarState.RETIRED: "RET",
    CarState.NOT_CLASSIFIED: "NC",
    CarState.DISQUALIFIED: "DSQ",
}
STATE_TITLES: dict[CarState, str] = {
    CarState.NOT_STARTED: "not started",
    CarState.RUN: "running",
    CarState.PIT: "in the pit lane",
    CarState.OUT: "out lap",
    CarState.STOPPED: "stopped on track",
    CarState.FINISHED: "finished",
    CarState.RETIRED: "retired",
    CarState.NOT_CLASSIFIED: "not classified",
    CarState.DISQUALIFIED: "disqualified",
}
# the buttons race control may press, in the order they are shown; (flag, label, confirm)
FLAG_BUTTONS: tuple[tuple[Flag, str, str | None], ...] = (
    (Flag.GREEN, "Green", None),
    (Flag.YELLOW, "Full-course yellow", None),
    (Flag.RED, "Red", None),
    (Flag.CHECKERED, "Checkered", "Show the checkered flag and end the session?"),
)
_TIMED_KINDS = (SessionKind.RACE, SessionKind.SPRINTDURO)
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")
# a decoder whose last STATUS is older than this is shown as late (P3 sends one every few s)
DECODER_STATUS_WARN_S = 15


# --- formatting --------------------------------------------------------------------


def format_lap(us: int | None) -> str:
    """A lap or gap time: "52.345", "1:52.345", "1:02:03.456"; "" for None."""
    if us is None:
        return ""
    sign = "-" if us < 0 else ""
    hours, rest = divmod(abs(us) // 1000, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    if minutes:
        return f"{sign}{minutes}:{seconds:02d}.{millis:03d}"
    return f"{sign}{seconds}.{millis:03d}"


def format_gap(us: int | None, laps: int) -> str:
    """A gap or interval: "+12.345", "+1:02.345", "+1 L", "+2 L"; "" when there is none."""
    if laps > 0:
        return f"+{laps} L"
    if us is None:
        return ""
    return format_lap(us) if us < 0 else "+" + format_lap(us)


def format_clock(us: int | None) -> str:
    """A session clock, whole seconds truncated: "0:05:07", "3:59:59"; "" for None."""
    if us is None:
        return ""
    hours, rest = divmod(max(us, 0) // US_PER_S, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def format_age(us: int | None) -> str:
    """How long ago: "0 s ago", "42 s ago", "3 min ago", "2 h 5 min ago"; "" for None."""
    if us is None:
        return ""
    seconds = max(us, 0) // US_PER_S
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"


def format_seconds_ago(us: int | None) -> str:
    """Seconds since, for the control table: "7 s", "130 s"; "" for None."""
    return "" if us is None else f"{max(us, 0) // US_PER_S} s"


def row_dom_id(number: str) -> str:
    """The stable element id of a car's row: ``car-07``; unsafe characters become ``_``."""
    return "car-" + _UNSAFE_ID_CHARS.sub("_", number)


def heartbeat_html(server_now_us: int) -> str:
    """The 2-second heartbeat message; equal to the ``heartbeat`` block of the pages."""
    return f'<span id="heartbeat" hidden data-server-now-us="{int(server_now_us)}"></span>'


# --- context builders --------------------------------------------------------------


def standings_view(
    rows: Sequence[StandingRow], *, server_now_us: int | None = None
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
            }
        )
    return out


def session_view(status: SessionStatus, server_now_us: int, clock_rate: float) -> dict[str, Any]:
    """The header: names, flag and the clock with what the browser needs to tick it."""
    remaining = status.kind in _TIMED_KINDS and status.ends_at_us is not None
    # the clock stops at the checkered flag
    now = server_now_us
    if status.checkered_at_us is not None:
        now = min(now, status.checkered_at_us)
    if remaining:
        assert status.ends_at_us is not None
        left = max(status.ends_at_us - now, 0)
        text = format_clock(-(-left // US_PER_S) * US_PER_S)  # round a countdown up
    elif status.green_at_us is None:
        text = format_clock(0)
    else:
        text = format_clock(now - status.green_at_us)
    return {
        "id": status.session_id,
        "name": status.name,
        "kind": status.kind.value,
        "kind_label": KIND_LABELS[status.kind],
        "flag": status.flag.value,
        "flag_label": FLAG_LABELS[status.flag],
        "finished": status.finished,
        "clock": {
            "mode": "remaining" if remaining else "elapsed",
            "text": text,
            "green_at_us": status.green_at_us,
            "ends_at_us": status.ends_at_us,
            "stopped_at_us": status.checkered_at_us,
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
) -> dict[str, Any]:
    """Everything ``live.html`` renders (page and fragments)."""
    return {
        "page": "live",
        "ws_url": "/ws/live",
        "event_name": event_name,
        "session": None if status is None else session_view(status, server_now_us, clock_rate),
        "rows": standings_view(rows, server_now_us=server_now_us),
        "server_now_us": server_now_us,
        "clock_rate": clock_rate,
    }


def decoder_view(decoder: Mapping[str, object], server_now_us: int) -> dict[str, Any]:
    """Display strings for one decoder connection (``asdict`` of the runner's DecoderState).

    Reads ``url``, ``connected``, ``decoder_id``, ``last_status_at_us`` (server time of the
    last STATUS), ``noise``, ``last_passing_number``, ``passings``, ``bad_frames``,
    ``lost_passings``, ``connects`` (or ``reconnects``) and ``last_error``; a missing field
    shows as "" or "0", never as an error.
    """

    def text(key: str, default: str = "") -> str:
        value = decoder.get(key)
        return default if value is None else str(value)

    def count(key: str) -> int:
        value = decoder.get(key)
        return value if isinstance(value, int) else 0

    connected = decoder.get("connected") is True
    last_status = decoder.get("last_status_at_us", decoder.get("last_status_us"))
    last_status_us = last_status if isinstance(last_status, int) else None
    age = None if last_status_us is None else server_now_us - last_status_us
    reconnects = count("reconnects") if "reconnects" in decoder else count("connects") - 1
    return {
        "url": text("url"),
        "connected": connected,
        "state_label": "connected" if connected else "lost",
        "decoder_id": text("decoder_id"),
        "last_status_us": last_status_us,
        "status_age": format_age(age) or "never",
        "status_late": age is None or age > DECODER_STATUS_WARN_S * US_PER_S,
        "warn_after_s": DECODER_STATUS_WARN_S,
        "noise": text("noise"),
        "last_passing_number": text("last_passing_number"),
        "passings": str(count("passings")),
        "bad_frames": str(count("bad_frames")),
        "lost_passings": str(count("lost_passings")),
        "reconnects": str(max(reconnects, 0)),
        "last_error": text("last_error"),
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
) -> dict[str, Any]:
    """Everything ``control.html`` renders: the live context plus decoders and flags.

    ``unknowns`` maps a transponder to (count, first_seen_us, last_seen_us); ``rejected``
    counts passings that did not count, by reason.
    """
    context = live_context(
        event_name=event_name,
        status=status,
        rows=rows,
        server_now_us=server_now_us,
        clock_rate=clock_rate,
    )
    seen = sorted(unknowns.items(), key=lambda item: (-item[1][2], item[0]))
    context.update(
        page="control",
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
                "confirm": confirm,
                "current": status is not None and status.flag is flag,
            }
            for flag, label, confirm in FLAG_BUTTONS
        ],
    )
    return context
