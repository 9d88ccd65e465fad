"""A car's page for spectators and teams (``/live/cars/{number}`` and its panel on /live).

Strategy: one dict of display strings per car, built from the engine's answers alone
(the laps with their bests and flags, ``RaceEngine.car_laps``; stints and stops,
``car_detail``; the stewards' penalties on its standings row); nothing here decides a
rule. The page renders ``car_panel.html``'s blocks; a spectator who has the panel open
watches the car's own hub channel (``car_channel``), rendered from the same blocks as a
``View``, so a crossing sends the new lap row and the parts that changed, never the
history (``server.service.fanout``). Car channels are rendered with the public channel
and only while someone watches them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.engine.car_laps import Best, MarkedLap
from server.engine.events import Flag
from server.engine.model import CarDetail, CarState, SessionStatus, StandingRow
from server.service.fanout import View
from server.web.car_chart import lap_chart
from server.web.control_views import race_time
from server.web.formatting import FLAG_LABELS, STATE_LABELS, format_clock, format_lap
from server.web.live_render import page_view
from server.web.stewards_views import penalty_text
from server.web.views import stint_view

if TYPE_CHECKING:
    from server.service.race_service import RaceService
    from server.web.rendering import Renderer

CAR_TEMPLATE = "car_panel.html"
CAR_BLOCKS = ("car_head", "car_chart", "car_laps", "car_stints", "car_stops", "car_penalties")
CHANNEL_PREFIX = "car:"
MAX_NUMBER_LENGTH = 16  # longer is no car number (and never a channel)
BEST_WORDS = {Best.OVERALL: "fastest overall", Best.PERSONAL: "car's fastest", Best.NONE: ""}
# a lap's flag in the lap table (the full label in its tooltip): short enough for a phone
FLAG_SHORT = {
    Flag.YELLOW: "FCY",
    Flag.SAFETY_CAR: "SC",
    Flag.CODE_60: "Code 60",
    Flag.RED: "Red",
}
BEST_SIGNS = {Best.OVERALL: "\N{BLACK STAR}", Best.PERSONAL: "\N{BULLET}", Best.NONE: ""}


def channel_name(number: str) -> str:
    return CHANNEL_PREFIX + number


def _best(best: Best) -> dict[str, str]:
    return {"kind": best.value, "word": BEST_WORDS[best], "sign": BEST_SIGNS[best]}


def lap_rows(laps: tuple[MarkedLap, ...], sectors: int) -> list[dict[str, Any]]:
    """The lap table's rows, newest first; each row's id stays with its lap."""
    rows = []
    for m in reversed(laps):
        lap = m.record
        cells = [
            {"time": format_lap(t), **_best(b)}
            for t, b in zip(lap.sectors_us, m.sector_bests, strict=True)
        ]
        cells += [{"time": "", **_best(Best.NONE)}] * (sectors - len(cells))
        rows.append(
            {
                "id": f"cp-lap-{lap.lap}",
                "lap": str(lap.lap),
                "time": format_lap(lap.lap_time_us),
                **_best(m.best),
                "sectors": cells,
                "flag": lap.flag.value,
                "flag_label": FLAG_LABELS[lap.flag],
                "flag_short": FLAG_SHORT.get(lap.flag, FLAG_LABELS[lap.flag]),
                "pitted": lap.pitted,
                "voided": lap.voided,
                "void_reason": lap.void_reason,
            }
        )
    return rows


def car_view(
    detail: CarDetail,
    laps: tuple[MarkedLap, ...],
    row: StandingRow | None,
    status: SessionStatus | None,
    now_us: int,
) -> dict[str, Any]:
    """Everything the car's page shows."""
    sectors = max((len(m.record.sectors_us) for m in laps), default=0)
    in_pit = detail.state is CarState.PIT
    open_stint = detail.stints[-1] if detail.stints and detail.stints[-1].end_us is None else None
    return {
        "number": detail.number,
        "team": detail.team,
        "class_name": detail.class_name,
        "state": detail.state.value,
        "state_label": STATE_LABELS[detail.state],
        "position": "" if row is None else str(row.position),
        "class_position": "" if row is None else str(row.class_position),
        "laps_done": "" if row is None else str(row.laps),
        "last": "" if row is None else format_lap(row.last_lap_us),
        "best": "" if row is None else format_lap(row.best_lap_us),
        "status": "" if row is None or row.status.value == "running" else row.status.value,
        "driver": detail.driver or "",
        "stint": None if row is None else stint_view(row, now_us),
        "sector_count": sectors,
        "laps": lap_rows(laps, sectors),
        "chart": lap_chart(laps, detail.number),
        "stints": [
            {
                "id": f"cp-stint-{s.index}",
                "index": str(s.index),
                "driver": s.driver or "?",
                "start": race_time(s.start_us, status),
                "end": race_time(s.end_us, status) if s.end_us is not None else "",
                "open": s is open_stint,
                "drive": format_clock(s.drive_us),
            }
            for s in detail.stints
        ],
        "stops": [
            {
                "id": f"cp-stop-{p.index}",
                "index": str(p.index),
                "pit_in": race_time(p.pit_in_us, status) or "not seen",
                "pit_out": race_time(p.pit_out_us, status)
                or ("in the pits" if in_pit and p is detail.stops[-1] else "not seen"),
                "lane": format_lap(p.duration_us),
                "change": f"{p.driver_out or '?'} \N{RIGHTWARDS ARROW} {p.driver_in or '?'}"
                if p.changed
                else "",
            }
            for p in detail.stops
        ],
        "penalties": []
        if row is None
        else [
            {"text": penalty_text(p), "reason": p.reason, "state": p.state.value}
            for p in row.penalties
        ],
    }


