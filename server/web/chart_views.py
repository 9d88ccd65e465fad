"""What the charts page shows: the history as JSON columns, and each car's stint timeline.

Strategy: the engine decides every number (``RaceEngine.chart_points``, ``car_detail``,
``flag_periods``); this module only lays them out. A stint timeline is one car's race
from the green flag to now (or its end) as a 1000-unit wide SVG: the flag periods
shaded behind, one bar per stint coloured by its driver (the entry's order), a mark per
pit stop. Every bar carries its words too (a ``<title>`` and the list under the bar),
so the chart is readable without colour and by a screen reader.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from server.engine.charts import FlagPeriod
from server.engine.model import CarDetail, Entry
from server.engine.race import RaceEngine
from server.web.formatting import format_clock

WIDTH = 1000  # the timeline's user units across
DRIVER_COLOURS = 6  # stint bars cycle through this many colours (app CSS: .drv-0 ..)
POINT_FIELDS = (
    "number",
    "lap",
    "at_us",
    "lap_time_us",
    "position",
    "class_position",
    "gap_us",
    "class_gap_us",
    "flag",
    "pitted",
    "voided",
)


def history_json(
    *,
    session_id: int,
    seq: int,
    now_us: int,
    green_at_us: int | None,
    entries: Sequence[Entry],
    points: str,
    periods: Sequence[FlagPeriod],
) -> str:
    """The charts' history as JSON: cars, points (``points``: a JSON array of rows of
    ``POINT_FIELDS``, as the feed keeps them) and flag periods."""
    head = {
        "session_id": session_id,
        "seq": seq,
        "now": now_us,
        "green_at_us": green_at_us,
        "cars": [{"number": e.number, "class": e.class_name, "team": e.team} for e in entries],
        "fields": list(POINT_FIELDS),
        "flags": [[p.flag.value, p.start_us, p.end_us] for p in periods],
    }
    text = json.dumps(head, separators=(",", ":"))
    return f'{text[:-1]},"points":{points}}}'


def _x(at_us: int, start_us: int, span_us: int) -> float:
    return round(min(max((at_us - start_us) / span_us, 0.0), 1.0) * WIDTH, 1)


def _bar(start: int, end: int, origin: int, span: int) -> dict[str, float]:
    x = _x(start, origin, span)
    return {"x": x, "w": max(round(_x(end, origin, span) - x, 1), 1.0)}


def car_timeline(
    detail: CarDetail,
    entry_drivers: Sequence[str],
    periods: Sequence[FlagPeriod],
    start_us: int,
    now_us: int,
) -> dict[str, Any]:
    """One car's stint timeline (the context of ``_stint_timeline.html``): the race from
    ``start_us`` (the green flag) to ``now_us``."""
    span = max(now_us - start_us, 1)
    drivers = list(entry_drivers)
    stints = []
    for s in detail.stints:
        end = s.end_us if s.end_us is not None else now_us
        name = s.driver or "driver not named"
        if s.driver is not None and s.driver not in drivers:
            drivers.append(s.driver)
        colour = drivers.index(s.driver) % DRIVER_COLOURS if s.driver in drivers else 0
        words = f"Stint {s.index}: {name}, {format_clock(s.start_us - start_us)} to " + (
            "now" if s.end_us is None else format_clock(end - start_us)
        )
        stints.append(
            _bar(s.start_us, end, start_us, span)
            | {"colour": colour, "title": f"{words} ({format_clock(s.drive_us)} driven)"}
        )
    stops = []
    for stop in detail.stops:
        pit_in = stop.pit_in_us if stop.pit_in_us is not None else stop.pit_out_us
        if pit_in is None:
            continue
        pit_out = stop.pit_out_us if stop.pit_out_us is not None else now_us
        lane = "in the pit lane" if stop.duration_us is None else format_clock(stop.duration_us)
        change = f", {stop.driver_out} to {stop.driver_in}" if stop.changed else ""
        title = f"Stop {stop.index} at {format_clock(pit_in - start_us)}: {lane}{change}"
        stops.append(_bar(pit_in, pit_out, start_us, span) | {"title": title})
    flags = [
        _bar(p.start_us, p.end_us if p.end_us is not None else now_us, start_us, span)
        | {"flag": p.flag.value, "title": f"{p.flag.value.replace('_', ' ')} flag"}
        for p in periods
        if p.start_us < now_us
    ]
    return {
        "number": detail.number,
        "team": detail.team,
        "class_name": detail.class_name,
        "width": WIDTH,
        "stints": stints,
        "stops": stops,
        "flags": flags,
        "span": format_clock(span),
    }


def car_timeline_of(engine: RaceEngine, detail: CarDetail, now_us: int) -> dict[str, Any] | None:
    """Car ``detail``'s timeline in ``engine``'s session up to ``now_us`` (None before the
    green flag): for a page that shows one car (race control's car dialog)."""
    green = engine.status().green_at_us
    if green is None:
        return None
    drivers = next((e.drivers for e in engine.entries() if e.number == detail.number), ())
    return car_timeline(detail, drivers, engine.flag_periods(), green, now_us)
