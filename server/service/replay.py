"""Re-score a session from a recording: the same codecs, ingest and engine as live timing.

Strategy: ``read_recording`` turns a file into what the live adapters would have handed the
server, in the order they would have: ``Detection``s (from the protocol's own sans-IO codec
and, for RMonitor and MyLaps T&S, the same pure trackers the live adapters use) and the
flags the recording carries (RMonitor ``$F``), each stamped with the recording's own clock
(P3: the RTC; AMB and I-Lap: decoder time; RMonitor: the race time of ``$F`` and ``$J``;
MyLaps T&S: the chip records' time of day), never with the time the bytes arrived.
``replay_recording`` then drives a real ``RaceService`` (journal first, then the engine)
with a ``ManualClock`` that follows that clock: each item is handed over at its own
moment, exactly as a live adapter hands it over (``on_detection``, so duplicates, unknown
decoders, track loops and timelines are decided by the live ``PassingMapper``). Without
flags in the recording, green is shown at the first crossing; ``green_at_us`` overrides.
``speed`` None plays as fast as the engine takes it, a number that many times real time.
"""

from __future__ import annotations

import asyncio
import string
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.engine.events import Flag, FlagChanged
from server.service.hub import Hub
from server.service.race_service import RaceService
from server.service.spool import Spool
from timing_adapters.adapter import Detection
from timing_adapters.amb_legacy.codec import AmbLegacyDecoder
from timing_adapters.amb_legacy.records import Passing as AmbPassing
from timing_adapters.clock import ManualClock
from timing_adapters.mylaps_ts.capture import client_stream, read_forwarder_log
from timing_adapters.mylaps_ts.codec import MessageFramer
from timing_adapters.mylaps_ts.protocol import ExchangeSession
from timing_adapters.p3 import P3Decoder, Passing
from timing_adapters.registry import p3_detection
from timing_adapters.rmonitor.codec import RMonitorDecoder
from timing_adapters.rmonitor.crossings import CrossingTracker
from timing_adapters.rmonitor.feed_state import RMonitorFeedState
from timing_adapters.rmonitor.records import BadLine, Heartbeat
from timing_adapters.rmonitor.records import Flag as RMFlag

_DAY_US = 86_400_000_000
_TICK_US = 500_000  # the live ticker's interval, in the recording's clock
_HEX = frozenset(string.hexdigits + string.whitespace)
_RM_FLAGS = {
    RMFlag.GREEN: Flag.GREEN,
    RMFlag.YELLOW: Flag.YELLOW,
    RMFlag.RED: Flag.RED,
    RMFlag.FINISH: Flag.CHECKERED,
}


class Format(StrEnum):
    P3 = "p3"  # binary as on the wire, or one frame per line in hex (amb.out)
    AMB = "amb"  # AMB legacy ASCII records with CRC
    ILAP = "ilap"  # I-Lap: the same records without CRC
    RMONITOR = "rmonitor"  # another scoring system's feed, as it came over TCP
    MYLAPS = "mylaps"  # a MyLaps T&S exchange log (racemap forwarder format)


@dataclass(frozen=True, slots=True)
class Item:
    """One thing the live adapter would have handed over, at the recording's moment."""

    at_us: int  # the recording's clock when it happened: the session clock in a replay
    detection: Detection | None = None
    flag: Flag | None = None


@dataclass(slots=True)
class Recording:
    items: list[Item] = field(default_factory=list)
    bad: int = 0  # lines, frames or messages the codec rejected
    wall_clock: bool = False  # P3 RTC: microseconds since 1970 (else a relative clock)

    @property
    def carries_flags(self) -> bool:
        return any(item.flag is not None for item in self.items)

    @property
    def first_crossing_us(self) -> int | None:
        """The earliest crossing's own time (an old one may be handed over later)."""
        times = [i.detection.time_us for i in self.items if i.detection is not None]
        return min(times, default=None)


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    session_id: int
    passings: int  # journaled as crossings
    laps: int
    cars: int  # cars with a crossing
    bad: int
    dropped: dict[str, int]

    def line(self) -> str:
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(self.dropped.items()) if n)
        return (
            f"session {self.session_id}: {self.passings} passings, {self.laps} laps, "
            f"{self.cars} cars, {self.bad} bad lines" + (f"; dropped: {dropped}" if dropped else "")
        )


def read_recording(data: bytes, fmt: Format, source: str = "replay") -> Recording:
    """What the live adapter for ``fmt`` would hand over for ``data`` (``source`` is the
    decoder id of formats whose records carry none: the adapter URL in live timing)."""
    match fmt:
        case Format.P3:
            return _p3(data, source)
        case Format.AMB | Format.ILAP:
            return _amb(data, crc=fmt is Format.AMB)
        case Format.RMONITOR:
            return _rmonitor(data, source)
        case Format.MYLAPS:
            return _mylaps(data)


def _p3(data: bytes, source: str) -> Recording:
    if data and all(chr(b) in _HEX for b in data):  # one frame per line, in hex
        chunks = [bytes.fromhex(line) for line in data.decode().split() if line]
    else:
        chunks = [data]
    decoder = P3Decoder()
    out = Recording(wall_clock=True)
    for chunk in chunks:
        for record in decoder.receive(chunk):
            if isinstance(record, Passing):
                detection = p3_detection(record, source)
                out.items.append(Item(detection.time_us, detection))
    out.bad = decoder.bad_frames
    return out


