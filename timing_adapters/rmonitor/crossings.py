"""RMonitor passings (``$J``) and line crossings (``$L``) -> ``Detection``s, without repeats.

Strategy: pure; the adapter feeds every record through ``push`` after folding it into the
``RMonitorFeedState``. Choices, all visible to the engine:
- ``transponder`` is the competitor's registration number as the feed gives it (``$L``
  carries the car number, mapped to the registration through ``$A``/``$COMP`` when known),
  because an RMonitor feed never repeats the transponder in its passings.
- ``time_us`` is the race time of the crossing: ``$J``'s total time, exact to the
  millisecond. ``$L`` is stamped with the time of day instead, so its race time is
  estimated as ``time of day - (time of day - race time)`` of the latest ``$F``, whose
  whole seconds make the estimate good to about one second; an ``$L`` before any ``$F``
  has no time base and is counted in ``unplaced`` instead.
- ``loop`` is None for ``$J`` (the main timeline) and the timeline number for ``$L``
  (e.g. "P1"), with ``timeline`` its name (e.g. "POP"): a timeline crossing is never the
  finish line, the server's track decides what each timeline means (IMSA feeds also send
  an ``$L`` for the start/finish line, which then counts only once, through ``$J``).
- Joining a feed mid-race: on connect a feed repeats recent ``$J`` lines, the past. Every
  detection carries ``decoder_now_us``, the feed's race time of its latest ``$F``, so the
  server places a repeated ``$J`` at its own race time instead of at its arrival; ``$J``
  lines before the first ``$F`` are held back until it comes (``push`` returns them then).
  The first ``$J`` of a competitor whose ``$G`` row is that same crossing (same total time)
  carries the ``$G`` laps as ``lap``: the engine counts the laps driven before we joined.
Repeats are dropped (and counted): a relay that replays the last ``$J`` of each competitor
on reconnect must not add laps. A ``$J`` whose total time is not after the competitor's
previous one is a repeat; the memory is cleared by ``$I`` and by a new run number.
"""

from __future__ import annotations

from timing_adapters.adapter import Detection

from .feed_state import RUN_CLOSED, RMonitorFeedState
from .records import Heartbeat, Init, LineCrossing, Passing, Record, Run

_DAY_US = 86_400_000_000


class CrossingTracker:
    def __init__(self, decoder_id: str, *, line_crossings: bool = True) -> None:
        self.decoder_id = decoder_id
        self.line_crossings = line_crossings
        self.duplicates = 0
        self.unplaced = 0  # $L lines that arrived before any $F
        self._last_total: dict[str, int] = {}
        self._last_crossing: dict[tuple[str, str], tuple[str, int]] = {}
        self._live_run: int | None = None
        self._held: list[Passing] = []  # $J lines before any $F: no race time "now" yet

    def reset(self) -> None:
        self._last_total.clear()
        self._last_crossing.clear()
        self._held.clear()

    def push(self, record: Record, feed: RMonitorFeedState) -> list[Detection]:
        """The detections ``record`` stands for (``feed`` already includes it): none, one,
        or the ``$J`` lines held back until this first ``$F``."""
        match record:
            case Passing():
                if feed.heartbeat is None:
                    self._held.append(record)
                    return []
                found = self._passing(record, feed.heartbeat.race_time_us, feed)
                return [] if found is None else [found]
            case Heartbeat() if self._held:
                held, self._held = self._held, []
                return [d for p in held if (d := self._passing(p, record.race_time_us, feed))]
            case LineCrossing() if self.line_crossings:
                crossing = self._crossing(record, feed)
                return [] if crossing is None else [crossing]
            case Init():
                self.reset()
            case Run(number=number) if number != RUN_CLOSED:
                if self._live_run is not None and number != self._live_run:
                    self.reset()  # race times start again from zero
                self._live_run = number
            case _:
                pass
        return []

    def _passing(
        self, record: Passing, race_time_now_us: int, feed: RMonitorFeedState
    ) -> Detection | None:
        last = self._last_total.get(record.registration)
        if last is not None and record.total_time_us <= last:
            self.duplicates += 1
            return None
        self._last_total[record.registration] = record.total_time_us
        # the competitor's first $J since we joined: when the feed's $G row is this very
        # crossing, its laps are the laps driven before we joined
        row = feed.race.get(record.registration) if last is None else None
        carried = (
            row.laps
            if row is not None
            and row.laps is not None
            and row.laps > 0
            and row.total_time_us == record.total_time_us
            else None
        )
        return Detection(
            self.decoder_id,
            record.registration,
            record.total_time_us,
            relative_clock=True,
            decoder_now_us=max(race_time_now_us, record.total_time_us),
            lap=carried,
        )

    def _crossing(self, record: LineCrossing, feed: RMonitorFeedState) -> Detection | None:
        registration = feed.registration_of(record.number)
        key = (registration, record.timeline_number)
        stamp = (record.date, record.time_of_day_us)
        if self._last_crossing.get(key) == stamp:
            self.duplicates += 1
            return None
        heartbeat = feed.heartbeat
        if heartbeat is None:
            self.unplaced += 1
            return None
        self._last_crossing[key] = stamp
        race_time = record.time_of_day_us - (heartbeat.time_of_day_us - heartbeat.race_time_us)
        if race_time < -_DAY_US // 2:
            race_time += _DAY_US  # the crossing is after midnight, the heartbeat before
        return Detection(
            self.decoder_id,
            registration,
            race_time,
            loop=record.timeline_number,
            relative_clock=True,
            timeline=record.timeline_name,
            decoder_now_us=max(heartbeat.race_time_us, race_time),
        )
