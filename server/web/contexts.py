"""What each channel's page shows: contexts built from the race service, and their renders.

Strategy: the race service decides *when* to render (once per change, coalesced); this
module decides *what*: one context per audience, rendered from the same template blocks
that the full pages use, so a websocket message is exactly the page's fragments. The
public message stays lean (it is encoded once per spectator per update): the standings,
the header, a three-line ticker and the sprint result. Race control and the pit get
more, and there are few of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from server.engine.model import CarDetail, StandingRow
from server.engine.rules import IMG, RuleSet
from server.service.fanout import View
from server.web.car_page import car_channels
from server.web.control_views import messages_view
from server.web.live_render import page_view
from server.web.live_table import track_columns
from server.web.pit_views import PIT_MESSAGES, called_in, car_marks, pit_context
from server.web.stewards_views import queue_view, with_decisions
from server.web.team_page import render_teams
from server.web.views import control_context, live_context
from timing_adapters.adapter import DecoderState

if TYPE_CHECKING:
    from server.service.race_service import RaceService
    from server.web.rendering import Renderer

LIVE_BLOCKS = ("header", "ticker", "standings", "penalties", "sprint")
STEWARDS_BLOCKS = ("header", "ticker", "penalties")  # and the queue when it changed
CONTROL_BLOCKS = (
    "header",
    "standings",
    "alerts",
    "flag_controls",
    "status_strip",
    "corrections_log",
    "local_yellows",
    "clock_controls",
    "finish",
    "ticker",
    "decoders",
    "unknowns",
)
PIT_BLOCKS = ("header", "ticker", "pit_lane", "pit_panels")


def session_rules(race: RaceService) -> RuleSet:
    """The rule set of the timed session (the default, IMG, before there is one)."""
    return race.engine.config.rules if race.engine is not None else IMG


def live(race: RaceService) -> dict[str, Any]:
    engine = race.engine
    rows = race.standings()
    sectors, pit_columns = track_columns(
        [(loop.role, loop.sector) for loop in race.mapper.loops.values()]
    )
    context = live_context(
        event_name=race.event_name,
        status=race.status(),
        rows=rows,
        sectors=sectors,
        pit_columns=pit_columns,
        server_now_us=race.clock.now_us(),
        clock_rate=race.clock.rate,
        messages=()
        if engine is None
        else with_decisions(engine.messages(race.clock.now_us()), engine.incidents()),
        sprint=None if engine is None else engine.sprint_standings(),
    )
    return context


def stewards(race: RaceService, *, may_decide: bool = True) -> dict[str, Any]:
    """The stewards' page: the queue of incidents, the penalties, decisions in the ticker."""
    context = live(race)
    engine = race.engine
    incidents = [] if engine is None else engine.incidents()
    context.update(
        page="stewards",
        ws_url="/ws/stewards",
        queue=queue_view(incidents),
        may_decide=may_decide,
        ticker=messages_view(
            [] if engine is None else with_decisions(engine.messages(), incidents), 20
        ),
    )
    return context


# the incident queue of each race service, as last rendered (see ``stewards_message``)
_QUEUES: WeakKeyDictionary[RaceService, _Rendered] = WeakKeyDictionary()


def stewards_message(renderer: Renderer, race: RaceService) -> str:
    """The stewards channel's message: the header, ticker and penalties every time; the
    queue (with its decision forms) only when an incident or a decision changed it, so a
    steward's half-typed reason survives every lap."""
    engine = race.engine
    incidents = [] if engine is None else engine.incidents()
    key = (race.session_id, tuple((i.incident_id, len(i.decisions)) for i in incidents))
    context = stewards(race)
    html = renderer.fragments("stewards.html", STEWARDS_BLOCKS, context)
    cached = _QUEUES.get(race)
    if cached is None or cached.key != key:
        queue = renderer.fragments("stewards.html", ("queue",), context)
        _QUEUES[race] = _Rendered(key, queue)
        html += queue
    return html


def control(race: RaceService) -> dict[str, Any]:
    unknowns: Mapping[str, tuple[int, int, int]] = {}
    rejected: dict[str, int] = dict(race.dropped)
    engine = race.engine
    now = race.clock.now_us()
    if engine is not None:
        unknowns = {
            code: (u.count, u.first_seen_us, u.last_seen_us)
            for code, u in engine.unknown_transponders().items()
        }
        rejected.update(engine.rejected_counts())
    return control_context(
        event_name=race.event_name,
        status=race.status(),
        rows=race.standings(),
        server_now_us=now,
        clock_rate=race.clock.rate,
        decoders=[decoder_dict(race, state) for state in race.decoders.values()],
        unknowns=unknowns,
        rejected=rejected,
        alerts=() if engine is None else engine.alerts(),
        messages=() if engine is None else engine.messages(now),
        entries=race.entries,
        rules=session_rules(race),
        database_down_since_us=race.journal.down_since_us,
        undo_flag=None if engine is None else engine.undoable_flag(now),
        corrections=() if engine is None else engine.corrections(),
    )


