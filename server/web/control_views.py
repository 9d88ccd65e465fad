"""What race control reads besides the standings: alerts, messages, the finish, flags.

Strategy: pure functions from the engine's records (alerts, messages, session status,
rows) and the server time to plain dicts of strings, like ``server.web.views``. The white
and checkered flag of a time-certain race are predicted here, not in the engine: the
leader takes the checkered flag at its first crossing at or after the scheduled end, so
from its last crossing and its last lap time (its best when the last is missing or was
slowed by a stop or a caution: more than 20 % over the best) the crossings ahead are
``last + k * lap``; the white flag is the crossing before the checkered one. A new lap
moves the prediction, since every update re-renders it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import tzinfo
from typing import Any

from server.engine.alerts import Alert
from server.engine.events import Flag, SessionKind
from server.engine.model import RaceControlMessage, SessionStatus, StandingRow
from server.engine.rules import RuleSet
from server.web.formatting import (
    US_PER_S,
    format_age,
    format_clock,
    format_lap,
    format_time_of_day,
)

TIME_CERTAIN = (SessionKind.RACE, SessionKind.SPRINTDURO)
# full-course cautions beyond the yellow, shown only when the rule set uses them
CAUTION_BUTTONS: tuple[tuple[Flag, str], ...] = (
    (Flag.CODE_60, "Code 60"),
    (Flag.SAFETY_CAR, "Safety car"),
)
# a decoder whose last STATUS is older than this is shown as late (P3 sends one every few s)
DECODER_STATUS_WARN_S = 15
# ... or, once its STATUS rate is known (server time between two), older than this many
# intervals: amber, then red. Relative, so a demo at 30x is not amber for ever.
STATUS_LATE_INTERVALS = 3
STATUS_LOST_INTERVALS = 6
ROLE_LABELS = {
    "start_finish": "Start/finish",
    "pit_in": "Pit in",
    "pit_out": "Pit out",
    "sector": "Sector",
}
ACKNOWLEDGED_SHOWN = 8  # acknowledged alerts kept on screen, newest first
_SLOW_LAP = 1.2  # a last lap this much slower than the best is not a racing lap
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def race_time(at_us: int | None, status: SessionStatus | None) -> str:
    """Time since the green flag, pauses of the race clock left out ("" before green)."""
    if at_us is None or status is None or status.green_at_us is None:
        return ""
    return format_clock(at_us - status.green_at_us - status.clock_paused_us)


def alert_view(alert: Alert, status: SessionStatus | None, tz: tzinfo | None) -> dict[str, Any]:
    return {
        "id": alert.id,
        "dom_id": "alert-" + _UNSAFE.sub("_", alert.id),
        "kind": alert.kind,
        "severity": alert.severity.value,
        "text": alert.text,
        "time": format_time_of_day(alert.at_us, tz),
        "race_time": race_time(alert.at_us, status),
        "number": alert.number or "",
        "cars": ", ".join(alert.cars),
        "acknowledged": alert.acknowledged,
    }


WINDOW_WARN_US = 30 * 60 * US_PER_S  # a stop not made this long before the window closes
_SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def alerts_view(
    alerts: Sequence[Alert], status: SessionStatus | None, tz: tzinfo | None = None
) -> dict[str, Any]:
    """Open alerts newest first, grouped by kind (the group of the newest alert first),
    then the latest acknowledged ones; ``critical`` counts the open critical ones and
    ``newest_critical`` is the id of the newest (a page sounds when it changes)."""
    pending = [alert_view(a, status, tz) for a in alerts if not a.acknowledged]
    done = [alert_view(a, status, tz) for a in alerts if a.acknowledged][:ACKNOWLEDGED_SHOWN]
    groups: dict[str, dict[str, Any]] = {}
    for a in pending:
        group = groups.get(a["kind"])
        if group is None:
            label = str(a["kind"]).replace("_", " ").capitalize()
            group = groups[a["kind"]] = {"kind": a["kind"], "label": label, "items": []}
            group["severity"] = a["severity"]
        group["items"].append(a)
        if _SEVERITY_RANK[a["severity"]] > _SEVERITY_RANK[group["severity"]]:
            group["severity"] = a["severity"]
    critical = [a for a in pending if a["severity"] == "critical"]
    return {
        "open": pending,
        "groups": list(groups.values()),
        "done": done,
        "count": len(pending),
        "critical": len(critical),
        "newest_critical": critical[0]["id"] if critical else "",
    }


def pit_window_view(
    row: Mapping[str, Any], status: SessionStatus | None, now_us: int, tz: tzinfo | None = None
) -> dict[str, str]:
    """Where a car stands with its mandatory stop: "" (no window in the rules), "later"
    (the window has not opened: nothing to do yet), "open" (open, no stop yet), "closing"
    (no stop yet and the window closes within ``WINDOW_WARN_US``: amber), "done"
    (served) or "missed" (the window closed without one)."""
    if status is None or status.pit_window_opens_us is None:
        return {"state": "", "text": ""}
    opens, closes = status.pit_window_opens_us, status.pit_window_closes_us
    if row["mandatory_served"]:
        return {"state": "done", "text": "done"}
    if now_us < opens:
        return {"state": "later", "text": f"from {format_time_of_day(opens, tz)[:5]}"}
    if closes is not None and now_us >= closes:
        return {"state": "missed", "text": "missed"}
    if closes is None:
        return {"state": "open", "text": "open"}
    closing = closes - now_us <= WINDOW_WARN_US
    return {
        "state": "closing" if closing else "open",
        "text": f"{'due' if closing else 'open'} to {format_time_of_day(closes, tz)[:5]}",
    }


def messages_view(
    messages: Sequence[RaceControlMessage], limit: int, tz: tzinfo | None = None
) -> list[dict[str, Any]]:
    """The newest ``limit`` race-control messages (the engine gives them newest first,
    expired and retracted ones left out); ``posted_at_us`` is the message's key."""
    return [
        {
            "posted_at_us": m.at_us,
            "time": format_time_of_day(m.at_us, tz),
            "text": m.text,
            "number": m.number or "",
            "actor": m.actor,
            "expires": "" if m.expires_at_us is None else format_time_of_day(m.expires_at_us, tz),
            "expires_at_us": m.expires_at_us,
            "edited": m.edited_at_us is not None,
        }
        for m in messages[:limit]
    ]