def _amb(data: bytes, *, crc: bool) -> Recording:
    decoder = AmbLegacyDecoder(crc=crc)
    out = Recording()
    for record in decoder.receive(data):
        if isinstance(record, AmbPassing):
            detection = Detection(
                decoder_id=record.decoder_id,
                transponder=record.transponder,
                time_us=record.time_us,
                passing_number=record.passing_number,
                relative_clock=True,
            )
            out.items.append(Item(record.time_us, detection))
    out.bad = decoder.bad_records
    return out


def _rmonitor(data: bytes, source: str) -> Recording:
    decoder = RMonitorDecoder()
    feed = RMonitorFeedState()
    tracker = CrossingTracker(source)
    out = Recording()
    flag: Flag | None = None
    for record in decoder.receive(data):
        if isinstance(record, BadLine):
            continue
        feed.apply(record)
        if isinstance(record, Heartbeat):
            now = record.race_time_us
            shown = _RM_FLAGS.get(RMFlag(record.flag)) if record.flag in _RM_FLAGS else None
            if shown is Flag.GREEN and flag is None:
                # race time counts from the green flag: the race started at race time 0,
                # also in a recording joined later
                out.items.insert(0, Item(0, flag=shown))
            elif shown is not None and shown != flag:
                out.items.append(Item(now, flag=shown))
            flag = shown if shown is not None else flag
        for detection in tracker.push(record, feed):
            at = detection.decoder_now_us
            out.items.append(Item(detection.time_us if at is None else at, detection))
    out.bad = decoder.bad_lines
    return out


def _mylaps(data: bytes) -> Recording:
    framer = MessageFramer()
    session = ExchangeSession()
    out = Recording()
    for message in framer.receive(client_stream(read_forwarder_log(data))):
        for detection in session.handle(message).detections:
            at = detection.decoder_now_us  # handed over when its message came
            out.items.append(Item(detection.time_us if at is None else at, detection))
    out.bad = session.bad_messages + session.rejected_records
    return out


def green_time(recording: Recording, hms: str) -> int:
    """``HH:MM:SS`` in the recording's clock: the time of day on the day of its first
    crossing (P3 RTC), else that long after the recording's zero. ``ValueError`` if bad."""
    parts = hms.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"--green {hms!r}: give HH:MM:SS")
    h, m, s = (int(p) for p in parts)
    if m > 59 or s > 59 or (recording.wall_clock and h > 23):
        raise ValueError(f"--green {hms!r}: not a time of day")
    offset = ((h * 60 + m) * 60 + s) * 1_000_000
    first = recording.first_crossing_us
    if recording.wall_clock and first is not None:
        return first - first % _DAY_US + offset
    return offset


def _with_green(recording: Recording, green_at_us: int | None) -> list[Item]:
    """The items to play: the recording's flags, else green at its first crossing; an
    explicit green replaces the recording's first green."""
    items = list(recording.items)
    if green_at_us is None:
        if recording.carries_flags:
            return items
        green_at_us = recording.first_crossing_us
        if green_at_us is None:
            return items
    replaced = False
    played: list[Item] = []
    for item in items:
        if item.flag is Flag.GREEN and not replaced:
            continue  # the recording's start: the override is the start
        if not replaced and item.at_us >= green_at_us:
            played.append(Item(green_at_us, flag=Flag.GREEN))
            replaced = True
        played.append(item)
    if not replaced:
        played.append(Item(green_at_us, flag=Flag.GREEN))
    return played


async def replay_recording(
    sessionmaker: async_sessionmaker[AsyncSession],
    session_id: int,
    recording: Recording,
    *,
    speed: float | None = None,
    green_at_us: int | None = None,
    spool_dir: Path | None = None,
) -> ReplaySummary:
    """Play ``recording`` into ``session_id`` through a real ``RaceService``."""
    items = _with_green(recording, green_at_us)
    start = min((item.at_us for item in items), default=0)
    clock = ManualClock(max(0, start))
    with tempfile.TemporaryDirectory(dir=spool_dir, prefix="racecontrol-replay-") as tmp:
        race = RaceService(
            sessionmaker,
            clock=clock,
            hub=Hub(),
            render=lambda _race, _channels: {},
            heartbeat=lambda _now: "",
            spool=Spool(Path(tmp) / "replay.spool"),
        )
        writer = asyncio.create_task(race.run_writer())
        try:
            await race.load_session(session_id)
            previous: int | None = None
            last_tick: int | None = None
            for item in items:
                if speed is not None and previous is not None and item.at_us > previous:
                    await asyncio.sleep((item.at_us - previous) / speed / 1e6)
                previous = item.at_us
                clock.advance_to(max(clock.now_us(), item.at_us))
                if item.flag is not None:
                    await race.submit(FlagChanged(clock.now_us(), item.flag))
                if item.detection is not None:
                    await race.on_detection(item.detection)  # mapped at the clock's now
                if last_tick is None or clock.now_us() - last_tick >= _TICK_US:
                    # the time-driven rules, once what came before is applied (the live
                    # ticker runs every half second; a burst is journaled as one batch)
                    await race.applied()
                    race.tick()
                    last_tick = clock.now_us()
            await race.applied()
            race.tick()
            standings = race.standings()
            passings = race.mapper.passings
        finally:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            await race.store_results()
    return ReplaySummary(
        session_id=session_id,
        passings=passings,
        laps=sum(row.laps for row in standings),
        cars=sum(row.last_crossing_us is not None for row in standings),
        bad=recording.bad,
        dropped=dict(race.dropped),
    )