def car_context(race: RaceService, number: str) -> dict[str, Any] | None:
    """The ``car`` of the page, or None when there is no such car in the session."""
    engine = race.engine
    if engine is None or not number or len(number) > MAX_NUMBER_LENGTH:
        return None
    now = race.clock.now_us()
    try:
        detail = engine.car_detail(number, now)
        laps = engine.car_laps(number)
    except KeyError:
        return None
    row = next((r for r in race.standings() if r.number == number), None)
    return car_view(detail, laps, row, race.status(), now)


def car_channel_view(renderer: Renderer, race: RaceService, number: str) -> View | None:
    """The car channel's render (None: the car is not in the session)."""
    car = car_context(race, number)
    if car is None:
        return None
    context = {"car": car, "server_now_us": race.clock.now_us(), "clock_rate": race.clock.rate}
    return page_view(renderer, CAR_TEMPLATE, CAR_BLOCKS, context)


def watched_cars(race: RaceService) -> list[str]:
    """The numbers of the cars someone watches now (here, or on an edge: the Redis
    relay listens to them, ``server.service.redis_cars``)."""
    return [
        name.removeprefix(CHANNEL_PREFIX)
        for name, channel in race.hub.channels.items()
        if name.startswith(CHANNEL_PREFIX) and channel.watched
    ]


def publish_car(renderer: Renderer, race: RaceService, number: str) -> bool:
    """Render car ``number``'s channel now (False: no such car in the session)."""
    view = car_channel_view(renderer, race, number)
    if view is None:
        return False
    race.hub.channel(channel_name(number)).publish_view(view)
    return True


def car_numbers(race: RaceService) -> list[str]:
    """The cars of the timed session (each has a car page)."""
    return [] if race.engine is None else [e.number for e in race.engine.entries()]


def car_channels(renderer: Renderer, race: RaceService) -> dict[str, View]:
    """Each watched car channel's render (with the public channel's)."""
    out: dict[str, View] = {}
    for number in watched_cars(race):
        view = car_channel_view(renderer, race, number)
        if view is not None:
            out[channel_name(number)] = view
    return out
