"""The charts' live feed: the new lap points of each change, never the history again.

Strategy: a chart page loads the history once (``GET /api/v1/sessions/{id}/charts``,
which carries the feed's ``seq``), then follows ``/ws/charts``: numbered messages that
each hold only the points of the laps completed since the last one. The feed rides on
the spectators' channel: it listens to it (``Channel.listeners``), and every message of
that channel is a change spectators see (every crossing changes a laps cell), so the
race service, its publisher and ``/ws/live`` stay as they are, and nobody pays for the
charts until a first chart page (or history request) attaches the feed. Its messages go
to a hub channel of their own (``charts``), with its bounded queues: a chart client
that falls behind gets the latest message alone, sees the gap in the numbers and loads
the history again, as it does for ``{"reset": 1}`` (the charted past changed: a
correction, a voided lap, another session, a crossing that arrived after later ones of
the same lap). Heartbeats carry the last ``seq`` so a client can tell it missed one::

    {"seq": 12, "now": <server us>, "p": [[number, lap, at_us, lap_time_us, position,
      class_position, gap_us, class_gap_us, flag, pitted, voided], ...]}
    {"seq": 13, "now": ..., "reset": 1}
    {"seq": 13, "now": ..., "hb": 1}
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from server.engine.charts import LapPoint

if TYPE_CHECKING:
    from server.engine.race import RaceEngine
    from server.service.race_service import RaceService

CHANNEL = "charts"
_WATCHED = "public"  # the channel whose changes the feed follows

PointRow = list[Any]


def point_row(p: LapPoint) -> PointRow:
    """One point as the wire carries it (the order documented above)."""
    return [
        p.number,
        p.lap,
        p.at_us,
        p.lap_time_us,
        p.position,
        p.class_position,
        p.gap_us,
        p.class_gap_us,
        p.flag.value,
        int(p.pitted),
        int(p.voided),
    ]


def _dumps(message: dict[str, Any] | PointRow) -> str:
    return json.dumps(message, separators=(",", ":"))


class ChartFeed:
    def __init__(self, race: RaceService) -> None:
        self.race = race
        self.seq = 0
        self._session: int | None = None
        self._version: tuple[int, int] | None = None
        self._laps: dict[str, int] = {}  # laps charted, by car
        self._per_lap: dict[int, int] = {}  # points charted, by lap number
        # the history: every point sent so far (up to ``seq``) as its JSON text, by car;
        # kept as it grows, so a history request never recomputes or re-encodes it
        self._rows: list[tuple[str, str]] = []
        self._start(race.engine)

    def _start(self, engine: RaceEngine | None) -> None:
        """Chart from the engine's state as it is now (what a history request gives)."""
        self._session = self.race.session_id
        self._version = None if engine is None else engine.chart_version
        self._laps = {} if engine is None else dict(engine.chart_laps())
        self._per_lap = {}
        for count in self._laps.values():
            for lap in range(1, count + 1):
                self._per_lap[lap] = self._per_lap.get(lap, 0) + 1
        points = [] if engine is None else engine.chart_points()
        self._rows = [(p.number, _dumps(point_row(p))) for p in points]

    def history(self, numbers: set[str] | None = None) -> str:
        """The points sent up to ``seq`` (of the cars ``numbers``; None: all) as a JSON
        array: what a page applies the messages after ``seq`` to."""
        rows = self._rows
        texts = [text for number, text in rows if numbers is None or number in numbers]
        return "[" + ",".join(texts) + "]"

    def update(self) -> str | None:
        """The next message for the engine's state now; None when no lap was completed."""
        engine, now = self.race.engine, self.race.clock.now_us()
        if engine is None:
            return None
        if self.race.session_id != self._session or engine.chart_version != self._version:
            return self._reset(engine, now)
        points = engine.chart_points(self._laps)
        if not points:
            return None
        for p in points:
            charted = self._per_lap.get(p.lap, 0)
            if p.position <= charted:  # ranked ahead of a point already sent: resend all
                return self._reset(engine, now)
            self._per_lap[p.lap] = charted + 1
            self._laps[p.number] = max(self._laps.get(p.number, 0), p.lap)
        texts = [_dumps(point_row(p)) for p in points]
        self._rows += [(p.number, text) for p, text in zip(points, texts, strict=True)]
        self.seq += 1
        return f'{{"seq":{self.seq},"now":{now},"p":[{",".join(texts)}]}}'

    def _reset(self, engine: RaceEngine, now: int) -> str:
        self._start(engine)
        self.seq += 1
        return _dumps({"seq": self.seq, "now": now, "reset": 1})

    def heartbeat(self, now_us: int) -> str:
        return _dumps({"seq": self.seq, "now": now_us, "hb": 1})

    def on_message(self, channel: str, message: str, update: bool) -> None:
        """The spectators' channel sent ``message``: pass on what it means for charts."""
        charts = self.race.hub.channel(CHANNEL)
        if not update:
            charts.publish(self.heartbeat(self.race.clock.now_us()), snapshot=False)
            return
        out = self.update()
        if out is not None:
            charts.publish(out)


_FEEDS: WeakKeyDictionary[RaceService, ChartFeed] = WeakKeyDictionary()


def chart_feed(race: RaceService) -> ChartFeed:
    """The race service's feed, attached to its spectators' channel on first use."""
    feed = _FEEDS.get(race)
    if feed is None:
        feed = _FEEDS[race] = ChartFeed(race)
        race.hub.channel(_WATCHED).listeners.append(feed.on_message)
    return feed
