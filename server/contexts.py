"""What each channel's page shows: contexts built from the race service, and their renders.

Strategy: the race service decides *when* to render (once per change, coalesced); this
module decides *what*: one context per audience, rendered from the same template blocks
that the full pages use, so a websocket message is exactly the page's fragments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from server.views import control_context, live_context

if TYPE_CHECKING:
    from server.race_service import RaceService

LIVE_BLOCKS = ("header", "standings")
CONTROL_BLOCKS = ("header", "standings", "decoders", "unknowns", "flag_controls")


def live(race: RaceService) -> dict[str, Any]:
    return live_context(
        event_name=race.event_name,
        status=race.status(),
        rows=race.standings(),
        server_now_us=race.clock.now_us(),
        clock_rate=race.clock.rate,
    )


def control(race: RaceService) -> dict[str, Any]:
    unknowns: Mapping[str, tuple[int, int, int]] = {}
    rejected: dict[str, int] = dict(race.dropped)
    if race.engine is not None:
        unknowns = {
            code: (u.count, u.first_seen_us, u.last_seen_us)
            for code, u in race.engine.unknown_transponders().items()
        }
        rejected.update(race.engine.rejected_counts())
    return control_context(
        event_name=race.event_name,
        status=race.status(),
        rows=race.standings(),
        server_now_us=race.clock.now_us(),
        clock_rate=race.clock.rate,
        decoders=[asdict(state) for state in race.decoders.values()],
        unknowns=unknowns,
        rejected=rejected,
    )


def render_channels(race: RaceService, channels: frozenset[str]) -> dict[str, str]:
    """The websocket message of each of ``channels`` that has a page."""
    out: dict[str, str] = {}
    if "public" in channels:
        out["public"] = race.renderer.fragments("live.html", LIVE_BLOCKS, live(race))
    if "control" in channels:
        out["control"] = race.renderer.fragments("control.html", CONTROL_BLOCKS, control(race))
    return out
