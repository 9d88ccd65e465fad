"""Charts for spectators and teams: the page, its history (JSON) and its live feed.

Strategy: ``/live/charts`` is the page (the stint timelines rendered as SVG by the
server; the lap, lap-time and gap charts drawn in the browser by uPlot from the
history); ``GET /api/v1/sessions/{id}/charts`` is the history, once; ``/ws/charts``
then sends only the points of new laps (``server.service.chart_feed``). A websocket of
its own rather than a subscription on ``/ws/live``: the spectators' socket keeps its one
protocol (numbered row-level updates that Redis edges mirror byte for byte), a spectator
who never opens the charts gets nothing more, and the feed is attached (and costs
anything) only once a chart page asks. Public like ``/live``: names and numbers only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, WebSocket, status
from fastapi.responses import HTMLResponse, Response

from server.engine.positions import BY_BEST_LAP
from server.engine.race import RaceEngine
from server.service.chart_feed import CHANNEL, chart_feed
from server.service.race_service import RaceService
from server.web import contexts
from server.web.chart_views import car_timeline, history_json
from server.web.csrf import CsrfTokenDep
from server.web.deps import RaceDep, StateDep
from server.web.limits import Id
from server.web.routes.websockets import stream_channel

router = APIRouter(prefix="/api/v1", tags=["charts"])
pages = APIRouter(include_in_schema=False)

MAX_CARS_PARAM = 400  # characters of ``cars``: a few dozen car numbers


def _timed_engine(race: RaceService, session_id: int) -> RaceEngine:
    engine = race.engine
    if engine is None or session_id != race.session_id:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"session {session_id} is not being timed: charts follow the timed session",
        )
    return engine


@router.get(
    "/sessions/{session_id}/charts",
    responses={404: {"description": "not the timed session, or no such class or car"}},
)
async def charts_history(
    race: RaceDep,
    session_id: Id,
    class_name: Annotated[
        str | None, Query(alias="class", max_length=40, description="one class only")
    ] = None,
    cars: Annotated[
        str | None,
        Query(max_length=MAX_CARS_PARAM, description="car numbers, comma-separated"),
    ] = None,
) -> Response:
    """Every lap of every car as chart points: position and gap when it completed the
    lap (overall and in class), lap time, flag, pit and void marks; and the flag
    periods. ``seq`` is the live feed's (``/ws/charts``) number this history is
    current with: apply its messages numbered after it."""
    engine = _timed_engine(race, session_id)
    entries = engine.entries()
    wanted = {e.number for e in entries}
    if class_name is not None:
        wanted = {e.number for e in entries if e.class_name == class_name}
        if not wanted:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no class {class_name!r} entered")
    if cars is not None:
        asked = {n.strip() for n in cars.split(",") if n.strip()}
        unknown = sorted(asked - {e.number for e in entries})
        if unknown:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"car {unknown[0]!r} is not entered")
        if not asked:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "cars: no car number given")
        wanted &= asked
    feed = chart_feed(race)
    everyone = len(wanted) == len(entries)
    text = history_json(
        session_id=session_id,
        seq=feed.seq,  # read with the points: nothing runs in between
        now_us=race.clock.now_us(),
        green_at_us=engine.status().green_at_us,
        entries=[e for e in entries if e.number in wanted],
        points=feed.history(None if everyone else wanted),
        periods=engine.flag_periods(),
    )
    return Response(text, media_type="application/json")


def timelines(race: RaceService) -> list[dict[str, Any]]:
    """Every car's stint timeline, in the order of the standings."""
    engine = race.engine
    status_now = race.status()
    if engine is None or status_now is None or status_now.green_at_us is None:
        return []
    now = race.clock.now_us()
    drivers = {e.number: e.drivers for e in engine.entries()}
    periods = engine.flag_periods()
    details = engine.cars(now)
    if status_now.finished:  # the axis ends with the race, not with the clock on the wall
        ends = [s.end_us for d in details for s in d.stints if s.end_us is not None]
        now = max(ends, default=now)
    green = status_now.green_at_us
    return [car_timeline(d, drivers.get(d.number, ()), periods, green, now) for d in details]


@pages.get("/live/charts")
async def charts_page(state: StateDep, csrf: CsrfTokenDep) -> HTMLResponse:
    race = state.race
    context = contexts.live(race) | {
        "csrf_token": csrf,
        "page": "charts",
        "session_id": race.session_id,
        # practice and qualifying rank by best lap: positions and gaps at the line are no
        # race there, so those sessions get the lap times and the stints only
        "by_best_lap": race.engine is not None and race.engine.config.kind in BY_BEST_LAP,
        "classes": sorted({e.class_name for e in race.entries}),
        "timelines": timelines(race),
    }
    return HTMLResponse(state.renderer.page("charts.html", context))


@pages.websocket("/ws/charts")
async def charts_socket(websocket: WebSocket, state: StateDep) -> None:
    await websocket.accept()
    chart_feed(state.race)
    state.race.refresh("public")  # the feed follows it: bring a stale one up to date
    await stream_channel(websocket, state.hub.channel(CHANNEL))
