"""The small lap-time chart of a car's page: an SVG drawn on the server, no library.

Strategy: the latest ``CHART_LAPS`` laps as one polyline (lap number across, lap time
down: faster is higher), so the chart a live update re-sends stays small however long
the race. The scale runs from the fastest lap shown to ``CEILING`` times it: a pit lap or
a lap behind the safety car would flatten the racing laps, so slower laps sit on the top
edge (the table below the chart has their times). Voided laps are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.engine.car_laps import Best, MarkedLap
from server.web.formatting import format_lap

CHART_LAPS = 100
CEILING = 1.25
WIDTH, HEIGHT = 600, 160
LEFT, RIGHT, TOP, BOTTOM = 96, 12, 14, 28  # room for the axis labels


def lap_chart(laps: Sequence[MarkedLap], number: str) -> dict[str, Any] | None:
    """What ``_car_chart`` draws; None before two valid laps (no line to draw)."""
    shown = [m for m in laps[-CHART_LAPS:] if not m.record.voided]
    if len(shown) < 2:
        return None
    fastest = min(m.record.lap_time_us for m in shown)
    slowest = max(m.record.lap_time_us for m in shown)
    ceiling = min(slowest, int(fastest * CEILING))
    first, last = shown[0].record.lap, shown[-1].record.lap
    span_x = max(last - first, 1)
    span_y = max(ceiling - fastest, 1)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(lap: int) -> int:
        return LEFT + round((lap - first) * inner_w / span_x)

    def y(time_us: int) -> int:
        return TOP + round((min(time_us, ceiling) - fastest) * inner_h / span_y)

    points = " ".join(f"{x(m.record.lap)},{y(m.record.lap_time_us)}" for m in shown)
    best = next((m for m in shown if m.best is not Best.NONE), None)
    last_lap = shown[-1].record
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "points": points,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "fastest": format_lap(fastest),
        "ceiling": format_lap(ceiling),
        "first_lap": str(first),
        "last_lap": str(last),
        "best": None
        if best is None
        else {"x": x(best.record.lap), "y": y(best.record.lap_time_us), "kind": best.best.value},
        "label": (
            f"Lap times of car {number}, laps {first} to {last}: fastest {format_lap(fastest)}"
            f", last {format_lap(last_lap.lap_time_us)} on lap {last_lap.lap}"
        ),
    }
