"""Decoder detections -> journal input events.

Strategy: a P3 decoder's RTC (wall time) is taken as it comes, shifted by the offset its
runner measured with GET_TIME when it has one; a decoder with a relative clock (seconds
since power-on, a feed's race time) is mapped to the session clock with an offset held
fixed once learned (``clock_map``). Either way laps stay differences of the same
decoder's times, and flags, clock and crossings share one time base.
A P3 decoder numbers its passings, and a RESEND after a reconnect may deliver one we
already journaled: (decoder, numbering epoch, passing number) triples already seen are
dropped here, before the journal, so a replayed journal never holds a passing twice. The
epoch is the runner's: one more each time the decoder restarted its numbering (power
cycle, swap), so a renumbered passing is new, not a repeat. The latest epoch journaled per
decoder, its highest number and the decoder times it covered (``ResumePoint``) tell a
restarted runner where to resume. The event's track
(``racecontrol import track``) says which decoder is which loop; without one, every
decoder is the start/finish line. A crossing of another timeline of a feed (RMonitor
``$L``) is never the finish line: it counts only when the track names its timeline (by
number, e.g. ``P1``, or name, e.g. ``POP``) in the ``decoder`` column, with that loop's role,
and is dropped as ``other_timeline`` otherwise.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from server.db.track import LoopConfig
from server.engine.events import LoopRole, PassingDetected
from server.service.clock_map import ClockMap, DecoderClock
from timing_adapters.adapter import Detection

MAX_TIME_US = 4_102_444_800_000_000
"""2100-01-01 in microseconds since 1970: no session clock goes past it."""
MAX_PASSING_NUMBER = 2**63 - 1  # what a BIGINT column holds
MAX_TEXT = 64  # a transponder or decoder id longer than this is not one


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a decoder's journaled passings end: its numbering epoch, the highest passing
    number in it and the (earliest, latest) decoder times it covered."""

    epoch: int
    number: int
    span_us: tuple[int, int] | None


class PassingMapper:
    def __init__(self) -> None:
        self._seen: set[tuple[str, int, int]] = set()  # (decoder, epoch, passing number)
        self.epochs: dict[str, int] = {}  # decoder id -> its latest numbering epoch
        self.last_number: dict[str, int] = {}  # decoder id -> highest number in that epoch
        self._spans: dict[str, tuple[int, int]] = {}  # decoder id -> its times in that epoch
        self.clocks = ClockMap()
        # the event's track: decoder id -> loop; empty means one start/finish decoder
        self.loops: dict[str, LoopConfig] = {}
        self.passings = 0  # detections mapped to input events by this process

    def remember(self, event: PassingDetected) -> None:
        """Note a journaled passing (also on replay, which restores the clock offsets)."""
        if event.decoder_time_us is not None:
            offset = event.at_us - event.decoder_time_us
            known = self.clocks.decoders.get(event.decoder_id)
            if known is None:
                self.clocks.decoders[event.decoder_id] = DecoderClock(offset_us=offset)
            else:
                known.offset_us = offset
        number, decoder, epoch = event.passing_number, event.decoder_id, event.epoch
        if number is None:
            return
        self._seen.add((decoder, epoch, number))
        current = self.epochs.get(decoder, epoch)
        if epoch < current:
            return  # late, from a numbering already left behind
        if epoch > current:
            self.last_number.pop(decoder, None)
            self._spans.pop(decoder, None)
        self.epochs[decoder] = epoch
        self.last_number[decoder] = max(number, self.last_number.get(decoder, number))
        if event.decoder_time_us is not None:
            at = event.decoder_time_us
            low, high = self._spans.get(decoder, (at, at))
            self._spans[decoder] = (min(low, at), max(high, at))

    def clone(self) -> PassingMapper:
        """An independent copy (the race service keeps one that has seen only what is
        journaled, for its checkpoints, beside the live one that has also seen the queue)."""
        copy = PassingMapper()
        copy._seen = set(self._seen)
        copy.epochs, copy.last_number = dict(self.epochs), dict(self.last_number)
        copy._spans = dict(self._spans)
        for decoder, clock in self.clocks.decoders.items():
            copy.clocks.decoders[decoder] = dataclasses.replace(clock)
        copy.loops = dict(self.loops)
        return copy

    def map(self, detection: Detection, received_at_us: int) -> PassingDetected | str:
        """The input event for ``detection`` (its time mapped to the session clock), or
        why it is dropped: ``duplicate`` (already journaled or queued),
        ``unknown_decoder`` (the event has a track and this decoder is not on it) or
        ``out_of_range`` (a time, number or id no decoder sends: the adapters check
        theirs, this guards the journal and the engine against any that does not)."""
        number = detection.passing_number
        if not _in_range(detection):
            return "out_of_range"
        if number is not None and (detection.decoder_id, detection.epoch, number) in self._seen:
            return "duplicate"
        role, sector = LoopRole.START_FINISH, None
        if detection.timeline is not None:
            loop = self.loops.get(detection.loop or "") or self.loops.get(detection.timeline)
            if loop is None:
                return "other_timeline"
            role, sector = loop.role, loop.sector
        elif self.loops:
            loop = self.loops.get(detection.decoder_id) or self.loops.get(detection.loop or "")
            if loop is None:
                return "unknown_decoder"
            role, sector = loop.role, loop.sector
        if detection.relative_clock:
            at_us = self.clocks.to_session(
                detection.decoder_id, detection.time_us, received_at_us, detection.decoder_now_us
            )
        else:  # a wall-clock decoder (P3 RTC) as it comes, or by its measured offset
            at_us = detection.time_us + (detection.offset_us or 0)
        if not 0 <= at_us < MAX_TIME_US:
            return "out_of_range"
        event = PassingDetected(
            at_us=at_us,
            transponder=detection.transponder,
            decoder_id=detection.decoder_id,
            passing_number=number,
            loop=role,
            decoder_time_us=detection.time_us,
            sector=sector,
            received_at_us=received_at_us,
            epoch=detection.epoch,
            lap=detection.lap,
        )
        self.remember(event)
        self.passings += 1
        return event

    def resume(self, url: str, decoder_urls: int) -> ResumePoint | None:
        """Where a restarted runner for ``url`` resumes, so it asks for what it missed.

        Decoders are known by their own id, not their URL; with a single decoder
        configured and a single one in the journal the two must be the same.
        """
        decoder: str | None = None
        if url in self.last_number:
            decoder = url
        elif decoder_urls == 1 and len(self.last_number) == 1:
            decoder = next(iter(self.last_number))
        if decoder is None:
            return None
        return ResumePoint(
            self.epochs.get(decoder, 0), self.last_number[decoder], self._spans.get(decoder)
        )

    def resume_number(self, url: str, decoder_urls: int) -> int | None:
        """The passing number of ``resume`` alone."""
        point = self.resume(url, decoder_urls)
        return None if point is None else point.number


def _in_range(detection: Detection) -> bool:
    number = detection.passing_number
    return (
        0 <= detection.time_us < MAX_TIME_US
        and abs(detection.offset_us or 0) < MAX_TIME_US
        and (number is None or 0 <= number <= MAX_PASSING_NUMBER)
        and 0 < len(detection.transponder) <= MAX_TEXT
        and 0 < len(detection.decoder_id) <= MAX_TEXT * 4  # the URL when it has no id
    )