def _lap_basis(leader: StandingRow) -> tuple[int, str] | None:
    last, best = leader.last_lap_us, leader.best_lap_us
    if last is not None and (best is None or last <= best * _SLOW_LAP):
        return last, f"last lap {format_lap(last)}"
    if best is not None:
        return best, f"best lap {format_lap(best)}"
    return None


def _crossing(
    lap: int, at_us: int, now_us: int, status: SessionStatus, tz: tzinfo | None
) -> dict[str, Any]:
    return {
        "lap": lap,
        "at_us": at_us,
        "time": format_time_of_day(at_us, tz),
        "race_time": race_time(at_us, status),
        "in": format_clock(at_us - now_us) if at_us > now_us else "",
        "past": at_us <= now_us,
    }


def finish_view(
    status: SessionStatus | None,
    rows: Sequence[StandingRow],
    now_us: int,
    tz: tzinfo | None = None,
) -> dict[str, Any] | None:
    """When the leader will take the white and the checkered flag (time-certain races)."""
    if status is None or status.kind not in TIME_CERTAIN or status.ends_at_us is None:
        return None
    ends = status.ends_at_us
    paused = status.clock_paused_since_us is not None
    if status.clock_paused_since_us is not None:  # the end moves while the clock stands
        stood = max(now_us - status.clock_paused_since_us, 0)
        ends += stood
        status = replace(status, clock_paused_us=status.clock_paused_us + stood)
    view: dict[str, Any] = {
        "ends": format_time_of_day(ends, tz),
        "ends_race_time": race_time(ends, status),
        "state": "waiting",
        "basis": "",
        "white": None,
        "checkered": None,
        "leader": "",
        "paused": paused,  # no countdown: the moments move while the clock stands
    }
    if status.checkered_at_us is not None:
        view["state"] = "taken"
        view["checkered"] = _crossing(0, status.checkered_at_us, now_us, status, tz)
        return view
    leader = rows[0] if rows else None
    if leader is None or leader.last_crossing_us is None:
        return view
    basis = _lap_basis(leader)
    if basis is None:
        return view
    lap_us, view["basis"] = basis
    last = leader.last_crossing_us
    # crossings ahead: last + k * lap; the checkered one is the first at or after the end
    k = max(-(-(ends - last) // lap_us), 1)
    checkered = last + k * lap_us
    view["state"] = "predicted"
    view["leader"] = leader.number
    view["checkered"] = _crossing(leader.laps + k, checkered, now_us, status, tz)
    view["white"] = _crossing(leader.laps + k - 1, checkered - lap_us, now_us, status, tz)
    view["laps_to_go"] = k
    return view


def caution_buttons(status: SessionStatus | None, rules: RuleSet) -> list[dict[str, Any]]:
    """Code 60 and safety car buttons, only for a rule set that lists them."""
    return [
        {"flag": flag.value, "label": label, "current": status is not None and status.flag is flag}
        for flag, label in CAUTION_BUTTONS
        if flag in rules.caution_flags
    ]


def clock_view(
    status: SessionStatus | None, rules: RuleSet, tz: tzinfo | None = None
) -> dict[str, Any]:
    """Whether race control may stop or restart the race clock now."""
    paused = status is not None and status.clock_paused_since_us is not None
    return {
        "allowed": rules.red_may_stop_clock and status is not None,
        "paused": paused,
        "paused_since": format_time_of_day(status.clock_paused_since_us, tz)
        if status is not None
        else "",
        "can_pause": rules.red_may_stop_clock
        and status is not None
        and status.flag is Flag.RED
        and not paused
        and status.green_at_us is not None
        and not status.finished,
        "can_resume": paused,
    }


def rest_text(rest_until_us: int | None, now_us: int, tz: tzinfo | None = None) -> str:
    """ "resting until 14:05:00", or "" when the rest is over."""
    if rest_until_us is None or rest_until_us <= now_us:
        return ""
    return f"resting until {format_time_of_day(rest_until_us, tz)}"


def decoder_view(decoder: Mapping[str, object], server_now_us: int) -> dict[str, Any]:
    """Display strings for one decoder connection (``asdict`` of the runner's DecoderState).

    Reads ``url``, ``connected``, ``decoder_id``, ``last_status_at_us`` (server time of the
    last STATUS), ``noise``, ``last_passing_number``, ``passings``, ``bad_frames``,
    ``lost_passings``, ``connects`` (or ``reconnects``), ``last_error`` and
    ``last_rejection`` (the latest bad frame or line, with its text); a missing field
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
    interval = decoder.get("status_interval_us")
    warn_us = DECODER_STATUS_WARN_S * US_PER_S
    if isinstance(interval, int) and interval > 0:
        warn_us = STATUS_LATE_INTERVALS * interval
    late = age is None or age > warn_us
    health = "green"
    if (
        not connected
        or age is None
        or age > warn_us * STATUS_LOST_INTERVALS // STATUS_LATE_INTERVALS
    ):
        health = "red"
    elif late:
        health = "amber"
    role = text("role", "start_finish")
    sector = text("sector")
    role_label = ROLE_LABELS.get(role, role.replace("_", " "))
    if role == "sector" and sector:
        role_label += f" {sector}"
    return {
        "role": role,
        "role_label": role_label,
        "health": health,
        "url": text("url"),
        "connected": connected,
        "state_label": "connected" if connected else "lost",
        "decoder_id": text("decoder_id"),
        "last_status_us": last_status_us,
        "status_age": format_age(age) or "never",
        "status_late": late,
        "warn_after_s": warn_us / US_PER_S,
        "noise": text("noise"),
        "last_passing_number": text("last_passing_number"),
        "passings": str(count("passings")),
        "bad_frames": str(count("bad_frames")),
        "lost_passings": str(count("lost_passings")),
        "reconnects": str(max(reconnects, 0)),
        "clock_offset": format_clock_offset(decoder.get("clock_offset_us")),
        "clock_bound": format_clock_bound(decoder.get("clock_round_trip_us")),
        "last_error": text("last_error"),
        "last_rejection": text("last_rejection"),
    }


def format_clock_bound(round_trip_us: object) -> str:
    """How far the offset may be off: half the round trip of the GET_TIME that set it."""
    if not isinstance(round_trip_us, int):
        return ""
    return f" \N{PLUS-MINUS SIGN} {round_trip_us / 2000:.1f} ms"


def format_clock_offset(offset_us: object) -> str:
    """The decoder clock against ours: "+3.512 s" (P3 GET_TIME, or a wall-clock decoder
    a little off); a decoder counting from power-on has an offset of years: "learned"."""
    if not isinstance(offset_us, int):
        return "\N{EN DASH}"
    if abs(offset_us) >= 86_400 * US_PER_S:
        return "learned"
    # rounded to whole ms first: -0.4 ms is "+0.000 s", never "-0.000 s"
    return f"{round(offset_us / 1000) / 1000:+.3f} s"