def pit(race: RaceService, cars: Sequence[CarDetail] | None = None) -> dict[str, Any]:
    engine = race.engine
    now = race.clock.now_us()
    if cars is None:
        cars = [] if engine is None else engine.cars(now)
    details = {d.number: d for d in cars}
    return pit_context(
        event_name=race.event_name,
        status=race.status(),
        rows=race.standings(),
        details=details,
        entries=race.entries,
        server_now_us=now,
        clock_rate=race.clock.rate,
        messages=() if engine is None else engine.messages(now),
        rules=session_rules(race),
    )


@dataclass
class _Rendered:
    key: object
    html: str


# the pit panels of each race service, as last rendered (see ``pit_message``)
_PIT_PANELS: WeakKeyDictionary[RaceService, _Rendered] = WeakKeyDictionary()


def _stint_key(row: StandingRow) -> tuple[object, ...]:
    return (row.stint_clock, row.stint_clock_since_us, row.stint_drive_us)


def _pit_key(race: RaceService, cars: Sequence[CarDetail], now_us: int) -> object:
    """What the pit lane and panels show, apart from the clocks the browser ticks."""
    rows = tuple(
        ((r.number, r.state, r.driver, r.pit_stops, r.mandatory_served), _stint_key(r))
        for r in race.standings()
    )
    drivers = tuple(
        (x.name, x.in_car, x.flagged, x.rest_until_us, (x.rest_until_us or 0) > now_us)
        for d in cars
        for x in d.drivers
    )
    details = tuple(
        (d.number, d.state, d.driver, d.pending_driver, len(d.stops), d.stops[-1:]) for d in cars
    )
    engine, status, rules = race.engine, race.status(), session_rules(race)
    called = called_in(() if engine is None else engine.messages(now_us))
    marks = tuple(car_marks(r, status, now_us, rules, called) for r in race.standings())
    return (race.session_id, id(race.entries), len(race.entries), rows, details, drivers, marks)


def pit_message(renderer: Renderer, race: RaceService) -> str:
    """The pit channel's message. Its panels (every car's roster) are most of its size
    and change only at stops, so they are rendered again only when what they show
    changed; the header and the ticker every time."""
    engine, now = race.engine, race.clock.now_us()
    cars = [] if engine is None else engine.cars(now)
    key = _pit_key(race, cars, now)
    cached = _PIT_PANELS.get(race)
    if cached is None or cached.key != key:
        context = pit(race, cars)
        html = renderer.fragments("pit.html", ("pit_lane", "pit_panels"), context)
        cached = _PIT_PANELS[race] = _Rendered(key, html)
    else:
        # what the header and the ticker need
        context = live_context(
            event_name=race.event_name,
            status=race.status(),
            rows=(),
            server_now_us=now,
            clock_rate=race.clock.rate,
        )
        context["ticker"] = messages_view(
            () if engine is None else engine.messages(now), PIT_MESSAGES
        )
    return renderer.fragments("pit.html", ("header", "ticker"), context) + cached.html


def render_channels(
    renderer: Renderer, race: RaceService, channels: frozenset[str]
) -> dict[str, str | View]:
    """The websocket message of each of ``channels`` that has a page: the spectators'
    as a View (row-level updates, ``server.web.live_render``), the others' whole."""
    out: dict[str, str | View] = {}
    if "public" in channels:
        out["public"] = page_view(renderer, "live.html", LIVE_BLOCKS, live(race))
        out.update(car_channels(renderer, race))  # the cars spectators watch
    if "control" in channels:
        out["control"] = renderer.fragments("control.html", CONTROL_BLOCKS, control(race))
    if "pit" in channels:
        out["pit"] = pit_message(renderer, race)
    if "stewards" in channels:
        out["stewards"] = stewards_message(renderer, race)
    out.update(render_teams(renderer, race, channels))  # the teams' pit walls being watched
    return out


def decoder_dict(race: RaceService, state: DecoderState) -> dict[str, Any]:
    """A decoder's state with its clock offset: measured by its runner (P3 GET_TIME) or
    learned by the ingest (relative clocks)."""
    out = asdict(state)
    if out["clock_offset_us"] is None and state.decoder_id is not None:
        out["clock_offset_us"] = race.mapper.clocks.offset(str(state.decoder_id))
    out["status_interval_us"] = race.status_intervals.get(state.url)
    loop = None if state.decoder_id is None else race.mapper.loops.get(str(state.decoder_id))
    if loop is not None:
        out["role"], out["sector"] = loop.role.value, loop.sector
    return out
