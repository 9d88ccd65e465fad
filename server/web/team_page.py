"""A team's pit wall page and its channel: one hub channel per car being watched.

Strategy: ``/live/teams/{number}`` is public and read-only. Its websocket subscribes to
the channel ``team:<number>`` (``server.service.race_service.TEAM_CHANNEL``), rendered
whenever the spectators' channel is, but only while someone watches it, so spectators
not on a team view get exactly what they got before. Its updates are row-level
(``server.service.fanout``) like ``/live``: each block of ``team.html`` is one element
with an id; the drivers' table travels as rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.service.fanout import View
from server.service.race_service import TEAM_CHANNEL
from server.web.live_render import page_view
from server.web.team_views import team_context

if TYPE_CHECKING:
    from server.service.race_service import RaceService
    from server.web.rendering import Renderer

TEAM_BLOCKS = (
    "header",
    "team_car",
    "team_drivers",
    "team_stops",
    "team_penalties",
    "team_messages",
)


def channel_of(number: str) -> str:
    return TEAM_CHANNEL + number


def entered(race: RaceService, number: str) -> bool:
    """Whether car ``number`` is entered in the session being timed."""
    return any(entry.number == number for entry in race.entries)


def team(race: RaceService, number: str) -> dict[str, Any]:
    """``team.html``'s context for car ``number`` now (the car may have left the entry
    list since the page opened: then the page says so)."""
    engine, now = race.engine, race.clock.now_us()
    outlook = None
    if engine is not None and entered(race, number):
        outlook = engine.team_outlook(number, now)
    return team_context(
        number=number,
        event_name=race.event_name,
        status=race.status(),
        outlook=outlook,
        messages=() if engine is None else engine.messages(now),
        server_now_us=now,
        clock_rate=race.clock.rate,
    )


def render_teams(
    renderer: Renderer, race: RaceService, channels: frozenset[str]
) -> dict[str, str | View]:
    """The message of each team channel among ``channels``."""
    return {
        name: page_view(renderer, "team.html", TEAM_BLOCKS, team(race, name[len(TEAM_CHANNEL) :]))
        for name in channels
        if name.startswith(TEAM_CHANNEL)
    }
